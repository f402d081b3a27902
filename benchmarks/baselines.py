"""What a bare socket between processes can do: the limits to compare with.

Every baseline forks children that speak the simplest protocol that still
does what a task library must: a 4-byte length, then a pickle.  A "task" is
``(number, function)`` with the function pickled by reference; the child
calls it and answers ``(number, result)``.  Each side reads what the socket
has and answers everything complete in one send, so several messages in
flight share system calls, as a library's pipelining would.

- :func:`ping_pong`: messages per second, 1 parent and N children, K in flight
  per child (the ceiling for empty tasks);
- :func:`round_trip`: one message at a time to one child (the floor for a
  task's latency and for a call to the parent);
- :func:`bulk`: one large buffer from a child (the ceiling for big results);
- :func:`sleeps`: children that only sleep (the ceiling for sleeping tasks).
"""

from __future__ import annotations

import os
import pickle
import selectors
import socket
import statistics
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from . import tasks

_LENGTH = struct.Struct("!Q")
_BUFFER_SIZE = 1 << 21  # the socket buffers Taskmaster asks for


class _Frames:
    """Splits a byte stream into length-prefixed payloads."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def read(self, sock: socket.socket) -> list[bytes] | None:
        """The payloads now complete; None at end of stream."""
        data = sock.recv(1 << 16)
        if not data:
            return None
        pending = self._pending
        pending += data
        payloads = []
        position = 0
        while len(pending) - position >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(pending, position)
            end = position + _LENGTH.size + length
            if end > len(pending):
                break
            payloads.append(bytes(pending[position + _LENGTH.size : end]))
            position = end
        del pending[:position]
        return payloads


def _frame(message: object) -> bytes:
    payload = pickle.dumps(message, protocol=5)
    return _LENGTH.pack(len(payload)) + payload


def _serve_tasks(sock: socket.socket) -> None:
    """The child's loop: run each task received, answer in one send per read."""
    frames = _Frames()
    while True:
        payloads = frames.read(sock)
        if payloads is None:
            return
        answers = []
        for payload in payloads:
            number, function = pickle.loads(payload)
            answers.append(_frame((number, function())))
        sock.sendall(b"".join(answers))


@contextmanager
def _children(
    count: int, serve: Callable[[socket.socket], None]
) -> Iterator[list[socket.socket]]:
    """Fork ``count`` children, each serving one socket; reap them on exit."""
    socks: list[socket.socket] = []
    pids: list[int] = []
    try:
        for _ in range(count):
            parent_end, child_end = socket.socketpair()
            for sock in (parent_end, child_end):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _BUFFER_SIZE)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _BUFFER_SIZE)
            pid = os.fork()
            if pid == 0:
                _child(child_end, [parent_end, *socks], serve)
            child_end.close()
            socks.append(parent_end)
            pids.append(pid)
        yield socks
    finally:
        for sock in socks:
            sock.close()
        for pid in pids:
            os.waitpid(pid, 0)


def _child(
    sock: socket.socket,
    inherited: list[socket.socket],
    serve: Callable[[socket.socket], None],
) -> None:
    code = 1
    try:
        for other in inherited:
            other.close()
        serve(sock)
        code = 0
    finally:
        os._exit(code)


def ping_pong(total: int, children: int, in_flight: int) -> float:
    """Empty tasks per second through raw sockets, ``in_flight`` per child."""
    with _children(children, _serve_tasks) as socks:
        for sock in socks:
            _call(sock, _Frames())  # each child is up and answering
        selector = selectors.DefaultSelector()
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ, (sock, _Frames()))
        sent = received = 0
        start = time.perf_counter()
        for sock in socks:
            batch = min(in_flight, total - sent)
            sock.sendall(
                b"".join(_frame((sent + i, tasks.empty)) for i in range(batch))
            )
            sent += batch
        while received < total:
            for key, _ in selector.select():
                sock, frames = key.data
                payloads = frames.read(sock) or []
                for payload in payloads:
                    pickle.loads(payload)
                received += len(payloads)
                batch = min(len(payloads), total - sent)
                if batch:
                    frames = (_frame((sent + i, tasks.empty)) for i in range(batch))
                    sock.sendall(b"".join(frames))
                    sent += batch
        took = time.perf_counter() - start
        selector.close()
    return total / took


def round_trip(count: int) -> float:
    """The median time (s) of one task sent to one child and answered."""
    with _children(1, _serve_tasks) as (sock,):
        frames = _Frames()
        _call(sock, frames)
        took = []
        for _ in range(count):
            start = time.perf_counter()
            _call(sock, frames)
            took.append(time.perf_counter() - start)
    return statistics.median(took)


def _call(sock: socket.socket, frames: _Frames) -> object:
    sock.sendall(_frame((0, tasks.empty)))
    while True:
        payloads = frames.read(sock)
        if payloads is None:
            raise EOFError("the child went away")
        if payloads:
            return pickle.loads(payloads[0])


def bulk(size: int) -> float:
    """Seconds to receive a ``size``-byte buffer from a child into a new one."""

    def serve(sock: socket.socket) -> None:
        data = tasks.bulk(size)
        sock.sendall(b"r")
        if sock.recv(1) == b"g":
            sock.sendall(_LENGTH.pack(len(data)))
            sock.sendall(data)

    with _children(1, serve) as (sock,):
        if sock.recv(1) != b"r":
            raise EOFError("the child went away")
        start = time.perf_counter()
        sock.sendall(b"g")
        (length,) = _LENGTH.unpack(_receive(sock, _LENGTH.size))
        _receive(sock, length)
        return time.perf_counter() - start


def sleeps(processes: int, count: int, seconds: float) -> float:
    """Seconds for ``processes`` forked children to sleep ``count`` times
    ``seconds`` between them, ``count / processes`` each, with no library:
    how close to the ideal this machine's timers let any pool come.  The
    children are forked before the clock starts and wait for a byte."""
    each = count // processes
    starts, pids = [], []
    try:
        for _ in range(processes):
            start_read, start_write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(start_write)
                code = 1
                try:
                    os.read(start_read, 1)
                    for _ in range(each):
                        time.sleep(seconds)
                    code = 0
                finally:
                    os._exit(code)
            os.close(start_read)
            starts.append(start_write)
            pids.append(pid)
        start = time.perf_counter()
        for start_write in starts:
            os.write(start_write, b"g")
        for pid in pids:
            os.waitpid(pid, 0)
        return time.perf_counter() - start
    finally:
        for start_write in starts:
            os.close(start_write)


def _receive(sock: socket.socket, size: int) -> bytearray:
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    while filled < size:
        count = sock.recv_into(view[filled:])
        if not count:
            raise EOFError("the child went away")
        filled += count
    return buffer
