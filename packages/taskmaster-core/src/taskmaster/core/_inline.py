"""Running a task in the calling process, on the task object itself."""

from __future__ import annotations

import traceback
from typing import Any

from ._context import current_runtime
from ._errors import RemoteTraceback
from ._promise import Promise
from ._task import TaskInterface


class SyncRuntime:
    """The runtime of a task under SyncWorker: calls are plain method calls."""

    is_sync = True

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
        promise: Promise[Any] = Promise()
        try:
            promise.resolve(self.call(task, name, args, kwargs))
        except Exception as error:
            promise.reject(error)
        return promise


_SYNC = SyncRuntime()


def run_inline(task: TaskInterface) -> tuple[bool, Any]:
    """Run ``task`` here: ``(True, result)`` or ``(False, exception)``.

    The exception comes back as the other workers deliver it: its traceback
    (minus this frame) as text in a RemoteTraceback ``__cause__``.  A live
    traceback would hold the frames that called ``run()`` through their
    ``f_back`` links, up to the caller of ``wait()``, and with them the task.
    """
    token = current_runtime.set((_SYNC, task))
    try:
        return True, task.run()
    except Exception as error:
        _detach_traceback(error)
        return False, error
    finally:
        current_runtime.reset(token)


def _detach_traceback(error: BaseException) -> None:
    """Replace the traceback of ``error`` (from the frame below this module's)
    by its text, and drop the tracebacks of the exceptions chained to it."""
    tb = error.__traceback__
    below = tb.tb_next if tb is not None else None
    text = "".join(traceback.format_exception(type(error), error, below))
    _drop_tracebacks(error)
    error.__cause__ = RemoteTraceback(text)


def _drop_tracebacks(error: BaseException) -> None:
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
