"""The parent's side of one running worker instance.

An instance holds a small window of assignments: the first is running, the
rest were handed over early so the worker never waits for the parent between
two short tasks.  Frames from the instance settle the head of the window in
order.  When the instance ends, the running task fails with the reason and
the tasks that never started go back to the queue.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from ._connection import Connection
from ._errors import ProtocolError, TaskmasterError, TaskTimeoutError
from ._remote import pack_error, unpack_error
from ._sides import Side, method_side
from ._task import TaskInterface, apply_fields, returning_fields, task_error
from .protocol import Frame, MessageKind, check_hello, encode_hello, encode_message
from .runtime import _unpicklable_part
from .worker import Worker, WorkerHandle

if TYPE_CHECKING:
    from ._promise import TaskPromise

logger = logging.getLogger(__name__)

# A worker whose tasks take less than this (seconds, moving average) is
# handed its next tasks before the current one ends: as many as fit in
# PREFETCH_BUDGET seconds of work at that average, at least 2 and at most
# PREFETCH_WINDOW.  Tasks of 15 µs get 64; tasks of 1 to 50 ms get 2.  A hand-over
# costs a round trip (50 µs, ten times that on a busy machine): 0.1 to 1% of a
# 50 ms task.
#
# The average is measured by the parent, from when it learnt that a task
# started to when its result arrived, so one sample can be far off: a READY
# and a RESULT read together make a 10 ms task look like 5 µs.  The window
# therefore grows like TCP's slow start, at most doubling with each task the
# instance finishes, and one bad sample costs a window of two, not a queue's
# worth of tasks held by one worker while the others idle.
PREFETCH_BELOW = 0.05
PREFETCH_BUDGET = 0.002
PREFETCH_WINDOW = 64


class Assignment:
    """One task on its way through an instance."""

    __slots__ = ("is_init", "promise", "started", "task", "task_id", "timeout")

    def __init__(
        self,
        task: TaskInterface,
        promise: TaskPromise | None,
        task_id: int,
        timeout: float | None,
        is_init: bool = False,
    ) -> None:
        self.task = task
        self.promise = promise
        self.task_id = task_id
        self.timeout = timeout
        self.is_init = is_init
        self.started: float | None = None


class Settle(Protocol):
    """What the taskmaster does when an instance settles or returns a task."""

    def finished(self, assignment: Assignment, result: Any) -> None: ...

    def failed(self, assignment: Assignment, error: Exception) -> None: ...

    def requeue(self, assignments: list[Assignment]) -> None: ...


class Instance:
    """One running instance of a worker, reached over a (possibly shared) connection."""

    def __init__(
        self,
        worker: Worker,
        connection: Connection,
        handle: WorkerHandle,
        channel: int = 0,
        label: str = "worker",
    ) -> None:
        self.worker = worker
        self.connection = connection
        self.handle = handle
        self.channel = channel
        self.label = label
        self.window: deque[Assignment] = deque()
        self.ready = False
        self.gone = False
        self.average: float | None = None
        self.ceiling = 1  # slow start: doubles with each finished task
        # A forked or threaded instance has our __main__; anything else needs
        # classes defined there pickled by value.
        self.portable = bool(channel) or not worker.shares_main_module
        if not channel:
            connection.owner = self
        connection.send([encode_hello(os.getpid(), channel)])

    def capacity(self) -> int:
        """How many assignments the window may hold now."""
        average = self.average
        if average is None or average >= PREFETCH_BELOW:
            return 1
        if average * PREFETCH_WINDOW <= PREFETCH_BUDGET:
            return self.ceiling
        return min(self.ceiling, max(2, int(PREFETCH_BUDGET / average)))

    def deadline(self) -> float | None:
        if not self.window:
            return None
        head = self.window[0]
        if head.started is None or not head.timeout:
            return None
        return head.started + head.timeout

    def assign(self, assignment: Assignment) -> None:
        """Send ``assignment`` to the instance.  Raises TaskmasterError naming
        the field when the task cannot be pickled; nothing is sent then."""
        pieces = encode_task(assignment, self.channel, self.portable)
        window = self.window
        window.append(assignment)
        if len(window) == 1 and self.ready:
            assignment.started = time.monotonic()
        self.connection.send(pieces)

    def _message(self, kind: MessageKind, message: Any) -> None:
        self.connection.send(encode_message(kind, message, self.channel, self.portable))

    def handle_frame(self, frame: Frame, settle: Settle) -> None:
        """Act on one frame from the instance."""
        kind = frame.kind
        if kind is MessageKind.RESULT or kind is MessageKind.ERROR:
            self._settle_head(frame, settle)
        elif kind is MessageKind.CALL:
            self._answer_call(frame)
        elif kind is MessageKind.WARNING:
            _task_id, warning = frame.load()
            warning.show()
        elif kind is MessageKind.HELLO:
            check_hello(frame)
        elif kind is MessageKind.READY:
            self.ready = True
            if self.window and self.window[0].started is None:
                self.window[0].started = time.monotonic()
        else:
            raise ProtocolError(f"a worker instance does not send {kind.name}")

    def _settle_head(self, frame: Frame, settle: Settle) -> None:
        if not self.window:
            raise ProtocolError(f"{frame.kind.name} arrived while no task was running")
        window = self.window
        head = window.popleft()
        now = time.monotonic()
        if head.started is not None:
            took = now - head.started
            average = self.average
            self.average = took if average is None else 0.8 * average + 0.2 * took
            if self.ceiling < PREFETCH_WINDOW:
                self.ceiling *= 2
        if window:
            window[0].started = now

        try:
            task_id, outcome, fields = frame.load()
        except Exception as error:
            what = "result" if frame.kind is MessageKind.RESULT else "error"
            settle.failed(head, task_error(head.task, f"unpickling the {what}", error))
            return
        if task_id is not None and task_id != head.task_id:
            raise ProtocolError(
                f"expected the outcome of task {head.task_id}, got {task_id}"
            )
        apply_fields(head.task, fields)
        if frame.kind is MessageKind.RESULT:
            settle.finished(head, outcome)
        else:
            settle.failed(head, unpack_error(outcome))

    def _answer_call(self, frame: Frame) -> None:
        try:
            call_id, task_id, name, args, kwargs, fields = frame.load()
        except Exception as error:
            # Without its call id the call cannot be answered, and the task
            # would wait for the answer forever: give the instance up.
            raise ProtocolError(f"a call could not be unpickled: {error!r}") from None
        task = self._task(task_id)
        apply_fields(task, fields)
        try:
            method = getattr(task, name)
            if method_side(method) is Side.CHILD:
                raise ValueError(
                    f"{name} is marked @on_child and cannot be called on the parent"
                )
            value = method(*args, **kwargs)
        except Exception as error:
            self._answer(MessageKind.ANSWER_ERROR, call_id, pack_error(error), task)
            return
        self._answer(MessageKind.ANSWER, call_id, value, task, name)

    def _answer(
        self,
        kind: MessageKind,
        call_id: int,
        outcome: Any,
        task: TaskInterface,
        method: str = "",
    ) -> None:
        """Send an answer with the synchronised fields; if it cannot be
        pickled, an ANSWER_ERROR naming the field or the return value."""
        fields = returning_fields(task)
        try:
            pieces = encode_message(kind, (call_id, outcome, fields), self.channel)
        except Exception as error:
            default = f"the return value of {method}()"
            what = _unpicklable_part(fields, error, default)
            failure = task_error(task, f"pickling {what}", error)
            self._message(MessageKind.ANSWER_ERROR, (call_id, pack_error(failure), {}))
            return
        self.connection.send(pieces)

    def _task(self, task_id: int) -> TaskInterface:
        for assignment in self.window:
            if assignment.task_id == task_id:
                return assignment.task
        raise ProtocolError(
            f"a call arrived for task {task_id}, which is not running here"
        )

    def end(self, error: TaskmasterError, settle: Settle) -> None:
        """The instance is gone: fail the running task, requeue the others."""
        if self.gone:
            return
        self.gone = True
        window, self.window = self.window, deque()
        if window:
            # The head fails even if the instance died before taking it, so a
            # worker that cannot start fails tasks instead of looping forever.
            head = window.popleft()
            settle.failed(head, error)
            if head.is_init and window:
                # Dying in the init task is not starting at all: the first
                # real task fails too, or every restart would requeue it.
                settle.failed(window.popleft(), error)
        if window:
            settle.requeue(list(window))

    def time_out(self, settle: Settle) -> None:
        head = self.window[0]
        limit = head.timeout
        self.end(
            TaskTimeoutError(
                f"{type(head.task).__name__} ran longer than its timeout of {limit} s"
            ),
            settle,
        )

    def send_stop(self) -> None:
        self._message(MessageKind.STOP, None)


def encode_task(
    assignment: Assignment, channel: int = 0, portable: bool = True
) -> list[Any]:
    """The RUN frame of an assignment; TaskmasterError naming the field if it
    cannot be pickled."""
    task = assignment.task
    try:
        message = (assignment.task_id, task)
        return encode_message(MessageKind.RUN, message, channel, portable)
    except Exception as error:
        raise _unpicklable_task(task, error) from error


def _unpicklable_task(task: TaskInterface, error: Exception) -> TaskmasterError:
    import cloudpickle

    from ._task import outgoing_fields

    for name, value in outgoing_fields(task).items():
        try:
            cloudpickle.dumps(value, protocol=5)
        except Exception:
            return task_error(task, f"pickling field {name!r}", error)
    return task_error(task, "pickling the task", error)
