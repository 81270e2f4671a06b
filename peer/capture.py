"""The screen as an aiortc video track: mss grabs behind a consent gate.

``ScreenTrack.recv()`` is pulled by aiortc's sender whenever it is ready for the next frame,
so the newest screen is grabbed on demand: nothing queues, a slow link or encoder simply
gets fewer, fresher frames (latest frame wins).

* **Capture overlaps encoding.** After a changed frame, the next grab starts on the capture
  thread one frame interval later if the screen is still being drawn on, while the encoder
  codes the frame just taken (PyAV and mss release the GIL); ``recv()`` then hands it over.
  A prefetched grab older than one frame interval when it is asked for is thrown away and
  the screen read again: nothing stale is ever sent.
* **Frame rate.** Up to ``fps`` frames a second (60 by default: a typed character is sent at
  once, not up to a frame slot later); a change to a quarter of the screen's rows or more (a
  scroll, a new page) makes the next frame wait ``1/LARGE_CHANGE_FPS`` (30 fps): coding whole
  screens 60 times a second takes both cores of a small machine and makes every frame later.
* **Gate.** ``recv()`` waits while the gate is closed. mss is opened only after the first
  ``open_gate()`` (no X connection, no pixel read before consent) and closed again by
  ``close_gate()``. A grab that was in flight when the gate closed is thrown away.
* **Unchanged screens cost almost nothing.** Where the X server has the DAMAGE extension
  (``peer.damage``), the track grabs only after something was drawn, as soon as the frame
  interval allows, and not at all while the screen is still; otherwise it polls at the frame
  rate, slowing to ``idle_poll`` after a second without change. A grab identical to the last
  one (a ``bytes`` comparison, ~0.2 ms at 1080p) is not converted or encoded. Every
  ``idle_refresh`` seconds the unchanged frame is sent once more: aiortc answers a keyframe
  request (PLI/FIR) by forcing a keyframe on the *next* frame it encodes, so this bounds how
  long a receiver that lost the picture waits; an unchanged VP8 inter frame is a few dozen
  bytes.
* **Conversion.** The grab is copied into a BGRA ``VideoFrame`` that is kept from frame to
  frame (one ``memcpy`` where the rows line up, else one per row: 1-2 ms at 1080p), then one
  shared ``VideoReformatter`` makes yuv420p; odd widths/heights are cropped by one pixel
  (4:2:0 needs even sizes). Only PyAV and bytes, no numpy: it would add tens of MB to the
  frozen customer program.
* **Timing.** ``pts`` in 1/90000 s from the first frame, following the wall clock, so idle
  gaps stay gaps.

* **What is shared.** A monitor (``share_monitor``, mss numbering: 1, 2, ...; 0 is mss's
  bounding box of all monitors) or one application window (``share_window``). In window mode
  the ``WindowSource`` is asked on the capture thread, right before and right after each grab,
  where the window is and which parts of it no other window covers; only the parts visible
  both times are kept, the rest of the picture is black, so a window that appears over the
  shared one during a grab never has its pixels sent. A grab during which the window moved
  is thrown away. The rect is clipped to the screen (X cannot read outside it). A window that
  is gone or unmapped gives a black picture.

All mss and window look-ups run on one private worker thread (an X connection belongs to one
thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .damage import DamageWatch
from .remote_input import Rect

logger = logging.getLogger(__name__)

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)

#: Builds the grabber (``mss.MSS``-like: ``monitors``, ``grab(monitor)``, ``close()``).
GrabberFactory = Callable[[], Any]


@dataclass(frozen=True)
class Picture:
    """A BGRA picture held in ``data``: ``height`` rows ``stride`` bytes apart, of which the
    first ``width * 4`` bytes are pixels (the rest is cropped or padding)."""

    data: bytes | bytearray
    width: int
    height: int
    stride: int

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(f"picture {self.width}x{self.height} is empty")
        if self.stride < self.width * 4:
            raise ValueError(f"stride {self.stride} is less than {self.width} pixels")
        needed = self.stride * (self.height - 1) + self.width * 4
        if len(self.data) < needed:
            raise ValueError(
                f"{len(self.data)} bytes hold no {self.width}x{self.height} picture "
                f"with stride {self.stride} ({needed} needed)"
            )


def copy_rows(dst: memoryview, dst_stride: int, src: Picture) -> None:
    """Copy ``src``'s pixels into ``dst``, whose rows are ``dst_stride`` bytes apart: in one
    slice where the strides match (padding bytes go along), else one slice per row."""
    row, data = src.width * 4, memoryview(src.data)
    if dst_stride == src.stride:
        size = src.stride * (src.height - 1) + row
        dst[:size] = data[:size]
        return
    d = s = 0
    for _ in range(src.height):
        dst[d : d + row] = data[s : s + row]
        d += dst_stride
        s += src.stride


#: A change to at least this share of the screen's rows is large (a scroll, a new page) ...
LARGE_CHANGE_ROWS = 0.25
#: ... and large changes come at most this often: coding a whole changed screen 60 times a
#: second takes both cores of a small machine and makes every frame later, where typing (a few
#: rows) is best sent at once.
LARGE_CHANGE_FPS = 30.0
#: Rows compared to judge a change (every n-th): ~0.1 ms at 1080p.
_ROW_SAMPLE = 8


def large_change(
    before: bytes | bytearray, after: bytes | bytearray, stride: int, rows: int
) -> bool:
    """Whether at least ``LARGE_CHANGE_ROWS`` of the sampled rows differ between two grabs."""
    if len(before) != len(after):
        return True
    a, b = memoryview(before), memoryview(after)
    sampled = changed = 0
    for row in range(0, rows, _ROW_SAMPLE):
        start = row * stride
        sampled += 1
        changed += a[start : start + stride] != b[start : start + stride]
    return sampled > 0 and changed >= sampled * LARGE_CHANGE_ROWS


def copy_part(dst: bytearray, src: Picture, area: Rect) -> None:
    """Copy the pixels of ``src`` inside ``area`` (in ``src``'s pixels) to the same place in
    ``dst``, a picture of ``src``'s size without padding: one slice per row, or one in all
    where the rows are whole and follow each other in both."""
    row, length = src.width * 4, area.width * 4
    to, source = memoryview(dst), memoryview(src.data)
    d, s = (area.y * src.width + area.x) * 4, area.y * src.stride + area.x * 4
    if length == row == src.stride:
        to[d : d + row * area.height] = source[s : s + row * area.height]
        return
    for _ in range(area.height):
        to[d : d + length] = source[s : s + length]
        d += row
        s += src.stride


@dataclass
class CaptureStats:
    grabs: int = 0  # screen reads
    unchanged: int = 0  # reads identical to the previous one
    frames: int = 0  # frames handed to the encoder (changes and refreshes)
    refreshes: int = 0  # of which unchanged repeats
    discarded: int = 0  # grabs thrown away because the gate closed meanwhile
    opens: int = 0  # times the grabber was opened
    prefetched: int = 0  # frames grabbed while the encoder coded the one before


class WindowSource(Protocol):
    """Where the shared window is; called only on the capture thread."""

    def look(self) -> tuple[Rect | None, tuple[Rect, ...]]:
        """The window's rect in root coordinates (``None``: gone or unmapped) and the parts
        of it that no other window covers."""
        ...

    def close(self) -> None: ...


def picture_rect(rect: Rect, bounds: Rect) -> Rect | None:
    """The part of ``rect`` that is sent: clipped to ``bounds`` (the screen), cropped to even
    width and height (4:2:0 video); ``None`` if nothing of it is left."""
    clipped = rect.intersect(bounds)
    if clipped is None or clipped.width < 2 or clipped.height < 2:
        return None
    return Rect(clipped.x, clipped.y, clipped.width & ~1, clipped.height & ~1)


def monitor_rect(monitor: dict[str, Any]) -> Rect:
    """An mss monitor dict as a ``Rect``."""
    return Rect(
        int(monitor["left"]), int(monitor["top"]), int(monitor["width"]), int(monitor["height"])
    )


def default_grabber(display: str | None = None) -> GrabberFactory:
    def make() -> Any:
        import mss

        if display is None:
            return mss.MSS()
        return mss.MSS(display=display)

    return make


class ScreenTrack(MediaStreamTrack):
    kind = "video"

    def __init__(
        self,
        *,
        monitor: int = 1,
        fps: float = 30.0,
        idle_refresh: float = 1.0,
        idle_poll: float = 0.1,
        grabber: GrabberFactory | None = None,
        display: str | None = None,
        watch_damage: bool = True,
    ) -> None:
        super().__init__()
        if not 0 < fps <= 120:
            raise ValueError(f"fps {fps} is outside 0..120")
        self.monitor = monitor
        self.interval = 1.0 / fps
        # a large change (a scroll, a new page) waits at least this long for the next frame
        self.large_interval = max(self.interval, 1.0 / LARGE_CHANGE_FPS)
        self._large = False  # the last changed grab changed a large share of the rows
        self.idle_refresh = idle_refresh
        self.idle_poll = max(idle_poll, self.interval)
        self.stats = CaptureStats()
        self.display = display  # the X display shown (None: $DISPLAY)
        self._make_grabber = grabber or default_grabber(display)
        self._grabber: Any = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screen")
        self._reformatter = av.video.reformatter.VideoReformatter()
        self._gate = asyncio.Event()
        self._generation = 0
        self._previous: bytes | bytearray | None = None
        self._last_frame: av.VideoFrame | None = None
        self._last_pixels: Picture | None = None
        self._bgra: av.VideoFrame | None = None  # the reformatter's input, kept (see _convert)
        self._last_change = 0.0
        self._last_sent = 0.0
        self._next_grab = 0.0
        self._start: float | None = None
        self._last_pts = -1
        self.window: WindowSource | None = None
        self.watch_damage = watch_damage
        self._damage: DamageWatch | None = None
        self._dirty = asyncio.Event()  # something was drawn since the last grab
        # the next grab, started while the encoder codes the last frame (see _prefetch_at)
        self._prefetch: asyncio.Future[tuple[av.VideoFrame | None, float]] | None = None
        self._prefetch_generation = -1
        self._prefetch_timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ consent gate

    @property
    def is_open(self) -> bool:
        return self._gate.is_set()

    def open_gate(self) -> None:
        if self.readyState != "live" or self._gate.is_set():
            return
        logger.info("screen capture: closed -> open")
        self._dirty.set()
        if self.watch_damage and self._damage is None:
            self._damage = DamageWatch(self._damaged_from_thread(), self.display)
            if not self._damage.start():
                self._damage = None
        self._gate.set()

    def close_gate(self) -> None:
        """Stop at once: nothing grabbed from now on is sent; the X connection is closed."""
        if not self._gate.is_set() or self.readyState == "ended":
            return
        logger.info("screen capture: open -> closed")
        self._gate.clear()
        self._generation += 1
        self._previous = None
        self._last_frame = None
        self._last_pixels = None
        self._bgra = None
        self._stop_damage()
        self._executor.submit(self._close_grabber)

    def share_monitor(self, index: int) -> None:
        """Share monitor ``index`` (mss numbering); ends window mode."""
        if index != self.monitor or self.window is not None:
            logger.info("sharing monitor %d", index)
            self.monitor = index
            self._set_window(None)

    def share_window(self, source: WindowSource) -> None:
        """Share one window only, as ``source`` says where it is (see the module docstring)."""
        logger.info("sharing one window")
        self._set_window(source)

    def _set_window(self, source: WindowSource | None) -> None:
        old, self.window = self.window, source
        self._generation += 1
        # forget the old picture: an idle refresh must never send it for the new source
        self._previous = None
        self._last_frame = None
        self._last_pixels = None
        self._dirty.set()
        if old is not None and old is not source:
            self._executor.submit(old.close)

    def stop(self) -> None:
        if self.readyState == "ended":
            return
        super().stop()
        self._generation += 1
        if self._prefetch_timer is not None:
            self._prefetch_timer.cancel()
            self._prefetch_timer = None
        self._stop_damage()
        self._gate.set()  # wake recv() so it sees the end
        self._dirty.set()
        self._executor.submit(self._close_grabber)
        if self.window is not None:
            self._executor.submit(self.window.close)
        self._executor.shutdown(wait=False)

    @property
    def watching_damage(self) -> bool:
        """True while grabs follow X DAMAGE events rather than polling."""
        return self._damage is not None and self._damage.running

    def _damaged_from_thread(self) -> Callable[[], None]:
        loop = asyncio.get_running_loop()
        dirty = self._dirty

        def damaged() -> None:
            try:
                loop.call_soon_threadsafe(dirty.set)
            except RuntimeError:  # the loop is closed: the session is over
                pass

        return damaged

    def _stop_damage(self) -> None:
        watch, self._damage = self._damage, None
        if watch is not None:
            watch.close()

    async def monitors(self, fresh: bool = False) -> list[dict[str, int]]:
        """The grabber's monitors (index 0 is all of them); only while the gate is open.
        ``fresh`` reads them from the X server again instead of the grabber's first list."""
        if not self.is_open:
            return []
        loop = asyncio.get_running_loop()
        try:
            result: list[dict[str, int]] = await loop.run_in_executor(
                self._executor, self._monitors, fresh
            )
        except RuntimeError:  # executor shut down by stop()
            return []
        return result

    # ------------------------------------------------------------------ track

    async def recv(self) -> av.VideoFrame:
        loop = asyncio.get_running_loop()
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if not self._gate.is_set():
                await self._gate.wait()
                continue
            if self._prefetch is not None:
                frame, taken = await self._take_prefetch()
                if frame is None:
                    continue
                return self._stamp(frame, taken)
            delay = self._next_grab - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            watching = self.watching_damage
            if watching and not self._dirty.is_set():
                # a still screen: wait for drawing, or until the unchanged frame is due again
                due = self._refresh_due()
                if due is None or due > 0:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that
                    # arrives as the screen is drawn, and the sender's stop() then hangs
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(due):
                            await self._dirty.wait()
                    continue
                frame = await self._refresh(loop, self._generation)
                if frame is None:
                    continue
                return self._stamp(frame, time.monotonic())
            self._dirty.clear()  # drawing from now on makes the screen dirty again
            generation = self._generation
            started = time.monotonic()
            idle = started - self._last_change > 1.0
            self._next_grab = started + (self.idle_poll if idle and not watching else self._gap())
            try:
                frame = await loop.run_in_executor(
                    self._executor, self._grab, self.monitor, self.window
                )
            except RuntimeError:  # executor shut down by stop()
                raise MediaStreamError from None
            if generation != self._generation or not self._gate.is_set():
                self.stats.discarded += 1
                continue
            now = time.monotonic()
            if frame is not None:
                self._last_frame = frame
                self._last_change = now
                self._next_grab = started + self._gap()
                self._prefetch_at(self._next_grab)
            elif (due := self._refresh_due()) is not None and due <= 0:
                frame = await self._refresh(loop, generation)
                if frame is None:
                    continue
            else:
                continue
            return self._stamp(frame, now)

    def _gap(self) -> float:
        """Seconds from one grab to the next while the screen changes."""
        return self.large_interval if self._large else self.interval

    def _prefetch_at(self, at: float) -> None:
        """Start the next grab at ``at`` (monotonic) on the capture thread if the screen is
        still being drawn on, so that it runs while the encoder codes the frame just taken:
        capture and encoding overlap instead of taking turns."""
        if self._prefetch_timer is not None or self._prefetch is not None:
            return
        loop = asyncio.get_running_loop()

        def start() -> None:
            self._prefetch_timer = None
            if self.readyState != "live" or not self._gate.is_set() or self._prefetch is not None:
                return
            if self.watching_damage and not self._dirty.is_set():
                return  # nothing drawn since: recv() waits for drawing as usual
            self._dirty.clear()
            self._prefetch_generation = self._generation
            try:
                self._prefetch = asyncio.ensure_future(
                    loop.run_in_executor(
                        self._executor, self._timed_grab, self.monitor, self.window
                    )
                )
            except RuntimeError:  # executor shut down by stop()
                self._prefetch = None

        self._prefetch_timer = loop.call_later(max(0.0, at - time.monotonic()), start)

    async def _take_prefetch(self) -> tuple[av.VideoFrame | None, float]:
        """The grab ``_prefetch_at`` started: (frame, when it was read), or (None, _) when it is
        unchanged, stale or of a closed gate or an old source (then the next grab is taken as
        a change, whatever it shows: the encoder never had the stale one)."""
        future, self._prefetch = self._prefetch, None
        assert future is not None
        try:
            frame, taken = await future
        except RuntimeError:  # executor shut down by stop()
            raise MediaStreamError from None
        now = time.monotonic()
        if self._prefetch_generation != self._generation or not self._gate.is_set():
            self.stats.discarded += 1
            return None, now
        if frame is None:
            return None, now
        if now - taken > self._gap():  # the encoder was busy for longer: read again
            self.stats.discarded += 1
            self._executor.submit(self._forget_previous)
            self._dirty.set()
            return None, now
        self.stats.prefetched += 1
        self._last_frame = frame
        self._last_change = taken
        self._next_grab = now + self._gap()
        self._prefetch_at(self._next_grab)
        return frame, taken

    def _refresh_due(self) -> float | None:
        """Seconds until the unchanged frame is to be sent again (``None``: nothing to send)."""
        if self._last_frame is None:
            return None
        return self._last_sent + self.idle_refresh - time.monotonic()

    async def _refresh(
        self, loop: asyncio.AbstractEventLoop, generation: int
    ) -> av.VideoFrame | None:
        """The unchanged frame again, as a fresh object (the encoder marks the frame it gets
        with the keyframe flag); ``None`` if the gate closed or the source changed meanwhile."""
        frame: av.VideoFrame | None = await loop.run_in_executor(self._executor, self._repeat)
        if frame is None or generation != self._generation or not self._gate.is_set():
            return None
        self.stats.refreshes += 1
        return frame

    def _stamp(self, frame: av.VideoFrame, now: float) -> av.VideoFrame:
        self._last_sent = now
        self.stats.frames += 1
        frame.pts = self._pts(now)
        frame.time_base = VIDEO_TIME_BASE
        return frame

    def _pts(self, now: float) -> int:
        if self._start is None:
            self._start = now
        pts = max(int((now - self._start) * 90000), self._last_pts + 1)
        self._last_pts = pts
        return pts

    # ------------------------------------------------------------------ worker thread

    def _open_grabber(self) -> Any:
        if self._grabber is None:
            self._grabber = self._make_grabber()
            self.stats.opens += 1
        return self._grabber

    def _close_grabber(self) -> None:
        grabber, self._grabber = self._grabber, None
        if grabber is not None:
            grabber.close()

    def _monitors(self, fresh: bool = False) -> list[dict[str, int]]:
        grabber = self._open_grabber()
        if fresh and hasattr(grabber, "_monitors"):
            grabber._monitors = None  # mss keeps its first list; forget it to read it again
        return [dict(m) for m in grabber.monitors]

    def _timed_grab(
        self, index: int, window: WindowSource | None = None
    ) -> tuple[av.VideoFrame | None, float]:
        return self._grab(index, window), time.monotonic()

    def _forget_previous(self) -> None:
        self._previous = None

    def _grab(self, index: int, window: WindowSource | None = None) -> av.VideoFrame | None:
        """One screen read; ``None`` when identical to the previous read."""
        grabber = self._open_grabber()
        monitors = grabber.monitors
        if window is not None:
            return self._grab_window(grabber, monitor_rect(monitors[0]), window)
        if not 0 <= index < len(monitors):
            logger.warning("monitor %d does not exist; showing monitor 1", index)
            index = self.monitor = 1 if len(monitors) > 1 else 0
        shot = grabber.grab(monitors[index])
        self.stats.grabs += 1
        raw = shot.raw
        previous = self._previous
        if previous is not None and raw == previous:
            self.stats.unchanged += 1
            return None
        self._large = previous is None or large_change(previous, raw, shot.width * 4, shot.height)
        self._previous = raw
        width, height = shot.width, shot.height
        self._last_pixels = Picture(raw, width & ~1, height & ~1, width * 4)
        return self._convert(self._last_pixels)

    def _grab_window(
        self, grabber: Any, bounds: Rect, window: WindowSource
    ) -> av.VideoFrame | None:
        rect, visible = window.look()
        picture = None if rect is None else picture_rect(rect, bounds)
        if rect is None or picture is None:
            last = self._last_pixels
            width, height = (last.width, last.height) if last is not None else (2, 2)
            masked = bytearray(width * height * 4)  # black
        else:
            box = {
                "left": picture.x,
                "top": picture.y,
                "width": picture.width,
                "height": picture.height,
            }
            shot = grabber.grab(box)
            self.stats.grabs += 1
            rect_after, visible_after = window.look()
            if rect_after != rect:
                self._previous = None  # moved while grabbed: the next read is sent
                return None
            width, height = picture.width, picture.height
            grabbed = Picture(shot.raw, width, height, shot.width * 4)  # checks the size
            masked = bytearray(width * height * 4)  # black, then the visible parts copied in
            for a in visible:
                for b in visible_after:
                    both = a.intersect(b)
                    part = None if both is None else both.intersect(picture)
                    if part is not None:
                        x, y = part.x - picture.x, part.y - picture.y
                        copy_part(masked, grabbed, Rect(x, y, part.width, part.height))
        if self._previous is not None and masked == self._previous:
            self.stats.unchanged += 1
            return None
        self._previous = masked
        self._last_pixels = Picture(masked, width, height, width * 4)
        return self._convert(self._last_pixels)

    def _repeat(self) -> av.VideoFrame | None:
        return None if self._last_pixels is None else self._convert(self._last_pixels)

    def _convert(self, pixels: Picture) -> av.VideoFrame:
        """``pixels`` as a new yuv420p frame. The BGRA input frame is reused while the size
        stays: a fresh 8 MB buffer per frame costs ~0.4 ms more at 1080p (new pages). Safe
        because the reformatter always writes a new frame (bgra is never yuv420p)."""
        frame = self._bgra
        if frame is None or (frame.width, frame.height) != (pixels.width, pixels.height):
            frame = self._bgra = av.VideoFrame(pixels.width, pixels.height, "bgra")
        plane = frame.planes[0]
        copy_rows(memoryview(plane), plane.line_size, pixels)
        converted: av.VideoFrame = self._reformatter.reformat(frame, format="yuv420p")
        return converted
