"""The wire codec: fixed byte vectors, round trips, and malformed input.

The byte vectors are written out literally on purpose: any change to the frame
layout must break these tests and bump PROTOCOL_VERSION.
"""

from __future__ import annotations

import itertools
import pickle
import re
import socket
import struct
import threading
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskmaster.core import ProtocolError
from taskmaster.core.protocol import (
    HELLO,
    MAGIC,
    PROTOCOL_VERSION,
    Frame,
    FrameDecoder,
    MessageKind,
    check_hello,
    dumps,
    encode_frame,
    encode_hello,
    encode_message,
    join,
    loads,
)

# -- fixed vectors -------------------------------------------------------------

HELLO_PID_1234 = bytes.fromhex(
    "01"  # kind HELLO
    "00"  # flags
    "0000"  # no out-of-band buffers
    "00000000"  # channel 0
    "000000000000000e"  # payload: 14 bytes
    "5441534b4d535452"  # b"TASKMSTR"
    "0001"  # protocol version 1
    "000004d2"  # pid 1234
)

STOP_NONE = bytes.fromhex(
    "0a" "00" "0000" "00000000" "0000000000000004"
    "80054e2e"  # pickle protocol 5 of None
)  # fmt: skip

RESULT_ON_CHANNEL_7 = bytes.fromhex(
    "04" "00" "0000" "00000007" "0000000000000003"
    "616263"
)  # fmt: skip

RESULT_WITH_TWO_BUFFERS = bytes.fromhex(
    "04" "00" "0002" "00000007" "0000000000000003"
    "0000000000000002"  # first buffer: 2 bytes
    "0000000000000001"  # second buffer: 1 byte
    "616263"  # payload
    "78797a"  # the buffers, back to back
)  # fmt: skip


def test_protocol_version_is_1() -> None:
    assert PROTOCOL_VERSION == 1
    assert MAGIC == b"TASKMSTR"


def test_kind_numbers_are_fixed() -> None:
    assert {kind.name: int(kind) for kind in MessageKind} == {
        "HELLO": 1,
        "READY": 2,
        "RUN": 3,
        "RESULT": 4,
        "ERROR": 5,
        "CALL": 6,
        "ANSWER": 7,
        "ANSWER_ERROR": 8,
        "WARNING": 9,
        "STOP": 10,
        "TERMINATE": 11,
        "START": 12,
        "EXITED": 13,
    }


def test_hello_frame_bytes() -> None:
    assert encode_hello(1234) == HELLO_PID_1234


def test_hello_on_a_channel() -> None:
    assert encode_hello(1234, channel=5) == (
        HELLO_PID_1234[:4] + bytes.fromhex("00000005") + HELLO_PID_1234[8:]
    )


def test_stop_frame_bytes() -> None:
    assert join(encode_message(MessageKind.STOP, None)) == STOP_NONE


def test_result_header_bytes() -> None:
    assert join(encode_frame(MessageKind.RESULT, b"abc", channel=7)) == (
        RESULT_ON_CHANNEL_7
    )


def test_frame_with_buffers_bytes() -> None:
    pieces = encode_frame(MessageKind.RESULT, b"abc", [b"xy", b"z"], channel=7)
    assert join(pieces) == RESULT_WITH_TWO_BUFFERS


def test_decoding_the_fixed_vectors() -> None:
    stream = HELLO_PID_1234 + STOP_NONE + RESULT_WITH_TWO_BUFFERS
    hello, stop, result = FrameDecoder().feed(stream)

    assert (hello.kind, hello.channel) == (MessageKind.HELLO, 0)
    assert check_hello(hello) == 1234
    assert (stop.kind, stop.load()) == (MessageKind.STOP, None)
    assert (result.kind, result.channel) == (MessageKind.RESULT, 7)
    assert bytes(result.payload) == b"abc"
    assert [bytes(b) for b in result.buffers] == [b"xy", b"z"]


# -- round trips ---------------------------------------------------------------

messages = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=5), inner, max_size=5)
        | st.tuples(inner, inner)
    ),
    max_leaves=20,
)
kinds = st.sampled_from(list(MessageKind))
channels = st.integers(0, 2**32 - 1)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


class _Reads:
    """A stream that arrives in the given pieces, one per ``recv_into``, as a
    socket's reads would bring it: the decoder's read path, with the splits
    under the test's control (a real socket pair joins and splits writes as
    it likes)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = deque(piece for piece in pieces if piece)

    def recv_into(self, view: memoryview) -> int:
        if not self.pieces:
            return 0  # end of stream
        piece = self.pieces.popleft()
        count = min(len(view), len(piece))
        view[:count] = piece[:count]
        if count < len(piece):
            self.pieces.appendleft(piece[count:])
        return count


def _decode(pieces: list[bytes], via: str = "feed") -> list[Frame]:
    """Decode a stream given in ``pieces``, through feed() or read_from()."""
    decoder = FrameDecoder()
    frames = []
    if via == "feed":
        for piece in pieces:
            frames += decoder.feed(piece)
    else:
        reads = _Reads(pieces)
        while (more := decoder.read_from(reads)) is not None:
            frames += more
    assert decoder.at_boundary()
    return frames


ways = pytest.mark.parametrize("via", ["feed", "read_from"])


@ways
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_round_trips_whole_and_byte_by_byte(
    kind: MessageKind, via: str
) -> None:
    message = (kind.name, 7, [1.5, None], {"b": b"\x00\xff"})
    data = join(encode_message(kind, message, channel=3))

    for pieces in ([data], [data[i : i + 1] for i in range(len(data))]):
        (frame,) = _decode(pieces, via)
        assert (frame.kind, frame.channel) == (kind, 3)
        assert frame.load() == message


@ways
@given(st.lists(st.tuples(kinds, messages, channels), max_size=6), st.data())
def test_streams_round_trip_in_random_chunks(
    via: str, sent: list[tuple[MessageKind, object, int]], data: st.DataObject
) -> None:
    stream = b"".join(join(encode_message(k, m, c)) for k, m, c in sent)
    cuts = data.draw(st.lists(st.integers(0, max(len(stream), 1)), max_size=12))

    frames = _decode(_chunks(stream, cuts), via)

    assert [(f.kind, f.load(), f.channel) for f in frames] == sent


@ways
@given(st.integers(0, 200), st.data())
def test_large_and_out_of_band_frames_round_trip_in_random_chunks(
    via: str, extra: int, data: st.DataObject
) -> None:
    # One frame above 1 MiB (received into its own allocation; a list keeps
    # the bytes in band), one with an out-of-band buffer, and small frames
    # around them.
    big = [b"\x01" * ((1 << 20) + extra)]
    oob = bytearray(b"\x02" * ((1 << 16) + extra))
    sent = [
        (MessageKind.CALL, "before"),
        (MessageKind.RESULT, big),
        (MessageKind.ANSWER, pickle.PickleBuffer(oob)),
        (MessageKind.STOP, None),
    ]
    stream = b"".join(join(encode_message(k, m)) for k, m in sent)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=8))

    frames = _decode(_chunks(stream, cuts), via)

    assert [f.kind for f in frames] == [kind for kind, _ in sent]
    assert [len(f.buffers) for f in frames] == [0, 0, 1, 0]
    assert frames[0].load() == "before"
    assert frames[1].load() == big
    assert bytes(frames[2].load()) == oob
    assert frames[3].load() is None


def test_a_pickle_buffer_travels_out_of_band() -> None:
    payload = bytearray(range(256)) * 300  # 76,800 bytes > 64 KiB
    pieces = encode_message(MessageKind.RESULT, (1, pickle.PickleBuffer(payload)))

    (frame,) = FrameDecoder().feed(join(pieces))

    assert len(frame.buffers) == 1
    assert bytes(frame.buffers[0]) == payload
    assert len(frame.payload) < 1000  # the bytes are not in the pickle
    task_id, received = frame.load()
    assert (task_id, bytes(received)) == (1, payload)


def test_a_large_bytearray_travels_out_of_band() -> None:
    payload = bytearray(range(256)) * 300
    pieces = encode_message(MessageKind.RESULT, (1, payload, {}))

    (frame,) = FrameDecoder().feed(join(pieces))

    assert len(frame.buffers) == 1
    assert len(frame.payload) < 1000
    loaded = frame.load()
    assert loaded == (1, payload, {})
    assert loaded[1] is frame.buffers[0]  # received in place, not copied


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_dumps_sends_large_bytes_out_of_band_up_to_one_tuple_deep(depth: int) -> None:
    payload = bytes(range(256)) * 300
    message: object = payload
    for _ in range(depth):
        message = (1, message, "x")

    pickled, buffers = dumps((message, message))

    # The object is itself a tuple here: its items are one tuple deep.
    assert len(buffers) == (1 if depth == 0 else 0)  # sent once
    loaded = loads(pickled, buffers)
    assert loaded == (message, message)
    first, second = loaded
    for _ in range(depth):
        first, second = first[1], second[1]
    assert first is second

    pickled, buffers = dumps(message)

    assert len(buffers) == (1 if depth < 2 else 0)
    assert loads(pickled, buffers) == message


PAYLOAD = bytes(range(256)) * 300
DATA_POSITIONS = [
    # (kind, message, out-of-band buffers): a result, an item of a result
    # tuple, a call's arguments go out of band; deeper or elsewhere, in band.
    (MessageKind.RESULT, (1, PAYLOAD, {}), 1),
    (MessageKind.RESULT, (1, (PAYLOAD, "x", PAYLOAD), {}), 1),
    (MessageKind.RESULT, (1, ((PAYLOAD,),), {}), 0),
    (MessageKind.ANSWER, (1, bytearray(PAYLOAD), {}), 1),
    (MessageKind.CALL, (1, 2, "method", (PAYLOAD, 3), {}, {}), 1),
    (MessageKind.CALL, (1, 2, "method", ((PAYLOAD,),), {}, {}), 0),
    (MessageKind.CALL, (1, 2, "method", (), {"data": PAYLOAD}, {}), 0),
    (MessageKind.RESULT, (1, None, {"field": PAYLOAD}), 0),
    (MessageKind.WARNING, (1, PAYLOAD), 0),
]


@pytest.mark.parametrize(("kind", "message", "expected"), DATA_POSITIONS)
def test_the_data_of_a_message_travels_out_of_band(
    kind: MessageKind, message: tuple[object, ...], expected: int
) -> None:
    (frame,) = FrameDecoder().feed(join(encode_message(kind, message)))

    assert len(frame.buffers) == expected
    assert frame.load() == message


def test_small_buffers_stay_in_band() -> None:
    pieces = encode_message(MessageKind.RESULT, pickle.PickleBuffer(bytearray(1000)))
    (frame,) = FrameDecoder().feed(join(pieces))
    assert frame.buffers == ()
    assert frame.load() == bytearray(1000)


def test_out_of_band_buffers_are_sent_without_copies() -> None:
    payload = bytearray(1 << 17)
    pieces = encode_message(MessageKind.RESULT, pickle.PickleBuffer(payload))
    views = [p for p in pieces if isinstance(p, memoryview)]
    assert len(views) == 1
    assert views[0].obj is payload


@pytest.mark.parametrize("how", ["in-band", "pickle-buffer", "bytes", "bytearray"])
def test_read_from_a_socket_pair_with_20_mb(how: str) -> None:
    data = bytearray(range(256)) * (20 * (1 << 20) // 256)
    out_of_band = how != "in-band"
    sent: object = {
        "in-band": [bytes(data)],  # inside a list: in band
        "pickle-buffer": pickle.PickleBuffer(data),
        "bytes": bytes(data),
        "bytearray": data,
    }[how]
    pieces = encode_message(MessageKind.RESULT, (9, sent, {"f": 1}), channel=2)
    left, right = socket.socketpair()

    def write() -> None:
        for piece in pieces:
            left.sendall(piece)
        left.close()

    writer = threading.Thread(target=write, name="test-protocol-writer")
    writer.start()
    decoder = FrameDecoder()
    frames: list[Frame] = []
    try:
        while True:
            more = decoder.read_from(right)
            if more is None:
                break
            frames += more
    finally:
        writer.join()
        right.close()

    (frame,) = frames
    assert (frame.kind, frame.channel) == (MessageKind.RESULT, 2)
    assert len(frame.buffers) == int(out_of_band)
    task_id, received, fields = frame.load()
    assert (task_id, fields) == (9, {"f": 1})
    if how == "in-band":
        (received,) = received
    if how in ("bytes", "bytearray"):
        assert type(received) is type(sent)
    assert bytes(received) == data
    assert decoder.at_boundary()


# -- malformed input -----------------------------------------------------------


def _header(kind: int, flags: int = 0, count: int = 0, size: int = 0) -> bytes:
    return struct.pack("!BBHIQ", kind, flags, count, 0, size)


@pytest.mark.parametrize("kind", [0, 14, 99, 255])
def test_unknown_kind(kind: int) -> None:
    with pytest.raises(ProtocolError, match=f"unknown message kind {kind}"):
        FrameDecoder().feed(_header(kind))


def test_nonzero_flags() -> None:
    with pytest.raises(ProtocolError, match="flags must be 0, got 0x80"):
        FrameDecoder().feed(_header(MessageKind.RESULT, flags=0x80))


def test_oversized_payload_is_refused_from_the_header_alone() -> None:
    decoder = FrameDecoder(max_frame_size=1024)
    with pytest.raises(ProtocolError, match="exceeds the limit of 1024 bytes"):
        decoder.feed(_header(MessageKind.RESULT, size=1025))


def test_an_absurd_size_raises_instead_of_allocating() -> None:
    # With the default limit (4 GiB), 2**63 bytes would be a MemoryError or
    # worse if anything were allocated first.
    with pytest.raises(ProtocolError, match="exceeds the limit"):
        FrameDecoder().feed(_header(MessageKind.RESULT, size=2**63))


def test_oversized_out_of_band_buffer_is_refused_from_its_length() -> None:
    decoder = FrameDecoder(max_frame_size=1024)
    data = _header(MessageKind.RESULT, count=1, size=10) + struct.pack("!Q", 2**40)
    with pytest.raises(ProtocolError, match="exceeds the limit of 1024 bytes"):
        decoder.feed(data)


def test_a_frame_exactly_at_the_limit_passes() -> None:
    decoder = FrameDecoder(max_frame_size=16 + 3)
    (frame,) = decoder.feed(join(encode_frame(MessageKind.RESULT, b"abc")))
    assert bytes(frame.payload) == b"abc"


def test_garbage_bytes() -> None:
    with pytest.raises(ProtocolError, match="unknown message kind 71"):
        FrameDecoder().feed(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")


def _hello_frame(magic: bytes, version: int, pid: int) -> Frame:
    payload = HELLO.pack(magic, version, pid)
    (frame,) = FrameDecoder().feed(join(encode_frame(MessageKind.HELLO, payload)))
    return frame


def test_wrong_hello_magic() -> None:
    with pytest.raises(ProtocolError, match=re.escape("magic b'HTTP/1.1'")):
        check_hello(_hello_frame(b"HTTP/1.1", PROTOCOL_VERSION, 1))


def test_wrong_version_names_both_versions() -> None:
    with pytest.raises(ProtocolError) as raised:
        check_hello(_hello_frame(MAGIC, 7, 4321))
    message = str(raised.value)
    assert "version 1" in message
    assert "version 7" in message


def test_hello_must_come_first() -> None:
    (frame,) = FrameDecoder().feed(STOP_NONE)
    with pytest.raises(ProtocolError, match=r"expected HELLO.*got STOP"):
        check_hello(frame)


def test_hello_of_the_wrong_size() -> None:
    (frame,) = FrameDecoder().feed(join(encode_frame(MessageKind.HELLO, b"TASK")))
    with pytest.raises(ProtocolError, match="HELLO payload has 4 bytes, not 14"):
        check_hello(frame)


def test_too_many_buffers() -> None:
    with pytest.raises(ProtocolError, match="at most 65535 buffers"):
        encode_frame(MessageKind.RESULT, b"", [b""] * 65536)


@pytest.mark.parametrize("size", [10, 1 << 16, (1 << 20) + 5])
@given(data=st.data())
def test_truncated_stream_is_not_at_a_boundary(size: int, data: st.DataObject) -> None:
    frame = join(encode_message(MessageKind.RESULT, b"x" * size))
    cut = data.draw(st.integers(1, len(frame) - 1))
    decoder = FrameDecoder()

    assert decoder.feed(frame[:cut]) == []
    assert not decoder.at_boundary()

    (received,) = decoder.feed(frame[cut:])
    assert received.load() == b"x" * size
    assert decoder.at_boundary()


def test_a_fresh_decoder_is_at_a_boundary() -> None:
    assert FrameDecoder().at_boundary()


@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=5))
def test_arbitrary_bytes_decode_wait_or_raise_protocol_error(
    data: bytes, cuts: list[int]
) -> None:
    decoder = FrameDecoder(max_frame_size=1 << 16)
    try:
        for piece in _chunks(data, cuts):
            for frame in decoder.feed(piece):
                assert isinstance(frame.kind, MessageKind)
    except ProtocolError:
        pass
