"""peer.windows on a real X server: listing, rects, covered parts, focus, following."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from xvfb import virtual_display

from peer.remote_input import Rect
from peer.windows import (
    WindowState,
    WindowTracker,
    focus_in_window,
    follow,
    list_windows,
    subtract,
    visible_region,
    window_rect,
)


@pytest.fixture(scope="module")
def display_name() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("needs Xvfb")
    import Xlib.display

    with virtual_display(1280, 720) as name:
        # Xvfb resets when its last client leaves; a connection held open avoids racing that
        keepalive = Xlib.display.Display(name)
        yield name
        keepalive.close()


@pytest.fixture
def xd(display_name: str) -> Iterator[Any]:
    import Xlib.display

    d = Xlib.display.Display(display_name)
    yield d
    d.close()


def make_window(
    d: Any, x: int, y: int, w: int, h: int, title: str | None = None, override: bool = False
) -> Any:

    win = d.screen().root.create_window(
        x, y, w, h, 0, d.screen().root_depth, override_redirect=override
    )
    if title is not None:
        win.set_wm_name(title.encode("latin-1", "replace"))
        win.change_property(
            d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"), 8, title.encode()
        )
    win.map()
    d.sync()
    return win


# --------------------------------------------------------------------------- pure


def test_subtract() -> None:
    r = Rect(0, 0, 100, 100)
    assert subtract(r, []) == [r]
    assert subtract(r, [Rect(200, 200, 10, 10)]) == [r]
    assert subtract(r, [Rect(-10, -10, 200, 200)]) == []
    pieces = subtract(r, [Rect(25, 25, 50, 50)])
    assert sum(p.width * p.height for p in pieces) == 100 * 100 - 50 * 50
    assert not any(p.contains(50, 50) for p in pieces)
    assert all(any(p.contains(x, y) for p in pieces) for x, y in [(0, 0), (99, 99), (10, 50)])


# --------------------------------------------------------------------------- X


def test_list_and_rect(xd: Any) -> None:
    a = make_window(xd, 10, 20, 300, 200, "Editor — ünïcode")
    b = make_window(xd, 400, 50, 200, 100, "Terminal")
    menu = make_window(xd, 0, 0, 50, 50, "popup", override=True)
    make_window(xd, 0, 0, 50, 50)  # no title
    try:
        found = {w.title: w for w in list_windows(xd)}
        assert found["Editor — ünïcode"].rect == Rect(10, 20, 300, 200)
        assert found["Terminal"].id == b.id
        assert "popup" not in found
        assert list(found)[0] == "Terminal"  # top of the stack first
        assert window_rect(xd, a.id) == Rect(10, 20, 300, 200)
    finally:
        for w in (a, b, menu):
            w.destroy()
        xd.sync()
    assert window_rect(xd, a.id) is None


def test_visible_region_and_click_through_windows(xd: Any) -> None:
    from Xlib.ext import shape

    win = make_window(xd, 100, 100, 400, 200, "shared")
    cover = make_window(xd, 300, 0, 400, 720, "other")  # covers the right half
    overlay = make_window(xd, 0, 0, 1280, 720, override=True)
    overlay.shape_rectangles(shape.SO.Set, shape.SK.Input, 0, 0, 0, [])  # click-through
    xd.sync()
    try:
        region = visible_region(xd, win.id)
        assert region == [Rect(100, 100, 200, 200)]
        cover.unmap()
        xd.sync()
        assert visible_region(xd, win.id) == [Rect(100, 100, 400, 200)]
        assert visible_region(xd, win.id, ignore=[cover.id]) == [Rect(100, 100, 400, 200)]
        win.unmap()
        xd.sync()
        assert visible_region(xd, win.id) == []
    finally:
        for w in (win, cover, overlay):
            w.destroy()
        xd.sync()


def test_focus(xd: Any) -> None:
    import Xlib.X
    from Xlib.ext import xtest

    a = make_window(xd, 0, 0, 200, 200, "a")
    b = make_window(xd, 300, 0, 200, 200, "b")
    try:
        xd.set_input_focus(Xlib.X.PointerRoot, Xlib.X.RevertToPointerRoot, Xlib.X.CurrentTime)
        xtest.fake_input(xd, Xlib.X.MotionNotify, x=50, y=50)
        xd.sync()
        assert focus_in_window(xd, a.id) and not focus_in_window(xd, b.id)
        xd.set_input_focus(b, Xlib.X.RevertToPointerRoot, Xlib.X.CurrentTime)
        xd.sync()
        assert focus_in_window(xd, b.id) and not focus_in_window(xd, a.id)
    finally:
        xd.set_input_focus(Xlib.X.PointerRoot, Xlib.X.RevertToPointerRoot, Xlib.X.CurrentTime)
        a.destroy()
        b.destroy()
        xd.sync()


async def test_follow_moves_resizes_and_the_end(xd: Any) -> None:
    win = make_window(xd, 10, 10, 100, 100, "moving")
    tracker = WindowTracker(xd, win.id)
    seen: list[WindowState] = []
    task = asyncio.create_task(follow(tracker, seen.append, interval=0.01))

    async def until(pred: Any) -> None:
        for _ in range(200):
            if seen and pred(seen[-1]):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"never seen; last: {seen[-1:]}")

    await until(lambda s: s.rect == Rect(10, 10, 100, 100))
    win.configure(x=200, y=150, width=300, height=120)
    xd.sync()
    await until(lambda s: s.rect == Rect(200, 150, 300, 120))
    assert seen[-1].visible == (Rect(200, 150, 300, 120),)
    win.destroy()
    xd.sync()
    await asyncio.wait_for(task, 5)
    assert seen[-1].rect is None
