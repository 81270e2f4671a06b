"""How the operator's screen or camera leaves aiortc's receiver: each frame as soon as its last
packet is in, not when the next frame begins, decoded by FFmpeg's own VP8 decoder.

aiortc 1.16 reassembles video in a ``JitterBuffer(capacity=512, is_video=True)`` that knows a
frame is complete only when a packet of the *next* frame arrives (a new RTP timestamp). Every
frame therefore waits for the next one: a frame interval of delay at 30 fps (33 ms), more on a
screen that changes slowly, and the last change of a screen that then stands still is never
shown at all, since no next frame comes (a browser's screen capture sends frames only when
something changes). ``bench/show.py`` measured 33-52 ms of that wait in the customer's window.

``FrameJitter`` also ends a frame at its last packet: the RTP marker bit, which the browser sets
on the last packet of every VP8 and H.264 frame (RFC 7741, RFC 6184). With the packets from the
frame's first to the marked one all there, the frame goes to the decoder at once. A frame
whose marked packet is lost ends as before, when the next frame begins; everything else (how
gaps, reordering and overflows are handled, when a picture is asked for again) is aiortc's.

``FastVp8Decoder`` decodes VP8 with FFmpeg's native decoder instead of libvpx (aiortc's
choice): the same pictures for about 30 % less CPU (a 1080p document with a moving box, 3.9
instead of 5.5 ms a frame here), which is most of what the customer's computer spends on the
operator's screen.

Written against aiortc ``SUPPORTED``; on another version ``install()`` leaves aiortc as it is and
says so, and ``tests/test_video_jitter.py`` fails until the patch is checked against the new code.
"""

from __future__ import annotations

from typing import Any

from aiortc import rtcrtpreceiver
from aiortc.codecs.vpx import Vp8Decoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from av.codec import CodecContext

from .aiortc_patch import Patch

#: The aiortc versions the patch was read against.
SUPPORTED = frozenset({"1.16.0"})
#: aiortc's own capacity for a video receiver (packets).
CAPACITY = 512


class FrameJitter(JitterBuffer):
    """aiortc's video jitter buffer, which also hands a frame on at its marked last packet."""

    def __init__(self) -> None:
        super().__init__(capacity=CAPACITY, is_video=True)

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        origin = self._origin
        if origin is None:
            return None
        packets: list[RtpPacket] = []
        for count in range(self.capacity):
            packet = self._packets[(origin + count) % self.capacity]
            if packet is None:
                return None  # a gap: wait for it (or for aiortc's overflow handling)
            if packets and packet.timestamp != packets[0].timestamp:
                # the frame before ended without its marked packet: it ends here, as in aiortc
                return self._take(packets, count)
            packets.append(packet)
            if packet.marker:
                return self._take(packets, count + 1)
        return None

    def _take(self, packets: list[RtpPacket], count: int) -> JitterFrame:
        frame = JitterFrame(
            data=b"".join(p._data for p in packets),  # type: ignore[attr-defined]
            timestamp=packets[0].timestamp,
        )
        self.remove(count)
        return frame


class FastVp8Decoder(Vp8Decoder):
    """aiortc's VP8 decoder on FFmpeg's ``vp8`` instead of ``libvpx``."""

    def __init__(self) -> None:
        self.codec = CodecContext.create("vp8", "r")


PATCH = Patch("video jitter", SUPPORTED, "left as it is (a frame waits for the next one)")


def installed() -> bool:
    return PATCH.installed


def _jitter_buffer(capacity: int, prefetch: int = 0, is_video: bool = False) -> JitterBuffer:
    """What aiortc's receiver makes its jitter buffer with: ours for video."""
    if is_video:
        return FrameJitter()
    made: JitterBuffer = PATCH.original("JitterBuffer")(capacity, prefetch, is_video)
    return made


def _get_decoder(codec: Any) -> Any:
    if codec.mimeType.lower() == "video/vp8":
        return FastVp8Decoder()
    return PATCH.original("get_decoder")(codec)


def install() -> bool:
    """Patch aiortc (once); ``False`` if its version was not checked against the patch."""
    return PATCH.apply(
        [
            (rtcrtpreceiver, "JitterBuffer", _jitter_buffer),
            (rtcrtpreceiver, "get_decoder", _get_decoder),
        ]
    )


def uninstall() -> None:
    """Put aiortc back as it was (tests)."""
    PATCH.undo()
