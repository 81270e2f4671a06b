"""Where application windows are on the customer's X11 screen (python-xlib).

For the "one application window only" mode: a picker lists the windows, the capture grabs the
chosen window's rect (masking what other windows cover), and ``remote_input.InputCore`` is told
the same rect, the visible part and whether the keyboard focus is inside.

    list_windows(display) -> [WindowInfo(id, title, rect)]   top-level client windows
    window_rect(display, wid) -> Rect | None                 in root coordinates; None: gone
    visible_region(display, wid, ignore=()) -> [Rect]        the rect minus windows above it
    focus_in_window(display, wid) -> bool                    do keystrokes go into it?
    WindowTracker(display, wid).poll() -> WindowState | None the state, when it changed
    follow(tracker, on_change, interval)                     poll on the event loop

Following moves and resizes is done by polling (10 times a second by default): a poll costs
a handful of round trips (~0.5 ms under Xvfb) and sees every kind of change at once -- the
window moving or resizing, being reparented by a window manager, another window moving over
it, the focus moving -- where ConfigureNotify alone would miss the last two.

A window above the shared one covers it unless it takes no input and is ours: windows whose
SHAPE input region is empty (a click-through overlay, such as the annotation layer) do not
count for ``visible_region``; pass any other window of the peer's own in ``ignore``.
Every ``display`` argument is an ``Xlib.display.Display``; nothing here opens one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import Xlib.error
import Xlib.X

from peer.remote_input import Rect

logger = logging.getLogger(__name__)

_X_ERRORS = (Xlib.error.BadWindow, Xlib.error.BadDrawable, Xlib.error.BadMatch)


@dataclass(frozen=True)
class WindowInfo:
    id: int
    title: str
    rect: Rect


@dataclass(frozen=True)
class WindowState:
    """One look at the shared window. ``rect`` is ``None`` once the window is gone."""

    rect: Rect | None
    visible: tuple[Rect, ...]
    focused: bool
    mapped: bool


# --------------------------------------------------------------------------- geometry


def subtract(rect: Rect, others: Iterable[Rect]) -> list[Rect]:
    """The parts of ``rect`` not covered by any of ``others``, as disjoint rects."""
    pieces = [rect]
    for o in others:
        out: list[Rect] = []
        for p in pieces:
            overlap = p.intersect(o)
            if overlap is None:
                out.append(p)
                continue
            x0, y0 = overlap.x, overlap.y
            x1, y1 = overlap.x + overlap.width, overlap.y + overlap.height
            if p.y < y0:  # above the overlap
                out.append(Rect(p.x, p.y, p.width, y0 - p.y))
            if y1 < p.y + p.height:  # below
                out.append(Rect(p.x, y1, p.width, p.y + p.height - y1))
            if p.x < x0:  # left, between
                out.append(Rect(p.x, y0, x0 - p.x, y1 - y0))
            if x1 < p.x + p.width:  # right, between
                out.append(Rect(x1, y0, p.x + p.width - x1, y1 - y0))
        pieces = out
    return pieces


def _window(display: Any, wid: int) -> Any:
    return display.create_resource_object("window", wid)


def window_rect(display: Any, wid: int) -> Rect | None:
    """The inside of window ``wid`` in root coordinates, or ``None`` if it does not exist."""
    try:
        win = _window(display, wid)
        geom = win.get_geometry()
        root = display.screen().root
        pos = root.translate_coords(win, 0, 0)
        return Rect(int(pos.x), int(pos.y), max(1, geom.width), max(1, geom.height))
    except _X_ERRORS:
        return None


def _outer_rect(win: Any) -> Rect | None:
    try:
        g = win.get_geometry()
    except _X_ERRORS:
        return None
    return Rect(g.x, g.y, g.width + 2 * g.border_width, g.height + 2 * g.border_width)


def _toplevel(display: Any, wid: int) -> int | None:
    """The child of the root that holds ``wid`` (``wid`` itself without a window manager)."""
    root = display.screen().root
    win = _window(display, wid)
    try:
        for _ in range(64):
            parent = win.query_tree().parent
            if parent is None or parent.id in (0, root.id):
                return int(win.id)
            win = parent
    except _X_ERRORS:
        return None
    return None


def _takes_no_input(win: Any) -> bool:
    try:
        from Xlib.ext import shape

        return len(win.shape_get_rectangles(shape.SK.Input).rectangles) == 0
    except Exception:  # no SHAPE extension, or the window went away
        return False


def _viewable(win: Any) -> tuple[bool, bool]:
    """(viewable, override_redirect) of a window; a vanished window is not viewable."""
    try:
        attrs = win.get_attributes()
    except _X_ERRORS:
        return False, False
    return attrs.map_state == Xlib.X.IsViewable, bool(attrs.override_redirect)


def visible_region(display: Any, wid: int, ignore: Iterable[int] = ()) -> list[Rect]:
    """The parts of window ``wid`` (root coordinates) that no window above it covers.

    Empty if the window is gone or not mapped.
    """
    rect = window_rect(display, wid)
    top = _toplevel(display, wid)
    if rect is None or top is None or not _viewable(_window(display, wid))[0]:
        return []
    skip = set(ignore)
    children = display.screen().root.query_tree().children  # bottom to top
    ids = [c.id for c in children]
    if top not in ids:
        return []
    covers: list[Rect] = []
    for child in children[ids.index(top) + 1 :]:
        if child.id in skip or not _viewable(child)[0]:
            continue
        outer = _outer_rect(child)
        if outer is None or rect.intersect(outer) is None:
            continue
        if _takes_no_input(child):
            continue
        covers.append(outer)
    return subtract(rect, covers)


def focus_in_window(display: Any, wid: int) -> bool:
    """Whether keystrokes go into window ``wid`` now.

    With focus ``PointerRoot`` (no window manager) they go to the window under the pointer.
    """
    focus = display.get_input_focus().focus
    root = display.screen().root
    if isinstance(focus, int):
        if focus != Xlib.X.PointerRoot:
            return False
        child = root.query_pointer().child
        return bool(child) and int(getattr(child, "id", child)) == _toplevel(display, wid)
    fid = int(focus.id)
    if fid == root.id:
        child = root.query_pointer().child
        return bool(child) and int(getattr(child, "id", child)) == _toplevel(display, wid)
    # the focus is the window, a window inside it, or inside the frame a window manager (or
    # a toolkit: Tk focuses a proxy next to its inner window) put around it
    targets = {wid, _toplevel(display, wid)}
    try:
        win = focus
        for _ in range(64):
            if int(win.id) in targets:
                return True
            parent = win.query_tree().parent
            if parent is None or parent.id in (0, root.id):
                return False
            win = parent
    except _X_ERRORS:
        return False
    return False


# --------------------------------------------------------------------------- listing


def _title(display: Any, win: Any) -> str | None:
    try:
        net_name = win.get_full_property(
            display.intern_atom("_NET_WM_NAME"), display.intern_atom("UTF8_STRING")
        )
        if net_name is not None and net_name.value:
            value = net_name.value
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        name = win.get_wm_name()
    except _X_ERRORS:
        return None
    if isinstance(name, bytes):
        return name.decode("latin-1")
    return name or None


def _client_of(display: Any, win: Any, wm_state: int, depth: int = 2) -> Any | None:
    """``win`` if it is a client window (has ``WM_STATE``), else a client inside it."""
    try:
        if win.get_full_property(wm_state, Xlib.X.AnyPropertyType) is not None:
            return win
        if depth == 0:
            return None
        for child in win.query_tree().children:
            found = _client_of(display, child, wm_state, depth - 1)
            if found is not None:
                return found
    except _X_ERRORS:
        return None
    return None


def list_windows(display: Any) -> list[WindowInfo]:
    """The mapped top-level application windows with a title, top of the stack first."""
    root = display.screen().root
    wm_state = display.intern_atom("WM_STATE")
    found: list[WindowInfo] = []
    for child in reversed(root.query_tree().children):
        viewable, override = _viewable(child)
        if not viewable or override:
            continue
        client = _client_of(display, child, wm_state) or child
        title = _title(display, client)
        rect = window_rect(display, client.id)
        if title and rect is not None:
            found.append(WindowInfo(int(client.id), title, rect))
    return found


# --------------------------------------------------------------------------- following


class WindowTracker:
    """Looks at one window each ``poll()`` and says when anything that matters changed."""

    def __init__(self, display: Any, wid: int, ignore: Iterable[int] = ()) -> None:
        self.display = display
        self.wid = wid
        self.ignore = tuple(ignore)
        self.state: WindowState | None = None

    def look(self) -> WindowState:
        rect = window_rect(self.display, self.wid)
        if rect is None:
            return WindowState(None, (), False, False)
        mapped = _viewable(_window(self.display, self.wid))[0]
        visible = tuple(visible_region(self.display, self.wid, self.ignore)) if mapped else ()
        focused = mapped and focus_in_window(self.display, self.wid)
        return WindowState(rect, visible, focused, mapped)

    def poll(self) -> WindowState | None:
        """The window's state if it changed since the last poll, else ``None``."""
        state = self.look()
        if state == self.state:
            return None
        logger.debug("window %#x: %s -> %s", self.wid, self.state, state)
        self.state = state
        return state


async def follow(
    tracker: WindowTracker,
    on_change: Callable[[WindowState], None],
    interval: float = 0.1,
) -> None:
    """Call ``on_change`` with every new state of the tracked window until it is gone."""
    while True:
        state = tracker.poll()
        if state is not None:
            on_change(state)
            if state.rect is None:
                return
        await asyncio.sleep(interval)
