"""peer/video_jitter.py: a frame of the operator's screen or camera goes to the decoder as soon
as its last (marked) packet is in, not when the next frame begins; the rest is aiortc's, and the
patch is pinned to the aiortc it was read against."""

from __future__ import annotations

from collections.abc import Iterator

import aiortc
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

from peer import video_jitter
from peer.video_jitter import FastVp8Decoder, FrameJitter

STEP = 3000  # RTP ticks of one frame at 30 fps


def packet(seq: int, frame: int, *, last: bool) -> RtpPacket:
    p = RtpPacket(payload_type=97, sequence_number=seq & 0xFFFF, timestamp=frame * STEP)
    p.marker = int(last)
    p._data = bytes([seq & 0xFF])  # type: ignore[attr-defined]
    return p


def carried(frame: JitterFrame | None) -> list[int]:
    return [] if frame is None else list(frame.data)


def feed(buffer: JitterBuffer, packets: list[RtpPacket]) -> list[list[int]]:
    """What each packet brings out of the buffer (the packets of a frame, or [])."""
    return [carried(buffer.add(p)[1]) for p in packets]


def test_a_frame_leaves_at_its_marked_last_packet_where_aiortcs_waits_for_the_next_frame() -> None:
    frames = [packet(1, 0, last=False), packet(2, 0, last=False), packet(3, 0, last=True)]
    assert feed(FrameJitter(), frames) == [[], [], [1, 2, 3]]
    # aiortc's own buffer still holds it: the screen's last change is not shown
    assert feed(JitterBuffer(capacity=512, is_video=True), frames) == [[], [], []]


def test_a_single_packet_frame_leaves_at_once_and_frames_follow_one_another() -> None:
    buffer = FrameJitter()
    got = feed(
        buffer, [packet(10, 0, last=True), packet(11, 1, last=False), packet(12, 1, last=True)]
    )
    assert got == [[10], [], [11, 12]]


def test_a_frame_with_a_packet_missing_waits_for_it_and_then_leaves_whole() -> None:
    buffer = FrameJitter()
    assert feed(buffer, [packet(1, 0, last=False), packet(3, 0, last=True)]) == [[], []]
    assert feed(buffer, [packet(2, 0, last=False)]) == [[1, 2, 3]]  # the retransmission


def test_a_frame_whose_marked_packet_is_lost_ends_when_the_next_frame_begins() -> None:
    buffer = FrameJitter()
    got = feed(
        buffer, [packet(1, 0, last=False), packet(2, 0, last=False), packet(4, 1, last=False)]
    )
    assert got == [[], [], []]  # 3 (frame 0's last) is missing: a gap, as in aiortc
    buffer = FrameJitter()
    got = feed(
        buffer, [packet(1, 0, last=False), packet(2, 1, last=False), packet(3, 1, last=True)]
    )
    assert got == [[], [1], [2, 3]]  # frame 0's end never came marked: it ends at frame 1
    assert feed(buffer, [packet(4, 2, last=True)]) == [[4]]


def test_sequence_numbers_wrap() -> None:
    buffer = FrameJitter()
    got = feed(
        buffer,
        [packet(65534, 0, last=False), packet(65535, 0, last=False), packet(0, 0, last=True)],
    )
    assert got == [[], [], [254, 255, 0]]


@pytest.fixture
def patched() -> Iterator[None]:
    was = video_jitter.installed()
    assert video_jitter.install()
    yield
    if not was:
        video_jitter.uninstall()


async def test_every_video_receiver_gets_it_and_audio_keeps_its_own(patched: None) -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        video = pc.addTransceiver("video").receiver
        audio = pc.addTransceiver("audio").receiver
        assert isinstance(video._RTCRtpReceiver__jitter_buffer, FrameJitter)  # type: ignore[attr-defined]
        assert not isinstance(audio._RTCRtpReceiver__jitter_buffer, FrameJitter)  # type: ignore[attr-defined]
    finally:
        await pc.close()
    video_jitter.uninstall()
    assert rtcrtpreceiver.JitterBuffer is JitterBuffer  # put back exactly
    video_jitter.install()


def test_the_patch_is_pinned_to_the_aiortc_it_was_read_against() -> None:
    assert aiortc.__version__ in video_jitter.SUPPORTED, (
        f"aiortc {aiortc.__version__}: read peer/video_jitter.py against its jitterbuffer.py "
        "and rtcrtpreceiver.py, then add the version to SUPPORTED"
    )


def test_vp8_is_decoded_by_ffmpegs_own_decoder_to_the_same_picture(patched: None) -> None:
    import fractions

    import av
    import numpy as np
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters

    vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
    decoder = rtcrtpreceiver.get_decoder(vp8)
    assert isinstance(decoder, FastVp8Decoder) and decoder.codec.name == "vp8"
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 30)
    picture = np.zeros((240, 320, 3), dtype=np.uint8)
    picture[:, :160] = (200, 40, 40)
    picture[:, 160:] = (40, 80, 220)
    frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
    frame.pts = 0
    data = b"".join(bytes(p) for p in [*encoder.encode(frame), *encoder.encode(None)])
    (out,) = decoder.decode(JitterFrame(data=data, timestamp=0))
    rgb = out.to_ndarray(format="rgb24").astype(int)
    assert np.abs(rgb[120, 80] - (200, 40, 40)).max() <= 12
    assert np.abs(rgb[120, 240] - (40, 80, 220)).max() <= 12
    # audio is not touched
    opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=96)
    assert not isinstance(rtcrtpreceiver.get_decoder(opus), FastVp8Decoder)
