"""Running a task in the calling process, on the task object itself."""

from __future__ import annotations

import traceback
from typing import Any

from ._context import current_runtime
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

    The exception keeps its traceback minus this frame, with the frames'
    locals cleared, so it holds no reference back to the task.
    """
    token = current_runtime.set((_SYNC, task))
    try:
        return True, task.run()
    except Exception as error:
        tb = error.__traceback__
        error.__traceback__ = tb.tb_next if tb is not None else None
        traceback.clear_frames(error.__traceback__)
        return False, error
    finally:
        current_runtime.reset(token)
