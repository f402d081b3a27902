"""Tasks: TaskInterface, the Task base class and how a task's fields travel.

A task is pickled to the child without its ``OnParent`` fields; when it calls
the parent and when it ends, its fields minus ``OnParent`` and ``OnChild``
come back and are written onto the parent's object.  The library's own
bookkeeping (promise, result, error, group, timeout) lives in one attribute
that never travels.
"""

from __future__ import annotations

import copy
import logging
import sys
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from ._context import runtime_for
from ._errors import TaskmasterError
from ._promise import Promise, TaskPromise, settled_by_call
from ._sides import Side, field_sides, method_side
from ._warning import TaskWarning

logger = logging.getLogger(__name__)

STATE_ATTRIBUTE = "_taskmaster_state"


class TaskInterface(ABC):
    """What the taskmaster needs from a task.  Subclass :class:`Task` instead
    unless you have a reason to implement every method yourself."""

    @abstractmethod
    def run(self) -> Any:
        """Do the work; the return value is the task's result."""

    @abstractmethod
    def handle_result(self, result: Any) -> None: ...

    @abstractmethod
    def handle_error(self, error: Exception) -> None: ...

    @abstractmethod
    def handle_warning(self, warning: TaskWarning) -> bool: ...

    @abstractmethod
    def get_promise(self) -> TaskPromise: ...

    @abstractmethod
    def get_group(self) -> str | None: ...

    @abstractmethod
    def get_timeout(self) -> float | None: ...


class _TaskState:
    """The library's bookkeeping for one task, kept out of its fields."""

    __slots__ = (
        "error",
        "group",
        "outcome",
        "pending_promise",
        "promise_ref",
        "result",
        "settled",
        "timeout",
    )

    def __init__(self) -> None:
        # Held strongly until the task settles, so callbacks added through
        # get_promise() before run_task() (or in a factory) are not lost; only
        # weakly afterwards, so a finished task is freed by reference counting.
        self.pending_promise: TaskPromise | None = None
        self.promise_ref: weakref.ref[TaskPromise] | None = None
        self.settled = 0  # 0: pending, 1: resolved, 2: rejected; for a remade promise
        self.outcome: Any = None
        self.result: Any = None
        self.error: Exception | None = None
        self.group: str | None = None
        self.timeout: float | None = None


class Task(TaskInterface):
    """Base class of tasks: define ``run()``; override the ``handle_*`` hooks
    as needed.  Subclasses need not call ``super().__init__()`` and may be
    dataclasses.
    """

    def _state(self) -> _TaskState:
        state = self.__dict__.get(STATE_ATTRIBUTE)
        if state is None:
            state = self.__dict__[STATE_ATTRIBUTE] = _TaskState()
        return state

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``method`` (a bound method of this task) in the parent and return
        its value; an exception raised there is raised here.

        Synchronised fields travel with the call and with its answer.  Outside
        a worker (or under SyncWorker) the method is called directly.
        """
        name = _call_target(self, method)
        runtime = runtime_for(self)
        if runtime is None:
            return method(*args, **kwargs)
        return runtime.call(self, name, args, kwargs)

    def call_async(
        self, method: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Promise[Any]:
        """Like :meth:`call`, but return a :class:`Promise` at once;
        ``promise.wait()`` blocks for the value."""
        name = _call_target(self, method)
        runtime = runtime_for(self)
        if runtime is None:
            return settled_by_call(method, args, kwargs)
        return runtime.call_async(self, name, args, kwargs)

    def is_sync(self) -> bool:
        """True only while this task runs under SyncWorker."""
        runtime = runtime_for(self)
        return runtime is not None and runtime.is_sync

    def handle_result(self, result: Any) -> None:
        """Parent side: store the result for :meth:`get_result`."""
        self._state().result = result

    def handle_error(self, error: Exception) -> None:
        """Parent side: store the error for :meth:`get_error` and write one
        line about it to standard error."""
        self._state().error = error
        summary = str(error).strip().splitlines()
        detail = f": {summary[0]}" if summary else ""
        sys.stderr.write(
            f"{type(self).__name__} failed: {type(error).__name__}{detail}\n"
        )

    def handle_warning(self, warning: TaskWarning) -> bool:
        """Child side: called for every warning the task raises.  Return True
        when handled, False to let Python show it as usual."""
        return False

    def get_result(self) -> Any:
        return self._state().result

    def get_error(self) -> Exception | None:
        return self._state().error

    def get_promise(self) -> TaskPromise:
        state = self._state()
        promise = state.promise_ref() if state.promise_ref is not None else None
        if promise is None:
            promise = TaskPromise(self)
            _settle_from_state(promise, state)
            state.promise_ref = weakref.ref(promise)
            if not state.settled:
                state.pending_promise = promise
        return promise

    def get_group(self) -> str | None:
        return self._state().group

    def set_group(self, group: str | None) -> Task:
        self._state().group = group
        return self

    def get_timeout(self) -> float | None:
        """Seconds the task may run: 0 for no limit, None for the default."""
        return self._state().timeout

    def set_timeout(self, timeout: float | None) -> Task:
        self._state().timeout = check_timeout(timeout)
        return self

    def __getstate__(self) -> dict[str, Any]:
        return outgoing_fields(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __copy__(self) -> Task:
        clone = type(self).__new__(type(self))
        fields = {k: v for k, v in self.__dict__.items() if k != STATE_ATTRIBUTE}
        clone.__dict__.update(fields)
        source = self.__dict__.get(STATE_ATTRIBUTE)
        if source is not None:
            clone._state().group = source.group
            clone._state().timeout = source.timeout
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> Task:
        clone = self.__copy__()
        for name, value in list(clone.__dict__.items()):
            if name != STATE_ATTRIBUTE:
                clone.__dict__[name] = copy.deepcopy(value, memo)
        return clone


def _settle_from_state(promise: TaskPromise, state: _TaskState) -> None:
    """A promise made after its task settled starts out settled the same way."""
    if state.settled == 1:
        promise.resolve(state.outcome)
    elif state.settled == 2:
        promise.reject(state.outcome)


def _record_outcome(task: TaskInterface, settled: int, outcome: Any) -> None:
    if isinstance(task, Task):
        state = task._state()
        state.settled = settled
        state.outcome = outcome
        state.pending_promise = None


def _call_target(task: object, method: Callable[..., Any]) -> str:
    """The name of ``method`` if ``call`` may send it to the parent, else ValueError."""
    if getattr(method, "__self__", None) is not task or not hasattr(method, "__func__"):
        raise ValueError(
            "call() takes a bound method of this task (self.some_method), "
            f"not {method!r}"
        )
    if method_side(method) is Side.CHILD:
        raise ValueError(
            f"{method.__name__} is marked @on_child and cannot be called on the parent"
        )
    return method.__name__


def check_timeout(timeout: float | None) -> float | None:
    """Validate a timeout: None, or a number of seconds >= 0."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"a timeout is a number of seconds or None, not {timeout!r}")
    if timeout < 0 or timeout != timeout:
        raise ValueError(f"a timeout cannot be negative: {timeout!r}")
    return float(timeout)


def outgoing_fields(task: object) -> dict[str, Any]:
    """The fields sent to the child: all but OnParent and the bookkeeping."""
    fields = getattr(task, "__dict__", None)
    if not fields:
        return {}
    return _without(fields, field_sides(type(task)).not_sent)


def returning_fields(task: object) -> dict[str, Any]:
    """The fields synchronised between the sides: all but OnParent and OnChild."""
    fields = getattr(task, "__dict__", None)
    if not fields:
        return {}
    return _without(fields, field_sides(type(task)).not_returned)


def _without(fields: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """A copy of ``fields`` without ``names`` and the bookkeeping (a copy and a
    few pops: three times faster than a comprehension for small tasks)."""
    kept = fields.copy()
    kept.pop(STATE_ATTRIBUTE, None)
    for name in names:
        kept.pop(name, None)
    return kept


def apply_fields(task: object, fields: dict[str, Any]) -> None:
    """Write synchronised fields that came from the other side onto ``task``."""
    if fields:
        task.__dict__.update(fields)


def check_task(task: object) -> TaskInterface:
    """Return ``task`` if it can run, else raise TypeError saying why."""
    if not isinstance(task, TaskInterface):
        raise TypeError(f"expected a task (a TaskInterface), got {type(task).__name__}")
    if not callable(getattr(task, "run", None)):
        raise TypeError(f"{type(task).__name__} has no run() method")
    field_sides(type(task))
    return task


def set_result(
    task: TaskInterface, result: Any, promise: TaskPromise | None = None
) -> None:
    """Settle ``task`` with ``result``: handle_result first, then the promise
    (``task.get_promise()`` unless the caller holds it already).

    If handle_result raises, the task fails with that exception instead: the
    task still settles once, and the taskmaster goes on with the others.
    """
    if promise is None:
        promise = task.get_promise()
    _record_outcome(task, 1, result)
    try:
        task.handle_result(result)
    except Exception as error:
        set_error(task, error)
        return
    if not promise.is_settled():
        promise.resolve(result)


def set_error(task: TaskInterface, error: Exception) -> None:
    """Settle ``task`` with ``error``: handle_error first, then the promise.

    An exception from handle_error has nowhere to go but the log.
    """
    promise = task.get_promise()
    _record_outcome(task, 2, error)
    try:
        task.handle_error(error)
    except Exception:
        logger.exception("%s.handle_error raised", type(task).__name__)
    if not promise.is_settled():
        promise.reject(error)


def task_error(task: object, what: str, error: BaseException) -> TaskmasterError:
    """A TaskmasterError saying that ``what`` of ``task`` failed, naming the cause."""
    return TaskmasterError(
        f"{what} of {type(task).__name__} failed: {type(error).__name__}: {error}"
    )
