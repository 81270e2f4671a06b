"""What the operator sees through the whole peer: monitors, switching, one window only.

Real server, real ``PeerSession``, a real aiortc operator on loopback; Xvfb with two RandR
monitors of the test's own, and an application window (Tk, child process) partly covered by
another window: the covered part must arrive black and input there must be dropped.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import av
import numpy as np
import pytest
from conftest import Running, remote_of, start_session, until, view_of
from sigclient import Endpoint
from xvfb import Block, ColourBlocks, virtual_display

from wire import protocol as p

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")

TITLE = "Notes - SupportLink test"
APP = (200, 150, 401, 301)  # an odd size: the picture is cropped to even
COVER = Block(450, 300, 200, 100, "#ff0000")  # over the app's lower right part
ELSEWHERE = Block(1000, 100, 100, 100, "#ff0000")
GREEN = "#00c000"


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    import Xlib.display

    with virtual_display(1600, 600) as name:
        d = Xlib.display.Display(name)
        two_monitors(d)
        d.close()
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer", "peer_display")


# --------------------------------------------------------------------------- helpers

_APP = textwrap.dedent(
    """
    import sys, tkinter as tk
    x, y, w, h = map(int, sys.argv[1:5])
    root = tk.Tk()
    root.title(sys.argv[5])
    root.configure(background=sys.argv[6])
    root.geometry(f"{w}x{h}+{x}+{y}")
    def command():
        line = sys.stdin.readline()
        if not line:
            root.destroy()
            return
        parts = line.split()
        if parts[0] == "move":
            root.geometry(f"+{parts[1]}+{parts[2]}")
        elif parts[0] == "size":
            root.geometry(f"{parts[1]}x{parts[2]}")
        root.update()
        print("ok", flush=True)
    root.tk.createfilehandler(sys.stdin, tk.READABLE, lambda *_: command())
    root.update()
    print("ok", flush=True)
    root.mainloop()
    """
)


class App:
    """A plain application window (managed, titled) at a known place."""

    def __init__(self, display: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _APP, *map(str, APP), TITLE, GREEN],
            env={**os.environ, "DISPLAY": display},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._ok()

    def _ok(self) -> None:
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ok"

    def command(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        self._ok()

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(5)
        self.proc.stdout.close()


def set_monitor(d: Any, i: int, x: int, width: int, *, primary: bool = False) -> None:
    """A RandR 1.5 monitor ``SUPPORTLINK_TEST_<i>`` at (x, 0), 600 high (python-xlib's own
    request for this packs its argument wrongly, hence the flat one here)."""
    from Xlib.protocol import rq

    class SetMonitor(rq.Request):
        _request = rq.Struct(
            rq.Card8("opcode"),
            rq.Opcode(43),
            rq.RequestLength(),
            rq.Window("window"),
            rq.Card32("name"),
            rq.Bool("primary"),
            rq.Bool("automatic"),
            rq.Card16("crtcs"),
            rq.Int16("x"),
            rq.Int16("y"),
            rq.Card16("width"),
            rq.Card16("height"),
            rq.Card32("width_mm"),
            rq.Card32("height_mm"),
        )

    SetMonitor(
        display=d.display,
        opcode=d.display.get_extension_major("RANDR"),
        window=d.screen().root,
        name=d.intern_atom(f"SUPPORTLINK_TEST_{i}"),
        primary=primary,
        automatic=False,
        crtcs=0,
        x=x,
        y=0,
        width=width,
        height=600,
        width_mm=200,
        height_mm=150,
    )
    d.sync()


def delete_monitor(d: Any, i: int) -> None:
    from Xlib.protocol import rq

    class DeleteMonitor(rq.Request):
        _request = rq.Struct(
            rq.Card8("opcode"),
            rq.Opcode(44),
            rq.RequestLength(),
            rq.Window("window"),
            rq.Card32("name"),
        )

    DeleteMonitor(
        display=d.display,
        opcode=d.display.get_extension_major("RANDR"),
        window=d.screen().root,
        name=d.intern_atom(f"SUPPORTLINK_TEST_{i}"),
    )
    d.sync()


def two_monitors(d: Any) -> None:
    """Split the 1600x600 screen into two RandR 1.5 monitors."""
    for i, x in enumerate((0, 800)):
        set_monitor(d, i, x, 800, primary=i == 0)


async def frame_where(r: Running, check: Any, timeout: float = 10.0) -> np.ndarray[Any, Any]:
    """The first received frame (as BGR pixels) for which ``check(pixels)`` holds."""
    track = r.operator.track
    assert track is not None
    async with asyncio.timeout(timeout):
        while True:
            frame = await track.recv()
            assert isinstance(frame, av.VideoFrame)
            pixels: np.ndarray[Any, Any] = frame.to_ndarray(format="bgr24")
            if check(pixels):
                return pixels


def near(pixel: Any, bgr: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel, bgr, strict=True))


def pointer(d: Any) -> tuple[int, int]:
    q = d.screen().root.query_pointer()
    return int(q.root_x), int(q.root_y)


# --------------------------------------------------------------------------- tests


async def test_monitors_are_listed_and_switched_and_input_follows(
    loopback_endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    blocks = [Block(300, 200, 200, 200, "#0000ff"), Block(1100, 200, 200, 200, "#ff0000")]
    with ColourBlocks(display, blocks):
        r = await start_session(loopback_endpoint, display, allow=frozenset({"view", "control"}))
        op, session, ui = r.operator, r.session, r.ui
        first = op.of(p.ViewState)[-1]
        assert [(m.index, m.x, m.width, m.primary) for m in first.monitors][:2] == [
            (0, 0, 800, True),
            (1, 800, 800, False),
        ]
        assert (first.monitor, first.width, first.height, first.window) == (0, 800, 600, None)
        assert "view: monitor 1 of 3 (800x600)" in ui.lines
        await frame_where(
            r, lambda px: px.shape[:2] == (600, 800) and near(px[300, 400], (255, 0, 0))
        )

        op.send("control", p.SelectMonitor(index=1))
        await until(lambda: op.of(p.ViewState)[-1].monitor == 1)
        assert "view: monitor 2 of 3 (800x600)" in ui.lines
        # the second monitor's picture: the red block at 1100..1300 is at 300..500 in it
        await frame_where(r, lambda px: near(px[300, 400], (0, 0, 255)))
        op.input(p.PointerMove(x=0.5, y=0.5))
        await r.settled(1)
        assert pointer(xdisplay) == (1200, 300)

        # a monitor that does not exist: refused, nothing changes
        op.send("control", p.SelectMonitor(index=9))
        await until(lambda: session.refused["select_monitor"] == 1)
        assert op.of(p.ViewState)[-1].monitor == 1
        op.input(p.PointerMove(x=0.0, y=0.0))
        await r.settled(2)
        assert pointer(xdisplay) == (800, 0)
        await r.end()


async def test_one_window_only_crops_blacks_out_follows_and_drops_input_outside(
    loopback_endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    app = App(display)
    try:
        with ColourBlocks(display, [COVER, ELSEWHERE]):
            r = await start_session(
                loopback_endpoint,
                display,
                allow=frozenset({"view", "control"}),
                window="NOTES - supp",
            )
            op, session, ui = r.operator, r.session, r.ui
            await until(lambda: bool(op.of(p.ViewState)))
            state = op.of(p.ViewState)[-1]
            assert (state.window, state.width, state.height) == (TITLE, 400, 300)
            assert f'view: limited to window "{TITLE}" (400x300)' in ui.lines

            # only the window's pixels; the covering window's part is black, nothing red
            x0, y0 = APP[0], APP[1]
            cx, cy = COVER.x + 50 - x0, COVER.y + 50 - y0  # inside the covered part
            pixels = await frame_where(
                r, lambda px: px.shape[:2] == (300, 400) and near(px[40, 40], (0, 192, 0))
            )
            assert near(pixels[cy, cx], (0, 0, 0))
            red = (pixels[:, :, 2] > 150) & (pixels[:, :, 1] < 90) & (pixels[:, :, 0] < 90)
            assert not red.any()

            # input: on the window it lands; on the covered part it is dropped
            op.input(p.PointerButton(button="left", down=True, x=40 / 400, y=30 / 300))
            op.input(p.PointerButton(button="left", down=False, x=40 / 400, y=30 / 300))
            await r.settled(2)
            assert pointer(xdisplay) == (x0 + 40, y0 + 30)
            op.input(p.PointerButton(button="left", down=True, x=cx / 400, y=cy / 300))
            await until(lambda: remote_of(session).core.counters["outside_window"] == 1)

            # no switching monitors while limited to one window; the operator cannot widen it
            op.send("control", p.SelectMonitor(index=0))
            op.send("control", p.LimitRequest())
            await until(lambda: session.refused["select_monitor"] == 1)
            assert view_of(session) is not None and view_of(session).refused["window_mode"] == 1
            op.send("control", p.WholeScreenRequest())  # headless: nobody to ask, so no
            await until(lambda: p.WholeScreenReply(allowed=False) in op.control)
            assert view_of(session).window is not None

            # the window moves: input follows without a new view_state; it resizes: one more
            app.command("move 600 200")
            await until(
                lambda: (
                    remote_of(session).core.rect is not None
                    and remote_of(session).core.rect.x == 600
                )
            )
            op.input(p.PointerMove(x=0.0, y=0.0))
            await r.settled(3)
            assert pointer(xdisplay) == (600, 200)
            assert len(op.of(p.ViewState)) == 1
            app.command("size 301 201")
            await until(lambda: op.of(p.ViewState)[-1].width == 300)
            assert op.of(p.ViewState)[-1].height == 200
            assert f'view: limited to window "{TITLE}" (300x200)' in ui.lines
            await frame_where(
                r, lambda px: px.shape[:2] == (200, 300) and near(px[100, 150], (0, 192, 0))
            )

            # the customer shares the whole screen again
            session.share_whole_screen()
            await until(lambda: op.of(p.ViewState)[-1].window is None)
            assert op.of(p.ViewState)[-1].width == 800  # monitor 0 again
            await r.end()
    finally:
        app.close()


async def test_the_window_picker_limits_the_session(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    app = App(display)
    try:
        r = await start_session(loopback_endpoint, display, headless=False)
        op, session, ui = r.operator, r.session, r.ui
        op.send("control", p.LimitRequest())
        await until(lambda: bool(ui.pickers))
        titles = [w.title for w in ui.pickers[-1]]
        assert TITLE in titles
        chosen = next(w for w in ui.pickers[-1] if w.title == TITLE)
        session.limit_to_window(chosen.id, chosen.title)
        await until(lambda: op.of(p.ViewState)[-1].window == TITLE)
        assert (op.of(p.ViewState)[-1].width, op.of(p.ViewState)[-1].height) == (400, 300)

        # the operator asks for the whole screen again: only the customer can say yes
        op.send("control", p.WholeScreenRequest())
        await until(lambda: len(ui.whole_screen_asks) == 1)
        assert ui.whole_screen_asks == [session.operator]
        session.answer_whole_screen(False)
        await until(lambda: p.WholeScreenReply(allowed=False) in op.control)
        assert op.of(p.ViewState)[-1].window == TITLE
        op.send("control", p.WholeScreenRequest())
        await until(lambda: len(ui.whole_screen_asks) == 2)
        session.answer_whole_screen(True)
        await until(lambda: p.WholeScreenReply(allowed=True) in op.control)
        await until(lambda: op.of(p.ViewState)[-1].window is None)
        assert op.of(p.ViewState)[-1].width == 800
        await r.end()
    finally:
        app.close()


async def test_a_monitor_plugged_in_mid_session_is_offered_at_once(
    loopback_endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    r = await start_session(loopback_endpoint, display, allow=frozenset({"view"}))
    op, session, ui = r.operator, r.session, r.ui
    view_of(session).monitor_poll = 0.2
    before = op.of(p.ViewState)[-1]
    count = len(before.monitors)
    op.send("control", p.SelectMonitor(index=1))
    await until(lambda: op.of(p.ViewState)[-1].monitor == 1)
    set_monitor(xdisplay, 2, 1200, 400)
    try:
        await until(lambda: len(op.of(p.ViewState)[-1].monitors) == count + 1)
        latest = op.of(p.ViewState)[-1]
        (new,) = [m.index for m in latest.monitors if (m.x, m.width) == (1200, 400)]
        assert latest.monitor == 1 and new != 1  # what the operator was looking at stays
        assert f"view: the monitors changed ({count + 1} now)" in ui.lines
        op.send("control", p.SelectMonitor(index=new))  # the new one can be shown
        await until(lambda: op.of(p.ViewState)[-1].monitor == new)
        assert (op.of(p.ViewState)[-1].width, op.of(p.ViewState)[-1].height) == (400, 600)
    finally:
        delete_monitor(xdisplay, 2)
    # unplugged while shown: back to the first monitor, and the customer is told
    await until(lambda: len(op.of(p.ViewState)[-1].monitors) == count)
    assert op.of(p.ViewState)[-1].monitor == 0
    assert f"view: monitor {new + 1} is gone; sharing monitor 1" in ui.lines
    await r.end()
