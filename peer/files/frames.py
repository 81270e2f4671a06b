"""The binary chunk frame of the files data channel.

One binary message is one chunk of one file::

    0       4       8               16
    +-------+-------+---------------+----------------
    | xfer  | index |    offset     |  data (>= 1 byte)
    +-------+-------+---------------+----------------
     u32     u32     u64, all big-endian (network order)

``xfer`` is the transfer's id, ``index`` the file's position in the transfer's list of files,
``offset`` where ``data`` goes in that file. A whole frame is at most ``MAX_FRAME`` bytes,
65536, the SCTP max-message-size RFC 8841 says to assume when none is advertised and the one
aiortc assumes then; aiortc (1.16) and Chromium advertise 262144, Firefox about 1 GiB, so frames
of 64 KiB pass both ways with any of them. (aiortc keeps the remote's limit private; the peer
can pass ``None`` to ``chunk_size``; the browser has ``pc.sctp.maxMessageSize``.)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import BadFrame as BadFrame

HEADER = 16
MAX_FRAME = 65536
#: The smallest chunk ``chunk_size`` gives, whatever the other side advertises.
MIN_CHUNK = 1024
_HEADER = struct.Struct(">IIQ")
_U32 = 2**32
_U64 = 2**64

FRAME_CODES: dict[str, str] = {
    "short_frame": "a binary frame is shorter than its 16-byte header",
    "empty_chunk": "a binary frame carries no data",
    "frame_too_large": f"a binary frame is larger than {MAX_FRAME} bytes",
}


@dataclass(frozen=True)
class Chunk:
    transfer: int
    index: int
    offset: int
    data: memoryview  # a view into the frame, not a copy

    @property
    def end(self) -> int:
        return self.offset + len(self.data)


def encode(transfer: int, index: int, offset: int, payload: bytes | memoryview) -> bytes:
    """One frame; ``ValueError`` for a field out of range or a payload that does not fit."""
    if not 0 <= transfer < _U32 or not 0 <= index < _U32 or not 0 <= offset < _U64:
        raise ValueError(f"frame fields out of range: {transfer}, {index}, {offset}")
    if not 1 <= len(payload) <= MAX_FRAME - HEADER:
        raise ValueError(f"a payload of {len(payload)} bytes does not fit in a frame")
    return _HEADER.pack(transfer, index, offset) + payload


def decode(frame: bytes | bytearray | memoryview) -> Chunk:
    """The chunk in ``frame``, or ``BadFrame`` (``short_frame``, ``empty_chunk``,
    ``frame_too_large``)."""
    view = memoryview(frame).cast("B")
    if len(view) < HEADER:
        raise BadFrame("short_frame", f"frame of {len(view)} bytes")
    if len(view) == HEADER:
        raise BadFrame("empty_chunk", "frame without data")
    if len(view) > MAX_FRAME:
        raise BadFrame("frame_too_large", f"frame of {len(view)} bytes")
    transfer, index, offset = _HEADER.unpack_from(view)
    return Chunk(transfer, index, offset, view[HEADER:])


def chunk_size(max_message_size: int | None) -> int:
    """How much file data to put in one frame, given the SCTP max-message-size the other side
    advertised (``RTCSctpTransport.maxMessageSize``; ``None`` or ``0``, which means no limit:
    ``MAX_FRAME``). Never below ``MIN_CHUNK``."""
    limit = min(max_message_size or MAX_FRAME, MAX_FRAME)
    return max(limit - HEADER, MIN_CHUNK)
