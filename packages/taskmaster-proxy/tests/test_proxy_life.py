"""One proxy for many workers, its death and its replacement, and what it
leaves behind: SIGKILL from outside, proxy.stop() while tasks run, the
parent's death, descriptors and child processes after many replacements."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from taskmaster.core import Taskmaster, WorkerFailedError
from taskmaster.proxy import ProcessProxy
from taskmaster.workers import ForkWorker, ProcessWorker, ThreadWorker


def start_sleepers(taskmaster, tasks, count):
    """Run ``count`` Started tasks until each has told the parent it runs;
    return the tasks and the (pid, parent pid) each reported."""
    log: list = []
    sleepers = [tasks.Started(log) for _ in range(count)]
    for task in sleepers:
        taskmaster.run_task(task)
    deadline = time.monotonic() + 10
    while len(log) < count:
        assert time.monotonic() < deadline, "the sleepers did not start"
        taskmaster.update()
    return sleepers, log


def proxy_of(entry: tuple[int, int]) -> int:
    """The proxy's pid from a (pid, parent pid) pair that a Started task sent:
    a thread worker runs in the proxy, the others run below it."""
    pid, parent = entry
    return pid if parent == os.getpid() else parent


def test_one_proxy_serves_many_workers(tasks):
    proxy = ProcessProxy()
    taskmaster = Taskmaster()
    taskmaster.add_workers(ForkWorker().set_proxy(proxy), 3)
    taskmaster.add_worker(ProcessWorker().set_proxy(proxy))
    taskmaster.add_worker(ThreadWorker().set_proxy(proxy))
    try:
        assert taskmaster.get_proxies() == [proxy]
        assert all(worker.get_proxy() is proxy for worker in taskmaster.get_workers())
        sleepers, log = start_sleepers(taskmaster, tasks, 5)
        assert len({proxy_of(entry) for entry in log}) == 1
        assert proxy_of(log[0]) != os.getpid()
        assert len({pid for pid, parent in log}) == 5
    finally:
        taskmaster.stop()
    assert all(isinstance(t.get_error(), WorkerFailedError) for t in sleepers)


@pytest.mark.parametrize("how", ["sigkill", "stop"])
def test_proxy_death_fails_running_tasks_and_the_next_start_a_new_proxy(
    make_taskmaster, backend, tasks, how
):
    proxy = ProcessProxy()
    taskmaster = make_taskmaster(backend, count=2, proxy=proxy)
    first = tasks.Host()
    tasks.run_all(taskmaster, first)
    old_proxy = tasks.proxy_pid(backend, first)

    sleepers, _ = start_sleepers(taskmaster, tasks, 2)
    if how == "sigkill":
        tasks.kill(old_proxy)
    else:
        assert proxy.stop() is proxy
    taskmaster.wait()
    for task in sleepers:
        assert isinstance(task.get_error(), WorkerFailedError), task.get_error()
    tasks.wait_until(lambda: not tasks.is_running(old_proxy), 1, "the old proxy to end")

    later = tasks.run_all(taskmaster, *(tasks.Host() for _ in range(4)))
    assert all(task.get_error() is None for task in later)
    new_proxies = {tasks.proxy_pid(backend, task) for task in later}
    assert len(new_proxies) == 1
    assert old_proxy not in new_proxies
    assert taskmaster.get_proxies() == [proxy]


@pytest.mark.parametrize("how", ["sigkill", "stop"])
def test_an_idle_proxy_that_died_is_replaced_for_the_next_task(
    make_taskmaster, backend, tasks, how
):
    """No task runs when the proxy dies: the next one must not be handed to a
    worker of the dead proxy, but start a new proxy and finish."""
    proxy = ProcessProxy()
    taskmaster = make_taskmaster(backend, count=2, proxy=proxy)
    first = tasks.Host()
    tasks.run_all(taskmaster, first)
    old_proxy = tasks.proxy_pid(backend, first)
    if how == "sigkill":
        tasks.kill(old_proxy)
        # Its main thread turns zombie before the rest of it has gone.
        tasks.wait_until(lambda: tasks.has_exited(old_proxy), 5, "the kill")
    else:
        proxy.stop()
    later = tasks.run_all(taskmaster, *(tasks.Host() for _ in range(3)))
    assert [task.get_error() for task in later] == [None] * 3
    assert old_proxy not in {tasks.proxy_pid(backend, task) for task in later}


def test_the_proxy_never_outlives_the_parent(tasks, tmp_path):
    """A parent (a script in its own process) is killed with SIGKILL while a
    task runs: its proxy and the proxy's workers are gone within a second."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys, time
            from taskmaster.core import Task, Taskmaster
            from taskmaster.proxy import ProcessProxy
            from taskmaster.workers import ForkWorker

            class Report(Task):
                def report(self, pid, parent_pid):
                    print(pid, parent_pid, flush=True)

                def run(self):
                    self.call(self.report, os.getpid(), os.getppid())
                    time.sleep(60)

            taskmaster = Taskmaster().add_workers(
                ForkWorker().set_proxy(ProcessProxy()), 2
            )
            for _ in range(2):
                taskmaster.run_task(Report())
            taskmaster.wait()
            """
        )
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        lines = [parent.stdout.readline().split() for _ in range(2)]
        workers = {int(pid) for pid, _ in lines}
        [proxy] = {int(proxy) for _, proxy in lines}
        assert tasks.is_running(proxy) and proxy != parent.pid
        assert all(tasks.is_running(pid) for pid in workers)

        tasks.kill(parent.pid)
        parent.wait()
        tasks.wait_until(
            lambda: not tasks.is_running(proxy), 1, "the proxy to end with its parent"
        )
        tasks.wait_until(
            lambda: not any(tasks.is_running(pid) for pid in workers),
            1,
            "the proxy's workers to end",
        )
    finally:
        tasks.kill(parent.pid)
        parent.wait()
        parent.stdout.close()


@pytest.mark.parametrize("kind", ["fork", "process"])
def test_workers_never_outlive_the_proxy(make_taskmaster, tasks, kind):
    taskmaster = make_taskmaster(kind, count=3)
    _, log = start_sleepers(taskmaster, tasks, 3)
    workers = {pid for pid, _ in log}
    [proxy] = {parent for _, parent in log}
    assert all(tasks.is_running(pid) for pid in workers)

    tasks.kill(proxy)
    tasks.wait_until(
        lambda: not any(tasks.is_running(pid) for pid in workers),
        1,
        "the workers to end with their proxy",
    )
    taskmaster.wait()


@pytest.mark.slow
def test_replacing_proxies_leaks_no_descriptors_or_children(make_taskmaster, tasks):
    proxy = ProcessProxy()
    taskmaster = make_taskmaster("fork", count=2, proxy=proxy)
    taskmaster.add_worker(ThreadWorker().set_proxy(proxy))

    def cycle(round: int) -> None:
        _, log = start_sleepers(taskmaster, tasks, 3)
        if round % 2:
            proxy.stop()
        else:
            tasks.kill(proxy_of(log[0]))
        taskmaster.wait()
        done = tasks.run_all(taskmaster, *(tasks.Return(i) for i in range(6)))
        assert [task.get_result() for task in done] == list(range(6))

    cycle(0)
    fds, kids = tasks.open_fds(), tasks.children()
    for round in range(1, 7):
        cycle(round)
    # Only the current proxy is a child; every earlier one was reaped.
    assert len(tasks.children()) == len(kids) == 1
    assert not [pid for pid in tasks.children() if tasks.process_state(pid) == "Z"]
    assert len(tasks.open_fds()) == len(fds), (fds, tasks.open_fds())
    taskmaster.stop()
    tasks.wait_until(lambda: not tasks.children(), 2, "every child to be reaped")
    assert len(tasks.open_fds()) <= len(fds)
