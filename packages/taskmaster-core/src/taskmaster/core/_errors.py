"""The exceptions of taskmaster-core.

Every error the library raises derives from :class:`TaskmasterError`.  Errors
that describe the infrastructure (a worker that went away, a crash, a timeout)
have their own classes carrying what the parent could observe; an exception
raised by a task's own ``run()`` reaches the parent as itself.
"""

from __future__ import annotations

import signal as _signal
import traceback


class TaskmasterError(Exception):
    """Raised when the taskmaster, a worker or the protocol cannot do its job.

    Also the stand-in for a task's exception that could not be pickled: the
    message then holds the original type name and message.
    """


class TaskTimeoutError(TaskmasterError, TimeoutError):
    """Raised when a task runs longer than its timeout.

    The clock starts when the task starts running on a worker instance; the
    parent checks it by deadline, so the error arrives at most a few
    milliseconds late.
    """


class WorkerFailedError(TaskmasterError):
    """Raised when a worker went away before its task finished.

    Causes include ``os._exit``, ``sys.exit``, a kill from outside, a dead
    proxy and a broken or garbled connection.  ``exitcode`` holds the exit code
    when one was seen.  The task itself may not be at fault, so a limited
    retry can make sense.
    """

    def __init__(self, message: str, exitcode: int | None = None) -> None:
        super().__init__(message)
        self.exitcode = exitcode

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.exitcode))


class FatalPythonError(TaskmasterError):
    """Raised when the interpreter running a task crashed on a fatal signal.

    ``signal`` is the signal number, ``message`` its description (for example
    ``"Segmentation fault"``) and ``traceback`` the Python traceback that
    :mod:`faulthandler` dumped at the crash, naming the function that crashed.
    """

    def __init__(
        self, signal: int, message: str | None = None, traceback: str = ""
    ) -> None:
        if message is None:
            message = _signal.strsignal(signal) or f"signal {signal}"
        text = f"Fatal Python error: {message} (signal {signal})"
        if traceback:
            text = f"{text}\n{traceback.rstrip()}"
        super().__init__(text)
        self.signal = signal
        self.message = message
        self.traceback = traceback

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.signal, self.message, self.traceback))


class ProtocolError(TaskmasterError):
    """Raised when a frame on the wire is malformed, too large or of an
    unknown kind, or when the two ends speak different protocol versions."""


class RemoteTraceback(Exception):
    """Carries the traceback text of an exception raised in another process
    (or, under SyncWorker, in a task run inline).

    It is attached as the ``__cause__`` of the exception the parent receives,
    so the usual traceback printout shows where the child raised it.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text.rstrip()}\n"""'


def detach_traceback(error: BaseException) -> None:
    """Replace the traceback of ``error`` (from the frame below the one that
    caught it) by its text in a RemoteTraceback ``__cause__``, and drop the
    tracebacks of the exceptions chained to it.

    A live traceback holds the frames it passed through and, through their
    locals, whatever they held: a task, its promise, the error itself.
    """
    tb = error.__traceback__
    below = tb.tb_next if tb is not None else None
    text = "".join(traceback.format_exception(type(error), error, below))
    drop_tracebacks(error)
    error.__cause__ = RemoteTraceback(text)


def drop_tracebacks(error: BaseException) -> None:
    """Clear the traceback of ``error`` and of every exception chained to it."""
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [current.__cause__, current.__context__]
