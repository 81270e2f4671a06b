"""Renegotiation against the real console in Chromium: the peer adds a track to a connected
session and takes it out again; sound flows while it is there, and the picture, the consent,
the verification code and the chat are undisturbed throughout."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .console import Console
from .netns import NetNS
from .procs import Proc, Procs
from .screen import Screen
from .services import Server, child_env

RIG = Path(__file__).with_name("renegotiating_peer.py")

# The <audio> element's track: null, or whether it is live and receiving (not muted).
_AUDIO = """() => {
    const audio = document.getElementById("voice-audio");
    const track = audio && audio.srcObject ? audio.srcObject.getAudioTracks()[0] : null;
    return track ? {state: track.readyState, muted: track.muted} : null;
}"""


def _frames(console: Console) -> int:
    return int(console.video_state()["frames"])


def _picture_moves(console: Console, within: float = 10) -> None:
    """New frames keep arriving (the screen painter changes nothing, but refreshes come)."""
    first = _frames(console)
    deadline = time.monotonic() + within
    while _frames(console) <= first:
        assert time.monotonic() < deadline, "the picture stopped"
        time.sleep(0.2)


def test_a_track_added_and_removed_mid_session(
    console: Console, netns: NetNS, procs: Procs, xvfb: Screen, server: Server
) -> None:
    from playwright.sync_api import expect

    def start(code: str, *, allow: Sequence[str]) -> Proc:
        command = [sys.executable, str(RIG), "--server", server.url, "--code", code]
        command += ["--allow", ",".join(allow)]
        env = child_env(DISPLAY=xvfb.display)
        return procs.start("peer", netns.argv(command), env=env, stdin_open=True)

    peer = console.connect(start, allow=("view", "control"))
    page = console.page
    console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=20)
    code = console.verification_code()
    assert page.evaluate(_AUDIO) is None

    peer.write_line("/add-audio")
    peer.wait_for_line(r"^rig: audio added$", timeout=20)
    page.wait_for_function(
        "() => { const a = document.getElementById('voice-audio');"
        " const t = a && a.srcObject ? a.srcObject.getAudioTracks()[0] : null;"
        " return t && t.readyState === 'live' && !t.muted; }",
        timeout=15_000,
    )
    _picture_moves(console)
    console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=10)
    assert console.verification_code() == code
    expect(page.locator("#consent")).to_contain_text("remote control")

    peer.write_line("/remove-audio")
    peer.wait_for_line(r"^rig: audio removed$", timeout=20)
    page.wait_for_function(
        "() => !document.getElementById('voice-audio').srcObject", timeout=10_000
    )
    _picture_moves(console)
    console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=10)
    assert console.verification_code() == code
    assert console.status().startswith("Connected"), console.status()
    peer.write_line("still here after two renegotiations")
    customer = page.locator("#chat-log .chat-msg[data-who=customer] .chat-text")
    expect(customer).to_have_text("still here after two renegotiations", timeout=10_000)
