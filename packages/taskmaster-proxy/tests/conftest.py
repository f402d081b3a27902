"""Shared fixtures, task classes and process helpers of the taskmaster-proxy tests.

Every worker kind that can live in a proxy (fork, process, thread) is a
``backend``; a test that takes the ``backend`` fixture runs once per kind,
each time with a fresh :class:`ProcessProxy`.  The tests use real processes
and signals: no mocks.

Task classes live here and in the test modules.  Under
``--import-mode=importlib`` these modules are imported under names that a
spawned interpreter cannot import, so they are registered with cloudpickle to
travel by value (the proxy runs the same Python as the tests, except in
``test_other_python.py``, which writes an importable module instead).  Test
modules reach this module through the ``tasks`` fixture.
"""

import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import cloudpickle
import pytest

from taskmaster.core import OnBoth, OnChild, OnParent, Task, Taskmaster, TaskWarning
from taskmaster.core.worker import Worker
from taskmaster.proxy import ProcessProxy
from taskmaster.workers import ForkWorker, ProcessWorker, ThreadWorker

cloudpickle.register_pickle_by_value(sys.modules[__name__])

BACKENDS: dict[str, type[Worker]] = {
    "fork": ForkWorker,
    "process": ProcessWorker,
    "thread": ThreadWorker,
}
"""Worker kinds that a proxy hosts, by name."""

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    """The name of a worker kind hosted by the proxy."""
    return str(request.param)


@pytest.fixture(autouse=True, scope="module")
def _module_travels_by_value(request: pytest.FixtureRequest) -> None:
    """Task classes defined in a test module reach the proxy's workers by value."""
    cloudpickle.register_pickle_by_value(request.module)


@pytest.fixture
def tasks():  # type: ignore[no-untyped-def]
    """This module: the shared task classes and helpers."""
    return sys.modules[__name__]


@pytest.fixture
def make_taskmaster() -> Iterator[Callable[..., Taskmaster]]:
    """A factory of taskmasters whose ``count`` workers of one kind share one
    new proxy; every taskmaster is stopped at the end of the test."""
    made: list[Taskmaster] = []

    def make(
        kind: str, count: int = 2, proxy: ProcessProxy | None = None
    ) -> Taskmaster:
        worker = BACKENDS[kind]().set_proxy(proxy or ProcessProxy())
        taskmaster = Taskmaster().add_workers(worker, count)
        made.append(taskmaster)
        return taskmaster

    yield make
    for taskmaster in made:
        taskmaster.stop()


@pytest.fixture
def taskmaster(backend: str, make_taskmaster: Callable[..., Taskmaster]) -> Taskmaster:
    """A taskmaster with two workers of ``backend`` sharing one proxy."""
    return make_taskmaster(backend)


# -- process helpers ---------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.005)


def process_state(pid: int) -> str | None:
    """The state letter of ``pid`` from /proc (``Z`` for a zombie), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name in parentheses may hold spaces; the state follows it.
    return stat.rpartition(")")[2].split()[0]


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (it has not ended yet)."""
    return process_state(pid) not in (None, "Z")


def has_exited(pid: int) -> bool:
    """True once ``pid``, a child of this process, has wholly ended (every
    thread of it), so that its parent can reap it; it is not reaped here."""
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    return os.waitid(os.P_PID, pid, flags) is not None


def children(pid: int | None = None) -> set[int]:
    """The pids whose parent is ``pid`` (default: this process), zombies included."""
    pid = os.getpid() if pid is None else pid
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def open_fds() -> set[int]:
    """The file descriptors this process holds."""
    return {int(name) for name in os.listdir("/proc/self/fd")}


def kill(pid: int) -> None:
    """SIGKILL ``pid`` if it still exists."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def where() -> tuple[int, int]:
    """The process and thread a piece of code runs in."""
    return os.getpid(), threading.get_ident()


def run_all(taskmaster: Taskmaster, *tasks: Task) -> list[Task]:
    """Run ``tasks`` to the end; return them in the order given."""
    for task in tasks:
        taskmaster.run_task(task)
    taskmaster.wait()
    return list(tasks)


def proxy_pid(kind: str, task: "Host") -> int:
    """The proxy's pid, from what a finished :class:`Host` task reported."""
    pid, parent_pid = task.get_result()
    # A thread worker runs inside the proxy; a forked or spawned one below it.
    return int(pid if kind == "thread" else parent_pid)


# -- shared task classes -----------------------------------------------------------


class Return(Task):
    """Returns the value it was given."""

    def __init__(self, value: object = None) -> None:
        self.value = value

    def run(self) -> object:
        return self.value


class Host(Task):
    """Returns its process id and its parent's."""

    def run(self) -> tuple[int, int]:
        return os.getpid(), os.getppid()


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


class Started(Task):
    """Tells the parent it started (into a list there), then sleeps."""

    log: OnParent[list]

    def __init__(self, log: list, seconds: float = 30.0) -> None:
        self.log = log
        self.seconds = seconds

    def started(self, pid: int, parent_pid: int) -> None:
        self.log.append((pid, parent_pid))

    def run(self) -> None:
        self.call(self.started, os.getpid(), os.getppid())
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            time.sleep(0.002)


class Die(Task):
    """Ends its worker in one of several ways."""

    def __init__(self, how: str) -> None:
        self.how = how

    def run(self) -> None:
        import faulthandler

        if self.how == "os._exit":
            os._exit(3)
        elif self.how == "sys.exit":
            sys.exit(4)
        elif self.how == "sigsegv":
            faulthandler._sigsegv()
        time.sleep(5)


class Notice(UserWarning):
    """A warning category of the tests' own."""


class Warn(Task):
    """Raises one warning; records what handle_warning saw."""

    seen: OnBoth[list]

    def __init__(self, message: str = "careful") -> None:
        self.message = message
        self.seen = []

    def handle_warning(self, warning: TaskWarning) -> bool:
        self.seen.append(warning)
        return True

    def run(self) -> int:
        warnings.warn(self.message, Notice, stacklevel=1)
        return os.getpid()


class Sides(Task):
    """Changes a field of each side in the child and reports what it saw."""

    both: OnBoth[int]
    parent_only: OnParent[object]
    child_only: OnChild[list]

    def __init__(self) -> None:
        self.both = 1
        self.parent_only = threading.Lock()
        self.child_only = ["sent once"]

    def bump(self) -> int:
        self.both += 10
        return self.both

    def run(self) -> tuple[object, ...]:
        had_parent_only = hasattr(self, "parent_only")
        got_child_only = list(self.child_only)
        self.both += 1
        seen_by_parent = self.call(self.bump)
        self.child_only.append("changed in the child")
        self.both += 100
        return had_parent_only, got_child_only, seen_by_parent
