"""Field sides: which fields go to the child and which come back."""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Iterator
from typing import Any

import cloudpickle
import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskmaster.core import (
    OnBoth,
    OnChild,
    OnParent,
    Task,
    on_both,
    on_child,
    on_parent,
)
from taskmaster.core._sides import Side, method_side
from taskmaster.core._task import STATE_ATTRIBUTE, outgoing_fields, returning_fields

KINDS = ("parent", "child", "both", "plain", "bare")
MARKERS = {"parent": OnParent, "child": OnChild, "both": OnBoth}
NAMES = {"parent": "OnParent", "child": "OnChild", "both": "OnBoth"}

# How an annotation is written: as an object, as a string that evaluates (what
# `from __future__ import annotations` produces), or as a string naming a type
# that cannot be resolved here (a TYPE_CHECKING-only import, say).
FORMS = ("object", "string", "unresolvable")

names = st.from_regex(r"f_[a-z0-9]{1,5}", fullmatch=True)
specs = st.dictionaries(names, st.sampled_from(KINDS), max_size=8)


def _annotation(kind: str, form: str) -> Any:
    if kind == "plain":
        return {"object": int, "string": "int", "unresolvable": "Missing"}[form]
    if form == "object":
        return MARKERS[kind][int]
    inner = "int" if form == "string" else "NotImportedHere"
    return f"{NAMES[kind]}[{inner}]"


def _task_class(spec: dict[str, str], form: str, base: type = Task) -> type:
    annotations = {
        name: _annotation(kind, form) for name, kind in spec.items() if kind != "bare"
    }
    namespace = {
        "__annotations__": annotations,
        "__module__": __name__,
        "run": lambda self: None,
    }
    return type("Generated", (base,), namespace)


def _instance(cls: type, names: Any) -> Any:
    task = cls()
    for name in names:
        setattr(task, name, f"value of {name}")
    task.set_group("bookkeeping")  # creates the state attribute, which never travels
    return task


def _expected(spec: dict[str, str]) -> tuple[set[str], set[str]]:
    outgoing = {name for name, kind in spec.items() if kind != "parent"}
    returning = {name for name, kind in spec.items() if kind not in ("parent", "child")}
    return outgoing, returning


@given(specs, st.sampled_from(FORMS))
def test_outgoing_and_returning_fields(spec: dict[str, str], form: str) -> None:
    task = _instance(_task_class(spec, form), spec)
    outgoing, returning = _expected(spec)

    assert set(outgoing_fields(task)) == outgoing
    assert set(returning_fields(task)) == returning
    assert task.__getstate__() == outgoing_fields(task)
    assert all(value == f"value of {n}" for n, value in outgoing_fields(task).items())


@given(specs, specs, st.sampled_from(FORMS))
def test_a_subclass_annotation_overrides_its_base(
    base_spec: dict[str, str], sub_spec: dict[str, str], form: str
) -> None:
    base = _task_class(base_spec, form)
    sub = _task_class(sub_spec, form, base)
    effective = dict(base_spec)
    effective.update({n: k for n, k in sub_spec.items() if k != "bare"})
    for name, kind in sub_spec.items():
        effective.setdefault(name, kind)
    task = _instance(sub, effective)
    outgoing, returning = _expected(effective)

    assert set(outgoing_fields(task)) == outgoing
    assert set(returning_fields(task)) == returning


@given(specs)
def test_a_pickled_task_carries_only_its_outgoing_fields(spec: dict[str, str]) -> None:
    task = _instance(_task_class(spec, "object"), spec)

    copy = cloudpickle.loads(cloudpickle.dumps(task))

    assert copy.__dict__ == outgoing_fields(task)
    assert STATE_ATTRIBUTE not in copy.__dict__


def test_fields_set_only_at_run_time_travel_both_ways() -> None:
    class Loose(Task):
        def run(self) -> None:
            pass

    task = Loose()
    task.anything = 1  # type: ignore[attr-defined]
    assert outgoing_fields(task) == returning_fields(task) == {"anything": 1}


# -- `from __future__ import annotations` and dataclasses, in a real module ------

MODULE = textwrap.dedent(
    """
    from __future__ import annotations

    import threading
    from dataclasses import dataclass, field
    from typing import TYPE_CHECKING

    import taskmaster.core as core
    from taskmaster.core import OnBoth, OnChild, OnParent, Task

    if TYPE_CHECKING:
        from socket import socket


    class Future(Task):
        lock: OnParent[threading.Lock]
        connection: OnParent[socket]  # only importable while type checking
        scratch: OnChild[list[int]]
        dotted: core.OnChild[int]
        counter: OnBoth[int]
        plain: int

        def run(self) -> None:
            pass


    @dataclass
    class Data(Task):
        secret: OnParent[threading.Lock] = field(default_factory=threading.Lock)
        scratch: OnChild[list[int]] = field(default_factory=list)
        counter: OnBoth[int] = 0
        plain: int = 0

        def run(self) -> int:
            self.counter += 1
            self.scratch.append(self.counter)
            return self.plain
    """
)


@pytest.fixture
def future_module() -> Iterator[types.ModuleType]:
    module = types.ModuleType("taskmaster_test_future_module")
    sys.modules[module.__name__] = module
    try:
        exec(compile(MODULE, "<future module>", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[module.__name__]


def test_string_annotations_from_a_future_import(
    future_module: types.ModuleType,
) -> None:
    task = future_module.Future()
    assert isinstance(future_module.Future.__annotations__["lock"], str)
    for name in ("lock", "connection", "scratch", "dotted", "counter", "plain"):
        setattr(task, name, name)
    task.extra = "extra"

    assert set(outgoing_fields(task)) == {
        "scratch",
        "dotted",
        "counter",
        "plain",
        "extra",
    }
    assert set(returning_fields(task)) == {"counter", "plain", "extra"}


def test_dataclass_tasks(future_module: types.ModuleType, taskmaster: Any) -> None:
    from taskmaster.workers import SyncWorker

    task = future_module.Data(plain=7)
    assert set(outgoing_fields(task)) == {"scratch", "counter", "plain"}
    assert set(returning_fields(task)) == {"counter", "plain"}

    taskmaster.set_workers([SyncWorker()])
    assert taskmaster.run_task(task).wait() == 7
    assert (task.counter, task.scratch) == (1, [1])
    assert task == future_module.Data(task.secret, [1], 1, 7)  # dataclass __eq__


# -- method sides --------------------------------------------------------------


def test_method_decorators_mark_and_return_the_function() -> None:
    def function() -> None:
        pass

    for decorator, side in ((on_parent, Side.PARENT), (on_child, Side.CHILD)):
        assert decorator(function) is function
        assert method_side(function) is side
    assert on_both(function) is function
    assert method_side(function) is Side.BOTH


def test_unmarked_methods_run_on_both_sides() -> None:
    class Plain(Task):
        def helper(self) -> None:
            pass

        def run(self) -> None:
            pass

    assert method_side(Plain().helper) is Side.BOTH
    assert method_side(Plain.helper) is Side.BOTH


def test_sides_are_read_once_per_class() -> None:
    cls = _task_class({"f_a": "parent"}, "object")
    _instance(cls, ["f_a"])
    outgoing_fields(_instance(cls, ["f_a"]))
    assert "__taskmaster_field_sides__" in cls.__dict__
    sub = _task_class({"f_b": "child"}, "object", cls)
    task = _instance(sub, ["f_a", "f_b"])
    assert set(outgoing_fields(task)) == {"f_b"}
    assert set(returning_fields(task)) == set()
