"""peer/annotate/overlay.py on a real Xvfb: strokes appear on the customer's screen itself (an
X screenshot, not the video), clicks go through them to the window below, and taking them away
leaves nothing behind."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import mss
import numpy as np
import pytest
from xrecorder import Recorder
from xvfb import Block, ColourBlocks, virtual_display

from peer.annotate.board import Board
from peer.annotate.overlay import Overlay
from peer.inject import Injector
from peer.remote_input import Button, MoveTo, Rect
from wire import protocol

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")

SHARED = Rect(100, 50, 800, 600)  # the part of the screen the operator sees
RED = (229, 50, 45)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    import Xlib.display

    with virtual_display(1280, 720) as name, pytest.MonkeyPatch.context() as mp:
        keepalive = Xlib.display.Display(name)
        mp.setenv("DISPLAY", name)
        yield name
        keepalive.close()


def screen(display: str) -> np.ndarray:
    """The customer's screen as X has it (RGB rows)."""
    with mss.MSS(display=display) as grabber:
        shot = grabber.grab(grabber.monitors[0])
    return np.frombuffer(shot.rgb, dtype=np.uint8).reshape(shot.height, shot.width, 3)


def red_at(img: np.ndarray) -> np.ndarray:
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return (abs(r - RED[0]) < 40) & (abs(g - RED[1]) < 40) & (abs(b - RED[2]) < 40)


def ellipse(cx: float, cy: float, rx: float, ry: float, stroke_id: int = 1) -> protocol.Stroke:
    return protocol.Stroke(
        id=stroke_id,
        tool="ellipse",
        color="#e5322d",
        width=8,
        fade=False,
        points=(cx - rx, cy - ry, cx + rx, cy + ry),
        done=True,
    )


def test_an_ellipse_shows_on_the_screen_and_clicks_go_through(display: str) -> None:
    board = Board()
    overlay = Overlay(display)
    # a grey window under the drawing: what the customer is working in
    with (
        ColourBlocks(display, [Block(0, 0, 1280, 720, "#808080")]),
        Recorder(display, 420, 200, 200, 100) as below,
    ):
        try:
            assert board.apply(ellipse(0.5, 0.5, 0.2, 0.2), 0.0)
            overlay.show(SHARED, board.shapes(SHARED.width, SHARED.height, 0.0))
            img = screen(display)
            red = red_at(img)
            ys, xs = np.nonzero(red)
            assert len(xs) > 500, "no red ellipse on the screen"
            # on the ellipse, around (500, 350) in root pixels: 0.5 of 800 + 100, 0.5 of 600 + 50
            assert abs(xs.mean() - 500) < 10 and abs(ys.mean() - 350) < 10
            assert xs.min() >= 100 + 0.3 * 799 - 6 and xs.max() <= 100 + 0.7 * 799 + 6
            # none far from it: the centre and the rest of the screen keep their colours
            assert not red[340:360, 490:510].any()
            assert not red[:, :250].any() and not red[:, 750:].any()
            assert (img[10, 10] == (128, 128, 128)).all()
            assert red[229:234, 500].any()  # (500, 231) is on the stroke
            # a click on the stroke itself (top of the ellipse) and one inside it reach the
            # window below: the overlay takes no input
            injector = Injector()
            try:
                for x, y in ((500, 231), (480, 280)):
                    injector.perform([MoveTo(x, y), Button("left", True), Button("left", False)])
            finally:
                injector.close()
            downs = [e for e in below.events() if e["ev"] == "button_down"]
            assert [(e["x_root"], e["y_root"]) for e in downs] == [(500, 231), (480, 280)]
            # cleared: no red anywhere
            assert board.apply(protocol.StrokesClear(), 0.1)
            overlay.show(SHARED, board.shapes(SHARED.width, SHARED.height, 0.1))
            assert not red_at(screen(display)).any()
        finally:
            overlay.close()


def test_the_overlay_follows_the_shared_rect(display: str) -> None:
    board = Board()
    overlay = Overlay(display)
    try:
        board.apply(ellipse(0.5, 0.5, 0.1, 0.1), 0.0)
        overlay.show(SHARED, board.shapes(SHARED.width, SHARED.height, 0.0))
        ys, xs = np.nonzero(red_at(screen(display)))
        assert abs(xs.mean() - 500) < 10
        moved = Rect(600, 100, 400, 300)  # the shared window moved and shrank
        overlay.show(moved, board.shapes(moved.width, moved.height, 0.0))
        ys, xs = np.nonzero(red_at(screen(display)))
        assert abs(xs.mean() - 800) < 10 and abs(ys.mean() - 250) < 10
    finally:
        overlay.close()
