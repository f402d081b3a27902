"""Shared fixtures and task classes of the taskmaster-workers tests.

Each worker kind declares once, in :data:`BACKENDS`, what it can do.  A test
that takes the ``backend`` fixture runs once per worker kind whose
capabilities cover the test's ``@pytest.mark.needs(...)``; without the mark
it runs on all four workers.  Tests never skip by worker name.

Task classes live here (shared) or in the test module that uses them.  Under
``--import-mode=importlib`` both are imported under dotted names such as
``packages.taskmaster-workers.tests.conftest`` that a spawned interpreter
cannot be relied on to import, so both are registered with cloudpickle to
travel by value: a ProcessWorker child gets the classes themselves, and
instances sent back arrive in the parent as instances of the same classes.
Test modules reach this module through the ``tasks`` fixture.
"""

import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cloudpickle
import pytest

from taskmaster.core import OnBoth, OnParent, Task, Taskmaster, TaskWarning
from taskmaster.core.worker import Worker
from taskmaster.workers import ForkWorker, ProcessWorker, SyncWorker, ThreadWorker

cloudpickle.register_pickle_by_value(sys.modules[__name__])

CAPABILITIES = {
    "async": "tasks run apart from the caller's thread; is_sync() is False",
    "pickled": "task, result, fields and exceptions travel pickled both ways",
    "timeouts": "a task past its timeout is stopped with TaskTimeoutError",
    "warnings": "warnings raised by a task reach its handle_warning",
    "exit": "sys.exit in a task ends only the worker instance",
    "isolation": "os._exit, kill signals and crashes end only the worker instance",
    "spawned": "each instance is a fresh interpreter (bootstrap, python_executable)",
}


@dataclass(frozen=True)
class Backend:
    """A worker kind under test and the capabilities it declares."""

    name: str
    worker_class: type[Worker]
    capabilities: frozenset[str]

    def worker(self) -> Worker:
        return self.worker_class()

    def __str__(self) -> str:
        return self.name


_ASYNC = frozenset({"async", "pickled", "timeouts", "warnings", "exit"})

BACKENDS = (
    Backend("sync", SyncWorker, frozenset()),
    Backend("fork", ForkWorker, _ASYNC | {"isolation"}),
    Backend("process", ProcessWorker, _ASYNC | {"isolation", "spawned"}),
    Backend("thread", ThreadWorker, _ASYNC),
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs(*capabilities): run only on workers that declare these capabilities",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``backend`` with the workers that can run the test."""
    if "backend" not in metafunc.fixturenames:
        return
    needed: set[str] = set()
    for marker in metafunc.definition.iter_markers("needs"):
        needed.update(marker.args)
    unknown = needed - CAPABILITIES.keys()
    if unknown:
        raise pytest.UsageError(f"unknown capabilities {sorted(unknown)}")
    chosen = [
        backend
        for backend in BACKENDS
        if needed <= backend.capabilities and backend.worker_class.is_supported()
    ]
    metafunc.parametrize("backend", chosen, ids=[b.name for b in chosen])


@pytest.fixture(autouse=True, scope="module")
def _module_travels_by_value(request: pytest.FixtureRequest) -> None:
    """Task classes defined in a test module reach spawned interpreters by value."""
    cloudpickle.register_pickle_by_value(request.module)


@pytest.fixture
def tasks():  # type: ignore[no-untyped-def]
    """This module: the shared task classes and helpers."""
    return sys.modules[__name__]


@pytest.fixture
def make_taskmaster(backend: Backend) -> Iterator[Callable[..., Taskmaster]]:
    """A factory of taskmasters with ``count`` workers of ``backend``;
    every one is stopped at the end of the test."""
    made: list[Taskmaster] = []

    def make(count: int = 2) -> Taskmaster:
        taskmaster = Taskmaster().add_workers(backend.worker(), count)
        made.append(taskmaster)
        return taskmaster

    yield make
    for taskmaster in made:
        taskmaster.stop()


@pytest.fixture
def taskmaster(make_taskmaster: Callable[..., Taskmaster]) -> Taskmaster:
    """A taskmaster with two workers of ``backend``."""
    return make_taskmaster()


# -- helpers -------------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.005)


def where() -> tuple[int, int]:
    """The process and thread a piece of code runs in."""
    return os.getpid(), threading.get_ident()


def run_all(taskmaster: Taskmaster, *tasks: Task) -> list[Task]:
    """Run ``tasks`` to the end; return them in the order given."""
    for task in tasks:
        taskmaster.run_task(task)
    taskmaster.wait()
    return list(tasks)


# -- shared task classes ---------------------------------------------------------


class Return(Task):
    """Returns the value it was given."""

    def __init__(self, value: object = None) -> None:
        self.value = value

    def run(self) -> object:
        return self.value


class Where(Task):
    """Returns the process and thread it ran in."""

    def run(self) -> tuple[int, int]:
        return where()


class Sleep(Task):
    """Sleeps in short slices (so ThreadWorker can interrupt it), then returns."""

    def __init__(self, seconds: float, result: object = None) -> None:
        self.seconds = seconds
        self.result = result

    def run(self) -> object:
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            time.sleep(0.002)
        return self.result


class Die(Task):
    """Ends its worker in one of several ways."""

    def __init__(self, how: str) -> None:
        self.how = how

    def run(self) -> None:
        import faulthandler
        import signal

        if self.how == "os._exit":
            os._exit(3)
        elif self.how == "sys.exit":
            sys.exit(4)
        elif self.how == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif self.how == "sigsegv":
            faulthandler._sigsegv()
        elif self.how == "abort":
            os.abort()
        time.sleep(5)


class Counter(Task):
    """The seed's synchronised-field example: increments on both sides."""

    counter: OnBoth[int] = 0

    def __init__(self) -> None:
        self.counter = 0

    def increase(self) -> None:
        self.counter += 1

    def run(self) -> int:
        for _ in range(3):
            self.increase()
            self.call(self.increase)
        return self.counter


class Notice(UserWarning):
    """A warning category of the tests' own."""


class Warn(Task):
    """Raises one warning; records what handle_warning saw when ``handle`` is set."""

    seen: OnBoth[list]

    def __init__(self, message: str = "careful", handle: bool = True) -> None:
        self.message = message
        self.handle = handle
        self.seen = []

    def handle_warning(self, warning: TaskWarning) -> bool:
        self.seen.append(warning)
        return self.handle

    def run(self) -> tuple[int, int]:
        warnings.warn(self.message, Notice, stacklevel=1)
        return where()


class Record(Task):
    """Tells the parent it ran (appending to a list shared in the parent),
    then returns where it ran."""

    log: OnParent[list]

    def __init__(self, log: list, label: str = "task") -> None:
        self.log = log
        self.label = label

    def note(self, place: tuple[int, int]) -> None:
        self.log.append((self.label, place))

    def run(self) -> tuple[int, int]:
        self.call(self.note, where())
        return where()
