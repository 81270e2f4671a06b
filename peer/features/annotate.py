"""Drawing on the customer's screen: the operator's strokes on a click-through overlay.

While ``annotate`` is allowed the strokes of the ``annotate`` channel go onto a ``Board`` and the
board onto an ``Overlay`` over exactly what is shared (the monitor, or the one window, followed
as it moves: the rect remote control maps the operator's pointer onto). Nothing is drawn while
nothing is shared. The customer can clear the drawing (the console is told) or switch drawing
off at any moment in the window; switching it off, a lost link and the end of the session take
every stroke away at once. Without an X display or its SHAPE extension the capability is given
back (this computer cannot do it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from wire import protocol

from ..annotate.board import Board
from ..annotate.overlay import Overlay, OverlayError
from ..feature import Feature, Shown
from ..i18n import t
from ..remote import RemoteControl
from ..remote_input import Rect

logger = logging.getLogger(__name__)

#: While strokes are shown the shared rect is looked at this often (a moved window).
FOLLOW_S = 0.1


class AnnotateFeature(Feature):
    capability = "annotate"
    handles = frozenset({"stroke", "stroke_undo", "strokes_clear", "laser"})

    def __init__(self, host: Any, remote: RemoteControl) -> None:
        super().__init__(host)
        self.remote = remote
        self.board = Board()
        self.overlay: Overlay | None = None
        self.draws = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._shown_on: Rect | None | bool = False  # the rect drawn on (False: nothing yet)

    def set_allowed(self, allowed: bool) -> bool:
        self.allowed = allowed
        if not allowed:
            self._stop()
            self.host.show(self.capability, Shown("line", t("annotate.off")))
            return True
        if self.overlay is None:
            try:
                self.overlay = Overlay(self.host.display)
            except OverlayError as exc:
                logger.warning("annotate: no overlay on this display: %s", exc)
                self.host.notice(t("annotate.unavailable"))
                self.allowed = False
                return False
            loop = self.host.loop
            if loop is not None:
                loop.add_reader(self.overlay.fileno(), self.overlay.pump)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())
        self.host.show(
            self.capability, Shown("line", t("annotate.on", operator=self.host.operator))
        )
        return True

    def handle(self, msg: Any) -> None:
        if self.board.apply(msg, time.monotonic()):
            self._wake.set()

    def from_ui(self, action: str, value: str) -> None:
        if action == "clear":
            if self.board.clear():
                self._wake.set()
            self.host.send("annotate", protocol.StrokesClear())
            self.host.show(self.capability, Shown("line", t("annotate.cleared")))
        elif action == "off":
            self.host.revoke(self.capability)

    def link_lost(self) -> None:
        if self.board.clear():
            self._wake.set()

    def stop_now(self) -> None:
        self._stop()

    async def close(self) -> None:
        self._stop()
        if self.overlay is not None:
            loop = self.host.loop
            if loop is not None:
                loop.remove_reader(self.overlay.fileno())
            self.overlay.close()
            self.overlay = None

    def summary(self) -> str | None:
        if not self.board.applied and not self.board.dropped:
            return None
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(self.board.dropped.items()))
        return f"annotate: {self.board.applied} messages, drawn {self.draws} times" + (
            f", dropped: {dropped}" if dropped else ""
        )

    # ------------------------------------------------------------------ drawing

    def _stop(self) -> None:
        self.board.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.overlay is not None:
            self.overlay.hide()
        self._shown_on = False

    async def _run(self) -> None:
        """Redraw when the board changed, a stroke fades or the shared rect moved; sleep
        otherwise (no strokes: until a message comes)."""
        due: float | None = None
        while True:
            now = time.monotonic()
            changed = self.board.tick(now) or (due is not None and now >= due - 0.005)
            rect = self.remote.core.rect
            if self._wake.is_set() or changed or rect != self._shown_on:
                self._wake.clear()
                self._draw(rect, now)
            due = self.board.due(now)
            timeout = FOLLOW_S if self.board.strokes or self.board.laser else None
            if due is not None:
                timeout = min(timeout or FOLLOW_S, max(0.0, due - now))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def _draw(self, rect: Rect | None, now: float) -> None:
        overlay = self.overlay
        if overlay is None:
            return
        self._shown_on = rect
        if rect is None:
            overlay.hide()
            return
        overlay.show(rect, self.board.shapes(rect.width, rect.height, now))
        self.draws += 1
