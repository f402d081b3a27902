"""SerializationMixin: field filtering for classes that travel with a task.

Tasks filter their fields by side (OnParent, OnChild, OnBoth).  Other objects
that a task carries can filter theirs with ``Serializable[T]`` and
``NotSerializable[T]`` annotations, following the seed's rules:

- only ``Serializable`` marks: only the marked fields travel;
- only ``NotSerializable`` marks: every field but the marked ones travels;
- both kinds: every field must be marked, else ``TypeError`` naming the field,
  raised when the class is defined for annotated fields and when the object
  is pickled for fields that appear only at run time.
"""

from __future__ import annotations

import enum
import inspect
import sys
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_origin

T = TypeVar("T")


class _Mark(enum.Enum):
    SERIALIZABLE = "Serializable"
    NOT_SERIALIZABLE = "NotSerializable"


class _MarkAnnotation:
    mark: _Mark

    def __class_getitem__(cls, item: Any) -> Any:
        return Annotated[item, cls.mark]


if TYPE_CHECKING:
    Serializable = Annotated[T, _Mark.SERIALIZABLE]
    NotSerializable = Annotated[T, _Mark.NOT_SERIALIZABLE]
else:

    class Serializable(_MarkAnnotation):
        """Field annotation for SerializationMixin: this field travels."""

        mark = _Mark.SERIALIZABLE

    class NotSerializable(_MarkAnnotation):
        """Field annotation for SerializationMixin: this field stays behind."""

        mark = _Mark.NOT_SERIALIZABLE


def _mark_of(owner: type, name: str, annotation: Any) -> _Mark | None:
    if isinstance(annotation, str):
        return _mark_of_string(owner, name, annotation)
    if isinstance(annotation, type) and issubclass(annotation, _MarkAnnotation):
        return annotation.mark
    if get_origin(annotation) is Annotated:
        marks = {arg for arg in get_args(annotation)[1:] if isinstance(arg, _Mark)}
        if len(marks) > 1:
            raise TypeError(
                f"{owner.__qualname__}.{name} cannot be both Serializable and "
                "NotSerializable"
            )
        return marks.pop() if marks else None
    return None


def _mark_of_string(owner: type, name: str, annotation: str) -> _Mark | None:
    """Read the mark of a string annotation (``from __future__ import annotations``).

    Evaluated like the sides of task fields, so aliases and nested marks are
    understood; a name that cannot be resolved falls back to the spelling.
    """
    module = sys.modules.get(owner.__module__)
    try:
        value = eval(annotation, vars(module) if module else {}, dict(vars(owner)))
    except Exception:
        value = None
    if value is not None and not isinstance(value, str):
        return _mark_of(owner, name, value)
    head = annotation.strip().split("[", 1)[0].rsplit(".", 1)[-1]
    return {m.value: m for m in _Mark}.get(head)


class _Rules:
    __slots__ = ("marks", "strict")

    def __init__(self, marks: dict[str, _Mark]) -> None:
        self.marks = marks
        kinds = set(marks.values())
        self.strict = len(kinds) == 2

    def keeps(self, cls: type, name: str) -> bool:
        mark = self.marks.get(name)
        if mark is not None:
            return mark is _Mark.SERIALIZABLE
        if self.strict:
            raise TypeError(
                f"{cls.__qualname__}.{name} is marked neither Serializable nor "
                "NotSerializable; a class that uses both marks must mark every field"
            )
        return _Mark.SERIALIZABLE not in self.marks.values()


def _collect_rules(cls: type) -> _Rules:
    marks: dict[str, _Mark] = {}
    unmarked: list[str] = []
    for klass in reversed(cls.__mro__):
        for name, annotation in inspect.get_annotations(klass).items():
            mark = _mark_of(klass, name, annotation)
            if mark is None:
                marks.pop(name, None)
                unmarked.append(name)
            else:
                marks[name] = mark
    rules = _Rules(marks)
    for name in unmarked:
        if name not in marks and not name.startswith("__"):
            rules.keeps(cls, name)
    return rules


class SerializationMixin:
    """Mixin that pickles only the fields its annotations allow.

    Fields left out are absent after unpickling; give them class-level
    defaults when the receiving side reads them.
    """

    __taskmaster_serialization_rules__: _Rules

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__taskmaster_serialization_rules__ = _collect_rules(cls)

    def __getstate__(self) -> dict[str, Any]:
        cls = type(self)
        rules = cls.__dict__.get("__taskmaster_serialization_rules__")
        if rules is None:
            rules = _collect_rules(cls)
        return {
            name: value
            for name, value in self.__dict__.items()
            if rules.keeps(cls, name)
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
