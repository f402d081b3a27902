"""The worker base classes: what a worker is and what starting one returns.

A :class:`Worker` is configuration (group, options, proxy, init tasks) plus
one method, :meth:`Worker.launch`, that starts an *instance*: a place where a
:class:`~taskmaster.core.runtime.Runtime` serves one end of a socket.  The
taskmaster speaks the wire protocol over the other end and decides everything
else: which task goes where, timeouts, restarts.  ``docs/writing-a-worker.md``
walks through writing one.
"""

from __future__ import annotations

import signal as _signal
import socket
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from ._errors import FatalPythonError, TaskmasterError, WorkerFailedError
from ._options import HasOptions, TaskmasterOptions
from ._value import FrozenValue

if TYPE_CHECKING:
    from ._factory import TaskFactoryInterface
    from .proxy import Proxy

FATAL_SIGNALS = frozenset(
    {_signal.SIGSEGV, _signal.SIGBUS, _signal.SIGFPE, _signal.SIGABRT, _signal.SIGILL}
)


class ExitStatus(FrozenValue):
    """How a worker instance ended: exit code or signal, and faulthandler's report."""

    __match_args__ = ("exitcode", "signal", "crash_report")
    __slots__ = __match_args__

    exitcode: int | None
    signal: int | None
    crash_report: str

    def __init__(
        self,
        exitcode: int | None = None,
        signal: int | None = None,
        crash_report: str = "",
    ) -> None:
        set_value = object.__setattr__  # FrozenValue's refuses
        set_value(self, "exitcode", exitcode)
        set_value(self, "signal", signal)
        set_value(self, "crash_report", crash_report)

    def error(self, what: str = "the worker") -> TaskmasterError:
        """The error a task gets when its instance ended this way."""
        if self.signal in FATAL_SIGNALS:
            return FatalPythonError(self.signal, None, self.crash_report)
        if self.signal is not None:
            name = _signal.strsignal(self.signal) or f"signal {self.signal}"
            return WorkerFailedError(
                f"{what} was killed by signal {self.signal} ({name})"
            )
        if self.exitcode is not None:
            return WorkerFailedError(
                f"{what} exited with code {self.exitcode}", self.exitcode
            )
        return WorkerFailedError(f"{what} went away")

    @classmethod
    def from_wait_status(cls, status: int, crash_report: str = "") -> ExitStatus:
        import os

        if os.WIFSIGNALED(status):
            return cls(None, os.WTERMSIG(status), crash_report)
        return cls(os.waitstatus_to_exitcode(status), None, crash_report)


class WorkerHandle(ABC):
    """One started worker instance, as seen from the side that started it.

    ``sock`` is the starter's end of the connection; a runtime serves the
    other end.  ``pid`` is the instance's process id when it has its own
    process.
    """

    sock: socket.socket
    pid: int | None = None

    def exit_fileno(self) -> int | None:
        """A descriptor that becomes readable when the instance ends, if any."""
        return None

    @abstractmethod
    def kill(self) -> None:
        """End the instance now, whatever it is doing."""

    @abstractmethod
    def wait(self, timeout: float | None) -> ExitStatus | None:
        """Reap the instance: its exit status, or None if it still runs after
        ``timeout``."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release what the handle holds besides the socket."""


class Worker(HasOptions, ABC):
    """Base class of workers.  Subclasses implement :meth:`launch` (or, for a
    worker that runs tasks in the calling process, derive from
    :class:`InlineWorker`).  Subclasses need not call ``super().__init__()``.
    """

    _group: str | None = None
    _proxy: Proxy | None = None
    _init_task_factory: TaskFactoryInterface | None = None

    #: Whether a task may end the instance's process without ending the
    #: taskmaster's (False where tasks run in the taskmaster's own process).
    isolates_crashes = True

    #: Whether instances share this process's ``__main__`` module (forked
    #: children and threads do), so its classes can be pickled by reference.
    shares_main_module = False

    @classmethod
    def is_supported(cls) -> bool:
        """Whether this worker can run on this platform and in this process."""
        return True

    @abstractmethod
    def launch(self, options: TaskmasterOptions) -> WorkerHandle:
        """Start one instance and return its handle."""

    def set_group(self, group: str | None) -> Worker:
        self._group = group
        return self

    def get_group(self) -> str | None:
        return self._group

    def set_proxy(self, proxy: Proxy | None) -> Worker:
        from .proxy import Proxy

        if proxy is not None and not isinstance(proxy, Proxy):
            raise TypeError(f"expected a Proxy, got {type(proxy).__name__}")
        self._proxy = proxy
        return self

    def get_proxy(self) -> Proxy | None:
        return self._proxy

    def set_init_task_factory(self, factory: TaskFactoryInterface | None) -> Worker:
        from ._factory import TaskFactoryInterface

        if factory is not None and not isinstance(factory, TaskFactoryInterface):
            raise TypeError(f"expected a task factory, got {type(factory).__name__}")
        self._init_task_factory = factory
        return self

    def get_init_task_factory(self) -> TaskFactoryInterface | None:
        return self._init_task_factory

    def __copy__(self) -> Worker:
        # A copy (add_workers) keeps the proxy and the init tasks, which
        # __getstate__ leaves out of a pickle.
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __getstate__(self) -> dict[str, Any]:
        # A worker travels to a proxy as configuration; the proxy and the init
        # tasks stay with the parent, which drives them.
        state = dict(self.__dict__)
        state.pop("_proxy", None)
        state.pop("_init_task_factory", None)
        return state

    def __repr__(self) -> str:
        group = f" group={self._group!r}" if self._group is not None else ""
        return f"<{type(self).__name__}{group}>"


class InlineWorker(Worker):
    """A worker that runs each task in the calling process, on the task object
    itself, inside ``update()``.  There is no instance to start or to lose."""

    isolates_crashes = False

    def launch(self, options: TaskmasterOptions) -> WorkerHandle:
        raise TaskmasterError(
            f"{type(self).__name__} runs tasks inline and launches nothing"
        )
