"""ThreadWorker: each instance is a thread of the calling process."""

from __future__ import annotations

import ctypes
import itertools
import logging
import socket
import threading

from taskmaster.core import TaskmasterOptions, TaskTimeoutError
from taskmaster.core._connection import socket_pair
from taskmaster.core.runtime import Runtime
from taskmaster.core.worker import ExitStatus, Worker, WorkerHandle

logger = logging.getLogger(__name__)

_numbers = itertools.count(1)


class ThreadWorker(Worker):
    """Runs tasks in a thread of the calling process.

    Tasks still travel pickled both ways (share-nothing), so a task behaves
    as it would in a process.  A task past its timeout is interrupted with
    TaskTimeoutError at its next Python instruction and its thread is
    replaced; a task blocked in a long C call (``time.sleep``, a socket read)
    notices only when that call returns.  A crash or ``os._exit`` ends the
    whole process.
    """

    isolates_crashes = False
    shares_main_module = True

    def launch(self, options: TaskmasterOptions) -> WorkerHandle:
        return ThreadHandle()


class ThreadHandle(WorkerHandle):
    """A runtime serving one end of a socket pair in a daemon thread."""

    def __init__(self) -> None:
        self.sock, child_end = socket_pair()
        self._exitcode: int | None = None
        self._abandoned = False
        self._thread = threading.Thread(
            target=self._serve,
            args=(child_end,),
            name=f"taskmaster-thread-worker-{next(_numbers)}",
            daemon=True,
        )
        self._thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            Runtime(sock).serve()
            self._exitcode = 0
        except SystemExit as exit:
            code = exit.code
            self._exitcode = (
                code if isinstance(code, int) else (0 if code is None else 1)
            )
        except BaseException:
            logger.debug("thread worker ended by an exception", exc_info=True)
            self._exitcode = 1
        finally:
            sock.close()

    def kill(self) -> None:
        """Interrupt the running task and let the thread go: it is not waited for."""
        self._abandoned = True
        ident = self._thread.ident
        if ident is not None and self._thread.is_alive():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(TaskTimeoutError)
            )

    def wait(self, timeout: float | None) -> ExitStatus | None:
        if not self._abandoned:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return None
        return ExitStatus(self._exitcode)

    def close(self) -> None:
        self.sock.close()
