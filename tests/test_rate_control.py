"""peer/rate_control.py: the screen's rate from the receiver's estimate, RTCP loss and the
console's reports, fed synthetic inputs; and the codec clock that shares the rate out per frame."""

from __future__ import annotations

import fractions

import av
import pytest

from peer import rate_control as rc
from peer.rate_control import CodecClock, LinkReport, RateController, fps_for

PIXELS_1080P = 1920 * 1080


def controller(start: int = 1_200_000) -> RateController:
    return RateController(150_000, start, 8_000_000, PIXELS_1080P)


def calm(kbps: float = 0.0) -> LinkReport:
    return LinkReport(queue_ms=10.0, loss=0.0, kbps=kbps, fps=30.0)


def test_without_reports_the_rate_follows_the_estimate_leaving_the_pacer_room() -> None:
    c = controller()
    c.on_estimate(4_000_000, 0.0)
    assert c.target().bitrate == int(4_000_000 * rc.ESTIMATE_SHARE)
    c.on_estimate(20_000_000, 1.0)
    assert c.target().bitrate == 8_000_000  # the tuning's maximum
    c.on_estimate(10_000, 2.0)
    assert c.target().bitrate == 150_000  # and its minimum


def test_a_growing_queue_cuts_to_below_what_arrived_and_lowers_the_frame_rate() -> None:
    c = controller()
    c.on_estimate(3_000_000, 0.0)
    before = c.target()
    c.on_report(LinkReport(queue_ms=300.0, loss=0.0, kbps=1_000.0, fps=12.0), 0.5)
    after = c.target()
    assert after.bitrate == int(1_000_000 * rc.CUT_TO)
    assert after.fps < before.fps
    assert after.frame_bits >= rc.BITS_PER_PIXEL * PIXELS_1080P  # text stays readable


def test_cuts_wait_for_the_last_one_to_show() -> None:
    c = controller()
    c.on_estimate(3_000_000, 0.0)
    congested = LinkReport(queue_ms=300.0, loss=0.0, kbps=0.0, fps=10.0)
    c.on_report(congested, 1.0)
    c.on_report(congested, 1.0 + rc.CUT_EVERY_S / 2)
    assert c.cuts == 1
    c.on_report(congested, 1.0 + rc.CUT_EVERY_S)
    assert c.cuts == 2


def test_loss_alone_cuts_and_light_loss_does_not() -> None:
    c = controller()
    c.on_estimate(2_000_000, 0.0)
    rate = c.target().bitrate
    c.on_report(LinkReport(queue_ms=80.0, loss=0.01, kbps=0.0, fps=30.0), 1.0)
    assert c.target().bitrate == rate
    c.on_report(LinkReport(queue_ms=20.0, loss=0.2, kbps=0.0, fps=30.0), 2.0)
    assert c.target().bitrate == int(rate * rc.CUT_TO)


def test_after_a_cut_calm_reports_grow_the_rate_slowly_up_to_the_estimate() -> None:
    c = controller()
    c.on_estimate(2_000_000, 0.0)
    c.on_report(LinkReport(queue_ms=400.0, loss=0.0, kbps=500.0, fps=5.0), 0.0)
    cut = c.target().bitrate
    assert cut == int(500_000 * rc.CUT_TO)
    now = 0.0
    while now < rc.HOLD_AFTER_CUT_S - 0.1:  # held right after the cut
        now += 0.5
        c.on_report(calm(), now)
    assert c.target().bitrate == cut
    for _ in range(20):  # 10 s of calm
        now += 0.5
        c.on_report(calm(), now)
        c.on_estimate(2_000_000, now)
    grown = c.target().bitrate
    assert cut < grown <= cut * (1 + rc.GROWTH_PER_S) ** 10.5
    for _ in range(200):
        now += 0.5
        c.on_report(calm(), now)
        c.on_estimate(2_000_000, now)
    assert c.target().bitrate == int(2_000_000 * rc.ESTIMATE_SHARE)  # never past the estimate


def test_a_queue_between_the_thresholds_holds_the_rate() -> None:
    c = controller()
    c.on_estimate(2_000_000, 0.0)
    c.on_report(LinkReport(queue_ms=500.0, loss=0.0, kbps=1_000.0, fps=5.0), 0.0)
    rate = c.target().bitrate
    middle = LinkReport(queue_ms=(rc.QUEUE_LOW_MS + rc.QUEUE_HIGH_MS) / 2, loss=0.0, kbps=0, fps=9)
    for step in range(1, 40):
        c.on_report(middle, step * 0.5)
    assert c.target().bitrate == rate


def test_a_512k_link_converges_below_the_link_and_stays_there() -> None:
    """A simulated 512 kbit/s link: the console sees a queue when the screen sends more than
    the link takes; the estimate (REMB) lags above it. The rate settles under the link and the
    queue does not keep growing."""
    link = 512_000.0
    c = controller()
    queue_bits = 0.0
    now = 0.0
    queues, sends = [], []
    for _ in range(120):  # 60 s, a report every 0.5 s
        send = c.target().bitrate
        sends.append(send)
        queue_bits = max(0.0, queue_bits + (send - link) * 0.5)
        queue_ms = queue_bits / link * 1000
        queues.append(queue_ms)
        now += 0.5
        c.on_estimate(700_000, now)  # a receiver estimate that overshoots the link
        arrived = min(send, link) / 1000
        c.on_report(LinkReport(queue_ms=queue_ms, loss=0.0, kbps=arrived, fps=5.0), now)
    last = queues[-40:]
    assert max(last) < 400.0, last
    assert sum(q for q in last) / len(last) < rc.QUEUE_HIGH_MS * 1.5
    average = sum(sends[-40:]) / 40  # AIMD saws around the link: on average under it
    assert 0.6 * link <= average <= link, average
    assert c.target().fps <= 8.0  # a thin link: fewer, sharper frames


def test_stale_reports_hand_the_rate_back_to_the_estimate() -> None:
    c = controller()
    c.on_estimate(4_000_000, 0.0)
    c.on_report(LinkReport(queue_ms=400.0, loss=0.0, kbps=300.0, fps=3.0), 0.0)
    assert c.target().bitrate < 300_000
    c.on_estimate(4_000_000, rc.REPORT_STALE_S + 1.0)  # the console went quiet
    assert c.target().bitrate == int(4_000_000 * rc.ESTIMATE_SHARE)


def test_wide_calm_links_pace_above_the_estimate_thin_or_congested_ones_do_not() -> None:
    c = controller()
    assert c.pace_bps(0.0) is None
    c.on_estimate(6_000_000, 10.0)
    assert c.pace_bps(10.0) == 6_000_000  # no round trip known yet
    c.on_rtt(0.002, 10.0)
    assert c.calm(10.0)
    assert c.pace_bps(10.0) == 6_000_000 * rc.WIDE_PACE
    # the console's queue (which counts our own pacer's time too) does not stop it
    c.on_report(LinkReport(queue_ms=300.0, loss=0.0, kbps=3_000.0, fps=20.0), 11.0)
    assert c.cuts == 1 and c.pace_bps(11.0) == 6_000_000 * rc.WIDE_PACE
    # the round trip grows: the link has a queue; no faster than the (cut) rate for RTT_HOLD_S
    rate = c.target().bitrate
    c.on_rtt(0.002 + rc.RTT_QUEUE_S * 2, 20.0)
    assert not c.calm(20.0)
    assert c.target().bitrate < rate
    assert c.pace_bps(20.0 + rc.RTT_HOLD_S - 1) == c.target().bitrate
    c.on_rtt(0.002, 20.0 + rc.RTT_HOLD_S)
    assert c.pace_bps(20.0 + rc.RTT_HOLD_S) == 6_000_000 * rc.WIDE_PACE
    thin = controller()
    thin.on_estimate(500_000, 100.0)
    thin.on_rtt(0.06, 100.0)
    assert thin.pace_bps(100.0) == 500_000


@pytest.mark.parametrize(
    ("bitrate", "fps"),
    [(8_000_000, 30.0), (2_000_000, 24.0), (512_000, 6.0), (300_000, 3.0), (150_000, 2.0)],
)
def test_frame_rate_steps_down_before_text_gets_too_few_bits(bitrate: int, fps: float) -> None:
    assert fps_for(bitrate, PIXELS_1080P) == fps


def test_a_smaller_picture_keeps_a_higher_frame_rate() -> None:
    assert fps_for(512_000, 1280 * 720) > fps_for(512_000, PIXELS_1080P)


def test_the_codec_clock_never_advances_more_than_one_interval_per_frame() -> None:
    clock = CodecClock()
    assert clock.tick(100.0, 1 / 30) == 0
    assert clock.tick(100.01, 1 / 30) == 900  # a real gap shorter than the interval
    assert clock.tick(105.0, 1 / 30) == 900 + 3000  # five seconds still: one interval
    assert clock.tick(105.0, 1 / 30) == 3901  # same instant: still moves forward
    assert clock.tick(106.0, 1 / 10, scale=0.5) == 3901 + 4500


def test_after_a_long_gap_the_codec_gives_the_next_frame_one_interval_of_rate() -> None:
    """Without the codec clock a frame that comes a second after the last one gets a second
    of the codec's rate (the stream locks itself at one big frame per second)."""
    from peer.encoder import ScreenVp8Encoder
    from peer.tuning import EncoderTuning

    def frame(seed: int, t: float) -> av.VideoFrame:
        import numpy as np

        pixels = np.random.default_rng(seed).integers(0, 255, (360, 640, 3), dtype=np.uint8)
        f = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
        f.pts = int(t * 90000)
        f.time_base = fractions.Fraction(1, 90000)
        return f

    def sizes(gap: float) -> list[int]:
        encoder = ScreenVp8Encoder(
            EncoderTuning(max_bitrate=1_200_000, start_bitrate=1_200_000, min_bitrate=150_000)
        )
        out = []
        for i in range(8):
            payloads, timestamp = encoder.encode(frame(i, i * gap))
            assert timestamp == int(i * gap * 90000)  # RTP keeps the real time
            out.append(sum(len(p) for p in payloads))
        return out

    fast, slow = sizes(1 / 30), sizes(1.0)
    assert max(slow[2:]) < 3 * max(fast[2:]), (fast, slow)


def test_a_long_queue_that_is_draining_fast_is_no_cut() -> None:
    c = controller()
    c.on_estimate(2_000_000, 0.0)
    c.on_report(LinkReport(queue_ms=400.0, loss=0.0, kbps=1_000.0, fps=10.0), 0.0)
    assert c.cuts == 1
    c.on_report(LinkReport(queue_ms=200.0, loss=0.0, kbps=1_000.0, fps=10.0), 1.0)
    assert c.cuts == 1  # halved since the last report: the queue empties by itself
    c.on_report(LinkReport(queue_ms=190.0, loss=0.0, kbps=1_000.0, fps=10.0), 2.0)
    assert c.cuts == 2  # it stopped falling


def test_time_frames_waited_in_our_own_pacer_is_not_taken_for_a_link_queue() -> None:
    """The first frame of a scroll waits here while it is paced out; the console sees it late
    and reports a long queue. That is no sign of a full link: no cut."""
    c = controller()
    c.on_estimate(4_000_000, 0.0)
    for held in (0.25, 0.3, 0.2):
        c.on_frame_sent(held)
    c.on_report(LinkReport(queue_ms=260.0, loss=0.0, kbps=3_000.0, fps=5.0), 1.0)
    assert c.cuts == 0
    assert c.last_report is not None and c.last_report.queue_ms == pytest.approx(10.0)
    c.on_frame_sent(0.01)  # the link itself holds frames back: a cut
    c.on_report(LinkReport(queue_ms=260.0, loss=0.0, kbps=3_000.0, fps=5.0), 2.0)
    assert c.cuts == 1


def test_a_link_that_narrows_mid_session_is_paced_at_what_arrives_at_once() -> None:
    """Open link at 6 Mbit/s, then a 512 kbit/s bottleneck: the console's last report says
    what arrived; the first round trip that shows the queue cuts to it and paces at it,
    before the receiver's estimate has come down."""
    c = controller()
    for t in range(10):
        c.on_estimate(6_000_000, float(t))
        c.on_rtt(0.002, float(t))
    assert c.pace_bps(10.0) == 6_000_000 * rc.WIDE_PACE
    c.on_report(LinkReport(queue_ms=40.0, loss=0.0, kbps=500.0, fps=20.0), 10.5)
    c.on_rtt(0.3, 11.0)
    assert c.target().bitrate == int(500_000 * rc.CUT_TO)
    assert c.pace_bps(11.0) == c.target().bitrate
    c.on_rtt(0.35, 11.5)  # the same queue: no second cut before RTT_RECUT_S
    assert c.cuts == 1
