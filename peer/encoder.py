"""Video encoders tuned for screen content (text must stay sharp), plugged into aiortc.

Why this module exists: aiortc's encoders are tuned for camera video.

* VP8 starts at 500 kbit/s and clamps every REMB update to 250 kbit/s .. 1.5 Mbit/s
  (module constants in ``aiortc.codecs.vpx``); screen text at 1080p needs more than that to
  stay readable after a change, and idle screens need almost nothing.
* H.264 runs libx264 with no preset, i.e. ``medium``: at 1080p that costs far more than one
  frame interval per frame on a small machine. ``veryfast`` keeps encode time per frame well
  under the 33 ms budget of 30 fps with nearly the same quality per bit (see
  ``bench/encode.py`` for the figures).

How it plugs in: ``RTCRtpSender`` creates its encoder with ``aiortc.rtcrtpsender.get_encoder``
once the codec is negotiated. ``install()`` puts a factory there that returns the encoders
below for VP8 and H.264 and delegates everything else (audio) to aiortc. The subclasses open
the codec context themselves (with the options chosen here) before aiortc's ``encode`` would,
and keep aiortc's packetization, keyframe forcing (PLI/FIR) and the "recreate when the REMB
bitrate moves by more than 10 %" rule. The bitrate range is the peer's setting instead of the
module constants, so nothing in aiortc's modules is rewritten.

The tuning is per process: one peer process serves one session.
"""

from __future__ import annotations

import fractions
import logging
import multiprocessing
import time
from collections.abc import Iterator
from typing import Any

import aiortc.rtcrtpsender
import av
from aiortc.codecs import get_encoder as aiortc_get_encoder
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder, number_of_threads
from aiortc.mediastreams import convert_timebase
from av.frame import Frame

from .rate_control import CodecClock, LinkReport, RateController
from .tuning import CODECS as CODECS
from .tuning import X264_PRESETS as X264_PRESETS
from .tuning import EncoderTuning as EncoderTuning
from .video_pacer import INITIAL_PACE_BPS, KeyframeGate

logger = logging.getLogger(__name__)

#: VP8's best quantizer (of 0..63). Text is crisp well above 2 (aiortc's), and a wide link's
#: budget then buys frame rate instead of re-coding a still page ever more finely: at 8 Mbit/s
#: with 2, typing cost 2.4 Mbit/s and twice the encode time per frame.
QMIN = 10
#: 30 fps, as aiortc assumes for RTP timing.
_FRAME_RATE = 30


def follow_bitrate(applied: int, requested: int, since_change: float) -> int:
    """The bitrate to run at, given the one the codec runs at, the receiver's latest estimate
    and the seconds since the codec last changed rate.

    Every change of rate reopens the codec, and a reopened codec starts with a keyframe: a
    whole screen at once, which makes the receiver's jitter buffer swell and its estimate
    fall, which reopens the codec again. So the rate follows the estimate only on large
    moves and not too often: a fall of 30 % or more after 2 s (congestion must be respected),
    a rise of 50 % or more after 5 s, by at most twice (a new session ramps up in a few steps).
    """
    if requested <= applied * 0.7 and since_change >= 2.0:
        return requested
    if requested >= applied * 1.5 and since_change >= 5.0:
        return min(requested, applied * 2)
    return applied


#: While voice is on, the screen leaves it room: bit/s always kept free, and the share of a thin
#: link's estimate (at most ``THIN_LINK`` bit/s) kept free on top, so that the link's queue
#: stays short and voice (tens of kbit/s, in small packets that cannot wait) is not what
#: gets delayed or dropped when a screen change fills it.
VOICE_ROOM = 64_000
THIN_LINK = 1_000_000
THIN_SHARE = 0.3
_voice_on = False


def voice_on(on: bool) -> None:
    """Voice started or ended in this process's session (``peer.features.voice``)."""
    global _voice_on
    _voice_on = on


def screen_share(estimate: int, voice: bool) -> int:
    """The bit/s the screen may use of the receiver's ``estimate`` (REMB)."""
    if not voice:
        return estimate
    room = max(VOICE_ROOM, int(estimate * THIN_SHARE)) if estimate <= THIN_LINK else VOICE_ROOM
    return max(estimate - room, estimate // 4)


class RateFollower:
    """Holds the rate a screen encoder runs at, moved by ``follow_bitrate``."""

    def __init__(self, tuning: EncoderTuning) -> None:
        self.tuning = tuning
        self.applied = tuning.start_bitrate
        self.changed_at: float | None = None

    def request(self, bitrate: int, now: float) -> None:
        since = float("inf") if self.changed_at is None else now - self.changed_at
        new = follow_bitrate(self.applied, self.tuning.clamp(bitrate), since)
        if new != self.applied:
            logger.debug("screen encoder rate %d -> %d bit/s", self.applied, new)
            self.applied = new
            self.changed_at = now


#: The codec clock stretches or shrinks frame intervals by up to this factor, so that the
#: codec's rate stands for any rate this many times above or below it without a reopen.
CLOCK_SCALE = 4.0
_VIDEO_TIME_BASE = fractions.Fraction(1, 90000)


class _FollowsRate:
    """What both screen encoders share: the tuning; the process's ``RateController`` (the
    receiver's estimate arrives here, the console's reports through ``link_report``); a codec
    rate moved by ``RateFollower`` instead of aiortc's reopen-on-every-10 % rule; a
    ``CodecClock`` that gives each frame the controller's share; and what ``peer.video_pacer``
    reads: the rate to pace packets at, and whether a keyframe request makes a keyframe."""

    def __init__(self, tuning: EncoderTuning) -> None:
        super().__init__()
        self.tuning = tuning
        self.rate = RateFollower(tuning)
        self.control = controller()
        self.clock = CodecClock()
        self.share: int | None = None  # of the receiver's latest estimate, for the screen
        self.keyframes = KeyframeGate()

    @property
    def target_bitrate(self) -> int:
        """The bitrate the codec runs at (what aiortc compares to decide on reopening)."""
        return self.rate.applied

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        """The receiver's estimate (REMB) arrives here (less what voice needs, if on)."""
        now = time.monotonic()
        self.share = screen_share(bitrate, _voice_on)
        self.control.on_estimate(self.share, now)
        self._follow(now)

    def _follow(self, now: float) -> None:
        """Reopen the codec at the controller's rate only when the codec clock cannot make up
        the difference (every reopen starts with a keyframe: a whole screen at once)."""
        target = self.control.target().bitrate
        applied = self.rate.applied
        if not applied / CLOCK_SCALE <= target <= applied * CLOCK_SCALE:
            self.rate.request(target, now)

    @property
    def pace_bps(self) -> float:
        """The screen's packets leave at most this fast (``peer.video_pacer``)."""
        pace = self.control.pace_bps(time.monotonic())
        if pace is None:  # no estimate from the receiver yet
            return float(INITIAL_PACE_BPS)
        return max(float(self.rate.tuning.min_bitrate), pace)

    @property
    def link_calm(self) -> bool:
        """Whether the link is wide and shows no queue (the pacer may empty its own faster)."""
        return self.control.calm(time.monotonic())

    def round_trip(self, rtt_s: float) -> None:
        """The screen stream's round trip from RTCP (``peer.video_pacer`` passes it on)."""
        self.control.on_rtt(rtt_s, time.monotonic())

    def _encode_on_codec_clock(
        self, frame: av.VideoFrame, keyframe: bool, fresh: bool
    ) -> tuple[list[bytes], int]:
        """aiortc's encode (the next class in the MRO) with the codec clock's pts; the RTP
        timestamp stays the frame's own."""
        timestamp, pts, time_base = self._codec_frame(frame)
        try:
            payloads: list[bytes] = super().encode(frame, keyframe)[0]  # type: ignore[misc]
        finally:
            frame.pts, frame.time_base = pts, time_base
        self._encoded(payloads, keyframe or fresh)
        return payloads, timestamp

    def _codec_frame(self, frame: av.VideoFrame) -> tuple[int, Any, Any]:
        """Give ``frame`` the codec clock's pts; returns its RTP timestamp and its own pts and
        time base (to put back)."""
        pts, time_base = frame.pts, frame.time_base
        if pts is None or time_base is None:
            return 0, pts, time_base
        self.control.set_pixels(frame.width * frame.height)
        self._follow(time.monotonic())
        target = self.control.target()
        # the codec runs at rate.applied; each frame should get target.bitrate / fps of it
        scale = target.bitrate / max(self.rate.applied, 1)
        scale = min(max(scale, 1 / CLOCK_SCALE), CLOCK_SCALE)
        frame.pts = self.clock.tick(float(pts * time_base), 1.0 / target.fps, scale)
        frame.time_base = _VIDEO_TIME_BASE
        return convert_timebase(pts, time_base, _VIDEO_TIME_BASE), pts, time_base

    def _keyframe_wanted(self, force_keyframe: bool) -> bool:
        """A request while the last keyframe is still on its way is answered by that one."""
        return force_keyframe and self.keyframes.allow(time.monotonic())

    def _encoded(self, payloads: list[bytes], keyframe: bool) -> None:
        if keyframe:
            self.keyframes.sent(sum(len(p) for p in payloads), self.pace_bps, time.monotonic())


class ScreenVp8Encoder(_FollowsRate, Vp8Encoder):
    """aiortc's VP8 encoder with a bitrate range for screens and libvpx's screen-content mode."""

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        assert isinstance(frame, av.VideoFrame)
        fresh = _needs_codec(self.codec, frame, self.target_bitrate)
        if fresh:
            self.codec = self._open(frame)
        keyframe = self._keyframe_wanted(force_keyframe)
        return self._encode_on_codec_clock(frame, keyframe, fresh)

    def _open(self, frame: av.VideoFrame) -> Any:
        bitrate = self.target_bitrate
        codec = av.CodecContext.create("libvpx", "w")
        codec.width = frame.width
        codec.height = frame.height
        codec.bit_rate = bitrate
        codec.pix_fmt = "yuv420p"
        codec.gop_size = 3000  # keyframes only on request (PLI/FIR)
        codec.qmin = QMIN
        codec.qmax = 56
        codec.options = {
            "bufsize": str(bitrate),  # a one-second rate-control buffer
            "cpu-used": "-6",
            "deadline": "realtime",
            "lag-in-frames": "0",
            # maxrate without minrate: VBR within the rate. CBR (minrate = maxrate) spends the
            # whole budget on every frame: 17 kB per typed character at 4.8 Mbit/s.
            "maxrate": str(bitrate),
            "noise-sensitivity": "0",  # screens have no sensor noise to smooth away
            "overshoot-pct": "15",
            "partitions": "0",
            "screen-content-mode": "1",
            "static-thresh": "2000",  # skip blocks that barely changed: a still screen costs ~0
            "undershoot-pct": "100",
        }
        codec.thread_count = number_of_threads(
            frame.width * frame.height, multiprocessing.cpu_count()
        )
        logger.debug("vp8 encoder %dx%d at %d bit/s", frame.width, frame.height, bitrate)
        return codec


class ScreenH264Encoder(_FollowsRate, H264Encoder):
    """aiortc's H.264 encoder with a fast x264 preset and a bitrate range for screens."""

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        assert isinstance(frame, av.VideoFrame)
        fresh = _needs_codec(self.codec, frame, self.target_bitrate)
        keyframe = self._keyframe_wanted(force_keyframe)
        return self._encode_on_codec_clock(frame, keyframe, fresh)

    def _encode_frame(self, frame: av.VideoFrame, force_keyframe: bool) -> Iterator[bytes]:
        if _needs_codec(self.codec, frame, self.target_bitrate):
            self.buffer_data = b""
            self.buffer_pts = None
            self.codec = self._open(frame)
        chunks: Iterator[bytes] = super()._encode_frame(frame, force_keyframe)
        return chunks

    def _open(self, frame: av.VideoFrame) -> Any:
        bitrate = self.target_bitrate
        codec = av.CodecContext.create("libx264", "w")
        codec.width = frame.width
        codec.height = frame.height
        codec.bit_rate = bitrate
        codec.pix_fmt = "yuv420p"
        codec.framerate = fractions.Fraction(_FRAME_RATE, 1)
        codec.time_base = _VIDEO_TIME_BASE  # the codec clock's (x264 shares out by timestamps)
        codec.options = {
            "preset": self.tuning.x264_preset,
            "tune": "zerolatency",
            "level": "31",  # what aiortc's SDP announces (profile-level-id 42e01f)
            "maxrate": str(bitrate),
            "bufsize": str(bitrate),
        }
        codec.profile = "Baseline"
        logger.debug(
            "h264 encoder %dx%d at %d bit/s, preset %s",
            frame.width,
            frame.height,
            bitrate,
            self.tuning.x264_preset,
        )
        return codec


def _needs_codec(codec: Any, frame: av.VideoFrame, bitrate: int) -> bool:
    """The same rule aiortc applies: (re)open on a new size or a bitrate change over 10 %."""
    if codec is None:
        return True
    return bool(
        frame.width != codec.width
        or frame.height != codec.height
        or abs(bitrate - codec.bit_rate) / codec.bit_rate > 0.1
    )


def make_encoder(codec: str, tuning: EncoderTuning) -> ScreenVp8Encoder | ScreenH264Encoder:
    """A screen encoder for ``codec`` (``"vp8"`` or ``"h264"``)."""
    if codec == "vp8":
        return ScreenVp8Encoder(tuning)
    if codec == "h264":
        return ScreenH264Encoder(tuning)
    raise ValueError(f"codec {codec!r} is not one of {', '.join(CODECS)}")


_installed: EncoderTuning | None = None
_control: RateController | None = None


def controller() -> RateController:
    """The process's screen rate controller (one peer process serves one session)."""
    global _control
    if _control is None:
        tuning = _installed or EncoderTuning()
        _control = RateController(tuning.min_bitrate, tuning.start_bitrate, tuning.max_bitrate)
    return _control


def link_report(report: LinkReport) -> None:
    """What the operator's console measured (``view_report``) steers the screen's rate."""
    control = controller()
    control.on_report(report, time.monotonic())
    target = control.target()
    logger.debug(
        "console: queue %.0f ms, loss %.3f, %.0f kbit/s, %.1f fps -> screen %d bit/s at %.0f fps",
        report.queue_ms,
        report.loss,
        report.kbps,
        report.fps,
        target.bitrate,
        target.fps,
    )


def install(tuning: EncoderTuning) -> None:
    """Make every aiortc video sender in this process use the screen encoders with ``tuning``."""
    global _installed, _control
    _installed = tuning
    _control = None
    if aiortc.rtcrtpsender.get_encoder is not _get_encoder:  # type: ignore[attr-defined]
        aiortc.rtcrtpsender.get_encoder = _get_encoder  # type: ignore[attr-defined]
        logger.debug("screen encoders installed")


def uninstall() -> None:
    """Give aiortc its own encoders back (for tests)."""
    global _installed, _control
    _installed = None
    _control = None
    aiortc.rtcrtpsender.get_encoder = aiortc_get_encoder  # type: ignore[attr-defined]


def _get_encoder(codec: Any) -> Any:
    mime = str(codec.mimeType).lower()
    if _installed is not None and mime == "video/vp8":
        return ScreenVp8Encoder(_installed)
    if _installed is not None and mime == "video/h264":
        return ScreenH264Encoder(_installed)
    return aiortc_get_encoder(codec)
