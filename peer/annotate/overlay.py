"""The strokes on the customer's real screen: a click-through X window over what is shared.

An override-redirect window (no window manager touches it) covers the shared monitor or window.
Without a compositor an X window cannot be see-through, so it is *shaped* (X SHAPE extension):
its bounding shape is a 1-bit mask of the strokes, so only the strokes' pixels exist and
everything else shows the desktop as it is; its input shape is empty, so every click and key
goes to the windows below as if the overlay were not there. What it shows is a pixmap set as
its background, so the X server repaints it by itself. A see-through stroke (the highlighter,
a fade) keeps every other row of its pixels (a 50 % stipple costs Xvfb far more).

Without a window manager a newly mapped window would cover the overlay: it listens to the root
window's map and configure events and raises itself again (at most ``RAISE_EVERY`` s apart).

While the customer draws (``capture(rect, keep_above)``) an invisible InputOnly window of the
same size takes the pointer instead (a shaped window only takes input where it has pixels), with
a crosshair; the customer's SupportLink window is kept above it, so its buttons still work.
``on_pointer(kind, x, y, button)`` hears "press", "move" and "release" in root pixels.

    overlay = Overlay(display)      # raises OverlayError without X or its SHAPE extension
    overlay.show(rect, shapes)      # root-window pixels; shapes from Board.shapes()
    overlay.capture(rect, window)   # the customer draws (None: the pointer goes back)
    overlay.hide(); overlay.close()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from Xlib import X, display, error
from Xlib.ext import shape

from ..remote_input import Rect
from .board import Shape, arrow_head

logger = logging.getLogger(__name__)

#: The window's title (lists of windows to share leave it out).
TITLE = "SupportLink drawing"
#: The input window's title while the customer draws.
INPUT_TITLE = "SupportLink drawing input"
#: Raised again on others' map or configure events at most this often (seconds).
RAISE_EVERY = 0.2


_POINTER = {X.ButtonPress: "press", X.MotionNotify: "move", X.ButtonRelease: "release"}


class OverlayError(Exception):
    """No overlay here (no X display, or no SHAPE extension)."""


class Overlay:
    def __init__(self, display_name: str | None) -> None:
        try:
            self._d = display.Display(display_name)
        except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
            raise OverlayError(f"cannot open the X display: {exc}") from exc
        if not self._d.has_extension("SHAPE"):
            self._d.close()
            raise OverlayError("the X server has no SHAPE extension")
        self._screen = self._d.screen()
        self._root = self._screen.root
        self._colors: dict[tuple[int, int, int], int] = {}
        self._rect: Rect | None = None
        self._mapped = False
        self._raised_at = 0.0
        self._window = self._root.create_window(
            0,
            0,
            1,
            1,
            0,
            self._screen.root_depth,
            X.InputOutput,
            X.CopyFromParent,
            background_pixel=self._screen.black_pixel,
            override_redirect=True,
            event_mask=0,
        )
        self._window.set_wm_name(TITLE)
        self._window.set_wm_class("supportlink", "SupportLink")
        self._window.shape_rectangles(shape.SO.Set, shape.SK.Input, X.Unsorted, 0, 0, [])
        self._window.shape_rectangles(shape.SO.Set, shape.SK.Bounding, X.Unsorted, 0, 0, [])
        self._root.change_attributes(event_mask=X.SubstructureNotifyMask)
        self._catcher: Any = None
        self.on_pointer: Callable[[str, int, int, int], None] = lambda *_: None
        self._d.flush()

    @property
    def window_id(self) -> int:
        return int(self._window.id)

    def fileno(self) -> int:
        """The X connection: readable when there are events for ``pump()``."""
        return int(self._d.fileno())

    def pump(self) -> None:
        """Read the X events waiting; raise the overlay again if another window came up."""
        others_moved = False
        while self._d.pending_events():
            event = self._d.next_event()
            if self._catcher is not None and event.type in _POINTER:
                if getattr(event, "window", None) == self._catcher:
                    button = getattr(event, "detail", 0) if event.type != X.MotionNotify else 0
                    self.on_pointer(_POINTER[event.type], event.root_x, event.root_y, button)
                continue
            if event.type in (X.MapNotify, X.ConfigureNotify) and getattr(
                event, "window", None
            ) not in (self._window, self._catcher):
                others_moved = True
        if others_moved and self._mapped:
            now = time.monotonic()
            if now - self._raised_at >= RAISE_EVERY:
                self._raise(now)

    def show(self, rect: Rect, shapes: list[Shape]) -> None:
        """Draw ``shapes`` (pixels of ``rect``) over ``rect`` of the root window; nothing to
        draw hides the window."""
        if not shapes:
            self.hide()
            return
        w, h = rect.width, rect.height
        mask = self._window.create_pixmap(w, h, 1)
        picture = self._window.create_pixmap(w, h, self._screen.root_depth)
        mask_gc = mask.create_gc(foreground=0, background=0)
        mask.fill_rectangle(mask_gc, 0, 0, w, h)
        gc = picture.create_gc(foreground=self._screen.black_pixel)
        rows = {1: mask.create_pixmap(1, 2, 1), 2: mask.create_pixmap(1, 4, 1)}
        for step, stipple in rows.items():
            sgc = stipple.create_gc(foreground=0)
            stipple.fill_rectangle(sgc, 0, 0, 1, 2 * step)
            sgc.change(foreground=1)
            stipple.point(sgc, 0, 0)
            sgc.free()
        for s in shapes:
            self._draw(picture, gc, s, self._pixel(s.color))
            density = 0 if s.alpha >= 0.75 else (1 if s.alpha >= 0.35 else 2)
            if density:
                mask_gc.change(
                    foreground=1, fill_style=X.FillStippled, stipple=rows[density], ts_x_origin=0
                )
            else:
                mask_gc.change(foreground=1, fill_style=X.FillSolid)
            self._draw(mask, mask_gc, s, 1)
        if rect != self._rect:
            self._window.configure(x=rect.x, y=rect.y, width=w, height=h)
            self._rect = rect
        self._window.change_attributes(background_pixmap=picture)
        self._window.shape_mask(shape.SO.Set, shape.SK.Bounding, 0, 0, mask)
        self._window.clear_area(0, 0, w, h)
        if not self._mapped:
            self._window.map()
            self._mapped = True
        self._raise(time.monotonic())
        for p in (mask, picture, *rows.values()):
            p.free()
        mask_gc.free()
        gc.free()
        self._d.flush()

    def capture(self, rect: Rect | None, keep_above: int | None = None) -> None:
        """Take the pointer over ``rect`` for the customer's own drawing (None: give it
        back); the window ``keep_above`` (the customer's SupportLink window) stays above."""
        if rect is None:
            if self._catcher is not None:
                self._catcher.destroy()
                self._catcher = None
                self._d.flush()
            return
        if self._catcher is None:
            font = self._d.open_font("cursor")
            cursor = font.create_glyph_cursor(
                font, 34, 35, (0, 0, 0), (65535, 65535, 65535)
            )  # XC_crosshair
            self._catcher = self._root.create_window(
                rect.x,
                rect.y,
                rect.width,
                rect.height,
                0,
                0,
                X.InputOnly,
                X.CopyFromParent,
                override_redirect=True,
                cursor=cursor,
                event_mask=X.ButtonPressMask | X.ButtonReleaseMask | X.PointerMotionMask,
            )
            self._catcher.set_wm_name(INPUT_TITLE)
            self._catcher.map()
        else:
            self._catcher.configure(x=rect.x, y=rect.y, width=rect.width, height=rect.height)
        self._catcher.configure(stack_mode=X.Above)
        if keep_above:
            self._d.create_resource_object("window", keep_above).configure(stack_mode=X.Above)
        self._d.flush()

    @property
    def capturing(self) -> bool:
        return self._catcher is not None

    def hide(self) -> None:
        if self._mapped:
            self._window.unmap()
            self._mapped = False
            self._d.flush()

    def close(self) -> None:
        try:
            self.capture(None)
            self._window.destroy()
            self._d.close()
        except (error.ConnectionClosedError, OSError):
            pass

    # ------------------------------------------------------------------ drawing

    def _raise(self, now: float) -> None:
        self._window.configure(stack_mode=X.Above)
        self._raised_at = now

    def _pixel(self, color: tuple[int, int, int]) -> int:
        pixel = self._colors.get(color)
        if pixel is None:
            r, g, b = color
            reply = self._screen.default_colormap.alloc_color(r * 257, g * 257, b * 257)
            pixel = self._colors[color] = int(reply.pixel)
        return pixel

    @staticmethod
    def _draw(drawable: Any, gc: Any, s: Shape, pixel: int) -> None:
        gc.change(
            foreground=pixel, line_width=s.width, cap_style=X.CapRound, join_style=X.JoinRound
        )
        if s.kind == "dot":
            (x, y), r = s.points[0], s.width
            drawable.fill_arc(gc, x - r, y - r, 2 * r, 2 * r, 0, 360 * 64)
            return
        if s.kind == "line":
            if len(s.points) == 1:
                (x, y), r = s.points[0], max(1, s.width // 2)
                drawable.fill_arc(gc, x - r, y - r, 2 * r, 2 * r, 0, 360 * 64)
            else:
                drawable.poly_line(gc, X.CoordModeOrigin, list(s.points))
            return
        (x0, y0), (x1, y1) = s.points
        left, top = min(x0, x1), min(y0, y1)
        width, height = abs(x1 - x0), abs(y1 - y0)
        if s.kind == "rect":
            drawable.rectangle(gc, left, top, width, height)
        elif s.kind == "ellipse":
            drawable.arc(gc, left, top, width, height, 0, 360 * 64)
        elif s.kind == "arrow":
            drawable.line(gc, x0, y0, x1, y1)
            drawable.fill_poly(
                gc, X.Convex, X.CoordModeOrigin, list(arrow_head(s.points[0], s.points[1], s.width))
            )
