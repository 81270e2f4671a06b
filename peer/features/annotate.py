"""Drawing on the customer's screen: the operator's strokes on a click-through overlay.

While ``annotate`` is allowed the strokes of the ``annotate`` channel go onto a ``Board`` and the
board onto an ``Overlay`` over exactly what is shared (the monitor, or the one window, followed
as it moves: the rect remote control maps the operator's pointer onto). Nothing is drawn while
nothing is shared. The customer can clear the drawing (the console is told) or switch drawing
off at any moment in the window; switching it off, a lost link and the end of the session take
every stroke away at once. Without an X display or its SHAPE extension the capability is given
back (this computer cannot do it).

The customer draws too ("Draw on my screen" in the window): an input window over what is
shared takes their pointer (their SupportLink window stays above it); each stroke is drawn at
once and sent to the console, which marks it as the customer's. A right click or "Finish my
drawing" gives the pointer back.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
#: The customer's own strokes go to the console at most this often while they draw.
SEND_EVERY_S = 0.03
#: The customer's pen: a colour of its own (the operator's default is red), medium width.
CUSTOMER_COLOR = "#1a73e8"
CUSTOMER_WIDTH = 6
CUSTOMER_TOOLS = ("pen", "highlighter", "rect", "ellipse", "arrow")


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
        self.customer_tool = "pen"
        self._keep_above: int | None = None  # the customer's window, above the input window
        self._own: protocol.Stroke | None = None  # the customer's stroke being drawn
        self._own_unsent: list[float] = []
        self._own_sent_at = 0.0
        self._own_ids = 0

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
        elif action == "draw_on":
            self._draw_mode(True, int(value) if value.isdigit() else None)
        elif action == "draw_off":
            self._draw_mode(False)
        elif action == "draw_tool" and value in CUSTOMER_TOOLS:
            self.customer_tool = value

    @property
    def customer_drawing(self) -> bool:
        return self.overlay is not None and self.overlay.capturing

    def _draw_mode(self, on: bool, keep_above: int | None = None) -> None:
        overlay = self.overlay
        if overlay is None or not self.allowed:
            return
        rect = self.remote.core.rect
        if on and rect is None:
            self.host.show(self.capability, Shown("line", t("annotate.nothing_shared")))
            return
        if on:
            self._keep_above = keep_above
            overlay.on_pointer = self._pointer
            overlay.capture(rect, keep_above)
            self._pump_soon()
            self.host.show(self.capability, Shown("drawing", t("annotate.drawing")))
        elif overlay.capturing:
            self._own_end()
            overlay.capture(None)
            self.host.show(
                self.capability, Shown("line", t("annotate.on", operator=self.host.operator))
            )

    def _pointer(self, kind: str, x: int, y: int, button: int) -> None:
        """The customer's pointer over what is shared, while they draw (root pixels)."""
        rect = self.remote.core.rect
        if rect is None:
            return
        if kind == "press" and button == 3:  # a right click: done drawing
            self._draw_mode(False)
            return
        fx = min(1.0, max(0.0, (x - rect.x) / max(1, rect.width - 1)))
        fy = min(1.0, max(0.0, (y - rect.y) / max(1, rect.height - 1)))
        now = time.monotonic()
        free = self.customer_tool in ("pen", "highlighter")
        if kind == "press" and button == 1:
            self._own_end()
            self._own_ids += 1
            first = (fx, fy) if free else (fx, fy, fx, fy)
            self._own = protocol.Stroke(
                id=self._own_ids,
                tool=self.customer_tool,
                color=CUSTOMER_COLOR,
                width=CUSTOMER_WIDTH,
                fade=False,
                points=first,
                done=False,
            )
            self._own_unsent = list(first)
            self._own_sent_at = 0.0
            self.board.apply(self._own, now, by="customer")
        elif self._own is not None and kind in ("move", "release"):
            step: tuple[float, ...]
            if free:
                step = (fx, fy)
                self._own_unsent.extend(step)
            else:
                start = self._own.points[:2]
                step = (*start, fx, fy)
                self._own_unsent = list(step)
            self.board.apply(dataclasses.replace(self._own, points=step), now, by="customer")
            if kind == "release":
                self._own_end()
            elif now - self._own_sent_at >= SEND_EVERY_S:
                self._own_send(done=False, now=now)
        else:
            return
        self._wake.set()

    def _own_send(self, *, done: bool, now: float) -> None:
        own = self._own
        if own is None:
            return
        points = self._own_unsent
        while True:
            part, points = (
                points[: 2 * protocol.MAX_STROKE_POINTS_PER_MESSAGE],
                points[2 * protocol.MAX_STROKE_POINTS_PER_MESSAGE :],
            )
            last = not points
            self.host.send(
                "annotate",
                dataclasses.replace(own, points=tuple(part), done=done and last),
            )
            if last:
                break
        self._own_unsent = []
        self._own_sent_at = now

    def _own_end(self) -> None:
        """The customer's stroke being drawn ends (released, or drawing stopped)."""
        own = self._own
        if own is None:
            return
        now = time.monotonic()
        self.board.apply(dataclasses.replace(own, points=(), done=True), now, by="customer")
        self._own_send(done=True, now=now)
        self._own = None

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
        self._own = None
        if self.overlay is not None:
            self.overlay.capture(None)
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
            moved = rect != self._shown_on
            if self._wake.is_set() or changed or moved:
                self._wake.clear()
                self._draw(rect, now)
                if moved and self.customer_drawing and self.overlay is not None:
                    if rect is None:
                        self._draw_mode(False)
                    else:
                        self.overlay.capture(rect, self._keep_above)
                self._pump_soon()
            due = self.board.due(now)
            busy = self.board.strokes or self.board.laser or self.customer_drawing
            timeout = FOLLOW_S if busy else None
            if due is not None:
                timeout = min(timeout or FOLLOW_S, max(0.0, due - now))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def _pump_soon(self) -> None:
        """Read X events soon. A request that waits for a reply (a colour, a flush) makes
        python-xlib read the events that came before the reply into its own queue, where the
        socket's readiness no longer shows them: the customer's button release could sit
        there until the next event."""
        loop = self.host.loop
        if loop is not None:
            loop.call_soon(self._pump)

    def _pump(self) -> None:
        if self.overlay is not None:
            self.overlay.pump()

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
