"""The operator console in Firefox ESR, end to end: Debian's ``firefox-esr``, headless, driven
over WebDriver BiDi by ``puppeteer-core`` (``firefox/console.mjs``), against the real server and
the real headless peer on Xvfb, all inside the test's own network namespace.

Playwright's Firefox is a patched build of its own and cannot drive a stock Firefox, hence the
Node driver. Firefox's remote agent listens on a TCP port on the namespace's loopback, so the
driver runs in the namespace too; the test talks to it over its stdin and stdout, one JSON
line per command (see ``console.mjs``), and keeps every assertion here.

One session covers what differs most between browsers: log in, a new session, the customer's
peer joins with the code read off the page, accept, the verification code (the same on both
sides), the customer's colour blocks in the ``<video>`` (drawn into a canvas, as
``console.py`` does for Chromium), a click on the picture landing in an X client on the
customer's screen and typed keys arriving there (``xrecorder.Recorder``), and the clipboard both
ways (the customer's X clipboard read and owned by Tk programs of the test's own). Meanwhile an
nft set in the namespace records every address anything tried to reach outside loopback and the
namespace's own network: it must stay empty.

A second test clicks where Firefox would draw its Picture-in-Picture toggle over the picture:
the click must reach the customer (the console's video says ``disablepictureinpicture``). A
third sends files both ways through Firefox's SCTP, SHA-256 checked on the far side.

Needs ``firefox-esr``, ``node`` and ``firefox/node_modules`` (``scripts/test`` installs them);
skipped with the reason when they are missing, failed instead when ``CI`` is set.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from xrecorder import Recorder

# The same page scripts as the Chromium tests: what a video pixel and a picture point are.
from .console import (
    _CAMERA_PIXEL,
    _SAMPLE,
    CODE_RE,
    CONNECTED,
    TEST_CAMERA,
    TEST_CAMERA_RGB,
    VERIFICATION_RE,
    VideoSample,
    close,
)
from .netns import NetNS
from .procs import Proc, Procs
from .remote_helpers import _PICTURE_TO_PAGE, customer_clipboard, customer_copies, wait_until
from .screen import Block, Screen
from .services import Server, child_env

FIREFOX = "/usr/bin/firefox-esr"
DRIVER_DIR = Path(__file__).with_name("firefox")
DRIVER = DRIVER_DIR / "console.mjs"
#: Where the recording window sits on the customer's 1920x1080 screen.
RECORDER = (560, 300, 800, 420)

# An element's words (whitespace collapsed) and whether it is rendered, or null if absent.
_ELEMENT = """(selector) => {
    const el = document.querySelector(selector);
    if (!el) return null;
    return {text: (el.textContent || "").replace(/\\s+/g, " ").trim(),
            visible: el.checkVisibility()};
}"""

# Every address outside loopback and the namespace's own /24 that anything in the namespace
# sends to is recorded (not dropped: nothing can leave the namespace anyway).
_LEAK_RULES = """
table inet sl_leaks {
    set seen { type ipv4_addr; size 1024; flags dynamic; }
    chain out {
        type filter hook output priority 0; policy accept;
        ip daddr != { 127.0.0.0/8, %(net)s } add @seen { ip daddr } counter
    }
}
"""


class FirefoxConsole:
    """The console page in Firefox, through ``console.mjs`` (a ``Proc`` with stdin open)."""

    def __init__(self, proc: Proc, shots: Path) -> None:
        self.proc = proc
        self.shots = shots
        self.version = ""
        self._next_id = 0

    # ------------------------------------------------------------------ the driver

    def wait_ready(self, timeout: float = 45) -> None:
        line = self.proc.wait_for_line(r'^\{"ready":true', timeout).string
        self.version = str(json.loads(line)["version"])

    def call(self, op: str, *, timeout: float = 10, **fields: Any) -> Any:
        """Run one command; its value, or AssertionError with the driver's error."""
        self._next_id += 1
        n = self._next_id
        start = len(self.proc.lines)
        self.proc.write_line(json.dumps({"id": n, "op": op, "timeout": timeout * 1000, **fields}))
        line = self.proc.wait_for_line(rf'^\{{"id":{n},', timeout + 5, start=start).string
        answer = json.loads(line)
        if not answer["ok"]:
            raise AssertionError(f"Firefox: {op} {fields} failed: {answer['error']}")
        return answer["value"]

    def evaluate(self, fn: str, arg: Any = None) -> Any:
        return self.call("evaluate", fn=fn, arg=arg)

    def goto(self, url: str) -> None:
        self.call("goto", url=url, timeout=20)

    def click(self, selector: str, timeout: float = 10) -> None:
        self.call("click", selector=selector, timeout=timeout)

    def fill(self, selector: str, text: str) -> None:
        self.call("fill", selector=selector, text=text)

    def mouse_move(self, x: float, y: float) -> None:
        self.call("mouse_move", x=x, y=y)

    def mouse_click(self, x: float, y: float) -> None:
        self.call("mouse_click", x=x, y=y)

    def type(self, text: str) -> None:
        self.call("type", text=text)

    def upload(self, selector: str, *paths: Path) -> None:
        """Give the file input ``selector`` these files, as the file picker would."""
        self.call("upload", selector=selector, paths=[str(p) for p in paths], timeout=15)

    def screenshot(self, name: str) -> Path:
        path = self.shots / name
        self.call("screenshot", path=str(path))
        return path

    def quit(self) -> None:
        self.call("quit", timeout=15)

    # ------------------------------------------------------------------ what a person sees

    def element(self, selector: str) -> dict[str, Any] | None:
        found = self.evaluate(_ELEMENT, selector)
        return None if found is None else dict(found)

    def visible(self, selector: str) -> bool:
        found = self.element(selector)
        return bool(found and found["visible"])

    def wait_visible(self, selector: str, timeout: float = 10) -> None:
        wait_until(lambda: self.visible(selector), bool, f"{selector} shows", timeout)

    def wait_text(self, selector: str, pattern: str | re.Pattern[str], timeout: float = 10) -> str:
        """Wait until ``selector`` shows text matching the regex ``pattern``; return the text."""
        regex = re.compile(pattern)
        found = wait_until(
            lambda: self.element(selector),
            lambda el: bool(el and el["visible"] and regex.search(el["text"])),
            f"{selector} shows {regex.pattern!r}",
            timeout,
        )
        assert found is not None
        return str(found["text"])

    def sample(self, points: Sequence[tuple[float, float]]) -> VideoSample | None:
        """Pixels of the current video frame at fractions (x, y) of its size, or None."""
        result = self.evaluate(_SAMPLE, [list(p) for p in points])
        if result is None:
            return None
        pixels = [(int(p[0]), int(p[1]), int(p[2])) for p in result["pixels"]]
        return VideoSample(int(result["width"]), int(result["height"]), pixels)

    def wait_for_blocks(
        self, blocks: Sequence[Block], screen: Screen, tolerance: int = 40, timeout: float = 20
    ) -> VideoSample:
        points = [(b.centre[0] / screen.width, b.centre[1] / screen.height) for b in blocks]

        def shows(sample: VideoSample | None) -> bool:
            return sample is not None and all(
                close(got, block.rgb, tolerance)
                for got, block in zip(sample.pixels, blocks, strict=True)
            )

        what = f"the video shows the blocks {[b.rgb for b in blocks]}"
        sample = wait_until(lambda: self.sample(points), shows, what, timeout)
        assert sample is not None
        return sample

    def page_point(self, screen: Screen, x: float, y: float) -> tuple[float, float]:
        """The page point showing pixel (x, y) of the customer's whole screen."""
        px, py = self.evaluate(_PICTURE_TO_PAGE, [x / screen.width, y / screen.height])
        return float(px), float(py)


def _missing_tools() -> list[str]:
    missing = []
    if not os.access(FIREFOX, os.X_OK):
        missing.append(f"{FIREFOX} (Debian package firefox-esr)")
    if shutil.which("node") is None:
        missing.append("node (Debian package nodejs)")
    if not (DRIVER_DIR / "node_modules" / "puppeteer-core" / "package.json").is_file():
        missing.append("tests/e2e/firefox/node_modules (npm ci --prefix tests/e2e/firefox)")
    return missing


@pytest.fixture
def firefox(netns: NetNS, procs: Procs, tmp_path: Path) -> Iterator[FirefoxConsole]:
    """Firefox starting inside the namespace (``wait_ready`` before use), so that it comes up
    while the other fixtures start the screen and the server."""
    missing = _missing_tools()
    if missing:
        reason = f"the Firefox test needs {', '.join(missing)}; scripts/test installs them"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    home = tmp_path / "firefox-home"
    home.mkdir()
    env = child_env(HOME=str(home), PUPPETEER_SKIP_DOWNLOAD="1", MOZ_CRASHREPORTER_DISABLE="1")
    command = ["node", str(DRIVER), "--firefox", FIREFOX, "--profile", str(home / "profile")]
    proc = procs.start("firefox", netns.argv(command), env=env, cwd=DRIVER_DIR, stdin_open=True)
    driver = FirefoxConsole(proc, tmp_path)
    try:
        yield driver
    finally:
        if proc.returncode is None:
            try:
                driver.quit()
            except (AssertionError, OSError):
                pass  # the procs fixture stops it, the namespace's end kills what is left


@contextmanager
def _page_report(ff: FirefoxConsole) -> Iterator[None]:
    """On failure, print the console's log panel and where its screenshot is."""
    try:
        yield
    except BaseException:
        try:
            shot = ff.screenshot("firefox-console.png")
            log = ff.element("#log")
            title = f"{ff.version or 'Firefox'} console page ({shot})"
            print(f"\n===== {title} =====\n{log and log['text']}")
        except AssertionError as error:
            print(f"\n===== no report from the Firefox page: {error}")
        raise


def _leaks(ns: NetNS) -> list[str]:
    listed = json.loads(ns.run(["nft", "-j", "list", "set", "inet", "sl_leaks", "seen"]).stdout)
    sets = [item["set"] for item in listed["nftables"] if "set" in item]
    return [str(e) for s in sets for e in s.get("elem", [])]


def _buttons(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["ev"] in ("button_down", "button_up")]


def _wait_events(
    rec: Recorder, want: Callable[[list[dict[str, Any]]], bool], timeout: float = 10
) -> list[dict[str, Any]]:
    return wait_until(rec.events, want, "the customer's window gets what was expected", timeout)


def _connect(
    ff: FirefoxConsole,
    server: Server,
    start_peer: Callable[..., Proc],
    allow: Sequence[str] = ("view", "control", "clipboard", "annotate"),
    extra_args: Sequence[str] = (),
) -> Proc:
    """Log in, make a session, start the customer's peer with the code shown, accept; the
    session is connected directly. Returns the peer."""
    ff.wait_ready()
    ff.goto(server.url + "/")
    ff.fill("#username", server.operator)
    ff.fill("#password", server.password)
    ff.click("#login-button")
    ff.wait_visible("#new-session-button", timeout=15)
    ff.click("#new-session-button")
    code = ff.wait_text("#session-code", CODE_RE)
    peer = start_peer(code, allow=allow, extra_args=extra_args)
    ff.wait_visible("#join-request", timeout=20)
    ff.click("#accept-button")
    status = ff.wait_text("#status", CONNECTED, timeout=30)
    assert status.startswith("Connected (direct)"), status
    return peer


def _take_control(ff: FirefoxConsole) -> None:
    """Ask for control unless already given; wait until granted and the input channel is open."""
    wait_until(
        lambda: ff.visible("#request-control-button") or ff.visible("#hand-back-button"),
        bool,
        "a control button shows",
        timeout=15,
    )
    if ff.visible("#request-control-button"):
        ff.click("#request-control-button")
    ff.wait_text("#control-state", "You have control", timeout=15)
    ff.wait_text("#log", "input channel open")


def _click_lands(ff: FirefoxConsole, screen: Screen, rec: Recorder, x: int, y: int) -> None:
    """Click the picture where it shows screen pixel (x, y): the customer's window gets one
    left click there."""
    rec.forget()
    ff.mouse_click(*ff.page_point(screen, x, y))
    events = _wait_events(rec, lambda ev: len(_buttons(ev)) >= 2, timeout=5)
    down, up = _buttons(events)[:2]
    assert (down["ev"], down["num"], up["ev"], up["num"]) == (
        "button_down",
        1,
        "button_up",
        1,
    ), events
    # One CSS pixel of the scaled picture is about two screen pixels.
    assert abs(down["x_root"] - x) <= 4, (down, (x, y))
    assert abs(down["y_root"] - y) <= 4, (down, (x, y))


def test_console_in_firefox(
    netns: NetNS,
    firefox: FirefoxConsole,
    xvfb: Screen,
    server: Server,
    start_peer: Callable[..., Proc],
) -> None:
    netns.run(["nft", "-f", "-"], input=_LEAK_RULES % {"net": f"{netns.addr_a}/24"})
    ff = firefox
    with _page_report(ff):
        peer = _connect(ff, server, start_peer)

        # The same verification code on both sides.
        shown = ff.wait_text("#verification-code", VERIFICATION_RE)
        printed = peer.wait_for_line(r"(?i)verif\w*.*?(\d{3} \d{3})", timeout=10).group(1)
        assert shown == printed

        # The customer's screen, pixel by pixel, in its own shape.
        sample = ff.wait_for_blocks(xvfb.blocks, xvfb, timeout=20)
        assert abs(sample.width / sample.height - xvfb.width / xvfb.height) < 0.02, sample

        # Control: a click on the picture lands at that point of the customer's screen and
        # gives the picture the keyboard; keys typed then reach the window there.
        with Recorder(xvfb.display, *RECORDER) as rec:
            _take_control(ff)
            _click_lands(ff, xvfb, rec, RECORDER[0] + 200, RECORDER[1] + 150)
            ff.wait_visible("#keyboard-capture")
            rec.clear()
            ff.type("Hello 42")
            wait_until(rec.text, lambda t: t == "Hello 42", "the customer's window holds it")

        # Clipboard out: the operator's text lands on the customer's clipboard.
        ff.wait_visible("textarea#clipboard-out", timeout=15)
        text = "Ticket 4711 — ok ✓"
        ff.fill("textarea#clipboard-out", text)
        ff.click("#send-clipboard-button")
        wait_until(
            lambda: customer_clipboard(xvfb),
            lambda got: got == text,
            "the customer's clipboard holds the operator's text",
            timeout=10,
        )

        # Clipboard in: what the customer copies appears in the console.
        copied = "copied by the customer"
        with customer_copies(xvfb, copied):
            ff.wait_text("#clipboard-in", f"^{re.escape(copied)}$", timeout=10)

        # Drawing: a press of the white pen on the picture shows on the customer's screen
        # (a dot in the black band between the rows of painted blocks), Clear takes it away.
        ff.wait_visible("#annotate-tools", timeout=10)
        ff.click("#annotate-tool-pen")
        ff.click('#annotate-colors button[aria-label="White"]')
        ff.mouse_click(*ff.page_point(xvfb, 900, 540))

        def white_near() -> int:
            shot = xvfb.grab()
            return sum(
                min(shot.pixel(x, y)) > 235 for x in range(880, 921, 2) for y in range(520, 561, 2)
            )

        wait_until(white_near, lambda n: n > 5, "a white dot on the customer's screen", 10)
        ff.screenshot("firefox-drawing.png")
        ff.click("#annotate-clear")
        wait_until(white_near, lambda n: n == 0, "the dot gone from the customer's screen", 10)
        ff.click("#annotate-tool-pointer")

    # Nothing in the namespace (Firefox above all) tried to reach anywhere else.
    assert _leaks(netns) == []
    ff.quit()
    assert ff.proc.wait_exit(15) == 0, ff.proc.output()


# Where Firefox draws its Picture-in-Picture toggle over a <video>, as fractions of the picture:
# its own stylesheet (pipToggle.css, Firefox 153 ESR) puts it 70 % down the element less 40 px,
# 36 px tall, at the right edge; the point is on its icon, 40 px in from the element's right edge
# (the icon is there whether the toggle shows its first-time label or not).
_UNDER_THE_TOGGLE = """() => {
    const video = document.querySelector("video#remote-video");
    const r = video.getBoundingClientRect();
    const x = r.right - 40, y = r.top + 0.7 * r.height - 22;
    const scale = Math.min(r.width / video.videoWidth, r.height / video.videoHeight);
    const w = video.videoWidth * scale, h = video.videoHeight * scale;
    return [(x - r.left - (r.width - w) / 2) / w, (y - r.top - (r.height - h) / 2) / h];
}"""


class ClickTaken(AssertionError):
    """A click on the picture never reached the customer."""


# Firefox puts a Picture-in-Picture toggle ("Pop out this video") over a video while the mouse
# rests on it; a click there would pop the customer's picture out into a window of its own and
# never reach the customer. video#remote-video carries `disablepictureinpicture` from the start
# (Firefox decides on the toggle when the stream's metadata arrives), so no toggle is drawn.
def test_firefox_picture_in_picture_toggle_does_not_take_clicks(
    firefox: FirefoxConsole,
    xvfb: Screen,
    server: Server,
    start_peer: Callable[..., Proc],
) -> None:
    ff = firefox
    with _page_report(ff):
        _connect(ff, server, start_peer)
        ff.wait_for_blocks(xvfb.blocks, xvfb, timeout=20)
        fx, fy = ff.evaluate(_UNDER_THE_TOGGLE)
        assert 0.05 < fx < 0.95 and 0.05 < fy < 0.95, ("the toggle is off the picture", fx, fy)
        x, y = round(fx * xvfb.width), round(fy * xvfb.height)
        with Recorder(xvfb.display, x - 300, y - 150, 400, 300) as rec:
            _take_control(ff)
            # The operator's mouse rests on the picture a moment, as a person's does (Firefox
            # shows its toggle then, fading in), then clicks.
            ff.mouse_move(*ff.page_point(xvfb, x - 400, y))
            time.sleep(1)
            try:
                _click_lands(ff, xvfb, rec, x, y)
            except AssertionError as error:
                raise ClickTaken(str(error)) from error


def test_files_both_ways_in_firefox(
    firefox: FirefoxConsole,
    xvfb: Screen,
    server: Server,
    start_peer: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    """Firefox's SCTP and the console's pacing: the customer's file arrives verified, and a
    file picked in Firefox lands in the customer's folder with the same SHA-256."""
    ff = firefox
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    report = tmp_path / "customer" / "report.log"
    report.parent.mkdir()
    report.write_bytes(os.urandom(2_000_000))
    with _page_report(ff):
        peer = _connect(
            ff,
            server,
            start_peer,
            allow=("view", "files"),
            extra_args=("--accept-files", str(inbox), "--send", str(report)),
        )
        ff.wait_text("li.transfer[data-direction=from_customer]", "verified ✓", timeout=30)
        peer.wait_for_line(r"^files: sent report\.log: 1 of 1 file\(s\) delivered", timeout=15)
        patch = tmp_path / "operator" / "patch-パッチ.bin"
        patch.parent.mkdir()
        patch.write_bytes(os.urandom(3_000_000))
        ff.upload("#send-files-input", patch)
        peer.wait_for_line(r"^files: received: patch-パッチ\.bin \(3\.0 MB, SHA-256 ", timeout=60)
        got = inbox / patch.name
        assert (
            hashlib.sha256(got.read_bytes()).digest() == hashlib.sha256(patch.read_bytes()).digest()
        )
        wait_until(
            lambda: ff.evaluate(
                "() => document.querySelector('li.transfer[data-direction=to_customer]')"
                "?.dataset.state ?? null"
            ),
            lambda state: state == "done",
            "the console says the file was delivered",
            timeout=15,
        )


def test_the_customers_camera_in_firefox_and_showing_on_a_plain_http_page(
    firefox: FirefoxConsole,
    xvfb: Screen,
    server: Server,
    start_peer: Callable[..., Proc],
) -> None:
    """The customer's camera reaches Firefox as a stream of its own and lands in the camera
    panel, not on the stage; "Show my screen…" on a plain-http page says why nothing can be
    shared (Firefox gives such a page no capture at all)."""
    ff = firefox
    with _page_report(ff):
        peer = _connect(
            ff,
            server,
            start_peer,
            allow=("view", "camera"),
            extra_args=("--camera", TEST_CAMERA),
        )
        ff.click("#camera-request")
        peer.wait_for_line(r"^camera: .* sees your camera", timeout=20)
        ff.wait_visible("#camera-box", timeout=15)
        got = wait_until(
            lambda: ff.evaluate(_CAMERA_PIXEL),
            lambda px: bool(px) and close(tuple(px[2:]), TEST_CAMERA_RGB, 30),
            "the console shows the camera's colour",
            timeout=15,
        )
        assert got is not None and got[:2] == [640, 480]
        ff.wait_for_blocks(xvfb.blocks, xvfb)  # the customer's screen stays on the stage
        ff.click("#show-screen-start")
        ff.wait_text("#show-screen-state", r"not secure \(http\)")
        ff.click("#camera-stop")
        peer.wait_for_line(r"^camera: Your camera is off", timeout=10)
