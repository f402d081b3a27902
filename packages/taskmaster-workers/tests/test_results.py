"""Results, exceptions and the ways of waiting for them, on every worker."""

import threading
from typing import ClassVar

import pytest

from taskmaster.core import (
    RemoteTraceback,
    Task,
    TaskmasterError,
    TaskPromise,
)


class Fail(Task):
    """Raises an exception of its own class from a helper method."""

    def explode(self) -> None:
        raise Oops("bad thing", 42)

    def run(self) -> None:
        self.explode()


class Oops(Exception):
    pass


class HoldsLock(Exception):
    """An exception that cannot be pickled: one of its args is a lock."""


class RaiseUnpicklable(Task):
    def run(self) -> None:
        raise HoldsLock("locked out", threading.Lock())


class TwoArgs(Exception):
    """Pickles, but cannot be unpickled: __init__ wants two arguments and
    pickle calls it with the one it passed to Exception."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} and {second}")


class RaiseUnunpicklable(Task):
    def run(self) -> None:
        raise TwoArgs("salt", "pepper")


class Square(Task):
    def __init__(self, number: int) -> None:
        self.number = number

    def run(self) -> int:
        return self.number * self.number


class IsSync(Task):
    def run(self) -> bool:
        return self.is_sync()


def test_results_come_back(taskmaster, tasks):
    values = [None, 7, "text", b"\x00" * 300_000, {"nested": [1, (2, 3)]}]
    promises = [taskmaster.run_task(tasks.Return(value)) for value in values]
    taskmaster.wait()
    assert [promise.get_value() for promise in promises] == values
    assert [promise.get_task().get_result() for promise in promises] == values


def test_exception_arrives_as_itself(taskmaster):
    task = Fail()
    taskmaster.run_task(task)
    taskmaster.wait()
    error = task.get_error()
    assert type(error) is Oops
    assert error.args == ("bad thing", 42)


@pytest.mark.needs("pickled")
def test_exception_carries_the_child_traceback(taskmaster):
    task = Fail()
    taskmaster.run_task(task)
    taskmaster.wait()
    cause = task.get_error().__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "in explode" in cause.text
    assert "Oops: ('bad thing', 42)" in cause.text


@pytest.mark.needs("pickled")
def test_unpicklable_exception_becomes_taskmaster_error(taskmaster):
    task = RaiseUnpicklable()
    taskmaster.run_task(task)
    taskmaster.wait()
    error = task.get_error()
    assert type(error) is TaskmasterError
    assert "HoldsLock" in str(error)
    assert "locked out" in str(error)
    assert isinstance(error.__cause__, RemoteTraceback)


@pytest.mark.needs("pickled")
def test_ununpicklable_exception_becomes_taskmaster_error(taskmaster):
    task = RaiseUnunpicklable()
    taskmaster.run_task(task)
    taskmaster.wait()
    error = task.get_error()
    assert type(error) is TaskmasterError
    assert "TwoArgs" in str(error)
    assert "salt and pepper" in str(error)
    assert "unpickled" in error.__cause__.text


def test_handle_error_writes_one_line(taskmaster, capsys):
    taskmaster.run_task(Fail())
    taskmaster.wait()
    assert "Fail failed: Oops: ('bad thing', 42)" in capsys.readouterr().err


def test_promise_callbacks(taskmaster, tasks):
    seen = []
    task = tasks.Return(5)
    promise = taskmaster.run_task(task)
    assert promise is task.get_promise()
    assert isinstance(promise, TaskPromise)
    promise.then(lambda result, origin: seen.append(("then", result, origin)))
    promise.catch(lambda error, origin: seen.append(("catch", error)))

    failing = taskmaster.run_task(Fail())
    failing.catch(lambda error, origin: seen.append(("catch", type(error), origin)))
    taskmaster.wait()

    assert ("then", 5, task) in seen
    assert ("catch", Oops, failing.get_task()) in seen
    assert len(seen) == 2
    promise.then(lambda result, origin: seen.append(("late", result)))
    assert seen[-1] == ("late", 5)


class Ordered(Task):
    """Notes, in the parent, when handle_result runs."""

    order: ClassVar[list[str]] = []

    def run(self) -> str:
        return "x"

    def handle_result(self, result: object) -> None:
        Ordered.order.append("handle_result")


def test_handle_result_runs_before_then(taskmaster):
    order = Ordered.order = []
    promise = taskmaster.run_task(Ordered())
    promise.then(lambda result, origin: order.append("then"))
    taskmaster.wait()
    assert order == ["handle_result", "then"]


def test_promise_wait_runs_the_taskmaster(taskmaster, tasks):
    promise = taskmaster.run_task(tasks.Sleep(0.05, "slept"))
    assert promise.wait() == "slept"
    with pytest.raises(Oops):
        taskmaster.run_task(Fail()).wait()


def test_wait_and_handle_tasks_yields_each_task_once(taskmaster, tasks):
    mine = [tasks.Return(number) for number in range(6)] + [Fail()]
    for task in mine:
        taskmaster.run_task(task)
    handled = list(taskmaster.wait_and_handle_tasks())
    assert sorted(map(id, handled)) == sorted(map(id, mine))
    assert not taskmaster.is_running()


def test_manual_update_loop(taskmaster, tasks):
    mine = [tasks.Sleep(0.01, number) for number in range(5)]
    for task in mine:
        taskmaster.run_task(task)
    finished = []
    while taskmaster.is_running():
        finished += taskmaster.update()
    assert sorted(task.get_result() for task in finished) == list(range(5))
    assert taskmaster.update() == []


def test_wait_until_all_tasks_are_assigned(taskmaster, tasks):
    for number in range(5):
        taskmaster.run_task(tasks.Sleep(0.01, number))
    taskmaster.wait_until_all_tasks_are_assigned()
    assert taskmaster.get_tasks() == []
    more = taskmaster.run_task(tasks.Return("more"))
    taskmaster.wait()
    assert more.get_value() == "more"


def test_is_sync(taskmaster, backend):
    promise = taskmaster.run_task(IsSync())
    taskmaster.wait()
    assert promise.get_value() is ("async" not in backend.capabilities)


def test_factories(taskmaster, tasks):
    from taskmaster.core import (
        CloneTaskFactory,
        InstanceTaskFactory,
        IteratorTaskFactory,
    )

    taskmaster.add_task_factory(IteratorTaskFactory(range(5), Square))
    taskmaster.add_task_factory(InstanceTaskFactory(IsSync, 2))
    taskmaster.add_task_factory(CloneTaskFactory(tasks.Return("clone"), 3))
    results: dict[str, list] = {}
    for task in taskmaster.wait_and_handle_tasks():
        results.setdefault(type(task).__name__, []).append(task.get_result())
    assert sorted(results["Square"]) == [0, 1, 4, 9, 16]
    assert len(results["IsSync"]) == 2
    assert results["Return"] == ["clone"] * 3


@pytest.mark.needs("async")
def test_groups(backend, tasks):
    """Tasks of group "A" run on the async workers, of group "B" on a
    SyncWorker; a group that no worker serves fails at once."""
    from taskmaster.core import TaskFactory, Taskmaster
    from taskmaster.workers import SyncWorker

    class GroupAFactory(TaskFactory):
        def __init__(self) -> None:
            self.made = 0

        def get_groups(self):
            return ["A"]

        def create_next_task(self, group):
            assert group == "A"
            if self.made == 3:
                return None
            self.made += 1
            return IsSync().set_group(group)

    taskmaster = Taskmaster()
    taskmaster.add_workers(backend.worker().set_group("A"), 2)
    taskmaster.add_worker(SyncWorker().set_group("B"))
    with taskmaster:
        taskmaster.add_task_factory(GroupAFactory())
        queued = {
            group: [taskmaster.run_task(IsSync().set_group(group)) for _ in range(3)]
            for group in ("A", "B")
        }
        orphan = taskmaster.run_task(tasks.Return().set_group("C"))
        handled = list(taskmaster.wait_and_handle_tasks())

    assert [p.get_value() for p in queued["A"]] == [False] * 3
    assert [p.get_value() for p in queued["B"]] == [True] * 3
    assert isinstance(orphan.get_error(), TaskmasterError)
    assert "'C'" in str(orphan.get_error())
    from_factory = [t for t in handled if t.get_group() == "A"]
    assert len(from_factory) == 6
    assert all(task.get_result() is False for task in from_factory)
