"""The proxy process: starts worker instances for one parent and relays frames.

Data flow, for the hosted instance on channel N (0 is the proxy's own)::

    parent                        proxy runtime                 instance N
      HELLO (0)  ---------------->  checks the version
                 <----------------  HELLO (0)
      START(N, worker, options) ->  worker.launch(options)  ---> starts
      HELLO, RUN, ANSWER, STOP (N) -> same frame on channel 0 ->
                 <----------------  same frame on channel N <--  HELLO, READY,
                                                                 CALL, WARNING,
                                                                 RESULT, ERROR
      TERMINATE(N) (0) ---------->  kills instance N
                 <----------------  EXITED(N, exitcode, signal, crash report)
      STOP (0)  ----------------->  stops every instance, exits 0
      end of stream  ------------>  kills every instance, exits

The steps: greet the parent and check its greeting; then wait in one
poller (epoll, the taskmaster's own) for frames from the parent, frames from
the instances and the instances' pidfds.  Relayed frames keep their payload
and buffers as bytes: the proxy unpickles only its own messages, never a
task or a result.  When an instance ends (end of stream, or its pidfd says
the process exited), the proxy relays every frame it still sent, reaps it
and only then reports EXITED, so the parent sees a task's outcome before the
instance's death.

The proxy is single-threaded apart from one thread that waits for the parent
to hang up (the loop notices too, but may be busy launching a worker): that
thread holds no locks, so forking a worker from the loop stays safe.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import socket
import sys
import time
from typing import Any

from taskmaster.core._connection import Connection, own
from taskmaster.core._errors import ProtocolError
from taskmaster.core._poller import READ, WRITE, Poller
from taskmaster.core.protocol import (
    Frame,
    MessageKind,
    check_hello,
    encode_frame,
    encode_hello,
    encode_message,
)
from taskmaster.core.runtime import spawned_socket, watch_parent
from taskmaster.core.worker import ExitStatus, WorkerHandle

logger = logging.getLogger(__name__)

_EXIT_GRACE = 1.0
"""Seconds an instance that closed its socket has to exit before it is killed."""

_STOP_GRACE = 2.0
"""Seconds idle instances have to stop on STOP before they are killed."""

_OUTCOMES = (MessageKind.RESULT, MessageKind.ERROR)

EXIT_PARENT_GONE = 0
EXIT_STOPPED = 0
EXIT_BROKEN = 2
"""The parent broke the protocol (or speaks another version of it)."""


class Hosted:
    """One worker instance running in this proxy, on its channel."""

    __slots__ = ("busy", "channel", "connection", "deadline", "handle", "reason")

    def __init__(
        self, channel: int, handle: WorkerHandle, connection: Connection
    ) -> None:
        self.channel = channel
        self.handle = handle
        self.connection = connection
        self.busy = 0
        self.deadline: float | None = None
        self.reason = ""

    def describe(self) -> str:
        return f"instance {self.channel} (pid {self.handle.pid})"


class _ExitWatch:
    """Selector data for an instance's pidfd, readable once its process exited."""

    __slots__ = ("hosted",)

    def __init__(self, hosted: Hosted) -> None:
        self.hosted = hosted


class ProxyRuntime:
    """The loop of a proxy process: one parent connection, many instances."""

    def __init__(self, sock: socket.socket) -> None:
        self.selector = Poller()
        fileno = self.selector.fileno()
        if fileno is not None:
            own(fileno)
        self.parent = Connection(sock, self.selector)
        self.hosted: dict[int, Hosted] = {}
        self.exitcode: int | None = None
        self._greeted = False
        self._highest_channel = 0
        self._unreadable_start = ""

    def serve(self) -> int:
        """Greet the parent, then relay until STOP or the parent goes away."""
        self.parent.send([encode_hello(os.getpid())])
        logger.debug("proxy %d: started", os.getpid())
        while self.exitcode is None:
            self._step()
        return self.exitcode

    def kill_all(self) -> None:
        """Kill every hosted instance at once; safe from the hang-up thread."""
        for hosted in list(self.hosted.values()):
            if hosted.handle.pid is not None:
                hosted.handle.kill()

    # -- the loop --------------------------------------------------------------

    def _step(self) -> None:
        events = self.selector.wait(self._wait_time())

        # Frames relayed to the parent in one step leave in one sendmsg.
        self.parent.cork()
        try:
            for data, mask in events:
                self._handle(data, mask)
                if self.exitcode is not None:
                    return
        finally:
            self.parent.uncork()
        self._expire()

    def _handle(self, data: Any, mask: int) -> None:
        if isinstance(data, Connection):
            if mask & WRITE and not data.closed:
                data.flush()
            if mask & READ and not data.closed:
                self._read(data)
        elif (
            isinstance(data, _ExitWatch)
            and self.hosted.get(data.hosted.channel) is data.hosted
        ):
            self._end(data.hosted, 0)

    def _wait_time(self) -> float | None:
        deadlines = [h.deadline for h in self.hosted.values() if h.deadline]
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _expire(self) -> None:
        """Kill instances that closed their socket but did not exit in time."""
        now = time.monotonic()
        for hosted in list(self.hosted.values()):
            if hosted.deadline is not None and now >= hosted.deadline:
                hosted.deadline = None
                hosted.handle.kill()

    def _read(self, connection: Connection) -> None:
        if connection is self.parent:
            self._read_parent()
        else:
            self._read_instance(connection.owner)

    # -- frames from the parent ------------------------------------------------

    def _read_parent(self) -> None:
        try:
            frames = self.parent.receive()
        except ProtocolError as error:
            self._give_up(f"the parent broke the protocol: {error}")
            return
        if frames is None:
            logger.debug("proxy %d: the parent went away", os.getpid())
            self._kill_and_reap()
            self.exitcode = EXIT_PARENT_GONE
            return
        for frame in frames:
            try:
                self._from_parent(frame)
            except ProtocolError as error:
                self._give_up(str(error))
                return
            if self.exitcode is not None:
                return

    def _from_parent(self, frame: Frame) -> None:
        if frame.channel:
            self._to_instance(frame)
        elif not self._greeted:
            check_hello(frame)
            self._greeted = True
        elif frame.kind is MessageKind.START:
            self._start(frame)
        elif frame.kind is MessageKind.TERMINATE:
            self._terminate(frame.load())
        elif frame.kind is MessageKind.STOP:
            self._stop()
        else:
            raise ProtocolError(f"a proxy does not expect {frame.kind.name}")

    def _to_instance(self, frame: Frame) -> None:
        hosted = self.hosted.get(frame.channel)
        if hosted is None:
            # Either it ended (the parent learns that from EXITED) or its
            # START could not be read and this is the parent's greeting.
            if frame.channel > self._highest_channel:
                self._highest_channel = frame.channel
                self._report(frame.channel, ExitStatus(), self._unreadable_start)
            return
        if frame.kind is MessageKind.RUN:
            hosted.busy += 1
        hosted.connection.send(encode_frame(frame.kind, frame.payload, frame.buffers))

    def _start(self, frame: Frame) -> None:
        try:
            channel, worker, options = frame.load()
        except Exception as error:
            # The channel is inside the payload that could not be read; the
            # parent greets the new instance on its channel right away.
            self._unreadable_start = (
                "could not be started in the proxy: its START message "
                f"could not be unpickled: {type(error).__name__}: {error}"
            )
            return
        self._highest_channel = max(self._highest_channel, channel)
        try:
            handle = worker.launch(options)
        except Exception as error:
            logger.debug("proxy: could not start %r: %r", worker, error)
            reason = (
                f"could not be started in the proxy: {type(error).__name__}: {error}"
            )
            self._report(channel, ExitStatus(), reason)
            return
        self._host(channel, handle)
        logger.debug(
            "proxy: started %r as instance %d, pid %s", worker, channel, handle.pid
        )

    def _host(self, channel: int, handle: WorkerHandle) -> None:
        connection = Connection(handle.sock, self.selector)
        hosted = Hosted(channel, handle, connection)
        connection.owner = hosted
        self.hosted[channel] = hosted
        exit_fd = handle.exit_fileno()
        if exit_fd is not None:
            self.selector.register(exit_fd, READ, _ExitWatch(hosted))

    def _terminate(self, channel: int) -> None:
        hosted = self.hosted.get(channel)
        if hosted is None:
            return
        logger.debug("proxy: terminating %s", hosted.describe())
        hosted.handle.kill()
        if hosted.handle.exit_fileno() is None:
            self._end(hosted, None)

    # -- frames from the instances ---------------------------------------------

    def _read_instance(self, hosted: Hosted) -> None:
        try:
            frames = hosted.connection.receive()
        except ProtocolError as error:
            self._broken(hosted, error)
            return
        if frames is None:
            self._closed(hosted)
            return
        self._to_parent(hosted, frames)

    def _to_parent(self, hosted: Hosted, frames: list[Frame]) -> None:
        for frame in frames:
            if frame.kind in _OUTCOMES and hosted.busy:
                hosted.busy -= 1
            self.parent.send(
                encode_frame(frame.kind, frame.payload, frame.buffers, hosted.channel)
            )

    def _broken(self, hosted: Hosted, error: ProtocolError) -> None:
        hosted.reason = f"broke the protocol: {error}"
        hosted.connection.close()
        hosted.handle.kill()
        if hosted.handle.exit_fileno() is None:
            self._end(hosted, None)

    def _closed(self, hosted: Hosted) -> None:
        """End of stream: wait for the process (its pidfd) or reap it now."""
        hosted.connection.close()
        if hosted.handle.exit_fileno() is None:
            self._end(hosted, _EXIT_GRACE)
            return
        hosted.deadline = time.monotonic() + _EXIT_GRACE

    # -- ending instances ------------------------------------------------------

    def _end(self, hosted: Hosted, grace: float | None) -> None:
        """Relay what the instance still sent, reap it, tell the parent."""
        self._drain(hosted)
        status = hosted.handle.wait(grace)
        if status is None:
            hosted.handle.kill()
            status = hosted.handle.wait(None)
        assert status is not None
        self._forget(hosted)
        logger.debug("proxy: %s ended: %s", hosted.describe(), status)
        self._report(hosted.channel, status, hosted.reason)

    def _drain(self, hosted: Hosted) -> None:
        while not hosted.connection.closed:
            try:
                frames = hosted.connection.receive()
            except ProtocolError:
                break
            if not frames:
                break
            self._to_parent(hosted, frames)
        hosted.connection.close()

    def _report(self, channel: int, status: ExitStatus, reason: str = "") -> None:
        """Send EXITED; a ``reason`` (without exit code or signal) says why."""
        exitcode, signum, report = status.exitcode, status.signal, status.crash_report
        if reason:
            exitcode, signum, report = None, None, reason
        message = (channel, exitcode, signum, report)
        self.parent.send(encode_message(MessageKind.EXITED, message))

    def _forget(self, hosted: Hosted) -> None:
        self.hosted.pop(hosted.channel, None)
        exit_fd = hosted.handle.exit_fileno()
        if exit_fd is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(exit_fd)
        hosted.connection.close()
        hosted.handle.close()

    # -- stopping --------------------------------------------------------------

    def _stop(self) -> None:
        """STOP from the parent: idle instances stop, busy ones are killed."""
        logger.debug("proxy %d: stopping", os.getpid())
        for hosted in self.hosted.values():
            connection = hosted.connection
            if hosted.busy or connection.closed or connection.pending_output():
                hosted.handle.kill()
            else:
                connection.send(encode_message(MessageKind.STOP, None))
        deadline = time.monotonic() + _STOP_GRACE
        for hosted in list(self.hosted.values()):
            if hosted.handle.wait(max(0.0, deadline - time.monotonic())) is None:
                hosted.handle.kill()
                hosted.handle.wait(None)
            self._forget(hosted)
        self.exitcode = EXIT_STOPPED

    def _kill_and_reap(self) -> None:
        for hosted in list(self.hosted.values()):
            hosted.handle.kill()
            hosted.handle.wait(None)
            self._forget(hosted)

    def _give_up(self, why: str) -> None:
        logger.debug("proxy %d: %s", os.getpid(), why)
        self._kill_and_reap()
        self.exitcode = EXIT_BROKEN


def main(config: dict[str, Any]) -> None:
    """Entry point of the proxy process, called by the spawn bootstrap."""
    sock, crash_fd = spawned_socket(config)
    # Ctrl-C reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if crash_fd is not None:
        faulthandler.enable(file=crash_fd, all_threads=False)

    runtime = ProxyRuntime(sock)
    watch_parent(sock, before_exit=runtime.kill_all)
    sys.exit(runtime.serve())
