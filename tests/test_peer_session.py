"""The whole peer against the real signaling server and a real aiortc operator, on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from loopback_ice import LOOPBACK, candidate_addresses, loopback_only
from sigclient import Endpoint, SigClient, add_operator, server_settings
from xvfb import Block, ColourBlocks, hex_to_bgr, virtual_display

from peer import encoder
from peer.cli import HeadlessUI
from peer.session import PeerSession
from peer.settings import PeerSettings
from signaling.app import create_app
from wire import protocol as p

BLOCKS = [Block(200, 150, 300, 200, "#ff0000"), Block(800, 300, 300, 200, "#0000ff")]
PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(1280, 720) as name, ColourBlocks(name, BLOCKS):
        yield name


@pytest.fixture(autouse=True)
def loopback() -> Iterator[None]:
    with loopback_only():
        yield
    encoder.uninstall()


@pytest.fixture
async def endpoint(tmp_path: Path, aiohttp_server: Any) -> tuple[Endpoint, str]:
    add_operator(tmp_path / "data", "alice", PASSWORD)
    server = await aiohttp_server(create_app(server_settings(tmp_path)), host="127.0.0.1")
    import aiohttp

    http = aiohttp.ClientSession()
    ep = Endpoint(http, str(server.make_url("/")))
    token = await ep.login("alice", PASSWORD)
    yield ep, token  # type: ignore[misc]
    await http.close()


class RecordingUI(HeadlessUI):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def _line(self, text: str) -> None:
        self.lines.append(text)


class Operator:
    """The operator's browser, played by aiortc: answers the offer, records what arrives."""

    def __init__(self, sig: SigClient) -> None:
        self.sig = sig
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.control: list[Any] = []
        self.track: MediaStreamTrack | None = None
        self.pc.on("datachannel", self._channel)
        self.pc.on("track", self._track)

    def _channel(self, channel: Any) -> None:
        channel.on("message", lambda m: self.control.append(p.parse(m, p.CONTROL)))

    def _track(self, track: MediaStreamTrack) -> None:
        self.track = track

    async def accept_and_answer(self) -> tuple[str, str]:
        request = await self.sig.expect(p.JoinRequest)
        await self.sig.send(p.Accept(session_id=request.session_id))
        await self.sig.expect(p.Paired)
        offer = await self.sig.expect(p.Offer, timeout=10)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        answer = self.pc.localDescription.sdp
        await self.sig.send(p.Answer(sdp=answer))
        return offer.sdp, answer

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.05)


def settings(ep: Endpoint, code: str, allow: frozenset[str]) -> PeerSettings:
    return PeerSettings(server=ep.base, code=code, allow=allow, headless=True, idle_refresh=0.2)


async def test_allowed_view_shows_the_screen_and_disconnect_ends_for_good(
    endpoint: tuple[Endpoint, str], display: str
) -> None:
    ep, token = endpoint
    sig = await ep.operator(token)
    created = await sig.create("screen")
    ui = RecordingUI()
    session = PeerSession(settings(ep, created.code, frozenset({"view"})), ui, display=display)
    run = asyncio.ensure_future(session.run(created.code))
    operator = Operator(sig)
    offer, answer = await operator.accept_and_answer()
    assert candidate_addresses(offer) == {LOOPBACK} == candidate_addresses(answer)

    await operator.wait_for(lambda: operator.track is not None)
    assert operator.track is not None
    frame = await asyncio.wait_for(operator.track.recv(), 10)
    assert isinstance(frame, av.VideoFrame)
    pixels = frame.to_ndarray(format="bgr24")
    for block in BLOCKS:
        got = tuple(int(v) for v in pixels[block.y + 100, block.x + 150])
        assert all(abs(a - e) < 30 for a, e in zip(got, hex_to_bgr(block.colour), strict=True))
    await operator.wait_for(lambda: p.ConsentState(granted=("view", "chat")) in operator.control)
    code = p.verification_code(p.sdp_fingerprint(answer), p.sdp_fingerprint(offer))
    assert f"verification code: {code}" in ui.lines

    session.disconnect()
    outcome = await asyncio.wait_for(run, 10)
    assert outcome.exit_status == 0
    await sig.expect_bye("peer_ended")
    assert ui.lines[-1] == "ended: you ended the session"
    assert "consent: view allowed (pre-granted by --allow)" in ui.lines
    await operator.pc.close()

    # the code can never be used again
    again = RecordingUI()
    second = PeerSession(settings(ep, created.code, frozenset()), again, display=display)
    outcome = await asyncio.wait_for(second.run(created.code), 10)
    assert outcome.exit_status == 2
    assert again.lines[-1].startswith("ended: code refused (used_code)")
    await sig.close()


async def test_without_consent_no_frame_leaves(
    endpoint: tuple[Endpoint, str], display: str
) -> None:
    ep, token = endpoint
    sig = await ep.operator(token)
    created = await sig.create("screen")
    ui = RecordingUI()
    session = PeerSession(settings(ep, created.code, frozenset()), ui, display=display)
    run = asyncio.ensure_future(session.run(created.code))
    operator = Operator(sig)
    await operator.accept_and_answer()
    denied = p.ConsentReply(capability="view", allowed=False)
    await operator.wait_for(lambda: denied in operator.control)
    assert p.ConsentState(granted=("chat",)) in operator.control
    assert "consent: view denied (not in --allow)" in ui.lines
    await operator.wait_for(lambda: operator.track is not None)
    assert operator.track is not None
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(operator.track.recv(), 1.5)
    assert session.track is not None and session.track.stats.opens == 0

    await sig.send(p.Bye(reason="operator_ended"))
    outcome = await asyncio.wait_for(run, 10)
    assert outcome.exit_status == 0
    assert ui.lines[-1] == "ended: the operator ended the session"
    await operator.pc.close()
    await sig.close()


async def test_wrong_code_is_refused_with_the_servers_words(
    endpoint: tuple[Endpoint, str],
) -> None:
    ep, _ = endpoint
    ui = RecordingUI()
    session = PeerSession(settings(ep, "00000000", frozenset()), ui)
    outcome = await asyncio.wait_for(session.run("00000000"), 10)
    assert outcome.exit_status == 2
    assert ui.lines[-1].startswith("ended: code refused (unknown_code): ")


async def test_headless_cli_sigterm_while_waiting_ends_cleanly(
    endpoint: tuple[Endpoint, str],
) -> None:
    """The real ``supportlink-peer`` process; stopped before pairing, so no ICE at all."""
    import os
    import signal
    import sys

    ep, token = endpoint
    sig = await ep.operator(token)
    created = await sig.create("screen")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "SUPPORTLINK_SERVER")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "peer.cli",
        "--server",
        ep.base,
        "--code",
        created.code,
        "--allow",
        "view",
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    await sig.expect(p.JoinRequest, timeout=10)
    line = await asyncio.wait_for(proc.stdout.readline(), 5)
    lines = [line.decode()]
    while "waiting for alice to accept" not in lines[-1]:
        lines.append((await asyncio.wait_for(proc.stdout.readline(), 5)).decode())
    proc.send_signal(signal.SIGTERM)
    rest, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0
    out = "".join(lines) + rest.decode()
    assert "status: checking the code" in out
    assert out.rstrip().endswith("ended: you ended the session")
    await sig.expect_bye("peer_ended")
    await sig.close()
