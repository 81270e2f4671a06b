"""How fast the screen may be sent and how big each of its frames may be: the peer's own rate
control, sans-IO (the encoder and the view feature feed it; nothing here reads a clock).

Why: aiortc's only feedback is the receiver's estimate (REMB), which follows the link slowly
and knows nothing of the delay the operator sees; aiortc has no transport-wide feedback. The
operator's console measures that delay itself -- every presented frame's arrival against its
capture time (RTP timestamp), above the lowest seen lately -- and sends it back with its loss
and frame rate (``view_report``). Like RustDesk, which steps its frame rate and quality down as
the measured delay grows, the controller:

* **cuts** the rate when the picture queues up (``QUEUE_HIGH_MS``) or packets are lost
  (``LOSS_HIGH``, as the console counts them): to 85 % of what the console received, at most
  once per ``CUT_EVERY_S``; the receiver's estimate is always a ceiling;
* **grows** it by ``GROWTH_PER_S`` while the queue is short and nothing is lost, after
  ``HOLD_AFTER_CUT_S`` of calm, never past the estimate or the tuning's maximum;
* spends it on **fewer, sharper frames first**: each frame may use ``rate / fps``, and the
  frame rate is stepped down (``FPS_STEPS``) until a frame of the whole screen gets at least
  ``BITS_PER_PIXEL``; text stays readable while it moves less smoothly. The resolution is
  never lowered: at the lowest rate (150 kbit/s) and 2 fps a 1080p frame still gets 75 kbit.

Without reports (a console that cannot measure) the rate follows the estimate as before.

``CodecClock`` is how the frame budget reaches the codec: libvpx and x264 share out the rate by
the time between frames' timestamps, so after a one-second gap (a still screen, or a big frame
that took a second to leave on a thin link) they give the next frame a whole second of rate --
hundreds of kB at 1080p, which takes a second to send, which makes the next gap a second: the
stream locks itself at 1 fps. The codec is shown a clock that advances by at most one frame
interval per frame, whatever the real gap; the RTP timestamps keep the real time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

#: Frame rates the controller steps through, best first.
FPS_STEPS = (30.0, 24.0, 20.0, 15.0, 12.0, 10.0, 8.0, 6.0, 5.0, 4.0, 3.0, 2.0)
#: Bits a frame of the whole screen should get, per pixel, for text to stay readable while it
#: changes (VP8, screen content: ~0.04 keeps 1080p text legible during a scroll).
BITS_PER_PIXEL = 0.04
#: The picture's queue (one-way delay above its lowest) that counts as congestion, and as calm.
QUEUE_HIGH_MS = 150.0
QUEUE_LOW_MS = 50.0
#: A queue shorter than this share of the last report's is draining.
DRAINING = 0.7
#: Loss that counts as congestion, and as calm (fractions).
LOSS_HIGH = 0.08
LOSS_LOW = 0.02
#: A cut takes the rate to this share of what arrived.
CUT_TO = 0.85
#: Cuts come no closer together than this (a cut needs a round trip to show).
CUT_EVERY_S = 0.6
#: Growth waits this long after a cut, then grows this much per second.
HOLD_AFTER_CUT_S = 1.5
GROWTH_PER_S = 0.10
#: Without reports the rate is this share of the estimate: the pacer sends at the estimate,
#: so a queue behind a big frame drains.
ESTIMATE_SHARE = 0.85
#: Pacing. The receiver's estimate only grows as fast as what it receives, so on a wide link it
#: can sit far below the link (after minutes of typing, say) just as a page starts to scroll:
#: the first frame of the scroll (hundreds of kB) then takes a second to pace out, and the
#: frames behind it grow too. So on a *calm* link -- estimate over ``WIDE_LINK`` and the round
#: trip (RTCP) no more than ``RTT_QUEUE_S`` over its lowest for ``RTT_HOLD_S`` -- packets may
#: leave at ``WIDE_PACE`` times the estimate (libwebrtc paces at
#: 2.5x its target), and the pacer may go faster still to empty its own queue (see
#: ``peer.video_pacer``). A link whose round trip grows is a link with a queue: from then on,
#: for ``RTT_HOLD_S``, packets leave at no more than the controller's rate, which the queue
#: cut at once to what last arrived: a link that narrows mid-session (a download next door)
#: must not be flooded at the old estimate until the receiver's estimate catches up -- the
#: operator's clicks queue behind the picture and SCTP's retransmission timer backs off.
#: (The console's queue cannot say this: it counts the time a frame waited in our own pacer.)
WIDE_LINK = 600_000
WIDE_PACE = 2.5
RTT_QUEUE_S = 0.04
RTT_HOLD_S = 30.0
#: A round trip showing a queue cuts the rate, again only after this many seconds without one.
RTT_RECUT_S = 2.0
#: The lowest round trip is taken over this many seconds.
RTT_WINDOW_S = 30.0
#: Reports older than this no longer steer (the console stopped sending them).
REPORT_STALE_S = 3.0


@dataclass(frozen=True)
class LinkReport:
    """What the operator's console measured over its last interval (``view_report``)."""

    queue_ms: float  # presented frames' one-way delay above the lowest of the last seconds
    loss: float  # fraction of packets lost, 0..1
    kbps: float  # what arrived, kbit/s (0: unknown)
    fps: float  # frames presented per second


@dataclass(frozen=True)
class Target:
    """What the screen encoder should do now."""

    bitrate: int  # bit/s the screen may use (the encoder's rate, the pacer's base)
    fps: float  # frames per second the rate is shared out over

    @property
    def frame_bits(self) -> float:
        return self.bitrate / self.fps


def fps_for(bitrate: float, pixels: int, steps: tuple[float, ...] = FPS_STEPS) -> float:
    """The highest frame rate of ``steps`` at which a frame of ``pixels`` gets
    ``BITS_PER_PIXEL`` (the lowest step if none does)."""
    need = max(pixels, 1) * BITS_PER_PIXEL
    for fps in steps:
        if bitrate / fps >= need:
            return fps
    return steps[-1]


class RateController:
    """The screen's rate from the receiver's estimate and the console's reports."""

    def __init__(
        self, min_bitrate: int, start_bitrate: int, max_bitrate: int, pixels: int = 1920 * 1080
    ) -> None:
        if not 0 < min_bitrate <= start_bitrate <= max_bitrate:
            raise ValueError("need 0 < min <= start <= max")
        self.min_bitrate = min_bitrate
        self.max_bitrate = max_bitrate
        self.pixels = pixels
        self.rate = float(start_bitrate)
        self.estimate: float | None = None  # the receiver's (REMB), less what voice needs
        self.last_report: LinkReport | None = None
        self._report_at = -math.inf
        self._cut_at = -math.inf
        self._rtts: list[tuple[float, float]] = []  # (when, round trip s), lowest first
        self.rtt: float | None = None
        self._queued_at = -math.inf  # when the round trip last showed a queue
        self._held: list[float] = []  # seconds frames waited here since the last report
        self._grown_at: float | None = None
        self.cuts = 0

    # ------------------------------------------------------------------ inputs

    def set_pixels(self, pixels: int) -> None:
        """The shared picture's size changed (another monitor, one window)."""
        self.pixels = max(1, pixels)

    def on_estimate(self, bitrate: int, now: float) -> None:
        """The receiver's estimate (REMB), already less what voice needs."""
        self.estimate = float(bitrate)
        if not self._steered(now):  # no reports: follow the estimate, leaving the pacer room
            self.rate = float(bitrate) * ESTIMATE_SHARE
        self._clamp()

    def on_rtt(self, rtt_s: float, now: float) -> None:
        """The screen stream's round trip, from RTCP (sender and receiver reports)."""
        self.rtt = rtt_s
        while self._rtts and self._rtts[-1][1] >= rtt_s:
            self._rtts.pop()
        self._rtts.append((now, rtt_s))
        while self._rtts[0][0] < now - RTT_WINDOW_S:
            self._rtts.pop(0)
        if rtt_s > self._rtts[0][1] + RTT_QUEUE_S:
            if now - self._queued_at > RTT_RECUT_S:
                # the link has a queue now (it narrowed, or something else fills it): down to
                # what last arrived, at once; the estimate follows only within seconds
                report = self.last_report
                fresh = report is not None and now - self._report_at <= REPORT_STALE_S
                self._cut(report.kbps * 1000 if fresh and report and report.kbps > 0 else None, now)
            self._queued_at = now

    def on_frame_sent(self, held_s: float) -> None:
        """A frame's last packet left ``held_s`` after it was encoded (our own pacer's part of
        the queue the console measures)."""
        self._held.append(held_s)

    def calm(self, now: float) -> bool:
        """Whether the link is wide and shows no queue (see ``WIDE_LINK``)."""
        return (
            self.estimate is not None
            and self.estimate > WIDE_LINK
            and self.rtt is not None
            and now - self._queued_at >= RTT_HOLD_S
        )

    def on_report(self, report: LinkReport, now: float) -> None:
        """The operator's console measured ``report`` over its last interval. A long queue
        that is already draining fast (a big frame's own time on a thin link) is no cut."""
        held = self._held
        self._held = []
        if held:  # the console's queue counts the time frames waited in our pacer: not the link's
            mean_held_ms = sum(held) / len(held) * 1000
            report = replace(report, queue_ms=max(0.0, report.queue_ms - mean_held_ms))
        previous = self.last_report
        self.last_report = report
        self._report_at = now
        loss = report.loss
        draining = previous is not None and report.queue_ms < previous.queue_ms * DRAINING
        if (report.queue_ms >= QUEUE_HIGH_MS and not draining) or loss >= LOSS_HIGH:
            self._cut(report.kbps * 1000 if report.kbps > 0 else None, now)
        elif report.queue_ms <= QUEUE_LOW_MS and loss <= LOSS_LOW:
            self._grow(now)
        else:
            self._grown_at = now  # hold: growth restarts from here
        self._clamp()

    # ------------------------------------------------------------------ output

    def pace_bps(self, now: float) -> float | None:
        """How fast the screen's packets may leave (``None``: no estimate yet)."""
        if self.estimate is None:
            return None
        if self.calm(now):
            return self.estimate * WIDE_PACE
        if now - self._queued_at < RTT_HOLD_S:  # a queue in the link lately: no more than our rate
            return self.rate
        return max(self.estimate, self.rate)

    def target(self) -> Target:
        bitrate = int(self.rate)
        return Target(bitrate, fps_for(bitrate, self.pixels))

    # ------------------------------------------------------------------ inside

    def _steered(self, now: float) -> bool:
        return now - self._report_at <= REPORT_STALE_S

    def _cut(self, arrived_bps: float | None, now: float) -> None:
        if now - self._cut_at < CUT_EVERY_S:
            return
        base = min(self.rate, arrived_bps) if arrived_bps else self.rate
        self.rate = base * CUT_TO
        self._cut_at = now
        self._grown_at = None
        self.cuts += 1
        self._clamp()

    def _grow(self, now: float) -> None:
        if now - self._cut_at < HOLD_AFTER_CUT_S:
            return
        if self._grown_at is not None:
            dt = min(now - self._grown_at, 1.0)
            self.rate *= 1.0 + GROWTH_PER_S * max(dt, 0.0)
        self._grown_at = now

    def _clamp(self) -> None:
        ceiling = float(self.max_bitrate)
        if self.estimate is not None:
            ceiling = min(ceiling, self.estimate * ESTIMATE_SHARE)
        self.rate = max(float(self.min_bitrate), min(self.rate, ceiling))


class CodecClock:
    """Timestamps for the codec (90 kHz) that advance by at most one frame interval per frame,
    so that every frame gets about ``rate / fps`` of the codec's rate whatever the real gap."""

    RATE = 90_000

    def __init__(self) -> None:
        self._last_real: float | None = None
        self._pts = 0

    def tick(self, real_s: float, interval_s: float, scale: float = 1.0) -> int:
        """The codec pts (1/90000 s) of a frame taken at ``real_s`` (seconds, any origin):
        the last one's plus the real gap, at most ``interval_s``, times ``scale`` (the share
        of the codec's own rate the frames should get)."""
        if self._last_real is None:
            self._last_real = real_s
            return self._pts
        gap = max(real_s - self._last_real, 0.0)
        self._last_real = real_s
        self._pts += max(1, round(min(gap, interval_s) * scale * self.RATE))
        return self._pts
