"""Timeouts, exits, kills and crashes: each fails its task, the worker is
replaced and later tasks run normally; init tasks run on every instance."""

import os
import select
import signal

import pytest

from taskmaster.core import (
    FatalPythonError,
    OnParent,
    Task,
    TaskTimeoutError,
    WorkerFailedError,
)


def assert_later_tasks_run(taskmaster, tasks) -> None:
    """Tasks after a failure succeed."""
    later = [tasks.Where() for _ in range(4)]
    tasks.run_all(taskmaster, *later)
    assert [task.get_error() for task in later] == [None] * 4


def check_replaced(make_taskmaster, backend, tasks, failing) -> None:
    """On a single worker: ``failing`` fails, and the next task runs on a
    new instance (a new process, where the worker has processes)."""
    taskmaster = make_taskmaster(1)
    before, after = tasks.Where(), tasks.Where()
    tasks.run_all(taskmaster, before, failing, after)
    assert failing.get_error() is not None
    assert after.get_error() is None
    if "isolation" in backend.capabilities:
        assert after.get_result()[0] != before.get_result()[0]


# -- timeouts --------------------------------------------------------------------


@pytest.mark.needs("timeouts")
def test_a_task_timeout(taskmaster, tasks):
    slow = tasks.Sleep(30).set_timeout(0.2)
    quick = tasks.Sleep(0.05, "quick").set_timeout(10)
    tasks.run_all(taskmaster, slow, quick)

    error = slow.get_error()
    assert isinstance(error, TaskTimeoutError)
    assert isinstance(error, TimeoutError)
    assert "0.2" in str(error)
    assert quick.get_result() == "quick"
    assert_later_tasks_run(taskmaster, tasks)


@pytest.mark.needs("timeouts")
def test_the_default_timeout(taskmaster, tasks):
    taskmaster.set_default_task_timeout(0.2)
    slow = tasks.Sleep(30)
    unlimited = tasks.Sleep(0.4, "unlimited").set_timeout(0)
    longer = tasks.Sleep(0.3, "longer").set_timeout(5)
    tasks.run_all(taskmaster, slow, unlimited, longer)

    assert isinstance(slow.get_error(), TaskTimeoutError)
    assert unlimited.get_result() == "unlimited"
    assert longer.get_result() == "longer"
    assert_later_tasks_run(taskmaster, tasks)


@pytest.mark.needs("timeouts")
def test_a_timed_out_worker_is_replaced(make_taskmaster, backend, tasks):
    check_replaced(make_taskmaster, backend, tasks, tasks.Sleep(30).set_timeout(0.1))


@pytest.mark.needs("timeouts")
def test_timeouts_in_a_row(make_taskmaster, tasks):
    taskmaster = make_taskmaster(1)
    slow = [tasks.Sleep(30).set_timeout(0.05) for _ in range(5)]
    quick = [tasks.Return(n) for n in range(5)]
    tasks.run_all(
        taskmaster, *[t for pair in zip(slow, quick, strict=True) for t in pair]
    )
    assert all(isinstance(t.get_error(), TaskTimeoutError) for t in slow)
    assert [t.get_result() for t in quick] == list(range(5))


# -- exits and kills -----------------------------------------------------------


def check_exit(taskmaster, tasks, how: str, expected: str) -> None:
    dying = tasks.Die(how)
    survivor = tasks.Sleep(0.1, "alive")
    tasks.run_all(taskmaster, dying, survivor)

    error = dying.get_error()
    assert type(error) is WorkerFailedError
    assert expected in str(error)
    assert survivor.get_result() == "alive"
    assert_later_tasks_run(taskmaster, tasks)


@pytest.mark.needs("isolation")
def test_os_exit(taskmaster, tasks):
    check_exit(taskmaster, tasks, "os._exit", "exited with code 3")


@pytest.mark.needs("exit")
def test_sys_exit(taskmaster, tasks):
    check_exit(taskmaster, tasks, "sys.exit", "exited with code 4")


@pytest.mark.needs("isolation")
def test_killed_by_itself(taskmaster, tasks):
    check_exit(taskmaster, tasks, "sigkill", "killed by signal 9")


class Victim(Task):
    """Tells the parent its pid, then waits to be killed."""

    pids: OnParent[list]

    def __init__(self, pids: list) -> None:
        self.pids = pids

    def started(self, pid: int) -> None:
        self.pids.append(pid)

    def run(self) -> None:
        import time

        self.call(self.started, os.getpid())
        time.sleep(60)


class Killer(Task):
    """Kills another worker's process."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def run(self) -> int:
        os.kill(self.pid, signal.SIGKILL)
        return os.getpid()


@pytest.mark.needs("exit")
def test_an_exited_worker_is_replaced(make_taskmaster, backend, tasks):
    check_replaced(make_taskmaster, backend, tasks, tasks.Die("sys.exit"))


@pytest.mark.needs("isolation")
def test_a_crashed_worker_is_replaced(make_taskmaster, backend, tasks):
    check_replaced(make_taskmaster, backend, tasks, tasks.Die("sigsegv"))


@pytest.mark.needs("isolation")
def test_a_worker_killed_by_a_sibling(taskmaster, tasks):
    pids: list = []
    victim = Victim(pids)
    taskmaster.run_task(victim)
    while not pids:
        taskmaster.update()
    killer = Killer(pids[0])
    taskmaster.run_task(killer)
    taskmaster.wait()

    error = victim.get_error()
    assert type(error) is WorkerFailedError
    assert "signal 9" in str(error)
    assert killer.get_error() is None
    assert killer.get_result() != pids[0]
    assert_later_tasks_run(taskmaster, tasks)
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def wait_for_exit(pid: int, timeout: float) -> None:
    """Wait until every thread of ``pid`` has gone (its main thread turns
    zombie earlier): when its pidfd is readable, as the taskmaster sees it."""
    fd = os.pidfd_open(pid)
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    assert readable, f"process {pid} did not end within {timeout} s"


@pytest.mark.needs("isolation")
@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open")
def test_an_idle_worker_killed_while_another_runs_is_replaced(taskmaster, tasks):
    """The next task must not go to the dead instance: the taskmaster looks
    for ended instances before a hand-out while any instance is idle."""
    first, second = tasks.run_all(taskmaster, tasks.Where(), tasks.Where())
    instances = {first.get_result()[0], second.get_result()[0]}
    assert len(instances) == 2
    pids: list = []
    busy = Victim(pids)
    taskmaster.run_task(busy)
    while not pids:
        taskmaster.update()
    (idle,) = instances - {pids[0]}
    os.kill(idle, signal.SIGKILL)
    wait_for_exit(idle, 5)

    later = tasks.Where()
    taskmaster.run_task(later)
    while not later.get_promise().is_settled():
        taskmaster.update()

    assert later.get_error() is None
    assert later.get_result()[0] not in instances
    assert busy.get_error() is None and not busy.get_promise().is_settled()


# -- crashes -------------------------------------------------------------------


class Crash(Task):
    """Crashes the interpreter it runs in, in a function with a telling name."""

    def __init__(self, how: str) -> None:
        self.how = how

    def crash_right_here(self) -> None:
        import ctypes
        import faulthandler

        if self.how == "null pointer":
            ctypes.string_at(0)
        elif self.how == "SIGSEGV":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif self.how == "_sigsegv":
            faulthandler._sigsegv()
        elif self.how == "abort":
            os.abort()
        elif self.how == "SIGFPE":
            os.kill(os.getpid(), signal.SIGFPE)

    def run(self) -> None:
        self.crash_right_here()


CRASHES = [
    ("null pointer", signal.SIGSEGV, "Segmentation fault"),
    ("SIGSEGV", signal.SIGSEGV, "Segmentation fault"),
    ("_sigsegv", signal.SIGSEGV, "Segmentation fault"),
    ("abort", signal.SIGABRT, "Aborted"),
    ("SIGFPE", signal.SIGFPE, "Floating point exception"),
]


@pytest.mark.needs("isolation")
@pytest.mark.parametrize(("how", "number", "message"), CRASHES)
def test_a_crash(taskmaster, tasks, how, number, message):
    crash = Crash(how)
    survivor = tasks.Sleep(0.1, "alive")
    tasks.run_all(taskmaster, crash, survivor)

    error = crash.get_error()
    assert type(error) is FatalPythonError
    assert error.signal == number
    assert message.lower() in error.message.lower()
    assert "crash_right_here" in error.traceback
    assert "in run" in error.traceback
    assert survivor.get_result() == "alive"
    assert_later_tasks_run(taskmaster, tasks)


# -- init tasks ----------------------------------------------------------------


def assert_init_ran_first_everywhere(log: list, minimum_instances: int) -> None:
    """Every place that ran a task ran an init task there before it."""
    initialised: set = set()
    for label, place in log:
        if label == "init":
            initialised.add(place)
        else:
            assert place in initialised, f"{label} ran at {place} before any init"
    inits = [entry for entry in log if entry[0] == "init"]
    assert len(inits) >= minimum_instances


def check_init_tasks(taskmaster, tasks, failing, instances: int = 3) -> None:
    log: list = []
    taskmaster.set_default_init_task(tasks.Record(log, "init"))

    first = [tasks.Record(log, f"first {n}") for n in range(4)]
    tasks.run_all(taskmaster, *first)
    tasks.run_all(taskmaster, failing)
    later = [tasks.Record(log, f"later {n}") for n in range(6)]
    tasks.run_all(taskmaster, *later)

    assert (failing.get_error() is not None) == (instances > 2)
    assert all(task.get_error() is None for task in first + later)
    assert_init_ran_first_everywhere(log, minimum_instances=instances)


def test_init_tasks_run_on_every_instance(taskmaster, tasks):
    check_init_tasks(taskmaster, tasks, tasks.Return(), instances=2)


@pytest.mark.needs("timeouts")
def test_init_tasks_run_after_a_timeout(taskmaster, tasks):
    check_init_tasks(taskmaster, tasks, tasks.Sleep(30).set_timeout(0.1))


@pytest.mark.needs("exit")
def test_init_tasks_run_after_sys_exit(taskmaster, tasks):
    check_init_tasks(taskmaster, tasks, tasks.Die("sys.exit"))


@pytest.mark.needs("isolation")
def test_init_tasks_run_after_a_kill(taskmaster, tasks):
    check_init_tasks(taskmaster, tasks, tasks.Die("sigkill"))


@pytest.mark.needs("isolation")
def test_init_tasks_run_after_a_crash(taskmaster, tasks):
    check_init_tasks(taskmaster, tasks, tasks.Die("sigsegv"))
