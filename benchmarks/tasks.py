"""The work that every implementation runs.

Taskmaster setups run the :class:`~taskmaster.core.Task` classes, peers run
the plain functions; both do the same thing.  The module is importable
(``benchmarks.tasks``), so a spawned worker (ProcessWorker, loky) imports the
classes instead of receiving them by value.
"""

from __future__ import annotations

import statistics
import time

from taskmaster.core import Task


def empty() -> None:
    """Nothing at all: measures what a task costs the library."""


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def bulk(size: int) -> bytearray:
    """A result of ``size`` bytes, written (not zero pages) like real data."""
    return bytearray(b"\xab") * size


class EmptyTask(Task):
    def run(self) -> None:
        return None


class SleepTask(Task):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def run(self) -> None:
        time.sleep(self.seconds)


class BulkTask(Task):
    def __init__(self, size: int) -> None:
        self.size = size

    def run(self) -> bytearray:
        return bulk(self.size)


class CallTask(Task):
    """Calls the parent ``count`` times; returns the median round trip (s).

    The clock runs in the child, around each ``self.call``, so the figure is
    what a task waits for one call, not what the parent spends.
    """

    def __init__(self, count: int) -> None:
        self.count = count

    def pong(self) -> None:
        return None

    def run(self) -> float:
        took = []
        for _ in range(self.count):
            start = time.perf_counter()
            self.call(self.pong)
            took.append(time.perf_counter() - start)
        return statistics.median(took)
