"""Where fields live and methods run: OnParent, OnChild, OnBoth.

A field annotated ``OnParent[T]`` never leaves the parent, ``OnChild[T]`` is
sent to the child once and never comes back, ``OnBoth[T]`` (the default) is
sent and synchronised back.  The sides of a class are read once from its
annotations and cached on the class, so a task pays a dictionary lookup.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_origin

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Side(enum.Enum):
    """Where a field lives or a method runs."""

    PARENT = "parent"
    CHILD = "child"
    BOTH = "both"


_SIDE_ATTRIBUTE = "__taskmaster_side__"


def _marker(side: Side, name: str) -> Callable[[F], F]:
    def mark(function: F) -> F:
        if not callable(function):
            raise TypeError(f"@{name} decorates methods, not {type(function).__name__}")
        setattr(function, _SIDE_ATTRIBUTE, side)
        return function

    mark.__name__ = name
    mark.__qualname__ = name
    mark.__doc__ = f"Mark a method as running on the {side.value} side."
    return mark


on_parent = _marker(Side.PARENT, "on_parent")
on_child = _marker(Side.CHILD, "on_child")
on_both = _marker(Side.BOTH, "on_both")


def method_side(method: Callable[..., Any]) -> Side:
    """The side a method was marked with; unmarked methods run on both."""
    # A bound method reads its function's attributes.
    side = getattr(method, _SIDE_ATTRIBUTE, Side.BOTH)
    return side if type(side) is Side else Side.BOTH


class _SideAnnotation:
    """Base of the subscriptable field markers: ``OnBoth[int]``."""

    side: Side

    def __class_getitem__(cls, item: Any) -> Any:
        return Annotated[item, cls.side]


if TYPE_CHECKING:
    OnParent = Annotated[T, Side.PARENT]
    OnChild = Annotated[T, Side.CHILD]
    OnBoth = Annotated[T, Side.BOTH]
else:

    class OnParent(_SideAnnotation):
        """Field annotation: the value never leaves the parent."""

        side = Side.PARENT

    class OnChild(_SideAnnotation):
        """Field annotation: sent to the child once, never sent back."""

        side = Side.CHILD

    class OnBoth(_SideAnnotation):
        """Field annotation: sent to the child and synchronised back."""

        side = Side.BOTH


_MARKER_NAMES = {"OnParent": Side.PARENT, "OnChild": Side.CHILD, "OnBoth": Side.BOTH}


def side_of_annotation(owner: type, name: str, annotation: Any) -> Side | None:
    """The side an annotation declares, or None when it declares none.

    Raises TypeError for an annotation that names a side in a way that cannot
    be understood (two sides at once, or a method decorator used as a type).
    """
    if isinstance(annotation, str):
        return _side_of_string(owner, name, annotation)
    if isinstance(annotation, type) and issubclass(annotation, _SideAnnotation):
        return annotation.side
    if annotation in (on_parent, on_child, on_both):
        raise TypeError(
            f"{owner.__qualname__}.{name}: {annotation.__name__} is a method "
            "decorator; annotate fields with OnParent[T], OnChild[T] or OnBoth[T]"
        )
    if get_origin(annotation) is Annotated:
        sides = [arg for arg in get_args(annotation)[1:] if isinstance(arg, Side)]
        if len(set(sides)) > 1:
            raise TypeError(
                f"{owner.__qualname__}.{name} is annotated with more than one side: "
                + ", ".join(side.name for side in sides)
            )
        return sides[0] if sides else None
    return None


def _side_of_string(owner: type, name: str, annotation: str) -> Side | None:
    """Read the side of a string annotation (``from __future__ import annotations``)."""
    module = sys.modules.get(owner.__module__)
    try:
        value = eval(annotation, vars(module) if module else {}, dict(vars(owner)))
    except Exception:
        value = None
    if value is not None:
        return side_of_annotation(owner, name, value)

    head = annotation.strip().split("[", 1)[0].rsplit(".", 1)[-1]
    if head in _MARKER_NAMES:
        return _MARKER_NAMES[head]
    if head in ("on_parent", "on_child", "on_both"):
        raise TypeError(
            f"{owner.__qualname__}.{name}: {head} is a method decorator; annotate "
            "fields with OnParent[T], OnChild[T] or OnBoth[T]"
        )
    return None


class FieldSides:
    """The fields of one class that must not travel in each direction."""

    __slots__ = ("not_returned", "not_sent")

    def __init__(self, not_sent: frozenset[str], not_returned: frozenset[str]) -> None:
        self.not_sent = not_sent
        self.not_returned = not_returned


def _own_annotations(klass: type) -> dict[str, Any]:
    """The annotations ``klass`` itself declares, as written (strings under
    ``from __future__ import annotations``).

    What ``inspect.get_annotations(klass)`` gives, without importing
    ``inspect`` into every worker: since Python 3.10 a class's
    ``__annotations__`` holds only its own, and built-in classes have none.
    """
    annotations = getattr(klass, "__annotations__", None)
    return annotations if isinstance(annotations, dict) else {}


def field_sides(cls: type) -> FieldSides:
    """The field sides of ``cls``, read from its annotations and cached."""
    cached = cls.__dict__.get("__taskmaster_field_sides__")
    if cached is not None:
        return cached  # type: ignore[no-any-return]

    sides: dict[str, Side] = {}
    for klass in reversed(cls.__mro__):
        for name, annotation in _own_annotations(klass).items():
            side = side_of_annotation(klass, name, annotation)
            if side is not None:
                sides[name] = side
            else:
                sides.pop(name, None)

    parent_only = frozenset(n for n, s in sides.items() if s is Side.PARENT)
    child_only = frozenset(n for n, s in sides.items() if s is Side.CHILD)
    result = FieldSides(parent_only, parent_only | child_only)
    setattr(cls, "__taskmaster_field_sides__", result)  # noqa: B010
    return result
