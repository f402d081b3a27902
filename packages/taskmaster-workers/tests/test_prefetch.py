"""The prefetch window: a worker of short tasks holds its next tasks early,
and that changes nothing a caller can see.

Most tests first run empty tasks until every worker's average task time is
tiny and its window large, then check a rule of scheduling.
"""

import os
import threading
import time
from collections import Counter
from typing import Any

import pytest

from taskmaster.core import Task, Taskmaster, TaskTimeoutError, WorkerFailedError


def _warm(taskmaster: Taskmaster, tasks: Any, workers: int, window: int) -> None:
    """Run batches of empty tasks until every worker's window holds more than
    ``window`` tasks.  (The first task of a spawned worker is slow, so its
    average starts high and needs a few dozen short tasks to come down.)"""
    for _ in range(100):
        tasks.run_all(taskmaster, *[tasks.Return(n) for n in range(40)])
        # Internal, only to make sure the scenario is the one meant.
        instances = list(taskmaster._instances.values())
        if len(instances) == workers and min(i.capacity() for i in instances) > window:
            return
    pytest.fail(f"the windows did not grow beyond {window} tasks")


@pytest.mark.needs("async")
def test_a_short_queue_is_shared_out_evenly(make_taskmaster, tasks):
    taskmaster = make_taskmaster(2)
    _warm(taskmaster, tasks, workers=2, window=4)

    placed = tasks.run_all(taskmaster, *[tasks.Where() for _ in range(4)])

    # Every idle worker gets one before any gets a second, then two each:
    # not all four on the first worker that had room.
    assert sorted(Counter(task.get_result() for task in placed).values()) == [2, 2]


class SleepWhere(Task):
    """Sleeps 20 ms, then returns the process and thread it ran in."""

    def run(self) -> tuple[int, int]:
        time.sleep(0.02)
        return os.getpid(), threading.get_ident()


class SleepThenMark(Task):
    """Sleeps, then creates the file ``marker``."""

    def __init__(self, seconds: float, marker: str) -> None:
        self.seconds = seconds
        self.marker = marker

    def run(self) -> None:
        time.sleep(self.seconds)
        with open(self.marker, "w"):
            pass


class PickledAfterMark:
    """Pickles only once the file ``marker`` exists, and a moment later: the
    parent, busy handing it over, reads nothing from its workers meanwhile."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[type, tuple[str]]:
        deadline = time.monotonic() + 60
        while not os.path.exists(self.marker) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the task that made the file sends its result
        return PickledAfterMark, (self.marker,)


@pytest.mark.needs("async")
def test_a_first_task_measured_too_short_does_not_draw_the_queue(
    make_taskmaster, tasks, tmp_path
):
    taskmaster = make_taskmaster(2)
    # The first worker runs a 0.1 s task while the parent pickles the second
    # worker's task, which waits for the first one's end, so the parent reads
    # its READY and RESULT together and the task seems to have taken
    # microseconds.  The second worker's 1.5 s task is measured about right.
    marker = str(tmp_path / "first task done")
    quick = SleepThenMark(0.1, marker)
    slow = tasks.Sleep(1.5, PickledAfterMark(marker))
    tasks.run_all(taskmaster, quick, slow)
    # Internal, only to make sure the scenario is the one meant.
    averages = sorted(i.average for i in taskmaster._instances.values())
    assert averages[0] < 0.01 < 0.5 < averages[1]

    placed = tasks.run_all(taskmaster, *[SleepWhere() for _ in range(12)])

    # One sample is not enough to hand a worker a queue's worth of 20 ms
    # tasks while the other runs one of them.
    counts = Counter(task.get_result() for task in placed)
    assert len(counts) == 2
    assert min(counts.values()) >= 3


@pytest.mark.needs("isolation")
def test_tasks_handed_over_early_are_requeued_when_the_worker_dies(
    make_taskmaster, tasks
):
    taskmaster = make_taskmaster(1)
    _warm(taskmaster, tasks, workers=1, window=20)
    die = tasks.Die("os._exit")
    behind = [tasks.Return(n) for n in range(20)]

    tasks.run_all(taskmaster, die, *behind)

    assert isinstance(die.get_error(), WorkerFailedError)
    assert [task.get_error() for task in behind] == [None] * 20
    assert [task.get_result() for task in behind] == list(range(20))


@pytest.mark.needs("timeouts")
def test_a_timeout_fails_only_the_running_task_of_a_window(make_taskmaster, tasks):
    taskmaster = make_taskmaster(1)
    _warm(taskmaster, tasks, workers=1, window=10)
    slow = tasks.Sleep(30).set_timeout(0.2)
    behind = [tasks.Return(n) for n in range(10)]

    tasks.run_all(taskmaster, slow, *behind)

    assert isinstance(slow.get_error(), TaskTimeoutError)
    assert [task.get_result() for task in behind] == list(range(10))
    assert [task.get_error() for task in behind] == [None] * 10
