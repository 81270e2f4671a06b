"""Voice end to end: the operator's console in headless Chromium with a fake microphone playing
a 440 Hz tone, the customer's headless peer with its microphone and speakers on a private
PulseAudio server (``tests/audio_rig.py``) where a 1 kHz tone is "said" into the microphone.

What the operator hears is analysed in the page (a Web Audio ``AnalyserNode`` on the customer's
voice); what the customer hears is recorded from the speakers' monitor."""

from __future__ import annotations

import re
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_rig import PulseRig, have_pulseaudio, peak_frequency, tone

from .browser import chromium, secure_origin
from .console import CONNECTED, Console, StartPeer
from .netns import NetNS
from .procs import Procs
from .screen import Screen
from .services import Server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.skipif(
    not have_pulseaudio(), reason="needs pulseaudio (scripts/test installs it)"
)


def dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0
    return -100.0 if rms < 1 else 20 * np.log10(rms / 32768)


@pytest.fixture(scope="module")
def rig() -> Iterator[PulseRig]:
    with PulseRig() as r:
        yield r


@pytest.fixture
def browser(netns: NetNS, procs: Procs, server: Server, tmp_path: Path) -> Iterator[Browser]:
    """Chromium whose fake microphone plays a 440 Hz tone (looped). The console is served
    over plain http on a namespace address here, which browsers do not count as a secure
    page (no microphone there, as the console says): this one is told to count it."""
    wav = tmp_path / "tone440.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(tone(440, 5.0, 0.5).astype("<i2").tobytes())
    extra = [
        f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
        secure_origin(server.url),
    ]
    with chromium(netns, tmp_path / "chromium", extra) as launched:
        yield launched


def customer_hears(rig: PulseRig, seconds: float = 1.0) -> tuple[float, float]:
    """Peak frequency and level of what the customer's speakers play."""
    samples = rig.record("spk.monitor", seconds)
    return peak_frequency(samples), dbfs(samples)


def wait_customer_hears(rig: PulseRig, freq: float, timeout: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout
    last = (0.0, -100.0)
    while time.monotonic() < deadline:
        last = customer_hears(rig)
        if abs(last[0] - freq) < 15 and last[1] > -40:
            return
    raise AssertionError(f"the customer does not hear {freq} Hz: {last}")


def level(console: Console, which: str) -> float:
    return float(console.page.locator(f"#voice-{which}-level").get_attribute("data-level") or -100)


def test_a_screen_session_gets_voice_mid_way_both_ways_with_mute_and_hang_up(
    console: Console, start_peer: StartPeer, xvfb: Screen, rig: PulseRig, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    peer = console.connect(start_peer, allow=("view", "voice"), env=rig.env())
    console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=20)
    page = console.page
    player = rig.play_tone("src", 1000, 120)  # the customer talks into the microphone
    try:
        page.locator("#voice-start").click()
        peer.wait_for_line(r"^voice: Your microphone is on", timeout=15)
        console.wait_to_hear(1000)
        wait_customer_hears(rig, 440)
        expect(page.locator("#voice-state")).not_to_be_empty()
        page.wait_for_function(
            "() => Number(document.querySelector('#voice-out-level').dataset.level) > -50",
            timeout=10_000,
        )
        page.wait_for_function(
            "() => Number(document.querySelector('#voice-mic-level').dataset.level) > -50",
            timeout=10_000,
        )
        # the screen is still there: voice came by renegotiation, view went on
        console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=10)
        page.screenshot(path=str(tmp_path / "voice-on.png"))

        # the operator mutes: the customer hears nothing; unmutes: hears them again
        page.locator("#voice-mute").click()
        _freq, muted = customer_hears(rig, 0.5)
        _freq, muted = customer_hears(rig, 0.8)
        assert muted < -50, muted
        page.locator("#voice-mute").click()
        wait_customer_hears(rig, 440, timeout=10)

        # hang up: the customer's side closes its devices and stops hearing
        page.locator("#voice-hangup").click()
        peer.wait_for_line(r"^voice: Voice call ended", timeout=10)
        _freq, after = customer_hears(rig, 0.8)
        assert after < -50, after
        assert re.search(r"\S", page.locator("#voice-state").inner_text())
        console.wait_status(CONNECTED, timeout=5)  # the session goes on
    finally:
        player.kill()


def test_a_call_shows_a_call_view_never_grabs_the_screen_and_adds_it_when_allowed(
    console: Console, start_peer: StartPeer, xvfb: Screen, rig: PulseRig, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    console.log_in()
    page = console.page
    page.locator("#new-call-button").click()
    code = page.locator("#session-code")
    expect(code).to_have_text(re.compile(r"^\d{4} \d{4}$"), timeout=10_000)
    player = rig.play_tone("src", 1000, 120)
    try:
        peer = start_peer(
            code.inner_text().strip(),
            allow=("view", "voice"),
            extra_args=["-v"],
            env=rig.env(),
        )
        console.accept()
        console.wait_status(CONNECTED, timeout=30)
        expect(page.locator("#call-view")).to_be_visible(timeout=10_000)
        # the call asks for voice by itself: both sides hear each other
        peer.wait_for_line(r"^voice: Your microphone is on", timeout=15)
        console.wait_to_hear(1000)
        wait_customer_hears(rig, 440)
        expect(page.locator("#call-duration")).to_have_text(re.compile(r"^\d+:\d\d$"))
        expect(page.locator("#call-quality")).not_to_be_empty(timeout=10_000)
        page.screenshot(path=str(tmp_path / "call-view.png"))
        # no screen capture was ever opened (the peer says so when it opens one)
        assert "screen capture: closed -> open" not in peer.output()

        page.locator("#call-see-screen").click()
        console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=20)
        assert "screen capture: closed -> open" in peer.output()
        console.wait_to_hear(1000, timeout=10)  # voice went on through the renegotiation
        page.screenshot(path=str(tmp_path / "call-with-screen.png"))
    finally:
        player.kill()
