"""Handles of worker instances that own a process: forked or spawned.

Each instance gets a crash file, an anonymous file that faulthandler writes
the Python traceback into when the process dies on a fatal signal, and, on
Linux, a pidfd so the parent's selector learns of the exit even when a
grandchild still holds the socket open.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import sys
import sysconfig
import tempfile
import time
from typing import Any

from ._connection import disown, own, socket_pair
from ._options import TaskmasterOptions
from .worker import ExitStatus, WorkerHandle

_CRASH_REPORT_LIMIT = 1 << 20


def make_crash_file() -> int:
    """An anonymous file descriptor for faulthandler's report."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("taskmaster-crash", os.MFD_CLOEXEC)
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


BOOTSTRAP = """\
import json, os, sys
config = json.loads(sys.argv[1])
for entry in config["path"]:
    if entry not in sys.path:
        sys.path.append(entry)
os.chdir(config["cwd"])
if config["bootstrap"]:
    import runpy
    runpy.run_path(config["bootstrap"], run_name="__taskmaster_bootstrap__")
import importlib
module, _, function = config["main"].partition(":")
getattr(importlib.import_module(module), function)(config)
"""
"""Runs first in a freshly spawned interpreter; standard library only."""


def spawn_python(
    options: TaskmasterOptions, main: str, extra: dict[str, Any] | None = None
) -> ProcessHandle:
    """Start ``options``' Python on :data:`BOOTSTRAP`, which calls ``main(config)``.

    The new interpreter gets this process's ``sys.path`` (after its own) and
    working directory, the child end of a socket pair and a crash file.
    """
    parent_end, child_end = socket_pair()
    crash_fd = make_crash_file()
    config = {
        "path": inherited_path(),
        "cwd": os.getcwd(),
        "bootstrap": options.get_bootstrap(),
        "main": main,
        "fd": child_end.fileno(),
        "crash_fd": crash_fd,
        **(extra or {}),
    }
    executable = (
        shutil.which(options.get_python_executable()) or options.get_python_executable()
    )
    argv = [executable, "-c", BOOTSTRAP, json.dumps(config)]
    try:
        os.set_inheritable(child_end.fileno(), True)
        os.set_inheritable(crash_fd, True)
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    except BaseException:
        parent_end.close()
        os.close(crash_fd)
        raise
    finally:
        child_end.close()
    os.set_inheritable(crash_fd, False)
    return ProcessHandle(pid, parent_end, crash_fd)


def inherited_path() -> list[str]:
    """This process's ``sys.path`` for a spawned interpreter, without this
    Python's standard library.

    The spawned interpreter has a standard library of its own, and when it is
    another Python version it must not import modules from ours (a module
    removed from its version would load from ours and fail, or worse, half
    work).  Installed packages stay: pure-Python ones work on any version.
    """
    stdlib = sysconfig.get_paths()["stdlib"]
    major, minor = sys.version_info[:2]
    own_library = {
        os.path.normcase(os.path.normpath(path))
        for path in (
            stdlib,
            os.path.join(stdlib, "lib-dynload"),
            os.path.join(os.path.dirname(stdlib), f"python{major}{minor}.zip"),
        )
    }
    return [
        entry
        for entry in sys.path
        if entry and os.path.normcase(os.path.normpath(entry)) not in own_library
    ]


def spawned_socket(config: dict[str, Any]) -> tuple[socket.socket, int | None]:
    """In the spawned interpreter: the socket and crash file the parent passed."""
    sock = socket.socket(fileno=config["fd"])
    os.set_inheritable(sock.fileno(), False)
    crash_fd = config.get("crash_fd")
    if crash_fd is not None:
        os.set_inheritable(crash_fd, False)
    return sock, crash_fd
