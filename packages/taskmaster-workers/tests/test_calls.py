"""Calls to the parent while a task runs, and the sides of a task's fields."""

import os
import threading

import pytest

from taskmaster.core import OnBoth, OnChild, OnParent, Task


class Refused(Exception):
    """Raised by a parent method; must reach the child as itself."""


class Calls(Task):
    """Calls the parent synchronously and asynchronously; records both sides."""

    value: OnBoth[int]
    seen_in_parent: OnParent[list]

    def __init__(self) -> None:
        self.value = 0
        self.seen_in_parent = []

    def add(self, amount: int, *, times: int = 1) -> tuple[int, int]:
        self.seen_in_parent.append(self.value)
        self.value += amount * times
        return self.value, os.getpid()

    def double(self, number: int) -> int:
        self.seen_in_parent.append(self.value)
        return 2 * number

    def refuse(self, reason: str) -> None:
        raise Refused(reason, 7)

    def run(self) -> dict:
        report: dict = {"child_pid": os.getpid()}
        self.value = 1
        report["sync"] = self.call(self.add, 10)
        report["after_sync"] = self.value
        self.value += 100
        report["sync_kwargs"] = self.call(self.add, 1, times=2)[0]
        self.value += 100
        promises = [self.call_async(self.double, number) for number in range(3)]
        report["async"] = [promise.wait() for promise in promises]
        report["after_async"] = self.value
        try:
            self.call(self.refuse, "not today")
        except Refused as error:
            report["raised"] = (type(error).__name__, error.args)
        failing = self.call_async(self.refuse, "nor tomorrow")
        try:
            failing.wait()
        except Refused as error:
            report["raised_async"] = error.args
        self.value += 1000
        return report


def test_calls_run_in_the_parent_with_fields_synchronised(taskmaster, backend):
    task = Calls()
    taskmaster.run_task(task)
    taskmaster.wait()

    assert task.get_error() is None
    report = task.get_result()
    parent_pid = os.getpid()
    assert report["sync"] == (11, parent_pid)
    # The parent saw the value the child had set before each call.
    assert task.seen_in_parent[0] == 1
    assert report["after_sync"] == 11
    assert report["sync_kwargs"] == 113
    # Each async call carries the fields as they were when it was made.
    assert task.seen_in_parent[1:] == [111, 213, 213, 213]
    assert report["async"] == [0, 2, 4]
    assert report["after_async"] == 213
    assert report["raised"] == ("Refused", ("not today", 7))
    assert report["raised_async"] == ("nor tomorrow", 7)
    # ... and the field comes back once more when the task finishes.
    assert task.value == 1213
    if "isolation" in backend.capabilities:
        assert report["child_pid"] != parent_pid


class CallThenFail(Task):
    """A field set before a call and after it, then an exception: the parent
    has the last value the child held."""

    value: OnBoth[str]

    def __init__(self) -> None:
        self.value = "start"

    def peek(self) -> str:
        return self.value

    def run(self) -> None:
        self.value = "before the call"
        seen = self.call(self.peek)
        self.value = f"after the call, parent saw {seen!r}"
        raise Refused("done")


def test_fields_come_back_with_an_exception(taskmaster):
    task = CallThenFail()
    taskmaster.run_task(task)
    taskmaster.wait()
    assert isinstance(task.get_error(), Refused)
    assert task.value == "after the call, parent saw 'before the call'"


class Sides(Task):
    """OnParent fields hold what cannot be pickled in the parent, OnChild
    fields hold it in the child; neither gets in the way of a call or the end."""

    parent_lock: OnParent[object]
    child_lock: OnChild[object]
    child_note: OnChild[str]
    shared: OnBoth[list]

    def __init__(self) -> None:
        self.parent_lock = threading.Lock()
        self.child_lock = None
        self.child_note = "from the parent"
        self.shared = []

    def look(self) -> dict:
        self.shared.append("parent")
        return {
            "parent_lock": type(self.parent_lock).__name__,
            "child_lock": self.child_lock,
            "child_note": self.child_note,
        }

    def run(self) -> dict:
        report = {
            "parent_lock_sent": "parent_lock" in self.__dict__,
            "child_note_arrived": self.child_note,
        }
        self.child_lock = threading.Lock()
        self.child_note = "changed in the child"
        self.shared.append("child")
        report["parent_view"] = self.call(self.look)
        report["async_parent_view"] = self.call_async(self.look).wait()
        report["shared"] = list(self.shared)
        return report


@pytest.mark.needs("pickled")
def test_field_sides(taskmaster):
    task = Sides()
    lock = task.parent_lock
    taskmaster.run_task(task)
    taskmaster.wait()

    assert task.get_error() is None
    report = task.get_result()
    assert report["parent_lock_sent"] is False
    assert report["child_note_arrived"] == "from the parent"
    # The parent never sees what the child put in its OnChild fields ...
    expected_view = {
        "parent_lock": "lock",
        "child_lock": None,
        "child_note": "from the parent",
    }
    assert report["parent_view"] == expected_view
    assert report["async_parent_view"] == expected_view
    assert task.child_lock is None
    assert task.child_note == "from the parent"
    # ... and keeps its own OnParent fields untouched.
    assert task.parent_lock is lock
    assert report["shared"] == ["child", "parent", "parent"]
    assert task.shared == ["child", "parent", "parent"]


class CallUnbound(Task):
    def run(self) -> str:
        try:
            self.call(len, [])
        except ValueError as error:
            return f"refused: {error}"
        return "called"


def test_a_callable_not_bound_to_the_task_is_refused(taskmaster):
    task = CallUnbound()
    taskmaster.run_task(task)
    taskmaster.wait()
    assert task.get_result().startswith("refused")


class ManyCalls(Task):
    """Many async calls in flight at once, answered in order."""

    total: OnBoth[int] = 0

    def bump(self, amount: int) -> int:
        self.total += amount
        return self.total

    def run(self) -> list:
        promises = [self.call_async(self.bump, i) for i in range(200)]
        return [promise.wait() for promise in promises]


def test_many_async_calls(taskmaster):
    tasks = [ManyCalls() for _ in range(4)]
    for task in tasks:
        taskmaster.run_task(task)
    taskmaster.wait()
    running = 0
    expected = []
    for i in range(200):
        running += i
        expected.append(running)
    for task in tasks:
        assert task.get_result() == expected
        assert task.total == running
