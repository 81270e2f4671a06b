"""The peer's aiortc side against a real aiortc "operator", in one process, on loopback only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import av
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from loopback_ice import LOOPBACK, candidate_addresses, loopback_only
from xvfb import Block, ColourBlocks, hex_to_bgr, virtual_display

from peer import encoder
from peer.capture import ScreenTrack, default_grabber
from peer.connection import PeerLink, rtc_configuration
from wire import protocol

BLOCKS = [Block(100, 100, 300, 200, "#ff0000"), Block(700, 400, 300, 200, "#00ff00")]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(1280, 720) as name, ColourBlocks(name, BLOCKS):
        yield name


@pytest.fixture(autouse=True)
def loopback() -> Iterator[None]:
    with loopback_only():
        yield


@pytest.fixture(params=["vp8", "h264"])
def codec(request: pytest.FixtureRequest) -> Iterator[str]:
    encoder.install(encoder.EncoderTuning())
    yield str(request.param)
    encoder.uninstall()


class Operator:
    """A real RTCPeerConnection answering the peer's offer, recording what arrives."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.control: list[Any] = []
        self.chat: list[Any] = []
        self.channel: Any = None
        self.input: Any = None
        self.chat_channel: Any = None
        self.channel_open = asyncio.Event()
        self.input_open = asyncio.Event()
        self.track: MediaStreamTrack | None = None
        self.got_track = asyncio.Event()
        self.pc.on("datachannel", self._datachannel)
        self.pc.on("track", self._track)

    def _datachannel(self, channel: Any) -> None:
        if channel.label == "input":
            self.input = channel
            self.input_open.set()
            return
        if channel.label == "chat":
            self.chat_channel = channel
            channel.on("message", lambda m: self.chat.append(protocol.parse(m, protocol.CHAT)))
            return
        if channel.label != "control":
            return
        self.channel = channel
        channel.on("message", lambda m: self.control.append(protocol.parse(m, protocol.CONTROL)))
        self.channel_open.set()

    def _track(self, track: MediaStreamTrack) -> None:
        self.track = track
        self.got_track.set()

    async def answer(self, offer: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        sdp: str = self.pc.localDescription.sdp
        return sdp

    def states(self) -> list[tuple[str, ...]]:
        return [m.granted for m in self.control if isinstance(m, protocol.ConsentState)]


class Recorder:
    def __init__(self) -> None:
        self.control: list[Any] = []
        self.messages: list[tuple[str, Any]] = []
        self.opened = asyncio.Event()
        self.states: list[str] = []

    def message(self, label: str, msg: Any) -> None:
        self.messages.append((label, msg))
        if label == "control":
            self.control.append(msg)

    def channel_open(self, label: str) -> None:
        if label == "control":
            self.opened.set()


@pytest.fixture
async def pair(display: str, codec: str) -> AsyncIterator[tuple[PeerLink, Operator, Recorder]]:
    track = ScreenTrack(fps=30, idle_refresh=0.2, grabber=default_grabber(display), display=display)
    rec = Recorder()
    link = PeerLink(
        [],
        track=track,
        codec=codec,
        on_message=rec.message,
        on_channel_open=rec.channel_open,
        on_state=rec.states.append,
    )
    operator = Operator()
    yield link, operator, rec
    track.stop()
    await link.close()
    await operator.pc.close()


async def connect(link: PeerLink, operator: Operator) -> tuple[str, str]:
    offer = await link.offer()
    answer = await operator.answer(offer)
    code = await link.accept_answer(answer)
    await asyncio.wait_for(operator.channel_open.wait(), 10)
    return offer, code


def test_configuration_never_falls_back_to_public_stun() -> None:
    assert rtc_configuration([]).iceServers == []
    turn = protocol.IceServer(
        urls=("turns:127.0.0.1:443?transport=tcp",), username="u", credential="c"
    )
    (server,) = rtc_configuration([turn]).iceServers
    assert server.urls == ["turns:127.0.0.1:443?transport=tcp"] and server.username == "u"


async def test_frames_show_the_screen_once_view_is_allowed(
    pair: tuple[PeerLink, Operator, Recorder], codec: str
) -> None:
    link, operator, rec = pair
    offer, code = await connect(link, operator)
    assert candidate_addresses(offer) == {LOOPBACK}
    assert candidate_addresses(operator.pc.localDescription.sdp) == {LOOPBACK}
    assert f"{codec.upper()}/90000" in offer.upper() and (
        "VP8/90000" not in offer.upper() if codec == "h264" else "H264/90000" not in offer.upper()
    )
    assert code == protocol.verification_code(
        protocol.sdp_fingerprint(operator.pc.localDescription.sdp), protocol.sdp_fingerprint(offer)
    )
    await asyncio.wait_for(operator.got_track.wait(), 5)
    assert operator.track is not None
    # consent not given yet: nothing arrives
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(operator.track.recv(), 1.0)
    track = link.pc.getTransceivers()[0].sender.track
    assert isinstance(track, ScreenTrack) and track.stats.grabs == 0
    track.open_gate()
    frame = await asyncio.wait_for(operator.track.recv(), 10)
    assert isinstance(frame, av.VideoFrame) and (frame.width, frame.height) == (1280, 720)
    pixels = frame.to_ndarray(format="bgr24")
    for block in BLOCKS:
        b, g, r = (int(v) for v in pixels[block.y + 100, block.x + 150])
        expected = hex_to_bgr(block.colour)
        assert all(abs(a - e) < 30 for a, e in zip((b, g, r), expected, strict=True)), block
    # revoke: the track stops at once, no more frames
    track.close_gate()
    await asyncio.sleep(0.3)  # let the frame in flight (and the jitter buffer) drain
    drained = 0
    while True:
        try:
            await asyncio.wait_for(operator.track.recv(), 0.7)
            drained += 1
        except TimeoutError:
            break
    assert drained <= 2


async def test_bad_control_messages_are_dropped_and_counted(
    pair: tuple[PeerLink, Operator, Recorder],
) -> None:
    link, operator, rec = pair
    await connect(link, operator)
    await asyncio.wait_for(rec.opened.wait(), 5)
    channel = operator.channel
    channel.send("{not json")
    channel.send(json.dumps({"type": "no_such_thing"}))
    channel.send(json.dumps({"type": "consent_request", "capability": "view", "x": 1}))
    channel.send(json.dumps({"type": "consent_reply", "capability": "view", "allowed": True}))
    channel.send(json.dumps({"type": "consent_state", "granted": ["view", "control"]}))
    channel.send(json.dumps({"type": "clipboard", "text": "x" * 10}))
    channel.send(json.dumps({"type": "consent_request", "capability": "x" * 20_000}))
    channel.send(b"\x00\x01binary")
    channel.send(json.dumps({"type": "consent_request", "capability": "control"}))
    for _ in range(50):
        if len(rec.control) == 2:
            break
        await asyncio.sleep(0.05)
    assert rec.control == [
        protocol.Clipboard(text="x" * 10),
        protocol.ConsentRequest(capability="control"),
    ]
    assert link.dropped == {
        "bad_json": 1,
        "unknown_type": 1,
        "bad_message": 1,
        "unexpected_message": 2,
        "too_large": 1,
        "binary": 1,
    }
    # the session goes on: the channel still carries messages both ways
    link.send("control", protocol.ConsentState(granted=()))
    for _ in range(50):
        if operator.states():
            break
        await asyncio.sleep(0.05)
    assert operator.states() == [()]


async def test_end_of_candidates_lets_a_pathless_connection_fail(
    pair: tuple[PeerLink, Operator, Recorder],
) -> None:
    """A browser answers before it has gathered (no candidates, no a=end-of-candidates in the
    SDP) and trickles the end-of-candidates marker later. When none of its candidates is
    reachable (here: there are none at all) the peer's ICE must then fail, not wait for more."""
    link, operator, rec = pair
    offer = await link.offer()
    answer = await operator.answer(offer)
    pathless = "".join(
        line
        for line in answer.splitlines(keepends=True)
        if not line.startswith(("a=candidate", "a=end-of-candidates"))
    )
    await link.accept_answer(pathless)
    await link.add_candidate(protocol.Candidate(candidate="", sdp_mid="0", sdp_mline_index=0))
    for _ in range(100):
        if "failed" in rec.states:
            break
        await asyncio.sleep(0.1)
    assert "failed" in rec.states, rec.states


async def until(predicate: Any, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_every_channel_of_the_table_is_created_with_its_delivery(
    pair: tuple[PeerLink, Operator, Recorder],
) -> None:
    link, operator, rec = pair
    assert set(link.channels) == {c.label for c in protocol.CHANNELS}
    for spec in protocol.CHANNELS:
        channel = link.channels[spec.label]
        assert channel.ordered == spec.ordered
        assert channel.maxRetransmits == spec.max_retransmits
    await connect(link, operator)
    await until(lambda: operator.chat_channel is not None and operator.input is not None)


async def test_bad_chat_frames_are_answered_with_an_error_and_good_ones_still_pass(
    pair: tuple[PeerLink, Operator, Recorder],
) -> None:
    link, operator, rec = pair
    await connect(link, operator)
    await until(lambda: operator.chat_channel is not None)
    chat = operator.chat_channel
    await until(lambda: chat.readyState == "open")
    chat.send(b"\x00binary")
    chat.send(json.dumps({"type": "chat", "text": ""}))
    chat.send(json.dumps({"type": "clipboard", "text": "on the wrong channel"}))
    chat.send(json.dumps({"type": "chat", "text": "<b>still here</b> \u202e\U0001f44d"}))
    await until(lambda: len(rec.messages) == 1 and len(operator.chat) == 3)
    assert rec.messages == [("chat", protocol.Chat(text="<b>still here</b> \u202e\U0001f44d"))]
    assert [m.code for m in operator.chat] == ["bad_json", "bad_message", "unknown_type"]
    assert all(isinstance(m, protocol.Error) and m.message for m in operator.chat)
    # a flood of bad frames gets a bounded number of answers, never a flood back
    for _ in range(200):
        chat.send("{")
    await until(lambda: link.dropped["bad_json"] == 200)
    await asyncio.sleep(0.3)
    assert len(operator.chat) <= 3 + 2 * 5


async def test_a_channel_the_operator_opens_is_closed_and_counted(
    pair: tuple[PeerLink, Operator, Recorder],
) -> None:
    link, operator, rec = pair
    stray = operator.pc.createDataChannel("teleport")
    await connect(link, operator)
    await until(lambda: link.dropped["unknown_channel"] == 1)
    await until(lambda: stray.readyState == "closed")
    # and the session's own channels still work
    link.send("control", protocol.ConsentState(granted=("chat",)))
    await until(lambda: operator.states() == [("chat",)])
