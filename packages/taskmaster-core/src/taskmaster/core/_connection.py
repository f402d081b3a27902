"""Framed connections over stream sockets.

:class:`Connection` is the parent's and the proxy's side: non-blocking, driven
by a selector.  A send writes what the socket takes at once and keeps the
rest, as views of the caller's buffers, until the selector says the socket is
writable again.  :class:`BlockingConnection` is the child runtime's side,
which has nothing else to do while it waits.
"""

from __future__ import annotations

import os
import selectors
import socket
from collections import deque
from typing import Any

from ._poller import Registry
from .protocol import DEFAULT_MAX_FRAME_SIZE, Bytes, Frame, FrameDecoder

_MAX_PIECES = 512
_SOCKET_BUFFER = 1 << 21

_owned: set[int] = set()


def own(fd: int) -> int:
    """Note ``fd`` as the taskmaster's, so a forked child can let go of it."""
    _owned.add(fd)
    return fd


def disown(fd: int) -> None:
    _owned.discard(fd)


def close_owned_descriptors(keep: tuple[int, ...] = ()) -> None:
    """In a freshly forked child: close the parent's taskmaster descriptors.

    A forked worker must not hold the parent's ends of its siblings' sockets,
    or a sibling could not see the parent go away.
    """
    for fd in list(_owned):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    _owned.clear()


def tune_socket(sock: socket.socket) -> None:
    """Give a socket buffers large enough for bulk results."""
    for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, _SOCKET_BUFFER)
        except OSError:
            pass


def socket_pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair of stream sockets with tuned buffers."""
    parent, child = socket.socketpair()
    tune_socket(parent)
    tune_socket(child)
    return parent, child


class Connection:
    """A non-blocking framed connection registered with a selector.

    The selector key's ``data`` is the connection itself; ``owner`` is who
    its frames are for (an instance, or a proxy link), set by that owner.
    """

    def __init__(
        self,
        sock: socket.socket,
        selector: Registry,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.decoder = FrameDecoder(max_frame_size)
        self.closed = False
        self.owner: Any = None
        self._selector = selector
        self._outbox: deque[bytes | memoryview] = deque()
        self.corked = False
        self._watching_writes = False
        own(sock.fileno())
        selector.register(sock, selectors.EVENT_READ, self)

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, pieces: list[Bytes]) -> None:
        """Send one frame's pieces; what the socket does not take now waits.

        While the connection is corked the frame only joins the outbox, so
        several frames leave in one ``sendmsg`` when it is uncorked.
        """
        if self.closed:
            return
        outbox = self._outbox
        single = not outbox and not self.corked and len(pieces) == 1
        if single and self._send_through(pieces[0]):
            return
        for piece in pieces:
            # bytes go as they are; anything else as a view of its bytes, so
            # that len() is its size in bytes.
            outbox.append(piece if type(piece) is bytes else _byte_view(piece))
        if not self.corked:
            self.flush()

    def _send_through(self, piece: Bytes) -> bool:
        """Send one small frame at once, as most are; False to queue it
        instead (not bytes, or the socket would not take all of it)."""
        if type(piece) is not bytes:
            return False
        try:
            sent = self.sock.send(piece)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True  # the peer is gone; the read side reports it
        if sent == len(piece):
            return True
        self._outbox.append(memoryview(piece)[sent:])
        self._watch_writes(True)
        return True

    def cork(self) -> None:
        self.corked = True

    def uncork(self) -> None:
        self.corked = False
        self.flush()

    def flush(self) -> None:
        """Write what the socket takes of the outbox; watch for writability
        while anything is left."""
        outbox = self._outbox
        while outbox:
            pieces = [outbox[i] for i in range(min(len(outbox), _MAX_PIECES))]
            try:
                sent = self.sock.sendmsg(pieces)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                # The peer is gone; the read side reports it.
                outbox.clear()
                break
            _consume(outbox, sent)
        if outbox or self._watching_writes:
            self._watch_writes(bool(outbox))

    def _watch_writes(self, wanted: bool) -> None:
        if wanted == self._watching_writes or self.closed:
            return
        self._watching_writes = wanted
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if wanted else 0)
        self._selector.modify(self.sock, events, self)

    def pending_output(self) -> bool:
        return bool(self._outbox)

    def receive(self) -> list[Frame] | None:
        """Every complete frame now readable; None once the peer has closed.

        Raises ProtocolError for a malformed stream.
        """
        decoder = self.decoder
        frames: list[Frame] = []
        while True:
            try:
                more = decoder.read_from(self.sock)
            except (BlockingIOError, InterruptedError):
                return frames
            except OSError:
                more = None
            if more is None:
                return frames or None
            frames += more
            # A read that did not fill the buffer emptied the socket: the
            # selector (level-triggered) reports anything that comes later.
            if decoder.drained or len(frames) >= 256:
                return frames

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._outbox.clear()
        try:
            self._selector.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        disown(self.sock.fileno())
        self.sock.close()


def _byte_view(piece: Bytes) -> memoryview:
    return memoryview(piece).cast("B")


def _consume(outbox: deque[bytes | memoryview], sent: int) -> None:
    """Drop ``sent`` bytes from the front of ``outbox``."""
    while sent and outbox:
        head = outbox[0]
        size = len(head)
        if size <= sent:
            sent -= size
            outbox.popleft()
        else:
            outbox[0] = memoryview(head)[sent:]
            sent = 0


class BlockingConnection:
    """The child runtime's side of a framed connection."""

    def __init__(
        self, sock: socket.socket, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    ) -> None:
        sock.setblocking(True)
        self.sock = sock
        self.decoder = FrameDecoder(max_frame_size)
        self._ready: deque[Frame] = deque()

    def send(self, pieces: list[Bytes]) -> None:
        if len(pieces) == 1 and type(pieces[0]) is bytes:
            self.sock.sendall(pieces[0])
            return
        views = [memoryview(piece).cast("B") for piece in pieces]
        while views:
            sent = self.sock.sendmsg(views[:_MAX_PIECES])
            while sent and views:
                if views[0].nbytes <= sent:
                    sent -= views.pop(0).nbytes
                else:
                    views[0] = views[0][sent:]
                    sent = 0
            while views and not views[0].nbytes:
                views.pop(0)

    def receive(self) -> Frame:
        """The next frame; EOFError when the other side has gone."""
        while not self._ready:
            frames = self.decoder.read_from(self.sock)
            if frames is None:
                raise EOFError("the connection to the parent is closed")
            self._ready.extend(frames)
        return self._ready.popleft()

    def close(self) -> None:
        self.sock.close()
