"""Drawing on the customer's screen through a whole session: the real server, a real
``PeerSession`` and a real aiortc operator on loopback, Xvfb as the customer's screen. What is
checked is the screen itself (mss reads X), not the video."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import mss
import numpy as np
import pytest
from conftest import start_session, until
from sigclient import Endpoint
from xvfb import Block, ColourBlocks, virtual_display

from peer.features.annotate import AnnotateFeature
from wire import protocol as p

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")

RED = (229, 50, 45)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(800, 600) as name, ColourBlocks(name, [Block(0, 0, 800, 600, "#808080")]):
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer", "peer_display")


def red_pixels(display: str) -> int:
    with mss.MSS(display=display) as grabber:
        shot = grabber.grab(grabber.monitors[0])
    img = np.frombuffer(shot.rgb, dtype=np.uint8).reshape(shot.height, shot.width, 3).astype(int)
    near = [abs(img[..., i] - RED[i]) < 40 for i in range(3)]
    return int(np.count_nonzero(near[0] & near[1] & near[2]))


def circle(stroke_id: int = 1, r: float = 0.2) -> p.Stroke:
    return p.Stroke(
        id=stroke_id,
        tool="ellipse",
        color="#e5322d",
        width=10,
        fade=False,
        points=(0.5 - r, 0.5 - r, 0.5 + r, 0.5 + r),
        done=True,
    )


async def test_strokes_show_only_while_allowed_and_go_when_taken_away(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(loopback_endpoint, display, headless=False)
    op, session, ui = r.operator, r.session, r.ui
    feature = session.feature(AnnotateFeature)
    assert feature is not None
    await until(lambda: "annotate" in op.channels)
    # not allowed: dropped by the session, nothing drawn
    op.send("annotate", circle())
    await asyncio.sleep(0.5)
    assert red_pixels(display) == 0 and not feature.board.strokes

    op.send("control", p.ConsentRequest(capability="annotate"))
    await until(lambda: ("annotate", "alice") in ui.asked)
    session.answer("annotate", True)
    await until(lambda: "annotate" in op.states()[-1])
    op.send("annotate", circle())
    await until(lambda: red_pixels(display) > 1000)
    # hostile input: frames that do not parse, an unknown tool, a shape of one point, points
    # past the limit -- dropped, the circle still there, the session fine
    channel = op.channels["annotate"]
    for frame in (
        '{"type":"stroke","id":2,"tool":"spray","color":"#ff0000","width":3,"fade":false,'
        '"points":[],"done":true}',
        '{"type":"stroke","id":2,"tool":"pen","color":"#ff0000","width":3,"fade":false,'
        '"points":[NaN,0],"done":true}',
        "not json",
        '{"type":"laser","x":1e400,"y":0,"shown":true}',
    ):
        channel.send(frame)
    op.send("annotate", p.Stroke(id=3, tool="rect", color="#00ff00", width=3, fade=False,
                                  points=(0.1, 0.1), done=False))  # fmt: skip
    for i in range(20):  # 20 x 256 points: more than a stroke holds
        op.send("annotate", p.Stroke(id=4, tool="pen", color="#0000ff", width=2, fade=False,
                                      points=(0.1, 0.9) * 256, done=i == 19))  # fmt: skip
    await until(lambda: feature.board.dropped["too_many_points"] > 0)
    assert feature.board.dropped["shape_needs_two_points"] == 1
    assert red_pixels(display) > 1000

    # the customer clears: gone from the screen, and the console is told
    session.feature_input("annotate", "clear", "")
    await until(lambda: red_pixels(display) == 0)
    await until(lambda: any(isinstance(m, p.StrokesClear) for m in op.received["annotate"]))

    # drawn again, then the customer switches drawing off: gone at once, later strokes dropped
    op.send("annotate", circle(5))
    await until(lambda: red_pixels(display) > 1000)
    session.revoke("annotate")
    await until(lambda: red_pixels(display) == 0)
    op.send("annotate", circle(6))
    await asyncio.sleep(0.5)
    assert red_pixels(display) == 0
    await r.end()
    assert any(line.startswith("annotate: ") for line in ui.lines)


async def test_the_customer_draws_on_their_own_screen_and_the_operator_gets_it(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    import Xlib.display
    from Xlib import X
    from Xlib.ext import xtest

    r = await start_session(loopback_endpoint, display, allow=frozenset({"view", "annotate"}))
    op, session = r.operator, r.session
    feature = session.feature(AnnotateFeature)
    assert feature is not None
    await until(lambda: feature.overlay is not None)
    session.feature_input("annotate", "draw_tool", "rect")
    session.feature_input("annotate", "draw_on", "0")
    assert feature.customer_drawing
    x11 = Xlib.display.Display(display)  # the customer's own hand, through XTEST

    def move(x: int, y: int) -> None:
        xtest.fake_input(x11, X.MotionNotify, x=x, y=y)
        x11.sync()

    def button(number: int, down: bool) -> None:
        xtest.fake_input(x11, X.ButtonPress if down else X.ButtonRelease, number)
        x11.sync()

    try:

        def drag() -> None:
            move(200, 150)
            button(1, True)
            for x in range(200, 601, 50):
                move(x, 150 + (x - 200) // 2)
            button(1, False)

        await asyncio.get_running_loop().run_in_executor(None, drag)
        await until(lambda: any(m.by == "customer" for m in feature.board.strokes.values()))
        await until(lambda: blue_pixels(display) > 500)
        await until(lambda: any(m.done for m in op.received["annotate"] if isinstance(m, p.Stroke)))
        strokes = [m for m in op.received["annotate"] if isinstance(m, p.Stroke)]
        assert {(m.tool, m.color) for m in strokes} == {("rect", "#1a73e8")}
        last = strokes[-1]
        assert last.done and last.points[:2] == pytest.approx((0.25, 0.25), abs=0.01)
        assert last.points[2:] == pytest.approx((600 / 799, 350 / 599), abs=0.01)
        # a right click gives the pointer back
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: (button(3, True), button(3, False))
        )
        await until(lambda: not feature.customer_drawing)
        assert blue_pixels(display) > 500  # what was drawn stays until cleared
    finally:
        x11.close()
        await r.end()


def blue_pixels(display: str) -> int:
    with mss.MSS(display=display) as grabber:
        shot = grabber.grab(grabber.monitors[0])
    img = np.frombuffer(shot.rgb, dtype=np.uint8).reshape(shot.height, shot.width, 3).astype(int)
    return int(np.count_nonzero((img[..., 0] == 26) & (img[..., 1] == 115) & (img[..., 2] == 232)))


async def test_in_one_window_mode_the_drawing_sits_on_that_window_and_follows_it(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    import Xlib.display
    from xrecorder import Recorder

    with Recorder(display, 100, 100, 300, 200, title="Drawing target", background="#404040") as rec:
        r = await start_session(
            loopback_endpoint,
            display,
            allow=frozenset({"view", "annotate"}),
            window="Drawing target",
        )
        op = r.operator
        await until(lambda: any(s.window for s in op.of(p.ViewState)), 10)
        await until(lambda: "annotate" in op.states()[-1])
        op.send(
            "annotate",
            p.Stroke(id=1, tool="rect", color="#e5322d", width=10, fade=False,
                     points=(0.1, 0.1, 0.9, 0.9), done=True),
        )  # fmt: skip

        def red_box() -> tuple[int, int, int, int] | None:
            with mss.MSS(display=display) as grabber:
                shot = grabber.grab(grabber.monitors[0])
            img = np.frombuffer(shot.rgb, dtype=np.uint8).reshape(shot.height, shot.width, 3)
            img = img.astype(int)
            near = [abs(img[..., i] - RED[i]) < 40 for i in range(3)]
            ys, xs = np.nonzero(near[0] & near[1] & near[2])
            if len(xs) < 100:
                return None
            return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())

        await until(lambda: red_box() is not None)
        box = red_box()
        assert box is not None
        # 10 % .. 90 % of the 300 x 200 window at (100, 100), give or take the line's width
        assert abs(box[0] - 130) <= 8 and abs(box[2] - 370) <= 8
        assert abs(box[1] - 120) <= 8 and abs(box[3] - 280) <= 8
        x11 = Xlib.display.Display(display)
        try:  # the customer moves the window: the drawing goes with it
            top = x11.create_resource_object("window", rec.window)
            while (parent := top.query_tree().parent) != x11.screen().root:
                top = parent
            top.configure(x=400, y=300)
            x11.sync()
        finally:
            x11.close()

        def moved() -> bool:
            now = red_box()
            return now is not None and abs(now[0] - 430) <= 8 and abs(now[1] - 320) <= 8

        await until(moved, 10)
        await r.end()
