"""peer/playout_delay.py: the playout-delay header extension's bytes, that every video packet
carries it once negotiated (and none without), that aiortc offers it on video m-lines only, and
that the patch is pinned to the aiortc it was read against."""

from __future__ import annotations

from collections.abc import Iterator

import aiortc
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, codecs, rtp
from aiortc.mediastreams import VideoStreamTrack
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters

from peer import playout_delay
from peer.playout_delay import URI, PlayoutDelayMap, decode, encode


def test_the_bytes_are_12_bit_min_then_max_in_10_ms_units() -> None:
    assert encode(0, 0) == b"\x00\x00\x00"
    assert encode(100, 1000) == bytes([0x00, 0xA0, 0x64])  # 10 and 100 units
    assert encode(40950, 40950) == b"\xff\xff\xff"
    assert decode(bytes([0x00, 0xA0, 0x64])) == (100, 1000)
    for bad in ((-10, 0), (20, 10), (0, 40960)):
        with pytest.raises(ValueError):
            encode(*bad)
    with pytest.raises(ValueError):
        decode(b"\x00\x00")


def parameters(*extensions: tuple[int, str]) -> RTCRtpParameters:
    return RTCRtpParameters(
        headerExtensions=[RTCRtpHeaderExtensionParameters(id=i, uri=u) for i, u in extensions]
    )


MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


def test_every_packet_carries_it_once_the_answer_kept_it() -> None:
    negotiated = PlayoutDelayMap()
    negotiated.configure(parameters((1, MID), (3, ABS), (6, URI)))
    values = rtp.HeaderExtensions(mid="0", abs_send_time=0x123456)
    profile, data = negotiated.set(values)
    assert profile == 0xBEDE  # one-byte elements
    assert dict(rtp.unpack_header_extensions(profile, data)) == {
        1: b"0",
        3: b"\x12\x34\x56",
        6: b"\x00\x00\x00",
    }
    # an RTP packet with it parses back (as the browser reads it), the payload intact
    packet = rtp.RtpPacket(payload_type=97, sequence_number=7, timestamp=90)
    packet.extensions = values
    packet.payload = b"frame"
    parsed = rtp.RtpPacket.parse(packet.serialize(negotiated), negotiated)
    assert parsed.payload == b"frame" and parsed.extensions.mid == "0"

    # aiortc's elements in two-byte form (a long mid): ours joins them in that form
    long_mid = rtp.HeaderExtensions(mid="m" * 20)
    profile, data = negotiated.set(long_mid)
    assert profile == 0x1000 and len(data) % 4 == 0
    assert dict(rtp.unpack_header_extensions(profile, data)) == {1: b"m" * 20, 6: b"\x00\x00\x00"}
    # nothing of aiortc's: ours alone, one-byte
    profile, data = negotiated.set(rtp.HeaderExtensions())
    assert (profile, data) == (0xBEDE, bytes([0x62, 0, 0, 0]))

    without = PlayoutDelayMap()
    without.configure(parameters((1, MID), (3, ABS)))  # the browser did not keep it
    profile, data = without.set(values)
    assert 6 not in dict(rtp.unpack_header_extensions(profile, data))


@pytest.fixture
def patched() -> Iterator[None]:
    was = playout_delay.installed()
    assert playout_delay.install()
    yield
    if not was:
        playout_delay.uninstall()


async def test_it_is_offered_on_video_m_lines_and_every_video_sender_writes_it(
    patched: None,
) -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        video = pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        audio = pc.addTransceiver("audio", direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        sections = sdp.split("m=")[1:]
        kinds = {s.split(" ", 1)[0]: s for s in sections}
        assert f"a=extmap:6 {URI}" in kinds["video"]
        assert URI not in kinds["audio"]
        assert isinstance(video.sender._RTCRtpSender__rtp_header_extensions_map, PlayoutDelayMap)  # type: ignore[attr-defined]
        assert not isinstance(
            audio.sender._RTCRtpSender__rtp_header_extensions_map, PlayoutDelayMap
        )  # type: ignore[attr-defined]
    finally:
        await pc.close()
    playout_delay.uninstall()
    assert all(e.uri != URI for e in codecs.HEADER_EXTENSIONS["video"])  # put back exactly
    playout_delay.install()


def test_the_patch_is_pinned_to_the_aiortc_it_was_read_against() -> None:
    assert aiortc.__version__ in playout_delay.SUPPORTED, (
        f"aiortc {aiortc.__version__}: read peer/playout_delay.py against its rtp.py, "
        "codecs/__init__.py and rtcrtpsender.py, then add the version to SUPPORTED"
    )
