"""The customer's screen is shown the moment it arrives: the RTP playout-delay header extension.

A browser holds every received video frame in a jitter buffer before showing it (Chromium ~16
ms on a clean loopback link, more as soon as frames arrive unevenly), to keep motion smooth. For
a remote desktop the newest picture matters, not smoothness. Chromium honours the playout-delay
extension (``URI``; one-byte element, 3 bytes: a 12-bit minimum and a 12-bit maximum in 10 ms
units): with both 0 its renderer shows each frame as soon as it is decoded. aiortc does not
know the extension (aiortc PR #668, open since 2022).

``install()`` offers it on every video m-line (the browser keeps it in its answer when it
supports it, and only then is it sent) and gives every video sender a ``PlayoutDelayMap``: aiortc's
header-extension map that also writes ``DELAY`` on each packet it serialises (retransmissions
too). A jitter buffer floor set in the page (``jitterBufferTarget``) cannot lower the delay, only
raise it; this is the only way to take it down from the sender's side.

Written against aiortc ``SUPPORTED``; on another version ``install()`` leaves aiortc as it is and
says so, and ``tests/test_playout_delay.py`` fails until the patch is checked against the new
code (``aiortc/rtp.py``'s ``HeaderExtensionsMap``, ``aiortc/codecs``' ``HEADER_EXTENSIONS``,
``RTCRtpSender.__init__``).
"""

from __future__ import annotations

from typing import Any

from aiortc import codecs, rtcrtpsender, rtp
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters

from .aiortc_patch import Patch

#: The aiortc versions the patch was read against.
SUPPORTED = frozenset({"1.16.0"})
URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
#: The extension's id in our offers (aiortc's video m-lines use 1 and 3).
EXTENSION_ID = 6
#: (minimum, maximum) playout delay asked of the browser, in ms: show at once.
DELAY = (0, 0)
#: RFC 8285's header extension profiles: one-byte and two-byte elements.
ONE_BYTE, TWO_BYTE = 0xBEDE, 0x1000
#: Largest delay the 12-bit fields hold (10 ms units).
MAX_MS = 4095 * 10


def encode(min_ms: int, max_ms: int) -> bytes:
    """The extension's 3 bytes: min and max in 10 ms units, 12 bits each, min first."""
    if not 0 <= min_ms <= max_ms <= MAX_MS:
        raise ValueError(f"playout delay {min_ms}..{max_ms} ms is not 0 <= min <= max <= {MAX_MS}")
    value = (min_ms // 10) << 12 | (max_ms // 10)
    return value.to_bytes(3, "big")


def decode(data: bytes) -> tuple[int, int]:
    """(min, max) in ms from the extension's 3 bytes."""
    if len(data) != 3:
        raise ValueError(f"a playout delay is 3 bytes, not {len(data)}")
    value = int.from_bytes(data, "big")
    return (value >> 12) * 10, (value & 0xFFF) * 10


class PlayoutDelayMap(rtp.HeaderExtensionsMap):
    """aiortc's map of a sender's header extensions, which also writes the playout delay on
    every packet once the answer kept the extension."""

    def __init__(self, delay: tuple[int, int] = DELAY) -> None:
        super().__init__()
        self.delay = encode(*delay)
        self.id: int | None = None

    def configure(self, parameters: RTCRtpParameters) -> None:
        super().configure(parameters)
        self.id = next((e.id for e in parameters.headerExtensions if e.uri == URI), None)

    def set(self, values: rtp.HeaderExtensions) -> tuple[int, bytes]:
        profile, data = super().set(values)
        if self.id is None:
            return profile, data
        # appended after aiortc's elements (RFC 8285 lets padding stand between elements),
        # then padded again to 32 bits: no second packing on every packet sent
        if profile == TWO_BYTE:
            data += bytes((self.id, len(self.delay))) + self.delay
        else:
            profile = ONE_BYTE
            data += bytes(((self.id << 4) | (len(self.delay) - 1),)) + self.delay
        return profile, data + b"\x00" * (-len(data) % 4)


PATCH = Patch("playout delay", SUPPORTED, "the browser keeps its jitter buffer delay")
_OFFERED = RTCRtpHeaderExtensionParameters(id=EXTENSION_ID, uri=URI)


def installed() -> bool:
    return PATCH.installed


def _sender_init(self: Any, trackOrKind: Any, transport: Any) -> None:
    PATCH.original("__init__")(self, trackOrKind, transport)
    if self.kind == "video":
        self._RTCRtpSender__rtp_header_extensions_map = PlayoutDelayMap()


def install() -> bool:
    """Patch aiortc (once); ``False`` if its version was not checked against the patch."""
    if not PATCH.apply([(rtcrtpsender.RTCRtpSender, "__init__", _sender_init)]):
        return False
    video = codecs.HEADER_EXTENSIONS["video"]
    if all(e.uri != URI for e in video):
        video.append(_OFFERED)
    return True


def uninstall() -> None:
    """Put aiortc back as it was (tests)."""
    PATCH.undo()
    video = codecs.HEADER_EXTENSIONS["video"]
    if _OFFERED in video:
        video.remove(_OFFERED)
