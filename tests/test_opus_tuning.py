"""peer/opus_tuning.py: one voice, FEC and DTX in the encoder and asked of the browser in the
offer; pinned to the aiortc it was read against."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import aiortc
import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection
from aiortc.codecs import get_decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from peer import opus_tuning

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=96)


@pytest.fixture
def tuned() -> Iterator[None]:
    assert opus_tuning.install()
    yield
    opus_tuning.uninstall()


def tone(hz: float, frames: int, amplitude: float = 0.5) -> list[av.AudioFrame]:
    out = []
    for i in range(frames):
        t = (np.arange(960) + i * 960) / 48000
        pcm = (amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2")
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = i * 960
        frame.time_base = Fraction(1, 48000)
        out.append(frame)
    return out


def test_the_patch_follows_the_installed_aiortc() -> None:
    # aiortc upgraded: read rtcrtpsender's use of get_encoder and codecs.opus again, then
    # add the version to SUPPORTED
    assert aiortc.__version__ in opus_tuning.SUPPORTED


def test_the_encoder_is_one_voice_at_a_low_rate(tuned: None) -> None:
    encoder = rtcrtpsender_encoder()
    assert isinstance(encoder, opus_tuning.VoiceOpusEncoder)
    sent = 0
    for frame in tone(440, 100):  # 2 s
        packets, _ts = encoder.encode(frame)
        sent += sum(len(p) for p in packets)
    kbits = sent * 8 / 2 / 1000
    assert kbits < opus_tuning.BITRATE / 1000 * 1.3, kbits  # aiortc's own: ~96 kbit/s
    # what it sends decodes back to the same tone
    decoder = get_decoder(OPUS)
    encoder2 = opus_tuning.VoiceOpusEncoder()
    pcm = []
    for i, frame in enumerate(tone(440, 50)):
        packets, ts = encoder2.encode(frame)
        for p in packets:
            for out in decoder.decode(JitterFrame(data=p, timestamp=i * 960)):
                pcm.append(out.to_ndarray().reshape(-1, 2)[:, 0])
    samples = np.concatenate(pcm[10:]).astype(float)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    assert abs(np.fft.rfftfreq(len(samples), 1 / 48000)[spectrum.argmax()] - 440) < 10


def test_silence_costs_almost_nothing(tuned: None) -> None:
    encoder = opus_tuning.VoiceOpusEncoder()
    sent = 0
    for frame in tone(440, 100, amplitude=0.0):
        packets, _ts = encoder.encode(frame)
        sent += sum(len(p) for p in packets)
    assert sent * 8 / 2 < 500, sent  # DTX: a packet per 400 ms (aiortc's own: 20 ms)
    assert encoder.held > 80
    # speech after silence goes at once, every packet
    for frame in tone(440, 5):
        packets, _ts = encoder.encode(frame)
        assert packets


async def test_the_offer_asks_for_fec_and_dtx(tuned: None) -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver(AudioStreamTrack(), direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        fmtp = [line for line in pc.localDescription.sdp.splitlines() if "fmtp:96" in line]
        assert fmtp, pc.localDescription.sdp
        for want in ("useinbandfec=1", "usedtx=1", "stereo=0", "minptime=10"):
            assert want in fmtp[0], fmtp
    finally:
        await pc.close()


def test_uninstall_puts_aiortc_back() -> None:
    from aiortc import rtcrtpsender

    before = rtcrtpsender.get_encoder
    assert opus_tuning.install()
    assert rtcrtpsender.get_encoder is not before
    opus_tuning.uninstall()
    assert rtcrtpsender.get_encoder is before
    assert "useinbandfec" not in aiortc.codecs.CODECS["audio"][0].parameters


def rtcrtpsender_encoder() -> object:
    from aiortc import rtcrtpsender

    return rtcrtpsender.get_encoder(OPUS)
