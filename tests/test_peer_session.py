"""The whole peer against the real signaling server and a real aiortc operator, on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from conftest import LoopbackOperator, RecordingUI, until
from loopback_ice import LOOPBACK, candidate_addresses
from sigclient import Endpoint
from xvfb import Block, ColourBlocks, hex_to_bgr, virtual_display

from peer.session import PeerSession
from peer.settings import PeerSettings
from signaling.store import Store
from wire import protocol as p

BLOCKS = [Block(200, 150, 300, 200, "#ff0000"), Block(800, 300, 300, 200, "#0000ff")]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(1280, 720) as name, ColourBlocks(name, BLOCKS):
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer")


def settings(ep: Endpoint, code: str, allow: frozenset[str]) -> PeerSettings:
    return PeerSettings(server=ep.base, code=code, allow=allow, headless=True, idle_refresh=0.2)


async def test_allowed_view_shows_the_screen_and_disconnect_ends_for_good(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    ep, token = loopback_endpoint
    sig = await ep.operator(token)
    created = await sig.create("screen")
    ui = RecordingUI()
    session = PeerSession(settings(ep, created.code, frozenset({"view"})), ui, display=display)
    run = asyncio.ensure_future(session.run(created.code))
    operator = LoopbackOperator(sig)
    await operator.accept()
    offer, answer = operator.offers[0], operator.answers[0]
    assert candidate_addresses(offer) == {LOOPBACK} == candidate_addresses(answer)

    await until(lambda: operator.track is not None)
    assert operator.track is not None
    frame = await asyncio.wait_for(operator.track.recv(), 10)
    assert isinstance(frame, av.VideoFrame)
    pixels = frame.to_ndarray(format="bgr24")
    for block in BLOCKS:
        got = tuple(int(v) for v in pixels[block.y + 100, block.x + 150])
        assert all(abs(a - e) < 30 for a, e in zip(got, hex_to_bgr(block.colour), strict=True))
    await until(lambda: p.ConsentState(granted=("view", "chat")) in operator.control)
    # the server's audit learns from the customer's side what was allowed (names only)
    with Store(tmp_path / "data") as store:
        await until(lambda: store.list_sessions(1)[0].capabilities == ("view", "chat"))
    code = p.verification_code(p.sdp_fingerprint(answer), p.sdp_fingerprint(offer))
    assert f"verification code: {code}" in ui.lines

    session.disconnect()
    outcome = await asyncio.wait_for(run, 10)
    assert outcome.exit_status == 0
    await until(lambda: operator.bye is not None)  # the operator's sig reads it
    assert operator.bye == "peer_ended"
    assert ui.lines[-1] == "ended: you ended the session"
    assert "consent: view allowed (pre-granted by --allow)" in ui.lines
    await operator.close()

    # the code can never be used again
    again = RecordingUI()
    second = PeerSession(settings(ep, created.code, frozenset()), again, display=display)
    outcome = await asyncio.wait_for(second.run(created.code), 10)
    assert outcome.exit_status == 2
    assert again.lines[-1].startswith("ended: code refused: this code has already been used")
    await sig.close()


async def test_without_consent_no_frame_leaves(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    ep, token = loopback_endpoint
    sig = await ep.operator(token)
    created = await sig.create("screen")
    ui = RecordingUI()
    session = PeerSession(settings(ep, created.code, frozenset()), ui, display=display)
    run = asyncio.ensure_future(session.run(created.code))
    operator = LoopbackOperator(sig)
    await operator.accept()
    denied = p.ConsentReply(capability="view", allowed=False)
    await until(lambda: denied in operator.control)
    assert p.ConsentState(granted=("chat",)) in operator.control
    assert "consent: view denied (not in --allow)" in ui.lines
    await until(lambda: operator.track is not None)
    assert operator.track is not None
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(operator.track.recv(), 1.5)
    assert session.track is not None and session.track.stats.opens == 0

    await sig.send(p.Bye(reason="operator_ended"))
    outcome = await asyncio.wait_for(run, 10)
    assert outcome.exit_status == 0
    assert ui.lines[-1] == "ended: the operator ended the session"
    await operator.close()
    await sig.close()


async def test_wrong_code_is_refused_with_the_servers_words(
    loopback_endpoint: tuple[Endpoint, str],
) -> None:
    ep, _ = loopback_endpoint
    ui = RecordingUI()
    session = PeerSession(settings(ep, "00000000", frozenset()), ui)
    outcome = await asyncio.wait_for(session.run("00000000"), 10)
    assert outcome.exit_status == 2
    assert ui.lines[-1].startswith("ended: code refused: ")
    assert "unknown_code" not in ui.lines[-1]  # words for people, not the wire's token


async def test_headless_cli_sigterm_while_waiting_ends_cleanly(
    loopback_endpoint: tuple[Endpoint, str],
) -> None:
    """The real ``supportlink-peer`` process; stopped before pairing, so no ICE at all."""
    import os
    import signal
    import sys

    ep, token = loopback_endpoint
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
