"""Values that scenarios carry: custom classes, exceptions, warnings, markers.

Everything here lives in an importable module so that every kind of worker (a
fork, a freshly spawned interpreter, a proxy's child, another Python version)
unpickles it by reference.  Each ``repr`` is the expression that rebuilds the
value, so a shrunk scenario prints as code that pastes into a regression test.

Some values are *specs* that a task turns into the real thing where it is
used (:func:`materialise`): :class:`Blob` becomes megabytes of bytes without
making the scenario's repr megabytes long, :class:`Unpicklable` becomes an
object that cannot be pickled, and :class:`Poison` an object that pickles but
cannot be unpickled anywhere but where it was made.
"""

from __future__ import annotations

import enum
import os
import random
import threading
from collections import namedtuple
from dataclasses import dataclass
from typing import Any

# -- plain picklable values ---------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A frozen dataclass: pickled by reference to this module."""

    x: int
    y: int


class Color(enum.Enum):
    """An enum: members must come back as the same singletons."""

    RED = 1
    GREEN = 2

    def __repr__(self) -> str:
        return f"Color.{self.name}"


Pair = namedtuple("Pair", "left right")
"""A namedtuple: a tuple subclass that must keep its class."""


class Bag:
    """A plain class with an instance dictionary, compared by its items."""

    def __init__(self, **items: Any) -> None:
        self.__dict__.update(items)

    def __eq__(self, other: object) -> bool:
        return type(other) is Bag and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        items = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"Bag({items})"


class Slotted:
    """A class with ``__slots__`` and no instance dictionary."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is Slotted and self.value == other.value

    def __hash__(self) -> int:
        return hash(("Slotted", self.value))

    def __repr__(self) -> str:
        return f"Slotted({self.value!r})"


class Reduced:
    """A class that pickles through its own ``__reduce__``."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    def __reduce__(self) -> tuple[Any, ...]:
        return (Reduced, self.parts)

    def __eq__(self, other: object) -> bool:
        return type(other) is Reduced and self.parts == other.parts

    def __hash__(self) -> int:
        return hash(("Reduced", self.parts))

    def __repr__(self) -> str:
        return f"Reduced({', '.join(map(repr, self.parts))})"


# -- specs turned into real values where they are used -------------------------


@dataclass(frozen=True)
class Blob:
    """``size`` pseudo-random bytes made from ``seed``: a big value with a
    short repr."""

    size: int
    seed: int = 0

    def make(self) -> bytes:
        return random.Random(self.seed).randbytes(self.size)


@dataclass(frozen=True)
class Unpicklable:
    """Becomes a :class:`Locked`, which holds a lock and so cannot be pickled."""


@dataclass(frozen=True)
class Poison:
    """Becomes a :class:`Poisoned`, which pickles but refuses to be unpickled
    in any other process or thread than the one that made it."""


class Locked:
    """Holds a lock, so pickling it fails.  All instances compare equal."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Locked)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Locked()"


class PoisonError(Exception):
    """Raised when a :class:`Poisoned` value is unpickled away from home."""


class Poisoned:
    """Unpickles only in the process and thread that made it."""

    def __init__(self, origin: tuple[int, int] | None = None) -> None:
        self.origin = origin or _here()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpoison, (self.origin,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Poisoned)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Poisoned()"


def _here() -> tuple[int, int]:
    return os.getpid(), threading.get_ident()


def _unpoison(origin: tuple[int, int]) -> Poisoned:
    if tuple(origin) != _here():
        raise PoisonError("this value may not be unpickled here")
    return Poisoned(origin)


SPECS = (Blob, Unpicklable, Poison)


def materialise(value: Any) -> Any:
    """``value`` with every spec inside it replaced by the real thing."""
    if isinstance(value, Blob):
        return value.make()
    if isinstance(value, Unpicklable):
        return Locked()
    if isinstance(value, Poison):
        return Poisoned()
    if type(value) in (list, tuple, set, frozenset):
        return type(value)(materialise(item) for item in value)
    if type(value) is Pair:
        return Pair(materialise(value.left), materialise(value.right))
    if type(value) is dict:
        return {key: materialise(item) for key, item in value.items()}
    return value


def contains(value: Any, kinds: tuple[type, ...]) -> bool:
    """Whether ``value`` holds a spec of one of ``kinds`` anywhere inside."""
    if isinstance(value, kinds):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(contains(item, kinds) for item in value)
    if isinstance(value, dict):
        return any(contains(item, kinds) for item in value.values())
    return False


# -- exceptions ----------------------------------------------------------------


class ScenarioError(Exception):
    """A custom exception that pickles by reference to this module."""


class RichError(ScenarioError):
    """A custom exception with a second constructor argument kept as an attribute."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message, code)
        self.code = code


class StubbornError(Exception):
    """Pickles, but cannot be unpickled: its constructor takes other arguments
    than the ``args`` it stores.  It must arrive as a TaskmasterError."""

    def __init__(self, left: Any, right: Any) -> None:
        super().__init__(f"{left}/{right}")


class LockedError(Exception):
    """Cannot be pickled at all (it holds a lock).  It must arrive as a
    TaskmasterError."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lock = threading.Lock()


ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        ValueError,
        KeyError,
        RuntimeError,
        ZeroDivisionError,
        LookupError,
        ScenarioError,
        RichError,
        StubbornError,
        LockedError,
    )
}
"""The exception classes a scenario may raise, by name."""

UNPICKLABLE_ERRORS = frozenset({"LockedError"})
UNLOADABLE_ERRORS = frozenset({"StubbornError"})


class ScenarioWarning(UserWarning):
    """A custom warning category."""


WARNINGS: dict[str, type[Warning]] = {
    cls.__name__: cls for cls in (UserWarning, RuntimeWarning, ScenarioWarning)
}
"""The warning categories a scenario may raise, by name (none that Python's
default filters hide)."""


# -- state of one worker instance ------------------------------------------------

_instance_state = threading.local()


def set_init_mark(value: Any) -> None:
    """Called by an init task: remember ``value`` in this worker instance.

    Thread-local, so that each ThreadWorker instance (a thread) has its own.
    """
    _instance_state.mark = value


def get_init_mark() -> Any:
    return getattr(_instance_state, "mark", None)


def reset_init_mark() -> None:
    """Forget the mark in this thread (the parent's, before each batch)."""
    _instance_state.mark = None
