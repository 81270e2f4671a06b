"""peer/video_pacer.py: the screen's packets leave at the rate the link can take, a keyframe
request while the last keyframe is on its way makes no new one, and the send loop it replaces is
pinned to the aiortc it was copied from."""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import Iterator

import aiortc
import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, VideoStreamTrack, rtcrtpsender
from loopback_ice import loopback_only

from peer import encoder as screen_encoder
from peer import video_pacer
from peer.encoder import EncoderTuning, ScreenVp8Encoder
from peer.video_pacer import OVERHEAD, Backlog, KeyframeGate, Pacer


def test_the_copied_send_loop_follows_the_installed_aiortc() -> None:
    # aiortc upgraded: compare RTCRtpSender._run_rtp with the copy in peer/video_pacer.py, carry
    # its changes over, then add the version to SUPPORTED
    assert aiortc.__version__ in video_pacer.SUPPORTED


def test_a_small_frame_on_a_fast_link_goes_at_once() -> None:
    pacer = Pacer(burst_s=0.02)
    waits = [pacer.delay(1200, 10_000_000, 100.0) for _ in range(10)]  # 12 kB at 10 Mbit/s: 10 ms
    assert waits == [0.0] * 10


def test_a_keyframe_on_a_thin_link_is_spread_at_the_rate() -> None:
    pacer = Pacer(burst_s=0.02)
    now, rate, size = 0.0, 400_000, 1200
    sent_at = []
    for _ in range(125):  # a 150 kB keyframe
        now += pacer.delay(size, rate, now)
        sent_at.append(now)
    spread = sent_at[-1] - sent_at[0]
    expected = 124 * (size + OVERHEAD) * 8 / rate  # ~3.1 s: what the link takes anyway
    assert spread == pytest.approx(expected - 0.02, abs=0.05)
    # the credit comes back once the link has drained: after a pause, a burst again
    assert pacer.delay(size, rate, now + 5.0) == 0.0


def test_encoding_goes_on_behind_a_big_frame_until_the_backlog_limit() -> None:
    """The first frame of a scroll (300 kB) is on its way: small frames may queue behind it
    (so the next gaps stay short and the frames small), up to the limit of the link's time."""
    backlog = Backlog(limit_s=0.5)
    rate = 5_000_000  # 0.5 s = 312 kB
    backlog.add(300_000)
    assert not backlog.full(rate)  # the frame on its way does not count
    for _ in range(30):
        backlog.add(10_000)
    assert not backlog.full(rate)
    backlog.add(20_000)
    assert backlog.full(rate)
    backlog.sent(300_000)  # the big one left: the next one is on its way now
    assert backlog.frames() == 31 and not backlog.full(rate)
    for _ in range(31):
        backlog.sent(10_000)
    assert backlog.frames() == 1  # the 20 kB one, part sent so far
    backlog.sent(20_000)
    assert backlog.frames() == 0


def test_a_keyframe_request_while_the_last_one_is_on_its_way_makes_none() -> None:
    gate = KeyframeGate(margin_s=0.3)
    assert gate.allow(0.0)
    gate.sent(150_000, 400_000, 0.0)  # 3 s on its way
    assert not gate.allow(1.0) and not gate.allow(3.2)
    assert gate.allow(3.31)
    assert gate.ignored == 2


def noise(width: int = 640, height: int = 360, seed: int = 1) -> av.VideoFrame:
    pixels = np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
    frame.pts, frame.time_base = 0, fractions.Fraction(1, 90000)
    return frame


def test_the_screen_encoder_answers_a_burst_of_requests_with_one_keyframe() -> None:
    encoder = ScreenVp8Encoder(EncoderTuning())
    frame = noise()
    first, _ = encoder.encode(frame)  # the first frame is a keyframe
    still, _ = encoder.encode(frame)
    again, _ = encoder.encode(frame, force_keyframe=True)  # while the first is on its way
    size = sum(map(len, first))
    assert sum(map(len, still)) < size / 10 and sum(map(len, again)) < size / 10
    assert encoder.keyframes.ignored == 1
    # before the receiver's first estimate: at the codec's rate; then the estimate
    assert encoder.pace_bps == video_pacer.INITIAL_PACE_BPS
    encoder.target_bitrate = 400_000
    assert encoder.pace_bps == 400_000


class Noise(VideoStreamTrack):
    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = noise(seed=pts)
        frame.pts, frame.time_base = pts, time_base
        return frame


@pytest.fixture
def paced() -> Iterator[None]:
    was = video_pacer.installed()
    assert video_pacer.install()
    screen_encoder.install(EncoderTuning())
    yield
    screen_encoder.uninstall()
    if not was:
        video_pacer.uninstall()


async def test_the_paced_loop_delivers_pictures_between_two_aiortc_peers(paced: None) -> None:
    assert rtcrtpsender.RTCRtpSender._run_rtp is video_pacer._run_rtp
    got: asyncio.Queue[aiortc.MediaStreamTrack] = asyncio.Queue()
    with loopback_only():
        sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        receiver.on("track", got.put_nowait)
        try:
            sender.addTrack(Noise())
            await sender.setLocalDescription(await sender.createOffer())
            await receiver.setRemoteDescription(sender.localDescription)
            await receiver.setLocalDescription(await receiver.createAnswer())
            await sender.setRemoteDescription(receiver.localDescription)
            track = await asyncio.wait_for(got.get(), 10)
            frames = [await asyncio.wait_for(track.recv(), 10) for _ in range(5)]
            assert all(f.width == 640 and f.height == 360 for f in frames)
            encoder = sender.getSenders()[0]._RTCRtpSender__encoder  # type: ignore[attr-defined]
            assert isinstance(encoder, ScreenVp8Encoder)
        finally:
            await sender.close()
            await receiver.close()
