"""What the operator shows the customer, and the customer's camera, end to end: the console in
headless Chromium, the real server, the headless peer on a virtual screen, one namespace.

The operator's "screen" is a canvas of four colour blocks: the page's ``getDisplayMedia`` gives
its capture stream instead of the browser's picker (a headless browser has no screen to pick),
so everything after the pick is the console's own path. What the customer sees is read from
an X screenshot of the customer's display; the customer closing the window is a
WM_DELETE_WINDOW, as a window manager's close button sends. The customer's camera is a
generated picture (``--camera lavfi:...``) through the same ``MediaPlayer`` path that opens
V4L2 devices; what reaches the console is read from its ``video#camera-video``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import mss
import mss.tools
import pytest
from xshow import close_window, shows_blocks, window_id_of, window_of

from .browser import chromium, secure_origin
from .console import _CAMERA_PIXEL, TEST_CAMERA, TEST_CAMERA_RGB, Console, StartPeer, close
from .netns import NetNS
from .procs import Procs
from .remote_helpers import wait_until
from .screen import Screen
from .services import Server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

COLOURS = ((220, 40, 40), (40, 180, 60), (40, 80, 220), (240, 220, 40))
TITLE = "screen — SupportLink"

#: The operator's screen: a 1280x720 canvas of four blocks, repainted at 30 fps (a capture
#: stream sends a frame only when the canvas changes), handed out by getDisplayMedia.
_FAKE_SCREEN = """(colours) => {
  const canvas = document.createElement("canvas");
  canvas.width = 1280; canvas.height = 720;
  const ctx = canvas.getContext("2d");
  let tick = 0;
  const paint = () => {
    colours.forEach((c, i) => {
      ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
      ctx.fillRect(i * 320, 0, 320, 720);
    });
    ctx.fillStyle = tick++ % 2 ? "rgb(0,0,1)" : "rgb(0,0,0)";
    ctx.fillRect(0, 0, 1, 1);
  };
  paint();
  setInterval(paint, 33);
  window.__fakeScreen = canvas;
  navigator.mediaDevices.getDisplayMedia = async () => canvas.captureStream(30);
}"""


@pytest.fixture
def browser(netns: NetNS, procs: Procs, server: Server, tmp_path: Path) -> Iterator[Browser]:
    """Chromium that counts the console's plain-http namespace address as a secure page (the
    capture APIs exist only on one)."""
    with chromium(netns, tmp_path / "chromium", [secure_origin(server.url)]) as launched:
        yield launched


def test_the_operator_shows_their_screen_and_the_customer_closes_the_window(
    console: Console, start_peer: StartPeer, xvfb: Screen, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    peer = console.connect(start_peer, allow=("view", "show_screen"))
    page = console.page
    page.evaluate(_FAKE_SCREEN, [list(c) for c in COLOURS])
    start = page.get_by_role("button", name="Show my screen…")
    expect(start).to_be_visible()
    start.click()
    peer.wait_for_line(r"^show_screen: You see .* screen in its own window", timeout=20)
    expect(page.locator("#show-screen-state")).to_have_text(
        "The customer sees your screen in a window of their own", timeout=10_000
    )

    def seen() -> bool:
        box = window_of(xvfb.display, TITLE)
        return box is not None and shows_blocks(xvfb.display, box, COLOURS)

    wait_until(seen, bool, "the customer's window shows the operator's four colours", 20)
    page.screenshot(path=str(tmp_path / "showing.png"))
    with mss.MSS(display=xvfb.display) as grabber:  # what the customer sees, kept for a look
        shot = grabber.grab(grabber.monitors[0])
        mss.tools.to_png(shot.rgb, shot.size, output=str(tmp_path / "customer.png"))

    # the operator stops showing: the customer's window closes
    page.get_by_role("button", name="Stop showing").first.click()
    wait_until(
        lambda: window_of(xvfb.display, TITLE),
        lambda box: box is None,
        "Stop showing closes it",
        10,
    )
    expect(page.locator("#show-screen-state")).to_have_text("You stopped showing your screen")
    expect(page.locator("#show-screen-preview")).to_be_hidden()

    # shown again; this time the customer closes the window: the operator is told, the
    # capture stops (and a customer who closed it is not shown it again without asking)
    start.click()
    wait_until(seen, bool, "the window shows the operator's screen again", 20)
    xid = window_id_of(xvfb.display, TITLE)
    assert xid is not None
    close_window(xvfb.display, xid)
    expect(page.locator("#show-screen-state")).to_have_text(
        "The customer closed the window with your screen", timeout=10_000
    )
    expect(page.locator("#show-screen-preview")).to_be_hidden()
    wait_until(
        lambda: window_of(xvfb.display, TITLE), lambda box: box is None, "the window is gone", 5
    )
    peer.wait_for_line(r"^consent: show_screen stopped \(revoked by the customer\)", timeout=5)
    expect(start).to_be_visible()


def test_cameras_both_ways_the_customers_in_the_console_the_operators_in_a_window(
    console: Console, start_peer: StartPeer, xvfb: Screen, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    peer = console.connect(
        start_peer,
        allow=("view", "camera", "show_camera"),
        extra_args=("--camera", TEST_CAMERA),
    )
    page = console.page
    ask = page.get_by_role("button", name="Ask to see the camera")
    expect(ask).to_be_visible()
    assert not [line for line in peer.lines if line.startswith("camera: ")]
    ask.click()
    peer.wait_for_line(r"^camera: .* sees your camera", timeout=20)
    expect(page.locator("#camera-box")).to_be_visible(timeout=15_000)
    got = wait_until(
        lambda: page.evaluate(_CAMERA_PIXEL),
        lambda px: bool(px) and close(tuple(px[2:]), TEST_CAMERA_RGB, 30),
        "the console shows the camera's colour",
        timeout=15,
    )
    assert got[:2] == [640, 480]
    expect(page.locator("#camera-state")).to_contain_text("You see the customer's camera")
    page.screenshot(path=str(tmp_path / "camera.png"))

    page.get_by_role("button", name="Stop the camera").click()
    peer.wait_for_line(r"^camera: Your camera is off", timeout=10)
    expect(page.locator("#camera-box")).to_be_hidden(timeout=10_000)
    expect(page.locator("#camera-state")).to_have_text("You stopped the camera")

    # the operator's camera (Chromium's fake camera, through the console's getUserMedia) in a
    # window of the customer's own
    page.get_by_role("button", name="Show my camera…").click()
    peer.wait_for_line(r"^show_camera: You see .* camera in its own window", timeout=20)
    camera = "camera — SupportLink"
    box = wait_until(lambda: window_of(xvfb.display, camera), bool, "the camera's window", 10)
    wait_until(
        lambda: lit_share(xvfb.display, box),
        lambda share: share > 0.5,
        "the window shows the operator's camera picture",
        10,
    )
    page.get_by_role("button", name="Stop showing").click()
    wait_until(lambda: window_of(xvfb.display, camera), lambda b: b is None, "it closes", 10)
    expect(page.locator("#show-camera-state")).to_have_text("You stopped showing your camera")


def lit_share(display: str, box: tuple[int, int, int, int]) -> float:
    """The share of the window's pixels that are not black."""
    import numpy as np

    x, y, w, h = box
    with mss.MSS(display=display) as grabber:
        shot = grabber.grab({"left": x, "top": y, "width": w, "height": h})
    img = np.frombuffer(shot.rgb, dtype=np.uint8).reshape(shot.height, shot.width, 3)
    return float(np.count_nonzero(img.max(axis=2) > 24)) / (w * h)
