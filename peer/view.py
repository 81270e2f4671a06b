"""What the operator sees: one monitor, or one application window only.

``View`` keeps three things in step -- the capture (``ScreenTrack``), the input geometry
(``RemoteControl.set_geometry``) and what the operator is told (``view_state``):

* **Monitors.** mss lists the bounding box of all monitors first (its index 0) and then the
  real monitors (1, 2, ...). On the wire (``view_state.monitors``, ``select_monitor.index``)
  only the real monitors are numbered, from 0: wire index ``i`` is mss index ``i + 1``. The
  ``--monitor`` option counts as people do (1 = the first), i.e. in mss numbering.
* **One window.** ``limit_to_window(wid, title)`` shares that window only: the capture grabs
  its rect and blacks out whatever covers it (``XWindowSource``, asked on the capture thread
  at every grab), a ``WindowTracker`` on the event loop follows moves, resizes, covering
  windows and focus for the input core, and every change of the picture's size is sent as
  ``view_state``. ``limit_to_title(text)`` waits for a window whose title contains ``text``
  (case-insensitive); until one appears nothing but black is sent. ``share_whole_screen()``
  ends window mode. ``select_monitor`` is refused in window mode.
* ``view_state`` goes out when view is granted (``start``) and after every change (a monitor
  plugged in or out is seen within ``monitor_poll`` seconds), and only while the view is
  granted; monitors are read through the capture, so nothing touches the screen before the
  customer allowed it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from wire import protocol

from .capture import ScreenTrack, monitor_rect, picture_rect
from .i18n import t
from .remote import RemoteControl
from .remote_input import Rect
from .windows import (
    WindowInfo,
    WindowState,
    WindowTracker,
    follow,
    list_windows,
    visible_region,
    window_rect,
)

logger = logging.getLogger(__name__)

#: Titles of the peer's own windows, never offered in the window list.
OWN_TITLES = frozenset({"SupportLink", "SupportLink drawing", "SupportLink drawing input"})


def clean_title(title: str) -> str:
    """A window title as the protocol carries it (``view_state.window``: 256 at most)."""
    return protocol.clean_text(title)[:256]


def _open_display(name: str | None) -> Any:
    import Xlib.display

    return Xlib.display.Display(name)


class XWindowSource:
    """``capture.WindowSource`` for one window; its own X connection, on the capture thread.

    ``wid`` may be ``None`` (no window yet: nothing but black) and set later."""

    def __init__(self, display: str | None, wid: int | None) -> None:
        self.display = display
        self.wid = wid
        self._d: Any = None

    def look(self) -> tuple[Rect | None, tuple[Rect, ...]]:
        wid = self.wid
        if wid is None:
            return None, ()
        if self._d is None:
            self._d = _open_display(self.display)
        rect = window_rect(self._d, wid)
        if rect is None:
            return None, ()
        return rect, tuple(visible_region(self._d, wid))

    def close(self) -> None:
        d, self._d = self._d, None
        if d is not None:
            d.close()


class View:
    def __init__(
        self,
        track: ScreenTrack,
        remote: RemoteControl,
        *,
        display: str | None,
        send: Callable[[Any], None],
        notice: Callable[[str], None],
        on_mode: Callable[[str | None], None] = lambda _title: None,
        follow_interval: float = 0.1,
        monitor_poll: float = 2.0,
    ) -> None:
        self.track = track
        self.remote = remote
        self.display = display
        self.send = send
        self.notice = notice
        self.on_mode = on_mode
        self.follow_interval = follow_interval
        self.monitor_poll = monitor_poll
        self.monitors: list[Rect] = []
        self.primary: list[bool] = []
        self.bounds: Rect | None = None
        self.index = max(0, track.monitor - 1)  # wire numbering
        self.window: WindowInfo | None = None
        self.wanted: str | None = None  # a title to wait for
        self.picture: tuple[int, int] = (0, 0)
        self.active = False
        self.refused: Counter[str] = Counter()
        self._x: Any = None
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """View was granted (the capture gate is open): read the monitors, share, tell; then
        keep watching for monitors plugged in or out while view stays granted."""
        mss_monitors = await self.track.monitors()
        if not mss_monitors:
            return
        self._set_monitors(mss_monitors)
        self.active = True
        if self.window is None and self.wanted is None:
            self._share_monitor(self.index)
        elif self.window is not None:
            self._tell()
        if self._watch is None or self._watch.done():
            self._watch = asyncio.ensure_future(self._watch_monitors())

    def _set_monitors(self, mss_monitors: list[dict[str, int]]) -> None:
        self.bounds = monitor_rect(mss_monitors[0])
        real = mss_monitors[1:] or mss_monitors[:1]
        self.monitors = [monitor_rect(m) for m in real]
        self.primary = [bool(m.get("is_primary", False)) for m in real]
        if not 0 <= self.index < len(self.monitors):
            logger.warning("monitor %d does not exist; sharing the first", self.index + 1)
            self.index = 0

    async def _watch_monitors(self) -> None:
        """A monitor plugged in, unplugged or moved shows in the operator's list at once
        (within ``monitor_poll``), not only in the next session."""
        while self.active:
            await asyncio.sleep(self.monitor_poll)
            if not self.active:
                return
            try:
                fresh = await self.track.monitors(fresh=True)
            except Exception as exc:  # the X server went away: the session ends elsewhere
                logger.warning("monitor list: %s", exc)
                return
            if not fresh or not self.active:
                continue
            before = (self.bounds, self.monitors, self.primary)
            index = self.index
            shown = self.monitors[index] if index < len(self.monitors) else None
            self._set_monitors(fresh)
            if (self.bounds, self.monitors, self.primary) == before:
                continue
            logger.info("view: the monitors changed (%d now)", len(self.monitors))
            self.notice(t("notice.monitors_changed", count=len(self.monitors)))
            # the operator keeps the monitor they were shown, wherever the list puts it now
            if shown in self.monitors:
                self.index = self.monitors.index(shown)
            elif self.window is None and self.wanted is None:
                self.index = 0
                self.notice(t("notice.monitor_gone", n=index + 1))
            if self.window is None and self.wanted is None:
                self._share_monitor(self.index)
            else:
                self._tell()

    def pause(self) -> None:
        """View was taken back: no ``view_state`` until it is granted again."""
        self.active = False
        if self._watch is not None:
            self._watch.cancel()

    async def close(self) -> None:
        self.pause()
        self._stop_following()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._x is not None:
            self._x.close()
            self._x = None

    # ------------------------------------------------------------------ monitors

    def select_monitor(self, index: int) -> bool:
        """The operator asks for another monitor; ``False`` (logged, counted) if refused."""
        if self.window is not None or self.wanted is not None:
            logger.warning("select_monitor %d refused: limited to one window", index)
            self.refused["window_mode"] += 1
            return False
        if not self.active or not 0 <= index < len(self.monitors):
            logger.warning("select_monitor %d refused: no such monitor", index)
            self.refused["bad_monitor"] += 1
            return False
        self._share_monitor(index)
        return True

    def _share_monitor(self, index: int) -> None:
        self.index = index
        self.track.share_monitor(index + 1)
        monitor = self.monitors[index]
        assert self.bounds is not None
        picture = picture_rect(monitor, self.bounds) or monitor
        self.remote.set_geometry(picture)
        self.picture = (picture.width, picture.height)
        self._tell()

    # ------------------------------------------------------------------ one window

    def windows(self) -> list[WindowInfo]:
        """The application windows the customer can choose from."""
        if self._x is None:
            self._x = _open_display(self.display)
        return [w for w in list_windows(self._x) if w.title not in OWN_TITLES]

    def limit_to_window(self, wid: int, title: str) -> None:
        self._stop_following()
        self.wanted = None
        self.window = WindowInfo(wid, clean_title(title), Rect(0, 0, 1, 1))
        self._use_source(wid)
        self.remote.set_geometry(None)
        self.picture = (0, 0)
        self.on_mode(title)
        tracker = WindowTracker(self._x_display(), wid)
        self._task = asyncio.ensure_future(self._follow(tracker))

    def limit_to_title(self, text: str) -> None:
        """Share the first window whose title contains ``text`` (waiting for one to appear)."""
        self._stop_following()
        self.window = None
        self.wanted = text
        self._use_source(None)
        self.remote.set_geometry(None)
        self.on_mode(text)
        self._task = asyncio.ensure_future(self._wait_for_title(text))

    def share_whole_screen(self) -> None:
        if self.window is None and self.wanted is None:
            return
        self._stop_following()
        self.window = None
        self.wanted = None
        self.on_mode(None)
        logger.info("view: window mode ended")
        if self.active:
            self._share_monitor(self.index)
        else:
            self.track.share_monitor(self.index + 1)

    def _use_source(self, wid: int | None) -> None:
        self.track.share_window(XWindowSource(self.display, wid))

    def _x_display(self) -> Any:
        if self._x is None:
            self._x = _open_display(self.display)
        return self._x

    def _stop_following(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _wait_for_title(self, text: str) -> None:
        needle = text.casefold()
        announced = False
        while True:
            match = next((w for w in self.windows() if needle in w.title.casefold()), None)
            if match is not None:
                self.limit_to_window(match.id, match.title)
                return
            if not announced:
                self.notice(t("notice.view_waiting_window", title=text))
                announced = True
            await asyncio.sleep(0.5)

    async def _follow(self, tracker: WindowTracker) -> None:
        await follow(tracker, self._window_changed, self.follow_interval)

    def _window_changed(self, state: WindowState) -> None:
        window = self.window
        if window is None:
            return
        if state.rect is None:
            logger.info("view: the shared window is gone")
            self.remote.set_geometry(None)
            self.notice(t("notice.view_window_gone", title=window.title))
            return
        bounds = self.bounds or state.rect
        picture = picture_rect(state.rect, bounds)
        if picture is None:  # entirely off the screen
            self.remote.set_geometry(None)
            return
        self.window = WindowInfo(window.id, window.title, state.rect)
        self.remote.set_geometry(
            picture, window_id=window.id, visible=state.visible, focused=state.focused
        )
        size = (picture.width, picture.height)
        if size != self.picture:
            self.picture = size
            self._tell()

    # ------------------------------------------------------------------ telling

    def view_state(self) -> protocol.ViewState:
        return protocol.ViewState(
            monitors=tuple(
                protocol.Monitor(
                    index=i, x=m.x, y=m.y, width=m.width, height=m.height, primary=primary
                )
                for i, (m, primary) in enumerate(zip(self.monitors, self.primary, strict=True))
            )[:32],
            monitor=min(self.index, 31),
            window=None if self.window is None else self.window.title,
            width=self.picture[0],
            height=self.picture[1],
        )

    def tell_again(self) -> None:
        """Send the current ``view_state`` again (a fresh connection has new channels)."""
        if self.active and self.picture != (0, 0):
            self.send(self.view_state())

    def _tell(self) -> None:
        if not self.active or self.picture == (0, 0):
            return
        self.send(self.view_state())
        w, h = self.picture
        if self.window is not None:
            self.notice(t("notice.view_window", title=self.window.title, width=w, height=h))
        else:
            # people count monitors from 1, as the console does (the wire counts from 0)
            n, count = self.index + 1, len(self.monitors)
            self.notice(t("notice.view_monitor", n=n, count=count, width=w, height=h))
