"""FrozenValue: the base of small immutable value classes.

What ``@dataclass(frozen=True)`` gives, for classes that every worker
imports: ``dataclasses`` brings ``inspect``, ``ast`` and ``dis`` with it, a
tenth of a spawned worker's start, and builds each class by compiling source
text at import time.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn


class FrozenValue:
    """Compares, hashes, pickles and prints by its fields, and refuses to be
    changed.

    A subclass lists its fields in ``__match_args__``, in the order its
    ``__init__`` takes them, uses them as its ``__slots__``, and sets them in
    ``__init__`` with ``object.__setattr__``.
    """

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, FrozenValue)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[type[FrozenValue], tuple[Any, ...]]:
        return type(self), self._values()

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Load what earlier versions pickled, when these classes were frozen
        dataclasses: the class, then its fields as a dict.  A worker on
        another Python installation may run such a version."""
        for name in self.__match_args__:
            object.__setattr__(self, name, state[name])

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"a {type(self).__name__} cannot be changed ({name!r})")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"a {type(self).__name__} cannot be changed ({name!r})")

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self.__match_args__, self._values(), strict=True)
        )
        return f"{type(self).__name__}({fields})"
