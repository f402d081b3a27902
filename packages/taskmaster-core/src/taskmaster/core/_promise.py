"""Promises: a value that arrives later, with callbacks for both outcomes.

A :class:`Promise` settles exactly once.  Callbacks added before it settles
run when it settles, in the order added; callbacks added afterwards run at
once.  ``wait()`` blocks for the value when the promise knows how to make
progress (a *waiter*: the child runtime's message loop for ``call_async``,
the taskmaster's update loop for a task).

A :class:`TaskPromise` passes the task as a second argument to its callbacks.
It holds its task; the task holds its promise only until it settles (so
callbacks added early are kept), then weakly, so a finished task and its
promise are freed by reference counting alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._errors import TaskmasterError, detach_traceback

if TYPE_CHECKING:
    from ._task import TaskInterface

logger = logging.getLogger(__name__)

T = TypeVar("T")

_PENDING, _RESOLVED, _REJECTED = 0, 1, 2


class Promise(Generic[T]):
    """A value that arrives later.

    ``then(callback)`` runs ``callback(value)`` when it resolves,
    ``catch(callback)`` runs ``callback(error)`` when it is rejected; both
    return the promise so calls chain.  An exception raised by a callback is
    logged on the ``taskmaster`` logger and does not stop the others.
    """

    __slots__ = ("__weakref__", "_callbacks", "_outcome", "_state", "_waiter")

    def __init__(self, waiter: Callable[[Promise[Any]], None] | None = None) -> None:
        self._state = _PENDING
        self._outcome: Any = None
        # None until a callback is added: most promises never get one.
        self._callbacks: list[tuple[int, Callable[..., Any]]] | None = None
        self._waiter = waiter

    def then(self, callback: Callable[..., Any]) -> Promise[T]:
        return self._add(_RESOLVED, callback)

    def catch(self, callback: Callable[..., Any]) -> Promise[T]:
        return self._add(_REJECTED, callback)

    def resolve(self, value: T) -> None:
        self._settle(_RESOLVED, value)

    def reject(self, error: BaseException) -> None:
        if not isinstance(error, BaseException):
            raise TypeError(f"a promise is rejected with an exception, not {error!r}")
        self._settle(_REJECTED, error)

    def is_settled(self) -> bool:
        return self._state != _PENDING

    def is_resolved(self) -> bool:
        return self._state == _RESOLVED

    def is_rejected(self) -> bool:
        return self._state == _REJECTED

    def get_value(self) -> T | None:
        """The value if resolved, else None."""
        return self._outcome if self._state == _RESOLVED else None

    def get_error(self) -> BaseException | None:
        """The error if rejected, else None."""
        return self._outcome if self._state == _REJECTED else None

    def wait(self) -> T:
        """Block until the promise settles; return its value or raise its error."""
        if self._state == _PENDING and self._waiter is not None:
            self._waiter(self)
        if self._state == _RESOLVED:
            return self._outcome  # type: ignore[no-any-return]
        if self._state == _REJECTED:
            try:
                raise self._outcome
            finally:
                # The error keeps this frame in its traceback; without this the
                # frame would hold the promise, which holds the error: a cycle
                # that keeps the task alive after the caller lets it go.
                del self
        raise TaskmasterError(
            "the promise is not settled and nothing here can settle it"
        )

    def _add(self, state: int, callback: Callable[..., Any]) -> Promise[T]:
        if not callable(callback):
            raise TypeError(f"a promise callback must be callable, not {callback!r}")
        if self._state == _PENDING:
            if self._callbacks is None:
                self._callbacks = []
            self._callbacks.append((state, callback))
        elif self._state == state:
            self._invoke(callback, self._outcome)
        return self

    def _settle(self, state: int, outcome: Any) -> None:
        if self._state != _PENDING:
            raise TaskmasterError("a promise settles exactly once")
        self._state = state
        self._outcome = outcome
        self._waiter = None

        callbacks, self._callbacks = self._callbacks, None
        for wanted, callback in callbacks or ():
            if wanted == state:
                self._invoke(callback, outcome)

    def _invoke(self, callback: Callable[..., Any], outcome: Any) -> None:
        try:
            self._call(callback, outcome)
        except Exception:
            logger.exception("promise callback %r raised", callback)

    def _call(self, callback: Callable[..., Any], outcome: Any) -> None:
        callback(outcome)

    def __repr__(self) -> str:
        state = ("pending", "resolved", "rejected")[self._state]
        return f"<{type(self).__name__} {state}>"


def settled_by_call(
    function: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Promise[T]:
    """A promise settled at once by ``function(*args, **kwargs)``: what
    ``call_async`` gives where the parent's method runs in the same process.

    A raised error keeps its traceback only as text: a live one would hold
    this frame and, through it, the promise that holds the error (a cycle),
    and the task that made the call.
    """
    promise: Promise[T] = Promise()
    try:
        promise.resolve(function(*args, **kwargs))
    except Exception as error:
        detach_traceback(error)
        promise.reject(error)
    return promise


class TaskPromise(Promise[Any]):
    """The promise of one task: callbacks receive ``(result, task)`` or
    ``(error, task)``.  ``wait()`` runs the taskmaster until the task settles."""

    __slots__ = ("_task",)

    def __init__(
        self,
        task: TaskInterface,
        waiter: Callable[[Promise[Any]], None] | None = None,
    ) -> None:
        super().__init__(waiter)
        self._task = task

    def get_task(self) -> TaskInterface:
        return self._task

    def _call(self, callback: Callable[..., Any], outcome: Any) -> None:
        callback(outcome, self._task)
