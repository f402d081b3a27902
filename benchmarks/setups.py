"""What a workload asks of an implementation, and the Taskmaster setups.

A :class:`Setup` names one way to run tasks (a library, a worker kind, a
proxy) and opens a :class:`Pool` of it.  A pool offers the few operations the
workloads are made of, each in the fastest form its library has for
submitting tasks one by one.  Opening a pool may start nothing yet:
``run_one()`` is what makes it ready.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from taskmaster.core import Taskmaster
from taskmaster.core.worker import Worker
from taskmaster.workers import ForkWorker, ProcessWorker, ThreadWorker

from . import tasks


class Pool(ABC):
    """A pool of one implementation; every ``run_*`` waits for its results."""

    @abstractmethod
    def run_empty(self, count: int) -> None:
        """Submit ``count`` empty tasks one by one, then wait for all."""

    @abstractmethod
    def run_one(self) -> None:
        """Submit one empty task and wait for it."""

    @abstractmethod
    def run_bulk(self, size: int) -> int:
        """Run one task whose result has ``size`` bytes; return its length."""

    @abstractmethod
    def run_sleeps(self, count: int, seconds: float) -> None:
        """Submit ``count`` tasks that sleep ``seconds``, then wait for all."""

    def run_calls(self, count: int) -> float | None:
        """The median time a task waits for one call to the parent (s), or
        None where the library has no such thing."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Stop every worker and wait until they are gone."""


@dataclass(frozen=True)
class Setup:
    """One row of the tables: a name and how to open a pool of ``workers``."""

    name: str
    open: Callable[[int], Pool]
    group: str  # "taskmaster" or "peer"


class TaskmasterPool(Pool):
    def __init__(self, worker: Callable[[], Worker], workers: int) -> None:
        self.taskmaster = Taskmaster().add_workers(worker(), workers)

    def run_empty(self, count: int) -> None:
        taskmaster = self.taskmaster
        for _ in range(count):
            taskmaster.run_task(tasks.EmptyTask())
        taskmaster.wait()

    def run_one(self) -> None:
        self.taskmaster.run_task(tasks.EmptyTask()).wait()

    def run_bulk(self, size: int) -> int:
        return len(self.taskmaster.run_task(tasks.BulkTask(size)).wait())

    def run_sleeps(self, count: int, seconds: float) -> None:
        for _ in range(count):
            self.taskmaster.run_task(tasks.SleepTask(seconds))
        self.taskmaster.wait()

    def run_calls(self, count: int) -> float:
        return float(self.taskmaster.run_task(tasks.CallTask(count)).wait())

    def close(self) -> None:
        self.taskmaster.stop()


def _proxied_fork_worker() -> Worker:
    from taskmaster.proxy import ProcessProxy

    # The copies add_workers makes share this one proxy.
    return ForkWorker().set_proxy(ProcessProxy())


def _has_proxy() -> bool:
    try:
        import taskmaster.proxy  # noqa: F401
    except ImportError:
        return False
    return True


def taskmaster_setups() -> list[Setup]:
    """Every Taskmaster setup that can run here."""
    kinds: list[tuple[str, Callable[[], Worker], bool]] = [
        ("taskmaster ForkWorker", ForkWorker, ForkWorker.is_supported()),
        ("taskmaster ProcessWorker", ProcessWorker, ProcessWorker.is_supported()),
        ("taskmaster ThreadWorker", ThreadWorker, ThreadWorker.is_supported()),
        ("taskmaster ProxyFork", _proxied_fork_worker, _has_proxy()),
    ]
    return [
        Setup(name, _opener(make), "taskmaster")
        for name, make, supported in kinds
        if supported
    ]


def _opener(make: Callable[[], Worker]) -> Callable[[int], Pool]:
    def open_pool(workers: int) -> Pool:
        return TaskmasterPool(make, workers)

    return open_pool
