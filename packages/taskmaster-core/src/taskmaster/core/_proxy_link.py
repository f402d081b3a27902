"""The parent's side of a running proxy: one connection, many instances.

Frames on channel 0 are for the link itself; every other channel belongs to
one worker instance hosted by the proxy.
"""

from __future__ import annotations

import itertools
import logging
import os
from typing import TYPE_CHECKING, Any

from ._connection import Connection
from ._errors import ProtocolError, TaskmasterError, WorkerFailedError
from ._instance import Instance, Settle
from ._options import TaskmasterOptions
from ._poller import Registry
from .protocol import Frame, MessageKind, check_hello, encode_hello, encode_message
from .worker import ExitStatus, Worker, WorkerHandle

if TYPE_CHECKING:
    from .proxy import Proxy

logger = logging.getLogger(__name__)


class RemoteHandle(WorkerHandle):
    """A worker instance that lives in a proxy: killing it is a message."""

    def __init__(self, link: ProxyLink, channel: int) -> None:
        self._link = link
        self._channel = channel

    def kill(self) -> None:
        self._link.terminate(self._channel)

    def wait(self, timeout: float | None) -> ExitStatus | None:
        return None


class ProxyLink:
    """A proxy process started by this taskmaster, and the instances it hosts."""

    def __init__(self, proxy: Proxy, handle: WorkerHandle, selector: Registry) -> None:
        self.proxy = proxy
        self.handle = handle
        self.connection = Connection(handle.sock, selector)
        self.connection.owner = self
        self.instances: dict[int, Instance] = {}
        self.stopped = False
        self._channels = itertools.count(1)
        self.connection.send([encode_hello(os.getpid())])
        logger.debug("proxy %s started, pid %s", type(proxy).__name__, handle.pid)

    def start_instance(
        self, worker: Worker, options: TaskmasterOptions, label: str
    ) -> Instance:
        channel = next(self._channels)
        self.connection.send(
            encode_message(MessageKind.START, (channel, worker, options))
        )
        instance = Instance(
            worker, self.connection, RemoteHandle(self, channel), channel, label
        )
        self.instances[channel] = instance
        return instance

    def terminate(self, channel: int) -> None:
        self.instances.pop(channel, None)
        self.connection.send(encode_message(MessageKind.TERMINATE, channel))

    def detach(self, instance: Instance) -> None:
        self.instances.pop(instance.channel, None)

    def handle_frame(self, frame: Frame, settle: Settle) -> Instance | None:
        """Act on a frame of channel 0, the proxy's own; return the instance
        that ended, if one did.  (The taskmaster hands the frames of other
        channels to their instances.)"""
        if frame.kind is MessageKind.HELLO:
            check_hello(frame)
            return None
        if frame.kind is MessageKind.EXITED:
            channel, exitcode, signal, report = frame.load()
            instance = self.instances.pop(channel, None)
            if instance is not None:
                error = _exit_error(instance.label, exitcode, signal, report)
                instance.end(error, settle)
            return instance
        raise ProtocolError(f"a proxy does not send {frame.kind.name} on channel 0")

    def end(self, error: WorkerFailedError, settle: Settle) -> list[Instance]:
        """The proxy is gone: every instance on it ends with ``error``."""
        instances = list(self.instances.values())
        self.instances.clear()
        for instance in instances:
            instance.end(error, settle)
        return instances

    def stop(self) -> None:
        self.connection.send(encode_message(MessageKind.STOP, None))

    def close(self) -> None:
        self.connection.close()
        self.handle.close()
        if self.proxy._link is self:
            self.proxy._link = None


def _exit_error(
    label: str, exitcode: int | None, signal: int | None, report: str
) -> TaskmasterError:
    """Why an instance in the proxy ended.  With neither an exit code nor a
    signal, the report is the proxy's own account (e.g. "could not be started
    in the proxy: ...")."""
    if exitcode is None and signal is None and report:
        return WorkerFailedError(f"{label} {report}")
    return ExitStatus(exitcode, signal, report).error(label)


def describe(link: Any) -> str:
    return f"the {type(link.proxy).__name__} (pid {link.handle.pid})"
