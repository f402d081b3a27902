"""A complete third-party worker: each instance is a subprocess.Popen child.

``SubprocessWorker`` starts ``python -c CHILD fd crash_fd bootstrap`` with the
standard library's ``subprocess`` module, passes it one end of a socket pair,
and lets taskmaster's child runtime serve tasks on it.  Run this file to see it
work:

    python docs/examples/custom_worker.py

docs/writing-a-worker.md walks through it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from typing import IO

from taskmaster.core import TaskmasterOptions
from taskmaster.core.worker import ExitStatus, Worker, WorkerHandle

# The child's whole program: run the bootstrap file, if any, then serve tasks
# on the inherited socket until the parent says STOP or goes away.
CHILD = """
import runpy, socket, sys
from taskmaster.core.runtime import serve_process

fd, crash_fd, bootstrap = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if bootstrap:
    runpy.run_path(bootstrap, run_name="__taskmaster_bootstrap__")
serve_process(socket.socket(fileno=fd), crash_fd)
"""


class SubprocessWorker(Worker):
    """Runs tasks in a child interpreter started with subprocess.Popen."""

    @classmethod
    def is_supported(cls) -> bool:
        return hasattr(socket, "AF_UNIX")

    def launch(self, options: TaskmasterOptions) -> WorkerHandle:
        parent_end, child_end = socket.socketpair()
        crash_file = tempfile.TemporaryFile()  # noqa: SIM115 (the handle closes it)
        argv = [
            options.get_python_executable(),
            "-c",
            CHILD,
            str(child_end.fileno()),
            str(crash_file.fileno()),
            options.get_bootstrap() or "",
        ]
        # Let the child import what the parent can import.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                pass_fds=(child_end.fileno(), crash_file.fileno()),
                env=env,
            )
        except BaseException:
            parent_end.close()
            crash_file.close()
            raise
        finally:
            child_end.close()
        return SubprocessHandle(process, parent_end, crash_file)


class SubprocessHandle(WorkerHandle):
    """One running child: its socket, its process and its crash file."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        sock: socket.socket,
        crash_file: IO[bytes],
    ) -> None:
        self.sock = sock
        self.pid = process.pid
        self._process = process
        self._crash_file = crash_file
        self._pidfd: int | None = None
        if hasattr(os, "pidfd_open"):
            self._pidfd = os.pidfd_open(process.pid)

    def exit_fileno(self) -> int | None:
        # Readable once the child has exited (Linux); None elsewhere, and the
        # taskmaster then learns of the exit when the socket closes.
        return self._pidfd

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float | None) -> ExitStatus | None:
        try:
            code = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if code < 0:
            return ExitStatus(signal=-code, crash_report=self._crash_report())
        return ExitStatus(exitcode=code)

    def _crash_report(self) -> str:
        return os.pread(self._crash_file.fileno(), 1 << 20, 0).decode(
            "utf-8", "replace"
        )

    def close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._crash_file.close()
        self.sock.close()


if __name__ == "__main__":
    import faulthandler
    import time

    from taskmaster.core import FatalPythonError, Task, Taskmaster, TaskTimeoutError

    class HelloTask(Task):
        def __init__(self, number: int) -> None:
            self.number = number

        def parent_pid(self) -> int:
            return os.getpid()

        def run(self) -> str:
            parent = self.call(self.parent_pid)
            return f"task {self.number} ran in {os.getpid()}, parent {parent}"

    class CrashTask(Task):
        def run(self) -> None:
            faulthandler._sigsegv()

    class SlowTask(Task):
        def run(self) -> None:
            time.sleep(10)

    with Taskmaster() as taskmaster:
        taskmaster.add_workers(SubprocessWorker(), 2)
        hello = [HelloTask(number) for number in range(4)]
        crash, slow = CrashTask(), SlowTask().set_timeout(0.5)
        for task in [*hello, crash, slow]:
            taskmaster.run_task(task)
        taskmaster.wait()

    for task in hello:
        print(task.get_result())
    assert isinstance(crash.get_error(), FatalPythonError)
    assert "in run" in crash.get_error().traceback
    assert isinstance(slow.get_error(), TaskTimeoutError)
    print("crash and timeout reported as FatalPythonError and TaskTimeoutError")
