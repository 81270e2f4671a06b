"""aiortc's Opus, fit for a voice call on a thin link.

aiortc 1.16 encodes Opus as music: stereo at 96 kbit/s, no forward error correction, no
discontinuous transmission, and its offer asks the far side for none of them either. A support
call is one voice on a headset, often on a link that a screen picture and a file already fill.
``install()`` changes, for every Opus sender and every offer made after it:

* **Our encoder** (``VoiceOpusEncoder``): mono at ``BITRATE`` (24 kbit/s: wideband speech is
  clear well below that), ``application=voip``, in-band FEC (``fec``) tuned for
  ``EXPECTED_LOSS`` per cent of packets lost, and discontinuous transmission: after
  ``DTX_AFTER`` frames of silence (below ``SILENCE_DBFS``) only every ``DTX_EVERY``-th packet
  goes (one per 400 ms, as libopus's own DTX does; the far side conceals the gaps as
  silence). The libopus of PyAV's FFmpeg has no ``dtx`` option, so the packets are held back
  here; the encoder still sees every frame, so speech resumes cleanly.
* **What we ask of the browser** (the offer's ``a=fmtp`` for Opus): ``useinbandfec=1`` (we
  can use FEC: Chromium then puts it in its packets), ``usedtx=1`` (send little during
  silence), ``stereo=0`` / ``sprop-stereo=0`` (one voice), ``maxaveragebitrate`` = ``BITRATE``
  and ``minptime=10``. Chromium's NetEq conceals lost packets on the operator's side; the
  customer's side conceals at playout (``peer.audio.devices.Speaker``).

The RTP payload stays Opus at 48 kHz, two channels in the SDP (RFC 7587 requires it): a peer on
an unpatched aiortc or a browser decodes it as before. Written against aiortc ``SUPPORTED``;
on another version ``install()`` leaves aiortc as it is and says so, and
``tests/test_opus_tuning.py`` fails until the patch is checked against the new code.
"""

from __future__ import annotations

import logging
from typing import Any

from aiortc import codecs, rtcrtpsender
from aiortc.codecs.opus import SAMPLE_RATE, SAMPLES_PER_FRAME, OpusEncoder
from av import AudioFrame, AudioResampler
from av.frame import Frame

from .aiortc_patch import Patch
from .audio.levels import dbfs

logger = logging.getLogger(__name__)

#: The aiortc versions the patch was read against.
SUPPORTED = frozenset({"1.16.0"})
#: Bits per second of our voice.
BITRATE = 24_000
#: Per cent of packets the encoder expects to lose (how much FEC it adds).
EXPECTED_LOSS = 10
#: The offer's Opus format parameters.
FMTP: dict[str, str | int | None] = {
    "minptime": 10,
    "useinbandfec": 1,
    "usedtx": 1,
    "stereo": 0,
    "sprop-stereo": 0,
    "maxaveragebitrate": BITRATE,
}

#: Frames below this level (dBFS) are silence.
SILENCE_DBFS = -60.0
#: Silent frames (20 ms each) before packets are held back.
DTX_AFTER = 10
#: During silence, one packet in this many goes.
DTX_EVERY = 20

PATCH = Patch("voice", SUPPORTED, "Opus left as it is (stereo 96 kbit/s, no FEC, no DTX)")


class VoiceOpusEncoder(OpusEncoder):
    """aiortc's Opus encoder set up for one voice: mono, FEC, DTX, ``BITRATE``."""

    def __init__(self) -> None:
        super().__init__()
        codec = self.codec
        codec.bit_rate = BITRATE
        codec.layout = "mono"
        codec.options = {
            "application": "voip",
            "fec": "1",
            "packet_loss": str(EXPECTED_LOSS),
            "dtx": "1",
        }
        self.resampler = AudioResampler(
            format="s16", layout="mono", rate=SAMPLE_RATE, frame_size=SAMPLES_PER_FRAME
        )
        self.silent_frames = 0
        #: Packets held back during silence.
        self.held = 0

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        packets, timestamp = super().encode(frame, force_keyframe)
        if _dbfs(frame) < SILENCE_DBFS:
            self.silent_frames += 1
        else:
            self.silent_frames = 0
        quiet = self.silent_frames - DTX_AFTER
        if packets and quiet > 0 and quiet % DTX_EVERY != 0:
            self.held += len(packets)
            return [], timestamp
        return packets, timestamp


def _dbfs(frame: Frame) -> float:
    """RMS level of a packed s16 audio frame in dBFS (-100 for digital silence)."""
    assert isinstance(frame, AudioFrame)
    size = frame.samples * len(frame.layout.channels) * 2  # the plane may be padded
    return dbfs(bytes(frame.planes[0])[:size])


def _get_encoder(codec: Any) -> Any:
    if codec.mimeType.lower() == "audio/opus":
        return VoiceOpusEncoder()
    return PATCH.original("get_encoder")(codec)


def installed() -> bool:
    return PATCH.installed


def install() -> bool:
    """Patch aiortc (once); ``False`` if its version was not checked against the patch."""
    opus = next(c for c in codecs.CODECS["audio"] if c.mimeType.lower() == "audio/opus")
    return PATCH.apply(
        [
            (opus, "parameters", {**opus.parameters, **FMTP}),
            (rtcrtpsender, "get_encoder", _get_encoder),
        ]
    )


def uninstall() -> None:
    """Put aiortc back as it was (tests)."""
    PATCH.undo()
