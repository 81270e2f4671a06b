"""peer.files.frames: the binary chunk frame, against golden bytes the browser checks too."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peer.files.frames import (
    FRAME_CODES,
    HEADER,
    MAX_FRAME,
    MIN_CHUNK,
    BadFrame,
    chunk_size,
    decode,
    encode,
)


def test_golden_frames() -> None:
    # transfer 00000001, index 00000002, offset 0000000000000003, data 616263
    assert encode(1, 2, 3, b"abc").hex() == "00000001000000020000000000000003616263"
    # transfer ffffffff, index 00000000, offset 0000010000000000, data 00: 17 bytes
    assert encode(4294967295, 0, 2**40, b"\x00").hex() == "ffffffff00000000000001000000000000"
    # the browser's tests (tests/js/files-frames.test.mjs) check the same vectors
    assert encode(0, 4294967295, 2**53, b"\xff").hex() == "00000000ffffffff0020000000000000ff"
    chunk = decode(bytes.fromhex("ffffffff00000000000001000000000000"))
    assert (chunk.transfer, chunk.index, chunk.offset, bytes(chunk.data)) == (
        4294967295,
        0,
        2**40,
        b"\x00",
    )
    assert chunk.end == 2**40 + 1


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**64 - 1),
    st.binary(min_size=1, max_size=300),
)
def test_round_trip(transfer: int, index: int, offset: int, payload: bytes) -> None:
    frame = encode(transfer, index, offset, payload)
    assert len(frame) == HEADER + len(payload)
    chunk = decode(frame)
    assert (chunk.transfer, chunk.index, chunk.offset) == (transfer, index, offset)
    assert chunk.data == payload


def test_decode_takes_a_view_not_a_copy() -> None:
    frame = bytearray(encode(7, 8, 9, b"x" * 100))
    chunk = decode(frame)
    frame[HEADER] = ord("y")
    assert bytes(chunk.data[:1]) == b"y"
    assert decode(memoryview(frame)).data.nbytes == 100


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"", "short_frame"),
        (b"\x00" * (HEADER - 1), "short_frame"),
        (b"\x00" * HEADER, "empty_chunk"),
        (b"\x00" * (MAX_FRAME + 1), "frame_too_large"),
    ],
)
def test_bad_frames(frame: bytes, code: str) -> None:
    with pytest.raises(BadFrame) as info:
        decode(frame)
    assert info.value.code == code and code in FRAME_CODES
    assert isinstance(info.value, ValueError)


def test_the_largest_frame() -> None:
    frame = encode(0, 0, 0, b"z" * (MAX_FRAME - HEADER))
    assert len(frame) == MAX_FRAME
    assert decode(frame).data.nbytes == MAX_FRAME - HEADER


@pytest.mark.parametrize(
    "args",
    [
        (-1, 0, 0, b"x"),
        (2**32, 0, 0, b"x"),
        (0, 2**32, 0, b"x"),
        (0, 0, 2**64, b"x"),
        (0, 0, -1, b"x"),
        (0, 0, 0, b""),
        (0, 0, 0, b"x" * (MAX_FRAME - HEADER + 1)),
    ],
)
def test_encode_refuses_what_does_not_fit(args: tuple[int, int, int, bytes]) -> None:
    with pytest.raises(ValueError):
        encode(*args)


@pytest.mark.parametrize(
    ("max_message_size", "chunk"),
    [
        (None, MAX_FRAME - HEADER),  # not known yet
        (0, MAX_FRAME - HEADER),  # SDP max-message-size 0: no limit
        (65536, 65520),  # RFC 8841 default, what aiortc assumes without one
        (262144, 65520),  # Chromium, aiortc
        (1073741823, 65520),  # Firefox
        (16384, 16368),
        (1040, MIN_CHUNK),
        (100, MIN_CHUNK),
    ],
)
def test_chunk_size(max_message_size: int | None, chunk: int) -> None:
    assert chunk_size(max_message_size) == chunk
