"""peer/voice_jitter.py: the operator's voice goes to the decoder as soon as it arrives, a lost
packet is given up after a short wait instead of holding the call back for good, and the patch is
pinned to the aiortc it was read against."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import aiortc
import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.codecs import get_encoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from peer import voice_jitter
from peer.voice_jitter import VoiceDecoder, VoiceFrames, VoiceJitter

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=96)
STEP = 960  # RTP ticks of one 20 ms packet


def packet(seq: int, ts: int | None = None, data: bytes | None = None) -> RtpPacket:
    p = RtpPacket(
        payload_type=96,
        sequence_number=seq & 0xFFFF,
        timestamp=ts if ts is not None else seq * STEP,
    )
    p._data = data if data is not None else (seq & 0xFFFF).to_bytes(4, "big")  # type: ignore[attr-defined]
    return p


def seqs(frame: JitterFrame | None) -> list[int]:
    """The packets a frame carries, by the sequence number written in their data."""
    if frame is None:
        return []
    parts = [frame, *frame.rest] if isinstance(frame, VoiceFrames) else [frame]
    return [int.from_bytes(p.data, "big") for p in parts]


def feed(jitter: VoiceJitter | JitterBuffer, numbers: list[int]) -> list[list[int]]:
    return [seqs(jitter.add(packet(n))[1]) for n in numbers]


def test_the_patch_follows_the_installed_aiortc() -> None:
    # aiortc upgraded: read RTCRtpReceiver.__init__, _handle_rtp_packet and decoder_worker again
    # (how the jitter buffer and get_decoder are used), then add the version to SUPPORTED
    assert aiortc.__version__ in voice_jitter.SUPPORTED


def test_a_packet_in_order_goes_on_at_once() -> None:
    assert feed(VoiceJitter(), [10, 11, 12, 13]) == [[10], [11], [12], [13]]
    # aiortc's own holds each packet until four later ones are there: 80 ms on every call
    assert feed(JitterBuffer(capacity=16, prefetch=4), [10, 11, 12, 13]) == [[], [], [], []]


def test_a_late_packet_fills_its_gap_and_everything_waiting_goes_on_together() -> None:
    jitter = VoiceJitter()
    assert feed(jitter, [1, 3, 2]) == [[1], [], [2, 3]]
    assert jitter.lost == 0 and jitter.held == 0


def test_a_lost_packet_is_given_up_after_a_short_wait_not_for_good() -> None:
    jitter = VoiceJitter()
    got = feed(jitter, [1, 2, 4, 5, 6, 7])  # 3 never comes: 40 ms after it was due, given up
    assert got == [[1], [2], [], [4, 5], [6], [7]]
    assert jitter.lost == 1
    assert feed(jitter, [3]) == [[]] and jitter.late == 1  # too late: its place is gone
    # aiortc's own stalls until 16 packets wait, then keeps them all as delay for the rest of
    # the call: one frame out per packet in, 15 behind
    aiortc_buffer = JitterBuffer(capacity=16, prefetch=4)
    out = feed(aiortc_buffer, [1, 2, *range(4, 40)])
    assert sum(1 for o in out if o) < 30


def test_after_a_silence_a_gap_is_not_waited_for() -> None:
    # with DTX a packet may come 400 ms after the last one: the next one's loss is given up
    # as soon as later audio is WAIT_MS ahead, not after three more packets (1.2 s)
    jitter = VoiceJitter()
    assert seqs(jitter.add(packet(1, ts=0))[1]) == [1]
    assert seqs(jitter.add(packet(3, ts=40 * STEP))[1]) == [3]
    assert jitter.lost == 1


def test_duplicates_are_dropped_and_a_new_stream_starts_afresh() -> None:
    jitter = VoiceJitter()
    assert feed(jitter, [5, 6, 6, 5]) == [[5], [6], [], []]
    assert jitter.late == 2
    assert feed(jitter, [40_000, 40_001]) == [[40_000], [40_001]]
    assert jitter.restarts == 1


def test_sequence_numbers_wrap() -> None:
    jitter = VoiceJitter()
    assert feed(jitter, [65534, 65535, 65536, 65538, 65537]) == [[65534], [65535], [0], [], [1, 2]]


def tone_packets(n: int) -> list[bytes]:
    encoder = get_encoder(OPUS)
    out = []
    for i in range(n):
        t = (np.arange(960) + i * 960) / 48000
        pcm = (0.5 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
        frame = av.AudioFrame.from_ndarray(
            np.repeat(pcm, 2).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = 48000
        frame.pts = i * 960
        frame.time_base = Fraction(1, 48000)
        payloads, _ = encoder.encode(frame)
        out += payloads
    return out


def test_the_decoder_plays_every_packet_handed_on_together_on_its_own_clock() -> None:
    payloads = tone_packets(6)
    jitter = VoiceJitter()
    got = [jitter.add(packet(100 + i, ts=5000 + i * STEP, data=payloads[i]))[1] for i in (0, 2, 1)]
    assert got[1] is None and isinstance(got[2], VoiceFrames)
    decoder = VoiceDecoder()
    first = decoder.decode(got[0])  # type: ignore[arg-type]
    batch = got[2]
    batch.timestamp = 2 * STEP  # as aiortc's receiver maps it onto the track's clock
    frames = decoder.decode(batch)
    assert len(first) == 1 and len(frames) == 2
    assert [f.pts for f in frames] == [2 * STEP, 3 * STEP]
    pcm = np.concatenate([f.to_ndarray().ravel() for f in frames]).astype(float)
    assert np.sqrt(np.mean(pcm**2)) > 5000  # the tone, not silence


@pytest.fixture
def patched() -> Iterator[None]:
    was = voice_jitter.installed()
    assert voice_jitter.install()
    yield
    if not was:
        voice_jitter.uninstall()


async def test_every_audio_receiver_of_aiortc_uses_it(patched: None) -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN server: nothing leaves
    try:
        audio = pc.addTransceiver("audio").receiver
        video = pc.addTransceiver("video").receiver
        assert isinstance(audio._RTCRtpReceiver__jitter_buffer, VoiceJitter)  # type: ignore[attr-defined]
        assert not isinstance(video._RTCRtpReceiver__jitter_buffer, VoiceJitter)  # type: ignore[attr-defined]
        assert isinstance(aiortc.rtcrtpreceiver.get_decoder(OPUS), VoiceDecoder)
    finally:
        await pc.close()
