"""The window in which the customer sees what the operator shows: their screen or camera.

A plain top-level X window (python-xlib), managed like any other: a title (``WM_NAME`` and
UTF-8 ``_NET_WM_NAME``), ``WM_CLASS`` ("supportlink", "SupportLink"), resizable, and
``WM_DELETE_WINDOW`` in its ``WM_PROTOCOLS``, so the window manager's close button calls
``on_close()`` (once). The window stays until its owner calls ``close()``.

Each ``av.VideoFrame`` (any size and pixel format) is fitted to the window keeping its aspect
ratio, with black bars. A window at least as big as the picture shows it 1:1, centred (sharp
text, no upscaling blur); a smaller one gets it scaled down with an area filter (text stays
readable). Scaling and the conversion to the screen's 32-bit pixels are one swscale pass,
which runs without the GIL; the pixels go to the X server as ``PutImage`` requests in
horizontal strips, each under the server's request size limit. The bars are painted only
when the layout changes; an ``Expose`` repaints the rows that were uncovered from the pixels
already converted.

The window opens with the picture's usual 16:9 shape in about 80 % of the screen (or ``size``);
the first picture, or one of another size, reshapes it (never larger than the picture) until
the customer resizes the window themselves.

    window = ShowWindow(display, "Alice's screen", on_close)   # ShowWindowError without X
    loop.add_reader(window.fileno(), window.pump)
    window.show(frame); window.pump()
    window.set_title("Alice's camera")
    window.close()

``WindowThread`` drives a window from a thread of its own: the event loop only hands the newest
frame over, so drawing (a few ms a frame at 1080p) never holds up reading the network.

python-xlib reads the server's events into a queue of its own whenever it reads from the
connection (while waiting for a reply, or while flushing a large request); the connection then
no longer looks readable though events wait. ``pump()`` empties that queue and is cheap with
nothing in it: call it after ``show()`` and ``set_title()``.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable
from typing import Any

import av
from av.video.reformatter import Interpolation, VideoReformatter
from Xlib import X, Xatom, Xutil, error
from Xlib import display as xdisplay

logger = logging.getLogger(__name__)

#: Part of the screen the window may take at first (each way).
SCREEN_SHARE = 0.8
#: The picture's shape assumed before the first frame comes.
DEFAULT_ASPECT = (16, 9)
#: The window manager lets the customer shrink the window down to this (pixels).
MIN_SIZE = (160, 90)
#: swscale filter for a picture larger than the window.
DOWNSCALE = Interpolation.AREA
#: Seconds to wait for the X server to read what is drawn before leaving it queued.
HAND_OVER_TIMEOUT = 5.0
#: Bytes of a ``PutImage`` request before its pixels.
_PUT_IMAGE_HEADER = 24

_ATOMS = ("WM_PROTOCOLS", "WM_DELETE_WINDOW", "_NET_WM_NAME", "_NET_WM_ICON_NAME", "UTF8_STRING")
_DISPLAY_ERRORS = (error.DisplayError, error.ConnectionClosedError, OSError)


class ShowWindowError(Exception):
    """No window here: no X display, or one whose pixels this window cannot write."""


class ShowWindow:
    """One managed X window showing video frames, fitted with black bars."""

    def __init__(
        self,
        display: str | None,
        title: str,
        on_close: Callable[[], None],
        *,
        size: tuple[int, int] | None = None,
    ) -> None:
        try:
            self._d = xdisplay.Display(display)
        except _DISPLAY_ERRORS as exc:
            raise ShowWindowError(f"cannot open the X display {display!r}: {exc}") from exc
        try:
            self._pixel_format = _pixel_format(self._d)
        except ShowWindowError:
            self._d.close()
            raise
        self._on_close = on_close
        self._closed = False
        self._close_reported = False
        self._d.set_error_handler(_log_x_error)
        screen = self._d.screen()
        self._root_size = (int(screen.width_in_pixels), int(screen.height_in_pixels))
        # a size chosen by the customer (or the owner) is kept; else the picture's shape
        self._user_sized = size is not None
        if size is not None:
            width, height = max(1, size[0]), max(1, size[1])
        else:
            width, height = _fit(*DEFAULT_ASPECT, *self._scaled_root())
        self._size = (width, height)
        self._asked: tuple[int, int] | None = None  # asked of the server, not yet seen
        info = self._d.display.info
        self._max_request = int(info.max_request_length) * 4
        self._atom = {name: int(self._d.intern_atom(name)) for name in _ATOMS}
        self._window = screen.root.create_window(
            (self._root_size[0] - width) // 2,
            (self._root_size[1] - height) // 2,
            width,
            height,
            0,
            screen.root_depth,
            X.InputOutput,
            X.CopyFromParent,
            background_pixel=screen.black_pixel,
            bit_gravity=X.ForgetGravity,
            event_mask=X.StructureNotifyMask | X.ExposureMask,
        )
        self._gc = self._window.create_gc(foreground=screen.black_pixel, graphics_exposures=False)
        self._window.set_wm_class("supportlink", "SupportLink")
        self._window.change_property(
            self._atom["WM_PROTOCOLS"], Xatom.ATOM, 32, [self._atom["WM_DELETE_WINDOW"]]
        )
        self._window.set_wm_normal_hints(
            flags=Xutil.PMinSize | Xutil.PSize | (Xutil.USSize if size else 0),
            min_width=MIN_SIZE[0],
            min_height=MIN_SIZE[1],
            width=width,
            height=height,
        )
        self._window.set_wm_hints(
            flags=Xutil.InputHint | Xutil.StateHint, input=1, initial_state=Xutil.NormalState
        )
        self._set_title(title)
        self._reformatter = VideoReformatter()
        self._frame: av.VideoFrame | None = None  # the last one shown, for a new layout
        self._frame_size: tuple[int, int] | None = None
        # its rows as drawn: the converted picture's memory, bytes per row there, bytes drawn
        self._pixels: tuple[memoryview, int, int] | None = None
        self._layout: tuple[int, int, int, int] | None = None  # x, y, width, height
        self._shown = 0
        self._window.map()
        self._hand_over()

    # ------------------------------------------------------------------ the owner's calls

    @property
    def window_id(self) -> int:
        return int(self._window.id)

    @property
    def size(self) -> tuple[int, int]:
        """The window's size as last reported by the X server."""
        return self._size

    @property
    def shown(self) -> int:
        """Frames drawn."""
        return self._shown

    def fileno(self) -> int:
        """The X connection: readable when there are events for ``pump()``."""
        return int(self._d.fileno())

    def pump(self) -> None:
        """Handle every X event waiting: a new size lays the last frame out again, an
        ``Expose`` repaints what was uncovered, the close button calls ``on_close()`` once."""
        if self._closed:
            return
        resized = False
        exposed: tuple[int, int] | None = None  # window rows to paint again
        try:
            while not self._closed and self._d.pending_events():
                event = self._d.next_event()
                if getattr(event, "window", None) != self._window:
                    continue
                if event.type == X.ConfigureNotify:
                    resized |= self._configured(int(event.width), int(event.height))
                elif event.type == X.Expose:
                    top, bottom = int(event.y), int(event.y) + int(event.height)
                    if exposed is not None:
                        top, bottom = min(top, exposed[0]), max(bottom, exposed[1])
                    exposed = (top, bottom)
                elif event.type == X.ClientMessage and self._is_delete(event):
                    self._report_close()
            if self._closed:  # by on_close()
                return
            if resized:
                self._relayout()
            elif exposed is not None:
                self._repaint(*exposed)
        except _DISPLAY_ERRORS as exc:
            logger.warning("the X display went away: %s", exc)
            self._report_close()

    def show(self, frame: av.VideoFrame) -> None:
        """Draw ``frame`` fitted to the window (1:1 when there is room), black bars around."""
        if self._closed:
            return
        size = (int(frame.width), int(frame.height))
        try:
            if size != self._frame_size:
                self._frame_size = size
                if not self._user_sized:
                    self._ask_size(*_fit(*size, *self._scaled_root(), upscale=False))
            self._frame = frame
            self._draw()
            self._shown += 1
        except _DISPLAY_ERRORS as exc:
            logger.warning("the X display went away: %s", exc)

    def set_title(self, title: str) -> None:
        if self._closed:
            return
        try:
            self._set_title(title)
            self._hand_over()
        except _DISPLAY_ERRORS as exc:
            logger.warning("the X display went away: %s", exc)

    def close(self) -> None:
        """Destroy the window and close the display (again: nothing)."""
        if self._closed:
            return
        self._closed = True
        self._frame = None
        self._pixels = None
        try:
            self._window.destroy()
            self._d.close()
        except _DISPLAY_ERRORS as exc:
            logger.debug("closing the show window: %s", exc)

    # ------------------------------------------------------------------ events

    def _configured(self, width: int, height: int) -> bool:
        """A ConfigureNotify: True if the size changed."""
        size = (width, height)
        if size == self._size:
            return False
        if size != self._asked:
            self._user_sized = True  # the customer (or their window manager) chose it
        self._asked = None
        logger.debug("show window: %dx%d -> %dx%d", *self._size, *size)
        self._size = size
        return True

    def _is_delete(self, event: Any) -> bool:
        if int(event.client_type) != self._atom["WM_PROTOCOLS"]:
            return False
        fmt, data = event.data
        return bool(fmt == 32 and int(data[0]) == self._atom["WM_DELETE_WINDOW"])

    def _report_close(self) -> None:
        if not self._close_reported:
            self._close_reported = True
            self._on_close()

    # ------------------------------------------------------------------ drawing

    def _scaled_root(self) -> tuple[int, int]:
        return int(self._root_size[0] * SCREEN_SHARE), int(self._root_size[1] * SCREEN_SHARE)

    def _ask_size(self, width: int, height: int) -> None:
        if (width, height) == self._size:
            return
        self._asked = (width, height)
        self._window.configure(width=width, height=height)

    def _relayout(self) -> None:
        if self._frame is not None:
            self._draw()
        else:
            self._layout = None

    def _draw(self) -> None:
        """Convert the last frame for the window's size and put all of it on the screen."""
        frame = self._frame
        assert frame is not None
        layout = _layout(int(frame.width), int(frame.height), *self._size)
        width, height = layout[2:]
        # the previous picture's memory goes back first, for this one to reuse it (a fresh
        # buffer costs a page fault per 4 KiB)
        self._pixels = None
        if (width, height) == (frame.width, frame.height):
            picture = self._reformatter.reformat(frame, format=self._pixel_format, threads=1)
        else:
            picture = self._reformatter.reformat(
                frame,
                width=width,
                height=height,
                format=self._pixel_format,
                interpolation=DOWNSCALE,
                threads=1,
            )
        plane = picture.planes[0]
        self._pixels = (memoryview(plane), int(plane.line_size), width * 4)
        if layout != self._layout:
            self._layout = layout
            self._paint_bars()
        self._put_rows(0, height)

    def _repaint(self, top: int, bottom: int) -> None:
        """Paint again the window rows ``top``..``bottom`` (an Expose)."""
        if self._layout is None or self._pixels is None:
            return  # the window's black background is all there is
        y = self._layout[1]
        self._put_rows(max(0, top - y), min(self._layout[3], bottom - y))

    def _paint_bars(self) -> None:
        assert self._layout is not None
        x, y, width, height = self._layout
        win_w, win_h = self._size
        bars = [
            (0, 0, win_w, y),
            (0, y + height, win_w, win_h - y - height),
            (0, y, x, height),
            (x + width, y, win_w - x - width, height),
        ]
        bars = [bar for bar in bars if bar[2] > 0 and bar[3] > 0]
        if bars:
            self._window.poly_fill_rectangle(self._gc, bars)

    def _put_rows(self, top: int, bottom: int) -> None:
        """Picture rows ``top``..``bottom`` to the window, one request per strip. Each strip
        is handed to the server before the next is made: python-xlib joins queued requests
        into one buffer, which for large ones would copy the picture many times over."""
        assert self._layout is not None and self._pixels is not None
        x, y, width, _ = self._layout
        rows_per_request = max(1, (self._max_request - _PUT_IMAGE_HEADER) // (width * 4))
        pixels, stride, row = self._pixels
        for start in range(top, bottom, rows_per_request):
            end = min(bottom, start + rows_per_request)
            if stride == row:  # rows back to back: one slice
                data = pixels[start * stride : end * stride].tobytes()
            else:  # each row padded in memory: its drawn part only
                data = b"".join(pixels[r * stride : r * stride + row] for r in range(start, end))
            self._window.put_image(
                self._gc, x, y + start, width, end - start, X.ZPixmap, 24, 0, data
            )  # fmt: skip
            self._hand_over()

    def _hand_over(self) -> None:
        """Every request made so far into the connection's socket. python-xlib's ``flush()``
        sends what the socket takes at once and keeps the rest until the next call on the
        connection, which may not come before the next frame: wait (sleeping) until the
        server has read enough."""
        conn = self._d.display
        self._d.flush()
        deadline = time.monotonic() + HAND_OVER_TIMEOUT
        while getattr(conn, "data_send", b""):
            left = deadline - time.monotonic()
            if left <= 0:
                logger.warning("the X server takes no more drawing; some is still queued")
                return
            select.select([], [conn.socket], [], left)
            self._d.flush()

    def _set_title(self, title: str) -> None:
        utf8 = title.encode()
        try:
            legacy, kind = title.encode("latin-1"), Xatom.STRING
        except UnicodeEncodeError:
            legacy, kind = utf8, self._atom["UTF8_STRING"]
        self._window.change_property(Xatom.WM_NAME, kind, 8, legacy)
        self._window.change_property(Xatom.WM_ICON_NAME, kind, 8, legacy)
        for name in ("_NET_WM_NAME", "_NET_WM_ICON_NAME"):
            self._window.change_property(self._atom[name], self._atom["UTF8_STRING"], 8, utf8)


def _pixel_format(d: xdisplay.Display) -> str:
    """The swscale format whose bytes are the screen's 32-bit ZPixmap pixels."""
    screen = d.screen()
    info = d.display.info
    depth = int(screen.root_depth)
    bits = {int(f.depth): int(f.bits_per_pixel) for f in info.pixmap_formats}.get(depth)
    visual = next(
        (
            v
            for group in screen.allowed_depths
            for v in group.visuals
            if v.visual_id == screen.root_visual
        ),
        None,
    )
    masks = (
        None
        if visual is None
        else (int(visual.red_mask), int(visual.green_mask), int(visual.blue_mask))
    )
    if depth != 24 or bits != 32 or masks != (0xFF0000, 0x00FF00, 0x0000FF):
        raise ShowWindowError(
            f"unsupported screen: depth {depth}, {bits} bits per pixel, masks {masks}"
        )
    return "bgra" if info.image_byte_order == X.LSBFirst else "argb"


def _fit(
    width: int, height: int, max_width: int, max_height: int, *, upscale: bool = True
) -> tuple[int, int]:
    """``width``x``height`` scaled to fit ``max_width``x``max_height``, aspect kept."""
    scale = min(max_width / width, max_height / height)
    if not upscale:
        scale = min(scale, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _layout(width: int, height: int, win_w: int, win_h: int) -> tuple[int, int, int, int]:
    """Where a ``width``x``height`` picture goes in the window: x, y, width, height."""
    if width > win_w or height > win_h:
        width, height = _fit(width, height, win_w, win_h)
        width, height = min(width, win_w), min(height, win_h)
    return (win_w - width) // 2, (win_h - height) // 2, width, height


def _log_x_error(err: Any, request: Any) -> None:
    logger.warning("X error in the show window: %s", err)


#: Seconds a window's thread waits for a frame before it reads the X server's events again.
PUMP_EVERY = 0.05


class WindowThread:
    """A ``ShowWindow`` drawn from a thread of its own. ``put`` hands a frame over and returns
    at once; a frame not drawn yet is replaced by a newer one (counted in ``replaced``). The
    window's X connection is used by this thread only, from the first ``put`` to ``close``; its
    ``on_close`` is called on this thread (hand it to the event loop thread-safely)."""

    def __init__(self, window: ShowWindow) -> None:
        self.window = window
        self.replaced = 0
        self._cond = threading.Condition()
        self._frame: av.VideoFrame | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="show-window", daemon=True)
        self._thread.start()

    def put(self, frame: av.VideoFrame) -> None:
        with self._cond:
            if self._frame is not None:
                self.replaced += 1
            self._frame = frame
            self._cond.notify()

    def close(self, timeout: float = 2.0) -> None:
        """Stop drawing and close the window (on its thread); waits up to ``timeout`` s."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    if not self._stopping and self._frame is None:
                        self._cond.wait(PUMP_EVERY)
                    if self._stopping:
                        return
                    frame, self._frame = self._frame, None
                if frame is not None:
                    self.window.show(frame)
                self.window.pump()
        except Exception:
            logger.exception("the window stopped drawing")
        finally:
            self.window.close()
