"""The wire protocol codec shared by every worker, runtime and proxy.

``docs/protocol.md`` is the specification; this module is its reference
implementation.  In short: every message is one frame::

    header   16 bytes  kind u8 | flags u8 | buffer count u16 | channel u32
                       | payload length u64
    lengths  8 bytes per out-of-band buffer (u64 each)
    payload  pickle protocol 5 (cloudpickle), or raw bytes for HELLO
    buffers  the out-of-band buffers, back to back

All integers are big-endian.  Channel 0 is a direct connection; a proxy
multiplexes worker instances by their channel number.  Large buffers inside a
payload (``bytearray``, ``memoryview``, NumPy arrays, anything exposing
``PickleBuffer``) travel out of band: written from the object's own memory with
``sendmsg`` and read into one allocation on the other side, with no copies in
between.
"""

from __future__ import annotations

import enum
import pickle
import struct
from collections.abc import Sequence
from typing import Any

from ._errors import ProtocolError

PROTOCOL_VERSION = 1
"""Bumped whenever a frame or a message changes shape."""

MAGIC = b"TASKMSTR"
HEADER = struct.Struct("!BBHIQ")
_HEADER_SIZE = HEADER.size
_unpack_header = HEADER.unpack_from
_pack_header = HEADER.pack
HELLO = struct.Struct("!8sHI")
BUFFER_LENGTH = struct.Struct("!Q")

DEFAULT_MAX_FRAME_SIZE = 1 << 32
"""Frames larger than this (4 GiB) are refused before anything is allocated."""

OUT_OF_BAND_THRESHOLD = 1 << 16
"""Buffers at least this large (64 KiB) travel out of band."""

_LARGE_FRAME = 1 << 20
_CHUNK_SIZE = 1 << 18  # what one read of a socket takes at most
_JOINABLE = (bytes, bytearray)
_LIFTABLE = frozenset((bytes, bytearray))
_LIFTED_TYPES = _LIFTABLE | {tuple}  # what _lift may change

Bytes = bytes | bytearray | memoryview


class MessageKind(enum.IntEnum):
    """What a frame carries; the payload of each kind is listed in docs/protocol.md."""

    HELLO = 1
    READY = 2
    RUN = 3
    RESULT = 4
    ERROR = 5
    CALL = 6
    ANSWER = 7
    ANSWER_ERROR = 8
    WARNING = 9
    STOP = 10
    TERMINATE = 11
    START = 12
    EXITED = 13


_KINDS = {int(kind): kind for kind in MessageKind}

# Where the data of a message is: the item whose large buffers go out of band.
_DATA_ITEM = {MessageKind.RESULT: 1, MessageKind.CALL: 3, MessageKind.ANSWER: 1}


class Frame:
    """One decoded frame: its kind, channel, payload and out-of-band buffers.

    A decoder receives each out-of-band buffer into a ``bytearray`` of its
    own, and a large ``bytearray`` that travelled out of band is that very
    object after :meth:`load` (nothing is copied): load a frame once.

    A plain class, not a dataclass: every worker imports this module, and
    ``dataclasses`` would add its imports to each spawned worker's start.
    """

    __slots__ = ("buffers", "channel", "kind", "payload")

    def __init__(
        self,
        kind: MessageKind,
        channel: int,
        payload: Bytes,
        buffers: tuple[Bytes, ...] = (),
    ) -> None:
        self.kind = kind
        self.channel = channel
        self.payload = payload
        self.buffers = buffers

    def __repr__(self) -> str:
        return (
            f"Frame({self.kind.name}, channel={self.channel}, "
            f"{len(self.payload)} bytes, {len(self.buffers)} buffers)"
        )

    def load(self) -> Any:
        """Unpickle the payload, handing the out-of-band buffers back to pickle."""
        return loads(self.payload, self.buffers)


class _OutOfBand:
    """Stands in for a large ``bytes`` or ``bytearray`` while it is pickled.

    The C pickler writes both in band, copying them into the pickle; this
    wrapper reduces to a :class:`pickle.PickleBuffer` of the same memory,
    which goes out of band, and to a function that rebuilds the same type.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray) -> None:
        self.data = data

    def __reduce__(self) -> tuple[Any, ...]:
        rebuild = (
            bytearray_from_buffer if type(self.data) is bytearray else bytes_from_buffer
        )
        return rebuild, (pickle.PickleBuffer(self.data),)


def bytearray_from_buffer(buffer: Any) -> bytearray:
    """Rebuild a ``bytearray`` sent out of band: the buffer itself when the
    decoder received it into a ``bytearray`` of its own, else a copy."""
    return buffer if type(buffer) is bytearray else bytearray(buffer)


def bytes_from_buffer(buffer: Any) -> bytes:
    """Rebuild a ``bytes`` object sent out of band (one copy: bytes are immutable)."""
    return bytes(buffer)


def _lift(obj: Any) -> Any:
    """``obj`` with large ``bytes`` and ``bytearray`` wrapped to go out of band:
    ``obj`` itself, or an item of it when it is a tuple (a task's result, a
    call's arguments).  Deeper ones stay in band.  An object found twice in
    the tuple gets one wrapper, so pickle's memo keeps it one object."""
    kind = type(obj)
    if kind is bytes or kind is bytearray:
        return _OutOfBand(obj) if len(obj) >= OUT_OF_BAND_THRESHOLD else obj
    if kind is not tuple or _LIFTABLE.isdisjoint(map(type, obj)):
        # Checked in C: most results and argument lists hold no bytes at all.
        return obj
    wrappers: dict[int, _OutOfBand] = {}
    lifted = []
    for item in obj:
        kind = type(item)
        if (kind is bytes or kind is bytearray) and len(item) >= OUT_OF_BAND_THRESHOLD:
            item = wrappers.setdefault(id(item), _OutOfBand(item))
        lifted.append(item)
    return tuple(lifted)


def dumps(obj: Any, portable: bool = True) -> tuple[bytes, list[memoryview]]:
    """Pickle ``obj`` with protocol 5; large contiguous buffers stay out of band.

    Out of band go objects that pickle as :class:`pickle.PickleBuffer`
    (NumPy arrays, for example) and large ``bytes`` and ``bytearray`` that are
    ``obj``, or an item of it when it is a tuple: the rule for the data of a
    message (see :func:`encode_message`).

    The C pickler is tried first: it is several times faster than
    cloudpickle.  cloudpickle takes over for what the C pickler refuses
    (lambdas, local classes) and, when ``portable``, for anything that refers
    to ``__main__``, which the receiver only has when it was forked from us
    or is a thread of ours.
    """
    return _pickle(_lift(obj), portable)


def _pickle(obj: Any, portable: bool) -> tuple[bytes, list[memoryview]]:
    """:func:`dumps` of an object whose large items are already lifted."""
    buffers: list[memoryview] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        try:
            view = buffer.raw()
        except BufferError:
            return True
        if view.nbytes < OUT_OF_BAND_THRESHOLD:
            return True
        buffers.append(view)
        return False

    try:
        payload = pickle.dumps(obj, protocol=5, buffer_callback=out_of_band)
        if not (portable and b"__main__" in payload):
            return payload, buffers
    except Exception:
        pass
    buffers.clear()
    # Imported here, on first need: most processes never pickle by value.
    import cloudpickle

    payload = cloudpickle.dumps(obj, protocol=5, buffer_callback=out_of_band)
    return payload, buffers


def loads(payload: Bytes, buffers: Sequence[Bytes] = ()) -> Any:
    """Unpickle a payload made by :func:`dumps`."""
    return pickle.loads(payload, buffers=buffers)


def encode_frame(
    kind: MessageKind,
    payload: Bytes = b"",
    buffers: Sequence[Bytes] = (),
    channel: int = 0,
) -> list[Bytes]:
    """The pieces of one frame, ready for ``socket.sendmsg``.

    A payload of under 64 KiB without buffers is joined to its header (one
    small copy, one piece fewer to send); nothing else is copied.
    """
    if len(buffers) > 0xFFFF:
        raise ProtocolError(
            f"a frame carries at most 65535 buffers, not {len(buffers)}"
        )
    header = HEADER.pack(kind, 0, len(buffers), channel, _nbytes(payload))
    if not buffers:
        if type(payload) in _JOINABLE and len(payload) < OUT_OF_BAND_THRESHOLD:
            return [header + payload]
        return [header, payload]
    lengths = b"".join(BUFFER_LENGTH.pack(_nbytes(buffer)) for buffer in buffers)
    return [header, lengths, payload, *buffers]


def encode_message(
    kind: MessageKind, message: Any, channel: int = 0, portable: bool = True
) -> list[Bytes]:
    """Pickle ``message`` and frame it (``portable``: see :func:`dumps`).

    Large ``bytes`` and ``bytearray`` go out of band where they are data: a
    result (RESULT, ANSWER), or an item of it if it is a tuple, and a call's
    arguments (CALL).  Nothing else in a message is searched for them.
    """
    at = _DATA_ITEM.get(kind)
    if at is not None and type(message) is tuple and len(message) > at:
        data = message[at]
        if type(data) in _LIFTED_TYPES and data:
            lifted = _lift(data)
            if lifted is not data:
                message = (*message[:at], lifted, *message[at + 1 :])
    payload, buffers = _pickle(message, portable)
    if not buffers and len(payload) < OUT_OF_BAND_THRESHOLD:
        return [_pack_header(kind, 0, 0, channel, len(payload)) + payload]
    return encode_frame(kind, payload, buffers, channel)


def encode_hello(pid: int, channel: int = 0) -> bytes:
    """The HELLO frame each side sends first: magic, protocol version, pid."""
    return b"".join(
        encode_frame(
            MessageKind.HELLO, HELLO.pack(MAGIC, PROTOCOL_VERSION, pid), (), channel
        )
    )


def check_hello(frame: Frame) -> int:
    """Validate the other side's HELLO; return its pid.

    Raises ProtocolError naming both versions when they differ.
    """
    if frame.kind is not MessageKind.HELLO:
        raise ProtocolError(f"expected HELLO as the first frame, got {frame.kind.name}")
    if len(frame.payload) != HELLO.size:
        raise ProtocolError(
            f"HELLO payload has {len(frame.payload)} bytes, not {HELLO.size}"
        )
    magic, version, pid = HELLO.unpack(frame.payload)
    if magic != MAGIC:
        raise ProtocolError(f"HELLO carries magic {magic!r}, not {MAGIC!r}")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol version mismatch: this side speaks version {PROTOCOL_VERSION}, "
            f"the other side (pid {pid}) speaks version {version}"
        )
    return int(pid)


def join(pieces: Sequence[Bytes]) -> bytes:
    """One frame's pieces as a single bytes object (for tests and small writes)."""
    return b"".join(pieces)


def _nbytes(data: Bytes) -> int:
    return data.nbytes if isinstance(data, memoryview) else len(data)


class FrameDecoder:
    """Turns a byte stream into frames, checking each header before allocating.

    ``feed(data)`` takes bytes and returns every frame now complete.
    ``read_from(sock)`` reads from a socket; a large frame is then received
    straight into its own buffer, which the decoded frame's payload and
    buffers are views of.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self._pending = bytearray()
        self._chunk = bytearray(_CHUNK_SIZE)
        self._chunk_view = memoryview(self._chunk)
        self._large: _LargeFrame | None = None
        # Whether the last read_from got less than it asked for (the socket
        # had nothing more then).
        self.drained = False

    def at_boundary(self) -> bool:
        """True when no frame is partly received (a clean place for EOF)."""
        return not self._pending and self._large is None

    def feed(self, data: Bytes) -> list[Frame]:
        if self._large is not None:
            taken = self._large.fill(data)
            data = memoryview(data)[taken:]
            if not self._large.complete():
                return []
            frames = [self._large.frame()]
            self._large = None
            return frames + self.feed(data) if len(data) else frames
        self._pending += data
        return self._drain(self._pending, len(self._pending))

    def read_from(self, sock: Any) -> list[Frame] | None:
        """Read what the socket has; None at end of stream.

        Raises BlockingIOError when nothing is ready on a non-blocking socket.
        """
        if self._large is not None:
            return self._read_large(sock)
        count = sock.recv_into(self._chunk_view)
        if not count:
            return None
        self.drained = count < _CHUNK_SIZE
        if self._pending:
            return self.feed(self._chunk_view[:count])
        # Frames are split straight from the read buffer: only the start of a
        # frame still incomplete is copied, into _pending.
        return self._drain(self._chunk, count)

    def _read_large(self, sock: Any) -> list[Frame] | None:
        """Receive the rest of a large frame straight into its own buffers."""
        large = self._large
        assert large is not None
        view = large.remaining_view()
        count = sock.recv_into(view)
        if count == 0:
            return None
        self.drained = count < len(view)
        large.received(count)
        if not large.complete():
            return []
        self._large = None
        return [large.frame()]

    def _drain(self, buffer: bytearray, size: int) -> list[Frame]:
        """The whole frames in the first ``size`` bytes of ``buffer`` (the read
        buffer, or ``_pending``); what follows them is kept in ``_pending``,
        or in ``_large`` when it begins a large frame."""
        frames: list[Frame] = []
        position = 0
        while size - position >= _HEADER_SIZE:
            kind, flags, count, channel, payload_size = _unpack_header(buffer, position)
            if (
                flags
                or kind not in _KINDS
                or _HEADER_SIZE + payload_size > self.max_frame_size
            ):
                self._check_header(kind, flags, payload_size)
            if not count:
                # The common case, a small frame without buffers: its payload
                # is a slice of what was read.
                start = position + _HEADER_SIZE
                end = start + payload_size
                if end <= size:
                    frames.append(Frame(_KINDS[kind], channel, buffer[start:end]))
                    position = end
                    continue
                if payload_size < _LARGE_FRAME:
                    break
            table_end = position + _HEADER_SIZE + count * BUFFER_LENGTH.size
            if size < table_end:
                break
            lengths = [
                BUFFER_LENGTH.unpack_from(buffer, position + _HEADER_SIZE + i * 8)[0]
                for i in range(count)
            ]
            body_size = payload_size + sum(lengths)
            self._check_size(table_end - position + body_size)

            # A frame with buffers, or a large one: received into buffers of
            # its own, the rest of it straight from the socket.
            position = table_end + min(size - table_end, body_size)
            large = _LargeFrame(_KINDS[kind], channel, payload_size, lengths)
            large.fill(memoryview(buffer)[table_end:position])
            if not large.complete():
                self._large = large  # it took everything left
                break
            frames.append(large.frame())
        if buffer is self._pending:
            del buffer[:position]
        elif position < size:
            self._pending += memoryview(buffer)[position:size]
        return frames

    def _check_header(self, kind: int, flags: int, payload_size: int) -> None:
        if kind not in _KINDS:
            raise ProtocolError(f"unknown message kind {kind} (the stream is garbled?)")
        if flags:
            raise ProtocolError(f"frame flags must be 0, got {flags:#04x}")
        self._check_size(HEADER.size + payload_size)

    def _check_size(self, size: int) -> None:
        if size > self.max_frame_size:
            raise ProtocolError(
                f"frame of {size} bytes exceeds the limit of "
                f"{self.max_frame_size} bytes"
            )


class _LargeFrame:
    """A frame received straight into allocations of its own: one for the
    payload and one ``bytearray`` per out-of-band buffer, filled in order."""

    __slots__ = ("channel", "filled", "kind", "part", "part_end", "parts", "size")

    def __init__(
        self, kind: MessageKind, channel: int, payload_size: int, lengths: list[int]
    ) -> None:
        self.kind = kind
        self.channel = channel
        self.parts = [bytearray(payload_size)] + [bytearray(n) for n in lengths]
        self.size = payload_size + sum(lengths)
        self.filled = 0  # bytes received of the whole body
        self.part = 0  # the part being filled; parts before it are full
        self.part_end = payload_size  # where that part ends in the body
        self._skip_full_parts()

    def fill(self, data: Bytes) -> int:
        view = memoryview(data).cast("B")
        taken = 0
        while taken < len(view) and not self.complete():
            target = self.remaining_view()
            count = min(len(target), len(view) - taken)
            target[:count] = view[taken : taken + count]
            self.received(count)
            taken += count
        return taken

    def remaining_view(self) -> memoryview:
        """The rest of the part being filled: ``recv_into`` writes here."""
        part = self.parts[self.part]
        return memoryview(part)[len(part) - (self.part_end - self.filled) :]

    def received(self, count: int) -> None:
        self.filled += count
        self._skip_full_parts()

    def complete(self) -> bool:
        return self.filled == self.size

    def frame(self) -> Frame:
        payload, *buffers = self.parts
        return Frame(self.kind, self.channel, payload, tuple(buffers))

    def _skip_full_parts(self) -> None:
        while self.filled == self.part_end and self.part < len(self.parts) - 1:
            self.part += 1
            self.part_end += len(self.parts[self.part])
