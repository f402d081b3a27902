"""What a taskmaster leaves behind: descriptors, processes, threads.

Linux exposes all three under ``/proc``; elsewhere the checks that need it
report nothing.  Processes are identified by pid *and* start time, so a
recycled pid is never mistaken for a leftover worker.
"""

from __future__ import annotations

import os
import select
import threading
import time
from dataclasses import dataclass, field

PROC = "/proc"


def has_proc() -> bool:
    return os.path.isdir(f"{PROC}/self/fd")


def open_descriptors() -> dict[int, str]:
    """This process's open descriptors and what each points to."""
    if not has_proc():
        return {}
    found = {}
    for name in os.listdir(f"{PROC}/self/fd"):
        try:
            found[int(name)] = os.readlink(f"{PROC}/self/fd/{name}")
        except OSError:
            continue  # the descriptor listdir itself used, now closed
    return found


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of ``pid``, or None if it is gone."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as file:
            text = file.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0], int(fields[19])


@dataclass(frozen=True, order=True)
class Process:
    """A process, by pid and start time."""

    pid: int
    started: int

    def alive(self) -> bool:
        """Running, or a zombie nobody has reaped."""
        stat = _stat(self.pid)
        return stat is not None and stat[2] == self.started

    def running(self) -> bool:
        stat = _stat(self.pid)
        return stat is not None and stat[2] == self.started and stat[1] != "Z"

    def parent(self) -> int | None:
        """The parent's pid, or None once this process is gone."""
        stat = _stat(self.pid)
        return stat[0] if stat is not None and stat[2] == self.started else None


def descendants(root: int | None = None) -> set[Process]:
    """Every process below ``root`` (default: this one), zombies included."""
    if not has_proc():
        return set()
    table = {}
    for name in os.listdir(PROC):
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None:
                table[int(name)] = stat
    found: set[Process] = set()
    frontier = [os.getpid() if root is None else root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _state, started) in table.items():
            if ppid == parent:
                found.add(Process(pid, started))
                frontier.append(pid)
    return found


def wait_until_gone(processes: set[Process], limit: float) -> set[Process]:
    """Wait (at most ``limit`` seconds) for ``processes`` to end; those left.

    Processes whose parent was a proxy or a worker that just ended may take
    a moment to notice; this waits for the event, not for a fixed time.
    """
    deadline = time.monotonic() + limit
    left = {process for process in processes if process.running()}
    while left and time.monotonic() < deadline:
        process = next(iter(left))
        _wait_for_exit(process.pid, deadline - time.monotonic())
        left = {process for process in left if process.running()}
    return left


def wait_until_reaped(process: Process, limit: float) -> bool:
    """Wait (at most ``limit`` seconds) until ``process`` is gone from the
    process table, its parent having reaped it; whether it is.  There is no
    event for another process's child being reaped: this looks every
    millisecond."""
    deadline = time.monotonic() + limit
    while process.alive():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.001)
    return True


def _wait_for_exit(pid: int, limit: float) -> None:
    try:
        fd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        time.sleep(min(limit, 0.01))
        return
    try:
        select.select([fd], [], [], max(limit, 0.0))
    finally:
        os.close(fd)


def join_threads(threads: set[threading.Thread], limit: float) -> list[str]:
    """Wait (at most ``limit`` seconds) for ``threads``; the names of those left."""
    deadline = time.monotonic() + limit
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return sorted(thread.name for thread in threads if thread.is_alive())


@dataclass
class Snapshot:
    """Descriptors, child processes and threads at one moment."""

    descriptors: dict[int, str] = field(default_factory=open_descriptors)
    processes: set[Process] = field(default_factory=descendants)
    threads: set[threading.Thread] = field(
        default_factory=lambda: set(threading.enumerate())
    )

    def leaks(self, during: set[Process], limit: float = 10.0) -> list[str]:
        """What was opened or started since this snapshot and is still there.

        ``during`` holds processes seen while the taskmaster ran (a proxy's
        workers are not our children, so only their pids tell whether they
        ended).
        """
        problems = []
        threads = join_threads(set(threading.enumerate()) - self.threads, limit)
        if threads:
            problems.append(f"threads still running after stop(): {threads}")
        left = wait_until_gone((descendants() | during) - self.processes, limit)
        if left:
            problems.append(f"processes still running after stop(): {sorted(left)}")
        zombies = [p for p in descendants() - self.processes if not p.running()]
        if zombies:
            problems.append(f"child processes never reaped: {sorted(zombies)}")
        now = open_descriptors()
        extra = {
            fd: target
            for fd, target in now.items()
            if self.descriptors.get(fd) != target
        }
        if extra:
            problems.append(f"descriptors left open after stop(): {extra}")
        return problems
