"""Handles of worker instances that own a process: forked or spawned.

Each instance gets a crash file, an anonymous file that faulthandler writes
the Python traceback into when the process dies on a fatal signal, and, on
Linux, a pidfd so the parent's selector learns of the exit even when a
grandchild still holds the socket open.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import time

from ._connection import disown, own
from .worker import ExitStatus, WorkerHandle

_CRASH_REPORT_LIMIT = 1 << 20


def make_crash_file() -> int:
    """An anonymous file descriptor for faulthandler's report."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("taskmaster-crash", os.MFD_CLOEXEC)
    import tempfile  # only where there is no memfd_create: not on Linux

    with tempfile.TemporaryFile() as file:
        return os.dup(file.fileno())


class ProcessHandle(WorkerHandle):
    """A worker instance running in a child process of this one."""

    def __init__(self, pid: int, sock: socket.socket, crash_fd: int | None) -> None:
        self.pid = pid
        self._pid = pid
        self.sock = sock
        self._crash_fd = crash_fd
        self._status: ExitStatus | None = None
        self._pidfd: int | None = None
        if hasattr(os, "pidfd_open"):
            try:
                self._pidfd = own(os.pidfd_open(pid))
            except OSError:
                self._pidfd = None

    def exit_fileno(self) -> int | None:
        return self._pidfd

    def kill(self) -> None:
        if self._status is None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float | None) -> ExitStatus | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._status is None:
            try:
                pid, status = os.waitpid(
                    self._pid, os.WNOHANG if deadline is not None else 0
                )
            except ChildProcessError:
                self._status = ExitStatus()
                break
            if pid:
                self._status = ExitStatus.from_wait_status(status, self._crash_report())
                break
            remaining = deadline - time.monotonic() if deadline is not None else None
            if remaining is not None and remaining <= 0:
                return None
            self._sleep_until_exit(remaining)
        return self._status

    def _sleep_until_exit(self, timeout: float | None) -> None:
        if self._pidfd is not None:
            select.select([self._pidfd], [], [], timeout)
        else:
            time.sleep(min(timeout if timeout is not None else 0.01, 0.01))

    def _crash_report(self) -> str:
        if self._crash_fd is None:
            return ""
        try:
            data = os.pread(self._crash_fd, _CRASH_REPORT_LIMIT, 0)
        except OSError:
            return ""
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        for fd in (self._pidfd, self._crash_fd):
            if fd is not None:
                disown(fd)
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._pidfd = self._crash_fd = None
        disown(self.sock.fileno())
        self.sock.close()
