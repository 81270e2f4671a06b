"""A lost connection comes back without a new code: the real peer, the real server and an
aiortc operator on loopback. The peer's signaling socket drops, or the media connection
fails; the session goes on over a fresh connection with the same verification code and the
customer's consent unchanged, or ends cleanly when the time to come back has run out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from conftest import OPERATOR_PASSWORD, start_session, until
from sigclient import Endpoint, add_operator, server_settings
from xvfb import Block, ColourBlocks, hex_to_bgr, virtual_display

from peer.session import PeerSession
from signaling.app import create_app
from wire import protocol as p

BLOCKS = [Block(100, 100, 300, 200, "#ff0000"), Block(700, 300, 300, 200, "#0000ff")]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(1280, 720) as name, ColourBlocks(name, BLOCKS):
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer", "peer_display")


def endpoint_with(resume_within: float) -> Any:
    @pytest.fixture
    async def endpoint(tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[tuple[Endpoint, str]]:
        add_operator(tmp_path / "data", "alice", OPERATOR_PASSWORD)
        app = create_app(server_settings(tmp_path, resume_within=resume_within))
        server = await aiohttp_server(app, host="127.0.0.1")
        http = aiohttp.ClientSession()
        ep = Endpoint(http, str(server.make_url("/")))
        yield ep, await ep.login("alice", OPERATOR_PASSWORD)
        await http.close()

    return endpoint


patient = endpoint_with(30)
impatient = endpoint_with(2)


async def red_frame(track: Any) -> None:
    """Wait for a frame of the customer's screen with the red block in its place."""
    async with asyncio.timeout(15):
        while True:
            frame = await track.recv()
            assert isinstance(frame, av.VideoFrame)
            pixel = frame.to_ndarray(format="bgr24")[200, 250]
            if all(abs(int(a) - b) < 40 for a, b in zip(pixel, hex_to_bgr("#ff0000"), strict=True)):
                return


def drop_signaling(session: PeerSession) -> None:
    """The customer's socket to the server breaks (as when the network drops)."""
    signal = session._signal
    assert signal is not None and signal._ws is not None
    transport = signal._ws._response.connection.transport  # type: ignore[union-attr]
    transport.abort()


async def test_a_dropped_socket_comes_back_with_the_same_code_and_consent(
    patient: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(patient, display, allow=frozenset({"view", "control"}))
    op, session, ui = r.operator, r.session, r.ui
    await until(lambda: ("view", "control", "chat") in op.states())
    first_code = op.answers[0]
    verification = [line for line in ui.lines if line.startswith("verification code")]
    assert len(verification) == 1
    assert op.track is not None
    await red_frame(op.track)

    drop_signaling(session)
    # the operator hears the customer is away, then that both are back
    await until(lambda: any(isinstance(m, p.Interrupted) for m in op.signals), 10)
    await until(lambda: any(isinstance(m, p.Resumed) for m in op.signals), 15)
    # a fresh connection: new channels, the same certificates on both sides
    await until(lambda: len(op.offers) >= 2, 15)
    assert p.sdp_fingerprint(op.offers[0]) == p.sdp_fingerprint(op.offers[-1])
    assert p.sdp_fingerprint(first_code) == p.sdp_fingerprint(op.answers[-1])
    await until(lambda: "status: connected again" in ui.lines, 15)
    # what the customer allowed is said again on the new channels, and still holds
    await until(lambda: op.states().count(("view", "control", "chat")) >= 2, 10)
    track = op.latest_track
    assert track is not None and track is not op.track
    await red_frame(track)
    op.input(p.PointerMove(x=0.5, y=0.5))
    await r.settled(1)
    # one verification code for the whole session: nothing new to compare
    assert [line for line in ui.lines if line.startswith("verification code")] == verification
    await r.end()


async def test_a_failed_media_connection_is_replaced(
    patient: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(patient, display, allow=frozenset({"view"}))
    op, session, ui = r.operator, r.session, r.ui
    assert op.track is not None
    await red_frame(op.track)
    # the operator's side of the connection goes away without a word (a crashed tab, a
    # dead route): the customer's ICE fails and the peer offers a fresh connection
    await op.pc.close()
    session._connection_state("failed")
    await until(lambda: len(op.offers) >= 2, 20)
    await until(lambda: "status: connected again" in ui.lines, 20)
    track = op.latest_track
    assert track is not None
    await red_frame(track)
    await r.end()


async def test_when_nobody_comes_back_in_time_both_sides_end(
    impatient: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(impatient, display, allow=frozenset({"view"}))
    op, session, ui = r.operator, r.session, r.ui
    # the operator's console vanishes for good
    await op.sig.close()
    await until(lambda: any("connection was lost" in line for line in ui.lines), 10)
    outcome = await asyncio.wait_for(r.run, 15)
    assert outcome.exit_status == 0
    assert outcome.message == "the operator's connection was lost"
    assert session.track is None or session.track.readyState == "ended"
    await op.close()
