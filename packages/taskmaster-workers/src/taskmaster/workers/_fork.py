"""ForkWorker: each instance is a child made by ``os.fork``."""

from __future__ import annotations

import os
import sys
import threading

from taskmaster.core import TaskmasterOptions
from taskmaster.core._connection import close_owned_descriptors, socket_pair
from taskmaster.core._process import ProcessHandle, make_crash_file
from taskmaster.core.runtime import serve_process
from taskmaster.core.worker import Worker, WorkerHandle


class ForkWorker(Worker):
    """Runs tasks in a child forked from the calling process.

    The cheapest way to get a separate process: the child starts with
    everything the parent has imported.  Forking a process that runs other
    threads is unsafe (a lock held by another thread at the fork stays held
    in the child forever), so ``auto_detect_workers`` picks ForkWorker only
    when the calling process has a single thread; use a ProcessProxy to get
    forked workers from a threaded program.
    """

    shares_main_module = True

    @classmethod
    def is_supported(cls) -> bool:
        return hasattr(os, "fork")

    def launch(self, options: TaskmasterOptions) -> WorkerHandle:
        parent_end, child_end = socket_pair()
        crash_fd = make_crash_file()
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()

        pid = os.fork()
        if pid == 0:
            # Holding our own end would keep the child from seeing us go.
            parent_end.close()
            _become_worker(child_end, crash_fd)
        child_end.close()
        return ProcessHandle(pid, parent_end, crash_fd)


def _become_worker(sock: object, crash_fd: int) -> None:
    """The forked child: serve tasks, then leave without running the parent's
    exit handlers or flushing its buffers a second time."""
    code = 1
    try:
        close_owned_descriptors(keep=(sock.fileno(), crash_fd))  # type: ignore[attr-defined]
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        threading.current_thread().name = "taskmaster-fork-worker"
        serve_process(sock, crash_fd)  # type: ignore[arg-type]
        code = 0
    except SystemExit as exit:
        code = (
            exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        )
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:
                pass
        os._exit(code)
