"""SerializationMixin: the seed's Serializable / NotSerializable rules."""

from __future__ import annotations

import pickle
import sys
import textwrap
import types
from typing import Any

import cloudpickle
import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskmaster.core import NotSerializable, Serializable, SerializationMixin, Task

MARKS = {"yes": Serializable, "no": NotSerializable}
names = st.from_regex(r"f_[a-z0-9]{1,5}", fullmatch=True)
# Annotated fields: "yes" (Serializable), "no" (NotSerializable) or "plain".
annotated = st.dictionaries(names, st.sampled_from(["yes", "no", "plain"]), max_size=6)
runtime_only = st.sets(st.from_regex(r"r_[a-z0-9]{1,5}", fullmatch=True), max_size=3)


def _make_class(spec: dict[str, str], as_strings: bool) -> type:
    annotations: dict[str, Any] = {}
    for name, mark in spec.items():
        if mark == "plain":
            annotations[name] = "int" if as_strings else int
        elif as_strings:
            annotations[name] = f"{MARKS[mark].__name__}[int]"
        else:
            annotations[name] = MARKS[mark][int]
    namespace = {"__annotations__": annotations, "__module__": __name__}
    return type("Carried", (SerializationMixin,), namespace)


def _offending(spec: dict[str, str], runtime: set[str]) -> set[str]:
    """The fields that break the both-marks rule, or an empty set."""
    marks = set(spec.values()) - {"plain"}
    if marks != {"yes", "no"}:
        return set()
    return {n for n, m in spec.items() if m == "plain"} | runtime


def _kept(spec: dict[str, str], runtime: set[str]) -> set[str]:
    if "yes" in spec.values():
        return {name for name, mark in spec.items() if mark == "yes"}
    return {name for name, mark in spec.items() if mark != "no"} | runtime


@given(annotated, runtime_only, st.booleans())
def test_the_rules(spec: dict[str, str], runtime: set[str], as_strings: bool) -> None:
    unmarked_annotated = {n for n, m in spec.items() if m == "plain"}
    offending = _offending(spec, runtime)

    if offending & unmarked_annotated:
        # Annotated but unmarked: refused when the class is defined.
        with pytest.raises(TypeError) as raised:
            _make_class(spec, as_strings)
        assert any(
            f"Carried.{name} is marked neither" in str(raised.value)
            for name in offending
        )
        return

    cls = _make_class(spec, as_strings)
    obj = cls()
    for name in [*spec, *runtime]:
        setattr(obj, name, name.upper())

    if offending:
        # A field that only appears at run time: refused when pickled.
        with pytest.raises(TypeError, match=r"Carried\.r_\w+ is marked neither"):
            cloudpickle.dumps(obj)
        return

    copy = cloudpickle.loads(cloudpickle.dumps(obj))
    assert copy.__dict__ == {name: name.upper() for name in _kept(spec, runtime)}


class OnlyMarked(SerializationMixin):
    keep: Serializable[int]
    drop: int
    missing_on_arrival: str = "class default"

    def __init__(self) -> None:
        self.keep = 1
        self.drop = 2
        self.missing_on_arrival = "set"
        self.runtime = 3


class AllBut(SerializationMixin):
    lock: NotSerializable[Any]
    count: int

    def __init__(self) -> None:
        self.lock = __import__("threading").Lock()
        self.count = 4
        self.runtime = 5


class Strict(SerializationMixin):
    keep: Serializable[int]
    drop: NotSerializable[int]

    def __init__(self) -> None:
        self.keep, self.drop = 6, 7


def test_only_serializable_marks() -> None:
    copy = pickle.loads(pickle.dumps(OnlyMarked()))
    assert copy.__dict__ == {"keep": 1}
    assert copy.missing_on_arrival == "class default"


def test_only_not_serializable_marks() -> None:
    copy = pickle.loads(pickle.dumps(AllBut()))
    assert copy.__dict__ == {"count": 4, "runtime": 5}


def test_both_marks_with_every_field_marked() -> None:
    assert pickle.loads(pickle.dumps(Strict())).__dict__ == {"keep": 6}


def test_both_marks_and_a_runtime_field_fails_when_pickled() -> None:
    obj = Strict()
    obj.extra = 8  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match=r"Strict\.extra is marked neither"):
        pickle.dumps(obj)


def test_both_marks_and_an_unmarked_annotation_fails_at_definition() -> None:
    with pytest.raises(TypeError, match=r"Broken\.loose is marked neither"):

        class Broken(SerializationMixin):
            keep: Serializable[int]
            drop: NotSerializable[int]
            loose: int


def test_a_field_cannot_carry_both_marks() -> None:
    with pytest.raises(TypeError, match=r"Twice\.x cannot be both Serializable and"):

        class Twice(SerializationMixin):
            x: Serializable[NotSerializable[int]]


def test_marks_are_inherited_and_overridden() -> None:
    class Base(SerializationMixin):
        a: Serializable[int]
        b: int

    class Sub(Base):
        b: Serializable[int]  # now travels
        c: int

    obj = Sub()
    obj.a, obj.b, obj.c = 1, 2, 3
    assert cloudpickle.loads(cloudpickle.dumps(obj)).__dict__ == {"a": 1, "b": 2}


def test_string_annotations_in_a_future_module() -> None:
    source = textwrap.dedent(
        """
        from __future__ import annotations
        import taskmaster.core as core
        from taskmaster.core import NotSerializable, Serializable, SerializationMixin
        from taskmaster.core import Serializable as Keep

        class Carried(SerializationMixin):
            keep: Serializable[int]
            drop: NotSerializable[object]

        class Aliased(SerializationMixin):
            keep: Keep[int]
            dotted: core.Serializable[int]
            drop: int
        """
    )
    module = types.ModuleType("taskmaster_test_serialization_future")
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, "<future>", "exec"), module.__dict__)
        obj = module.Carried()
        obj.keep, obj.drop = 1, object()
        assert cloudpickle.loads(cloudpickle.dumps(obj)).__dict__ == {"keep": 1}
        obj.extra = 2
        with pytest.raises(TypeError, match=r"Carried\.extra"):
            cloudpickle.dumps(obj)
        aliased = module.Aliased()
        aliased.keep, aliased.dotted, aliased.drop = 1, 2, 3
        assert cloudpickle.loads(cloudpickle.dumps(aliased)).__dict__ == {
            "keep": 1,
            "dotted": 2,
        }
    finally:
        del sys.modules[module.__name__]


class Holder(Task):
    def __init__(self) -> None:
        self.carried = AllBut()

    def run(self) -> int:
        return self.carried.count


def test_a_mixin_object_travels_filtered_inside_a_task() -> None:
    task = Holder()
    copy = cloudpickle.loads(cloudpickle.dumps(task))
    assert copy.carried.__dict__ == {"count": 4, "runtime": 5}
    assert copy.run() == 4
