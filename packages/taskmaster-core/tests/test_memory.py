"""Finished tasks are freed by reference counting alone, and streams stay flat.

The tests switch the cycle collector off (the ``no_gc`` fixture): an object
that is only freed by ``gc.collect()`` sits in a reference cycle, which the
contract rules out for tasks, promises and the taskmaster.
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from taskmaster.core import IteratorTaskFactory, Task, Taskmaster
from taskmaster.workers import ForkWorker, SyncWorker

pytestmark = pytest.mark.usefixtures("no_gc")


class Work(Task):
    def __init__(self, x: int = 1) -> None:
        self.x = x
        self.payload = list(range(100))

    def run(self) -> list[int]:
        return [self.x] * 10


class Boom(ValueError):
    """A ValueError that can be weakly referenced."""


class Broken(Task):
    def __init__(self) -> None:
        self.big = bytearray(1000)

    def helper(self) -> None:
        raise KeyError("inner")

    def run(self) -> None:
        local = self  # a frame local that refers back to the task  # noqa: F841
        try:
            self.helper()
        except KeyError:
            raise Boom("broken")  # noqa: B904 (chained through __context__)

    def handle_error(self, error: Exception) -> None:
        super().handle_error(error)  # stores it and writes one line


def _run_and_drop(taskmaster: Taskmaster, task: Task, callbacks: bool) -> list[Any]:
    """Run ``task``, drop every reference to it; return weak references."""
    seen: list[Any] = []
    promise = taskmaster.run_task(task)
    if callbacks:
        promise.then(lambda result, t: seen.append(result))
        promise.catch(lambda error, t: seen.append(type(error)))
    taskmaster.wait()
    references = [weakref.ref(task), weakref.ref(promise)]
    if isinstance(task, Broken):
        references.append(weakref.ref(task.get_error()))  # type: ignore[arg-type]
    assert len(seen) == int(callbacks)
    return references


def _workers() -> Iterator[Any]:
    yield pytest.param(SyncWorker, id="sync")
    yield pytest.param(
        ForkWorker,
        id="fork",
        marks=pytest.mark.skipif(not ForkWorker.is_supported(), reason="no os.fork"),
    )


@pytest.mark.parametrize("worker", list(_workers()))
@pytest.mark.parametrize("callbacks", [False, True], ids=["plain", "callbacks"])
@pytest.mark.parametrize("kind", [Work, Broken], ids=["finished", "failed"])
def test_a_dropped_finished_task_is_freed_without_gc(
    worker: type, callbacks: bool, kind: type, capsys: pytest.CaptureFixture[str]
) -> None:
    taskmaster = Taskmaster().add_worker(worker())
    try:
        references = _run_and_drop(taskmaster, kind(), callbacks)

        assert [reference() for reference in references] == [None] * len(references)
    finally:
        taskmaster.stop()
    if kind is Broken:
        assert capsys.readouterr().err.count("\n") == 1


class AsksLater(Task):
    """Keeps the promise of a call whose parent method raises, and waits for
    it only at the end (found by the conformance suite under SyncWorker)."""

    def refuse(self) -> None:
        raise KeyError("no")

    def run(self) -> str:
        pending = self.call_async(self.refuse)
        self.big = bytearray(1000)
        try:
            pending.wait()
        except KeyError as error:
            return repr(error)
        return "answered"


@pytest.mark.parametrize("worker", list(_workers()))
def test_a_failed_async_call_waited_later_leaves_no_cycle(worker: type) -> None:
    taskmaster = Taskmaster().add_worker(worker())
    try:
        task = AsksLater()
        taskmaster.run_task(task)
        taskmaster.wait()
        assert task.get_result() == "KeyError('no')"
        reference = weakref.ref(task)

        del task

        assert reference() is None
    finally:
        taskmaster.stop()


@pytest.mark.parametrize("worker", list(_workers()))
def test_the_taskmaster_is_freed_without_gc(worker: type) -> None:
    taskmaster = Taskmaster().add_worker(worker())
    task = Work()
    taskmaster.run_task(task).wait()
    taskmaster.stop()
    reference = weakref.ref(taskmaster)

    del taskmaster

    assert reference() is None
    assert task.get_result() == [1] * 10  # the task outlives its taskmaster


def test_a_task_outlives_nothing_it_does_not_need(taskmaster: Taskmaster) -> None:
    # Many tasks, each dropped as it finishes: none accumulates anywhere.
    references = []
    for i in range(200):
        task = Work(i)
        taskmaster.run_task(task).then(lambda r, t: None)
        references.append(weakref.ref(task))
        del task
    taskmaster.wait()
    assert sum(reference() is not None for reference in references) == 0


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Empty(Task):
    def __init__(self, item: int) -> None:
        pass

    def run(self) -> None:
        return None


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_million_streamed_tasks_keep_memory_flat() -> None:
    # The resident set is sampled every 10,000 items as the factory pulls
    # them; a leak of even 100 bytes per task would show as 100 MB.
    count = 1_000_000
    samples: list[int] = []

    def items() -> Iterator[int]:
        for i in range(count):
            if i % 10_000 == 0:
                samples.append(_rss())
            yield i

    taskmaster = Taskmaster().add_worker(SyncWorker())
    taskmaster.add_task_factory(IteratorTaskFactory(items(), Empty))
    baseline = _rss()

    taskmaster.wait()

    samples.append(_rss())
    growth = max(samples) - baseline
    print(f"RSS growth over {count:,} tasks: {growth / 1e6:.2f} MB")
    assert len(samples) == count // 10_000 + 1
    assert growth < 20e6


@pytest.mark.parametrize("worker", list(_workers()))
def test_a_task_whose_promise_raised_in_wait_is_freed_without_gc(
    worker: type, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by the conformance suite: the error raised by wait() kept the
    # frame of wait() in its traceback, and that frame held the promise.
    taskmaster = Taskmaster().add_worker(worker())
    try:
        promise = taskmaster.run_task(Broken())
        reference = weakref.ref(promise.get_task())
        with pytest.raises(Boom):
            promise.wait()
        del promise

        assert reference() is None
    finally:
        taskmaster.stop()
    capsys.readouterr()
