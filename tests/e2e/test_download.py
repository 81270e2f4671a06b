"""The customer's way in, end to end: the page on the server, the one-file program it hands
out, and that program run with nothing installed -- no Python, no virtual environment, an
environment as empty as ``env -i`` -- joining the session whose code the page had.

The program is built once per run by ``scripts/build-peer`` (reused while the sources do not
change), as a support desk would build it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from audio_rig import PulseRig

from wire import binding

from .console import Console
from .netns import NetNS
from .procs import Procs
from .screen import Screen
from .services import start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

#: The first test here builds the program (about 1.5 minutes on 2 cores, more under load).
pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parents[2]
BUILD_OUT = ROOT / "build" / "peer-test-downloads"
CONNECTED = r"Connected|Viewing"


@pytest.fixture(scope="session")
def peer_build(e2e_ready: None) -> Path:
    """The folder ``scripts/build-peer`` wrote (program, wheel, licences, manifest)."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_peer.py"),
            "--out",
            str(BUILD_OUT),
            "--work",
            str(ROOT / "build" / "peer"),
            "--reuse",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise AssertionError(f"scripts/build-peer failed:\n{done.stdout}\n{done.stderr[-6000:]}")
    return BUILD_OUT


def packed_files(program: Path) -> dict[str, int]:
    """The files in the folder packed behind the launcher, with their sizes (the footer, as
    scripts/launcher.c reads it: the payload's size, its key, the magic)."""
    with program.open("rb") as f:
        f.seek(-48, 2)
        footer = f.read(48)
        assert footer.endswith(b"SLPAYLD1"), footer
        size = int.from_bytes(footer[:8], "little")
        f.seek(-48 - size, 2)
        with tarfile.open(fileobj=f, mode="r|gz") as tar:
            return {member.name: member.size for member in tar}


def test_the_program_carries_portaudio_but_not_alsa_jack_or_numpy(peer_build: Path) -> None:
    """Voice in the download: PortAudio inside (libportaudio2 may not be installed), ALSA left
    to the customer's system, JACK a stub of a few kB, no numpy (scripts/build_peer.py)."""
    program = next(peer_build.glob("supportlink-peer-linux-*"))
    files = packed_files(program)
    names = {Path(n).relative_to("supportlink-peer").as_posix(): size for n, size in files.items()}
    assert "_internal/libportaudio.so.2" in names
    assert names["_internal/libjack.so.0"] < 64_000  # the stub (the real one: 330 kB, + libdb)
    assert not any("libdb-" in n for n in names)
    assert "_internal/libasound.so.2" not in names
    assert not any(n.startswith("_internal/numpy") for n in names)


def clean_env(screen: Screen, home: Path) -> dict[str, str]:
    """What a desktop session gives a double-clicked program, and nothing of this test's
    Python: no virtual environment, no PYTHONPATH, only the system's PATH."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "DISPLAY": screen.display,
        "HOME": str(home),
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
    }


def x_window_named(ns: NetNS, screen: Screen, name: str, timeout: float) -> str:
    """The id of a window whose title contains ``name``, waiting up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = ns.run(
            ["xdotool", "search", "--name", re.escape(name)],
            check=False,
            env={"DISPLAY": screen.display, "PATH": "/usr/bin:/bin"},
            timeout=10,
        )
        if found.returncode == 0 and found.stdout.strip():
            return str(found.stdout.split()[0])
        if time.monotonic() > deadline:
            raise AssertionError(f"no window named {name!r} after {timeout} s")
        time.sleep(0.2)


@pytest.fixture
def console_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def customer_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="en-US", accept_downloads=True, viewport={"width": 1280, "height": 800}
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_customer_downloads_the_program_from_the_page_and_is_seen(
    netns: NetNS,
    procs: Procs,
    xvfb: Screen,
    tmp_path: Path,
    console_page: Page,
    customer_page: Page,
    peer_build: Path,
) -> None:
    from playwright.sync_api import expect

    server = start_server(
        procs, netns, tmp_path / "server-data", extra_args=["--downloads-dir", str(peer_build)]
    )
    console = Console(console_page, server)
    console.log_in()
    code = console.new_session().replace(" ", "")
    host = server.url.split("://")[1]

    # the operator reads out the link; the page has the code, and offers the Linux program
    page = customer_page
    page.goto(f"{server.url}/join#{code}")
    button = page.get_by_role("button", name=re.compile("Download SupportLink for Linux"))
    expect(button).to_be_visible(timeout=10_000)
    expect(page.locator("body")).to_contain_text(host)
    page.screenshot(path=str(tmp_path / "join.png"))
    with page.expect_download(timeout=60_000) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "supportlink-peer"
    home = tmp_path / "customer-home"
    program = home / "Downloads" / "supportlink-peer"
    program.parent.mkdir(parents=True)
    download.save_as(program)
    bound = binding.read(program)
    assert bound is not None and (bound.server, bound.code) == (server.url, code)
    expect(page.locator("body")).to_contain_text("chmod +x")  # the next steps are shown
    program.chmod(0o755)

    # run as downloaded, in an empty environment (and a sound server): it joins with the
    # page's code
    env = clean_env(xvfb, home)
    with PulseRig() as rig:
        peer = procs.start(
            "downloaded-peer",
            netns.argv([str(program), "--headless", "--allow", "view,voice"]),
            env={**env, **rig.env()},
            stdin_open=True,
        )
        peer.wait_for_line(rf"^server: {re.escape(host)}$", timeout=30)
        console.accept()
        console.wait_status(CONNECTED, timeout=40)
        console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=30)
        # voice works in the downloaded program: its microphone (the bundled PortAudio, the
        # system's ALSA) reaches the operator
        player = rig.play_tone("src", 1000, 60)
        try:
            console_page.locator("#voice-start").click()
            peer.wait_for_line(r"^voice: Your microphone is on", timeout=20)
            console.wait_to_hear(1000)
        finally:
            player.kill()
        peer.signal(signal.SIGTERM)
    assert peer.wait_exit(15) == 0

    # the same download again: its code is spent, so it is refused (and says so in its window)
    again = procs.start("spent-peer", netns.argv([str(program), "--headless"]), env=env)
    assert again.wait_exit(30) == 2
    assert re.search(r"used", again.output())
    window = procs.start("spent-window", netns.argv([str(program)]), env=env)
    x_window_named(netns, xvfb, host, timeout=30)  # its title: "SupportLink — HOST"
    window.stop()

    # a download changed on the way is not used: no connection, and why
    data = bytearray(program.read_bytes())
    data[-60] ^= 0x20  # inside the binding's payload
    tampered = home / "Downloads" / "supportlink-peer-tampered"
    tampered.write_bytes(bytes(data))
    tampered.chmod(0o755)
    changed = procs.start("tampered-peer", netns.argv([str(tampered), "--headless"]), env=env)
    assert changed.wait_exit(30) == 64
    assert "damaged" in changed.output()


def test_the_page_says_when_a_code_is_wrong_and_when_no_program_is_built(
    netns: NetNS, procs: Procs, tmp_path: Path, customer_page: Page
) -> None:
    """No build on this server: the page says so and how to get one; a wrong code is
    explained, never downloaded."""
    from playwright.sync_api import expect

    server = start_server(
        procs, netns, tmp_path / "server-data", extra_args=["--downloads-dir", str(tmp_path)]
    )
    page = customer_page
    page.goto(f"{server.url}/join")
    expect(page.locator("body")).to_contain_text("build-peer", timeout=10_000)
    page.screenshot(path=str(tmp_path / "join-no-program.png"))
    page.goto(f"{server.url}/join?error=unknown_code#00000000")
    expect(page.locator("body")).to_contain_text("not valid", timeout=10_000)
    assert "unknown_code" not in page.locator("body").inner_text()
