"""Which runtime is running a task in this thread, so ``Task.call`` can reach it."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._promise import Promise
    from ._task import TaskInterface


class TaskRuntime(Protocol):
    """What a running task needs from the place it runs in."""

    is_sync: bool

    def call(
        self,
        task: TaskInterface,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any: ...

    def call_async(
        self,
        task: TaskInterface,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Promise[Any]: ...


current_runtime: ContextVar[tuple[TaskRuntime, TaskInterface] | None] = ContextVar(
    "taskmaster_current_runtime", default=None
)


def runtime_for(task: TaskInterface) -> TaskRuntime | None:
    """The runtime running ``task`` in this thread, or None."""
    current = current_runtime.get()
    if current is not None and current[1] is task:
        return current[0]
    return None
