"""Bad input is refused at once, with a TypeError or ValueError that says why."""

from __future__ import annotations

import math
from typing import Any

import pytest

from taskmaster.core import (
    CloneTaskFactory,
    InstanceTaskFactory,
    OnChild,
    OnParent,
    Task,
    TaskFactory,
    TaskInterface,
    Taskmaster,
    TaskmasterError,
    on_parent,
)
from taskmaster.core._task import outgoing_fields
from taskmaster.workers import SyncWorker


class Double(Task):
    def __init__(self, x: int) -> None:
        self.x = x

    def run(self) -> int:
        return self.x * 2


def test_a_task_class_without_run_cannot_be_instantiated() -> None:
    class NoRun(Task):
        pass

    with pytest.raises(TypeError, match="run"):
        NoRun()  # type: ignore[abstract]


def test_a_task_whose_run_is_not_callable_is_refused(taskmaster: Taskmaster) -> None:
    class NotCallable(Task):
        def run(self) -> None:
            pass

    task = NotCallable()
    task.run = 42  # type: ignore[assignment,method-assign]
    with pytest.raises(TypeError, match="NotCallable has no run"):
        taskmaster.run_task(task)


@pytest.mark.parametrize("thing", [object(), Double, "task", None, lambda: 1])
def test_run_task_refuses_what_is_not_a_task(
    taskmaster: Taskmaster, thing: Any
) -> None:
    with pytest.raises(TypeError, match="expected a task"):
        taskmaster.run_task(thing)
    assert taskmaster.get_tasks() == []


class Flaky(TaskFactory):
    """Returns ``bad`` once, then two good tasks, then nothing."""

    def __init__(self, bad: Any) -> None:
        self.outputs = [bad, Double(1), Double(2)]

    def create_next_task(self, group: str | None) -> TaskInterface | None:
        return self.outputs.pop(0) if self.outputs else None


@pytest.mark.parametrize("bad", ["not a task", Double, 42])
def test_a_factory_returning_a_non_task(taskmaster: Taskmaster, bad: Any) -> None:
    factory = Flaky(bad)
    queued = Double(10)
    taskmaster.add_task_factory(factory).run_task(queued)

    with pytest.raises(TypeError, match="Flaky returned a non-task"):
        taskmaster.wait()

    # Still usable: the factory's later tasks and the queue run.
    finished = list(taskmaster.wait_and_handle_tasks())
    assert [t.get_result() for t in finished] == [2, 4, 20]


def test_update_raises_for_a_factory_returning_a_non_task(
    taskmaster: Taskmaster,
) -> None:
    taskmaster.add_task_factory(Flaky(object()))
    with pytest.raises(TypeError, match="returned a non-task"):
        taskmaster.update()
    assert taskmaster.wait().is_running() is False


@pytest.mark.parametrize("timeout", [-1, -0.001, -math.inf, math.nan])
def test_negative_timeouts_are_refused(timeout: float) -> None:
    task = Double(1)
    with pytest.raises(ValueError, match="cannot be negative"):
        task.set_timeout(timeout)
    with pytest.raises(ValueError, match="cannot be negative"):
        Taskmaster().set_default_task_timeout(timeout)
    assert task.get_timeout() is None


@pytest.mark.parametrize("timeout", ["1", True, [1]])
def test_timeouts_must_be_numbers(timeout: Any) -> None:
    with pytest.raises(TypeError, match="number of seconds"):
        Double(1).set_timeout(timeout)
    with pytest.raises(TypeError, match="number of seconds"):
        Taskmaster().set_default_task_timeout(timeout)


def test_two_sides_on_one_field_are_refused(taskmaster: Taskmaster) -> None:
    class Confused(Task):
        x: OnParent[OnChild[int]]

        def run(self) -> None:
            pass

    with pytest.raises(TypeError, match=r"Confused\.x is annotated with more than"):
        taskmaster.run_task(Confused())


@pytest.mark.parametrize("decorator", ["on_parent", "on_child", "on_both"])
def test_a_method_decorator_as_a_field_annotation_is_refused(
    taskmaster: Taskmaster, decorator: str
) -> None:
    import taskmaster.core as core

    Wrong = type(
        "Wrong",
        (Task,),
        {
            "__annotations__": {"x": getattr(core, decorator)},
            "run": lambda self: None,
        },
    )
    with pytest.raises(TypeError, match=f"Wrong.x: {decorator} is a method decorator"):
        taskmaster.run_task(Wrong())


def test_a_method_decorator_in_a_string_annotation_is_refused(
    taskmaster: Taskmaster,
) -> None:
    class Wrong(Task):
        x: on_parent  # type: ignore[valid-type]

        def __init__(self) -> None:
            self.x = 1

        def run(self) -> None:
            pass

    with pytest.raises(TypeError, match="on_parent is a method decorator"):
        taskmaster.run_task(Wrong())
    with pytest.raises(TypeError, match="on_parent is a method decorator"):
        outgoing_fields(Wrong())


def test_method_decorators_decorate_callables() -> None:
    with pytest.raises(TypeError, match="decorates methods"):
        on_parent(42)  # type: ignore[type-var]


@pytest.mark.parametrize("count", [-1, -100])
def test_add_workers_with_a_negative_count(count: int) -> None:
    taskmaster = Taskmaster()
    with pytest.raises(ValueError, match="count"):
        taskmaster.add_workers(SyncWorker(), count)
    assert taskmaster.get_workers() == []


@pytest.mark.parametrize("count", [1.5, "2", True])
def test_add_workers_with_a_count_that_is_not_a_whole_number(count: Any) -> None:
    with pytest.raises(ValueError, match="count"):
        Taskmaster().add_workers(SyncWorker(), count)


def test_add_workers_zero_adds_none() -> None:
    assert Taskmaster().add_workers(SyncWorker(), 0).get_workers() == []


@pytest.mark.parametrize("method", ["add_worker", "add_workers", "set_workers"])
def test_workers_must_be_workers(method: str) -> None:
    taskmaster = Taskmaster()
    with pytest.raises(TypeError, match="expected a worker, got str"):
        if method == "add_workers":
            taskmaster.add_workers("sync", 2)  # type: ignore[arg-type]
        elif method == "set_workers":
            taskmaster.set_workers([SyncWorker(), "sync"])  # type: ignore[list-item]
        else:
            taskmaster.add_worker("sync")  # type: ignore[arg-type]
    assert taskmaster.get_workers() == []


def test_factories_must_be_factories() -> None:
    taskmaster = Taskmaster()
    with pytest.raises(TypeError, match="expected a task factory"):
        taskmaster.add_task_factory(iter([Double(1)]))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a task factory"):
        taskmaster.set_default_init_task_factory(Double)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a task factory"):
        SyncWorker().set_init_task_factory(Double(1))  # type: ignore[arg-type]


def test_init_tasks_must_be_tasks() -> None:
    taskmaster = Taskmaster()
    with pytest.raises(TypeError, match="expected a task class, got int"):
        taskmaster.set_default_init_task(int)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a task"):
        taskmaster.set_default_init_task("init")  # type: ignore[arg-type]


@pytest.mark.parametrize("factory", [InstanceTaskFactory, CloneTaskFactory])
def test_factory_counts_are_checked(factory: Any) -> None:
    source = Double if factory is InstanceTaskFactory else Double(1)
    with pytest.raises(ValueError, match="cannot be negative"):
        factory(source, -1)
    with pytest.raises(TypeError, match="whole number"):
        factory(source, 2.5)
    with pytest.raises(TypeError, match="whole number"):
        factory(source, True)


def test_tasks_without_workers_are_an_error() -> None:
    taskmaster = Taskmaster()
    taskmaster.run_task(Double(1))
    with pytest.raises(TaskmasterError, match="no workers"):
        taskmaster.wait()


def test_options_must_be_options() -> None:
    with pytest.raises(TypeError, match="expected TaskmasterOptions"):
        SyncWorker().set_options({"bootstrap": "x"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a Proxy"):
        SyncWorker().set_proxy("proxy")  # type: ignore[arg-type]
