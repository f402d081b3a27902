"""Running a task in the calling process, on the task object itself."""

from __future__ import annotations

from typing import Any

from ._context import current_runtime
from ._errors import detach_traceback, drop_tracebacks
from ._promise import Promise, settled_by_call
from ._task import TaskInterface


class SyncRuntime:
    """The runtime of one task's run under SyncWorker: calls are plain method
    calls, and ``call_async`` settles its promise before it returns.

    It keeps the errors those promises were rejected with, so that when the
    run ends their tracebacks can be dropped: a task that waits for such a
    promise while holding it in a local puts the run's frame in the error's
    traceback, and the frame holds the promise that holds the error (a cycle
    through the task).  In a process worker that cycle would end with the
    child's copy of the task; here it would keep the caller's task alive.
    """

    __slots__ = ("call_errors",)

    is_sync = True

    def __init__(self) -> None:
        self.call_errors: list[BaseException] = []

    def call(
        self,
        task: TaskInterface,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        return getattr(task, name)(*args, **kwargs)

    def call_async(
        self,
        task: TaskInterface,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Promise[Any]:
        promise = settled_by_call(getattr(task, name), args, kwargs)
        error = promise.get_error()
        if error is not None:
            self.call_errors.append(error)
        return promise


def run_inline(task: TaskInterface) -> tuple[bool, Any]:
    """Run ``task`` here: ``(True, result)`` or ``(False, exception)``.

    The exception comes back as the other workers deliver it: its traceback
    (minus this frame) as text in a RemoteTraceback ``__cause__``.  A live
    traceback would hold the frames that called ``run()`` through their
    ``f_back`` links, up to the caller of ``wait()``, and with them the task.
    """
    runtime = SyncRuntime()
    token = current_runtime.set((runtime, task))
    try:
        return True, task.run()
    except Exception as error:
        detach_traceback(error)
        return False, error
    finally:
        current_runtime.reset(token)
        for call_error in runtime.call_errors:
            drop_tracebacks(call_error)
