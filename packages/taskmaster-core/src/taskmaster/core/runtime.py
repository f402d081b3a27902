"""The child side: run the tasks that arrive on a connection.

Data flow between a parent and one worker instance (direct, or relayed by a
proxy that only rewrites channel numbers)::

    parent                                        child runtime
      HELLO  ------------------------------------>  (checks the version)
             <------------------------------------  HELLO, READY
      RUN(task id, task)  ----------------------->  task.run() starts
             <------------------------------------  CALL(call id, method, args, fields)
      ANSWER(call id, value, fields)  ----------->  call() returns
             <------------------------------------  WARNING(task id, warning)
             <-----------------------------  RESULT or ERROR(task id, ..., fields)
      STOP  ------------------------------------->  the runtime returns

The steps of one task: unpickle it, set it as the running task of this
thread, route warnings to it, call ``run()``, send the outcome with the
synchronised fields.  A RUN that arrives while a task runs (the parent may
hand over the next task early) waits in a queue.  The runtime never decides
anything about timeouts or failures: the parent does.
"""

from __future__ import annotations

import faulthandler
import itertools
import logging
import os
import select
import signal
import socket
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

from . import _warnings_hook
from ._connection import BlockingConnection
from ._context import current_runtime
from ._errors import ProtocolError, TaskmasterError
from ._promise import Promise
from ._remote import pack_error, unpack_error
from ._task import TaskInterface, apply_fields, returning_fields, task_error
from ._warning import TaskWarning
from .protocol import Frame, MessageKind, check_hello, encode_hello, encode_message

logger = logging.getLogger(__name__)

# The answer to a blocking call: its id, whether it succeeded, value or error.
Answered = tuple[int, bool, Any]


class Runtime:
    """Serves one connection to a parent: the loop of a worker instance."""

    is_sync = False

    def __init__(self, sock: socket.socket) -> None:
        self.connection = BlockingConnection(sock)
        self._runs: deque[Frame] = deque()
        # Calls waiting for an answer: the promise (None for a blocking call)
        # and the task whose fields the answer brings.
        self._calls: dict[int, tuple[Promise[Any] | None, TaskInterface]] = {}
        self._call_ids = itertools.count(1)
        self._task_id = 0
        self._stale = 0  # answers still to come to calls of tasks that ended

    def serve(self) -> None:
        """Greet the parent, then run tasks until STOP or the parent goes away."""
        self.connection.send([encode_hello(os.getpid())])
        self._send(MessageKind.READY, None)
        try:
            check_hello(self.connection.receive())
            while True:
                frame = (
                    self._runs.popleft() if self._runs else self.connection.receive()
                )
                if frame.kind is MessageKind.RUN:
                    self._run(frame)
                elif frame.kind is MessageKind.STOP:
                    return
                elif frame.kind in (MessageKind.ANSWER, MessageKind.ANSWER_ERROR):
                    self._stale = max(0, self._stale - 1)
                else:
                    raise ProtocolError(f"a worker does not expect {frame.kind.name}")
        except (EOFError, BrokenPipeError, ConnectionResetError):
            return
        finally:
            self.connection.close()

    def call(
        self,
        task: TaskInterface,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        # The common case without a promise: send, then read until answered.
        call_id = self._send_call(task, name, args, kwargs, None)
        while True:
            answered = self._during_call(self.connection.receive())
            if answered is not None and answered[0] == call_id:
                break
        _, ok, outcome = answered
        if ok:
            return outcome
        del answered
        try:
            raise outcome
        finally:
            # The traceback holds this frame: no cycle through the error.
            del outcome

    def call_async(
        self,
        task: TaskInterface,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Promise[Any]:
        promise: Promise[Any] = Promise(self._wait_for)
        self._send_call(task, name, args, kwargs, promise)
        return promise

    def _send_call(
        self,
        task: TaskInterface,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        promise: Promise[Any] | None,
    ) -> int:
        """Send a CALL and note who waits for its answer: ``promise``, or
        (None) the blocking :meth:`call`, to which :meth:`_answer` returns it."""
        call_id = next(self._call_ids)
        message = (call_id, self._task_id, name, args, kwargs, returning_fields(task))
        try:
            pieces = encode_message(MessageKind.CALL, message, portable=False)
        except Exception as error:
            raise _unpicklable_call(task, name, args, kwargs, error) from error
        self._calls[call_id] = (promise, task)
        self.connection.send(pieces)
        return call_id

    def _wait_for(self, promise: Promise[Any]) -> None:
        """Read frames until ``promise`` settles; RUNs that arrive meanwhile wait."""
        while not promise.is_settled():
            self._during_call(self.connection.receive())

    def _during_call(self, frame: Frame) -> Answered | None:
        """Act on a frame that arrived while a task waits for an answer."""
        kind = frame.kind
        if kind is MessageKind.ANSWER or kind is MessageKind.ANSWER_ERROR:
            return self._answer(frame)
        if kind is MessageKind.RUN:
            self._runs.append(frame)
            return None
        if kind is MessageKind.STOP:
            raise EOFError("the parent stopped this worker during a call")
        raise ProtocolError(f"a worker does not expect {kind.name}")

    def _answer(self, frame: Frame) -> Answered | None:
        """Settle the call ``frame`` answers; an answer to the blocking
        :meth:`call` is returned instead."""
        try:
            call_id, outcome, fields = frame.load()
        except Exception as error:
            return self._unloadable_answer(error)
        entry = self._calls.pop(call_id, None)
        if entry is None:
            self._stale = max(0, self._stale - 1)
            return None
        promise, task = entry
        apply_fields(task, fields)
        ok = frame.kind is MessageKind.ANSWER
        if promise is None:
            return call_id, ok, outcome if ok else unpack_error(outcome)
        if ok:
            promise.resolve(outcome)
        else:
            promise.reject(unpack_error(outcome))
        return None

    def _unloadable_answer(self, error: Exception) -> Answered | None:
        """Fail the call an answer that cannot be unpickled was for: the
        parent answers in call order, so the oldest one still waiting (after
        the calls of tasks that have ended)."""
        if self._stale:
            self._stale -= 1
            return None
        if not self._calls:
            return None
        call_id = next(iter(self._calls))
        promise, task = self._calls.pop(call_id)
        failure = task_error(task, "unpickling the answer to a call", error)
        if promise is None:
            return call_id, False, failure
        promise.reject(failure)
        return None

    def _run(self, frame: Frame) -> None:
        try:
            self._task_id, task = frame.load()
        except Exception as error:
            # The parent knows which task this was: the oldest one it sent.
            failure = TaskmasterError(
                f"the task could not be unpickled in the worker: {error!r}"
            )
            self._send(MessageKind.ERROR, (None, pack_error(failure), {}))
            return

        token = current_runtime.set((self, task))
        _warnings_hook.begin(lambda message: self._warn(task, message))
        try:
            result = task.run()
        except Exception as error:
            _flush_standard_streams()
            self._send_error(task, error)
        else:
            # What the task printed is out before the parent hears it ended.
            _flush_standard_streams()
            self._send_result(task, result)
        finally:
            _warnings_hook.end()
            current_runtime.reset(token)
            self._stale += len(self._calls)
            self._calls.clear()

    def _warn(self, task: TaskInterface, message: warnings.WarningMessage) -> None:
        warning = TaskWarning.from_message(message)
        if not task.handle_warning(warning):
            self._send(MessageKind.WARNING, (self._task_id, warning))

    def _send_result(self, task: TaskInterface, result: Any) -> None:
        try:
            fields = returning_fields(task)
            pieces = encode_message(
                MessageKind.RESULT, (self._task_id, result, fields), portable=False
            )
        except Exception as error:
            what = _unpicklable_part(fields, error, "the result")
            self._send_error(
                task, task_error(task, f"pickling {what}", error), with_fields=False
            )
            return
        self.connection.send(pieces)

    def _send_error(
        self, task: TaskInterface, error: BaseException, with_fields: bool = True
    ) -> None:
        packed = pack_error(error)
        fields = returning_fields(task) if with_fields else {}
        try:
            pieces = encode_message(
                MessageKind.ERROR, (self._task_id, packed, fields), portable=False
            )
        except Exception as failure:
            what = _unpicklable_part(fields, failure, "the error")
            packed = pack_error(task_error(task, f"pickling {what}", failure))
            pieces = encode_message(MessageKind.ERROR, (self._task_id, packed, {}))
        self.connection.send(pieces)

    def _send(self, kind: MessageKind, message: Any) -> None:
        self.connection.send(encode_message(kind, message, portable=False))


def _unpicklable_part(fields: dict[str, Any], error: Exception, default: str) -> str:
    """Which field could not be pickled, else ``default``."""
    import cloudpickle

    for name, value in fields.items():
        try:
            cloudpickle.dumps(value, protocol=5)
        except Exception:
            return f"field {name!r}"
    return default


def _unpicklable_call(
    task: TaskInterface,
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: Exception,
) -> TaskmasterError:
    import cloudpickle

    what = "the synchronised fields"
    for position, value in [*enumerate(args), *kwargs.items()]:
        try:
            cloudpickle.dumps(value, protocol=5)
        except Exception:
            what = f"argument {position!r}"
            break
    return task_error(task, f"pickling {what} of the call to {name}()", error)


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


def watch_parent(
    sock: socket.socket, before_exit: Callable[[], None] | None = None
) -> threading.Thread:
    """Exit this process as soon as the parent's end of ``sock`` closes.

    A task may run for hours without touching the connection; this thread
    waits for the hang-up without reading, so the process never outlives
    its parent even when the parent was killed with SIGKILL.  A proxy passes
    ``before_exit`` to kill the instances it hosts first.
    """

    def watch() -> None:
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLRDHUP)
        while True:
            try:
                events = poller.poll()
            except InterruptedError:
                continue
            if any(
                mask
                & (select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL)
                for _, mask in events
            ):
                if before_exit is not None:
                    before_exit()
                os._exit(70)

    thread = threading.Thread(target=watch, name="taskmaster-parent-watch", daemon=True)
    thread.start()
    return thread


def serve_process(sock: socket.socket, crash_fd: int | None = None) -> None:
    """Run a worker instance that owns this whole process (fork or spawn)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if crash_fd is not None:
        faulthandler.enable(file=crash_fd, all_threads=False)
    watch_parent(sock)
    Runtime(sock).serve()


def serve_spawned(config: dict[str, Any]) -> None:
    """Entry point of a worker started by :func:`spawn_python` (ProcessWorker)."""
    sock, crash_fd = spawned_socket(config)
    serve_process(sock, crash_fd)


def spawned_socket(config: dict[str, Any]) -> tuple[socket.socket, int | None]:
    """In the spawned interpreter: the socket and crash file the parent passed.

    Here, not beside ``spawn_python``, so that a spawned worker does not
    import the parent's side of spawning (shutil, tempfile, sysconfig).
    """
    sock = socket.socket(fileno=config["fd"])
    os.set_inheritable(sock.fileno(), False)
    crash_fd = config.get("crash_fd")
    if crash_fd is not None:
        os.set_inheritable(crash_fd, False)
    return sock, crash_fd
