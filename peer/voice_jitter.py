"""How the operator's voice leaves aiortc's receiver: at once, and never stuck behind a loss.

aiortc 1.16 reassembles audio in a ``JitterBuffer(capacity=16, prefetch=4)``: a packet is
handed to the decoder only once four later ones have arrived (80 ms of delay on every call,
before the speakers' own buffer), and a lost packet holds everything behind it until sixteen
packets (320 ms) are waiting; then one frame leaves per packet that arrives, so those 320 ms
stay for the rest of the call. On a thin link that loses a packet now and then the operator's
voice ends up most of a second late (bench/voice.py, 512 kbit/s) and in pieces.

``VoiceJitter`` replaces it for every audio receiver (``install()``): a packet in order goes to
the decoder as soon as it arrives; a gap is waited for until ``WAIT_PACKETS`` later packets or
``WAIT_MS`` of later audio are there, then given up, and everything held goes on at once (the
decoder takes several frames from one call, ``VoiceFrames``). A packet that comes after its
place was given up is dropped; a jump in sequence numbers starts afresh (a new sender). Jitter
is absorbed once, where the audio is played (``peer.audio.devices.Speaker``'s 40 ms buffer),
which also conceals what is missing.

Written against aiortc ``SUPPORTED``; on another version ``install()`` leaves aiortc as it is and
says so, and ``tests/test_voice_jitter.py`` fails until the patch is checked against the new
code.
"""

from __future__ import annotations

import logging
from typing import Any

from aiortc import rtcrtpreceiver
from aiortc.codecs.opus import OpusDecoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket
from av.frame import Frame

from .aiortc_patch import Patch

logger = logging.getLogger(__name__)

#: The aiortc versions the patch was read against.
SUPPORTED = frozenset({"1.16.0"})
#: A gap is given up once this many later packets are waiting ...
WAIT_PACKETS = 3
#: ... or once the newest of them is this much later than the last audio handed on.
WAIT_MS = 60
#: A sequence number this far from the expected one (either way) is a new stream.
RESTART_JUMP = 200
#: RTP clock of Opus (RFC 7587: always 48 kHz).
CLOCK_RATE = 48_000


class VoiceFrames(JitterFrame):
    """Several Opus packets for the decoder at once: this one, then ``rest`` in order.

    ``raw_timestamp`` is this packet's own RTP timestamp: aiortc rewrites ``timestamp`` to its
    media clock before decoding, and the rest follow it by their distance from this one."""

    def __init__(self, packets: list[RtpPacket]) -> None:
        first = packets[0]
        super().__init__(data=_data(first), timestamp=first.timestamp)
        self.raw_timestamp = first.timestamp
        self.rest = [JitterFrame(data=_data(p), timestamp=p.timestamp) for p in packets[1:]]


def _data(packet: RtpPacket) -> bytes:
    data: bytes = getattr(packet, "_data", packet.payload)  # aiortc's depayloaded bytes
    return data


class VoiceJitter:
    """Orders one audio stream's packets for the decoder (the interface of aiortc's
    ``JitterBuffer``: ``add(packet) -> (pli_flag, frame or None)``; ``pli_flag`` is always
    False, audio has no pictures to ask for)."""

    def __init__(
        self, wait_packets: int = WAIT_PACKETS, wait_ms: int = WAIT_MS, rate: int = CLOCK_RATE
    ) -> None:
        self._wait_packets = wait_packets
        self._wait_ticks = wait_ms * rate // 1000
        self._next: int | None = None  # the sequence number the decoder needs next
        self._last_ts: int | None = None  # RTP timestamp of the last packet handed on
        self._held: dict[int, RtpPacket] = {}
        self.lost = 0  # packets given up
        self.late = 0  # packets that came after their place was given up, or twice
        self.restarts = 0

    @property
    def held(self) -> int:
        return len(self._held)

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        seq = packet.sequence_number
        if self._next is None:
            self._next = seq
        ahead = (seq - self._next) & 0xFFFF
        if ahead >= 0x8000 and 0x10000 - ahead <= RESTART_JUMP:
            self.late += 1
            return False, None
        if ahead >= RESTART_JUMP:
            self.restarts += 1
            self.lost += len(self._held)
            self._held.clear()
            self._next, self._last_ts = seq, None
        if seq in self._held:
            self.late += 1
            return False, None
        self._held[seq] = packet
        out = self._release()
        if not out:
            return False, None
        if len(out) == 1:
            return False, JitterFrame(data=_data(out[0]), timestamp=out[0].timestamp)
        return False, VoiceFrames(out)

    def _release(self) -> list[RtpPacket]:
        out: list[RtpPacket] = []
        assert self._next is not None
        while True:
            while self._next in self._held:
                packet = self._held.pop(self._next)
                out.append(packet)
                self._last_ts = packet.timestamp
                self._next = (self._next + 1) & 0xFFFF
            if not self._held or not self._gave_up():
                return out
            first = min(self._held, key=lambda s: (s - self._next) & 0xFFFF)  # type: ignore[operator]
            self.lost += (first - self._next) & 0xFFFF
            self._next = first

    def _gave_up(self) -> bool:
        """Has the gap at ``_next`` been waited for long enough?"""
        if len(self._held) >= self._wait_packets:
            return True
        if self._last_ts is None:
            return True  # nothing handed on yet: no point waiting for the very first packets
        newest = max(((p.timestamp - self._last_ts) & 0xFFFFFFFF) for p in self._held.values())
        return newest < 0x80000000 and newest >= self._wait_ticks


class VoiceDecoder(OpusDecoder):
    """aiortc's Opus decoder, taking every packet of a ``VoiceFrames``."""

    def decode(self, encoded_frame: JitterFrame) -> list[Frame]:
        frames = super().decode(encoded_frame)
        if isinstance(encoded_frame, VoiceFrames):
            base = encoded_frame.timestamp  # on aiortc's media clock by now
            for part in encoded_frame.rest:
                part.timestamp = base + (
                    (part.timestamp - encoded_frame.raw_timestamp) & 0xFFFFFFFF
                )
                frames += super().decode(part)
        return frames


PATCH = Patch("voice", SUPPORTED, "left as it is (80 ms more delay, stalls after a loss)")


def installed() -> bool:
    return PATCH.installed


def _get_decoder(codec: Any) -> Any:
    if codec.mimeType.lower() == "audio/opus":
        return VoiceDecoder()
    return PATCH.original("get_decoder")(codec)


def _receiver_init(self: Any, kind: str, transport: Any) -> None:
    PATCH.original("__init__")(self, kind, transport)
    if kind == "audio":
        self._RTCRtpReceiver__jitter_buffer = VoiceJitter()


def install() -> bool:
    """Patch aiortc (once); ``False`` if its version was not checked against the patch."""
    return PATCH.apply(
        [
            (rtcrtpreceiver.RTCRtpReceiver, "__init__", _receiver_init),
            (rtcrtpreceiver, "get_decoder", _get_decoder),
        ]
    )


def uninstall() -> None:
    """Put aiortc back as it was (tests)."""
    PATCH.undo()
