"""The screen track against a real Xvfb: colours at places, the consent gate, idle behaviour."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError
from xvfb import Block, ColourBlocks, hex_to_bgr, virtual_display

from peer.capture import Picture, ScreenTrack, copy_part, default_grabber, large_change
from peer.remote_input import Rect

BLOCKS = [
    Block(40, 60, 200, 120, "#ff0000"),
    Block(600, 300, 160, 160, "#00ff00"),
    Block(1000, 500, 240, 180, "#0000ff"),
]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(1280, 720) as name:
        yield name


@pytest.fixture
def blocks(display: str) -> Iterator[ColourBlocks]:
    with ColourBlocks(display, BLOCKS) as painted:
        yield painted


class CountingGrabber:
    """The real mss grabber, counting how often it is opened and read."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.opened = 0
        self.grabs = 0

    def __call__(self) -> Any:
        self.opened += 1
        inner = default_grabber(self.display)()
        outer = self

        class Wrapped:
            monitors = inner.monitors

            def grab(self, monitor: Any) -> Any:
                outer.grabs += 1
                return inner.grab(monitor)

            def close(self) -> None:
                inner.close()

        return Wrapped()


def rgb_at(frame: av.VideoFrame, x: int, y: int) -> tuple[int, int, int]:
    array = frame.to_ndarray(format="bgr24")
    b, g, r = (int(v) for v in array[y, x])
    return (b, g, r)


def close_to(actual: tuple[int, int, int], expected: tuple[int, int, int], tol: int = 12) -> bool:
    return all(abs(a - e) <= tol for a, e in zip(actual, expected, strict=True))


async def test_frames_show_the_colours_at_their_places(display: str, blocks: ColourBlocks) -> None:
    track = ScreenTrack(fps=30, grabber=default_grabber(display), display=display)
    track.open_gate()
    frame = await asyncio.wait_for(track.recv(), 5)
    track.stop()
    assert (frame.width, frame.height) == (1280, 720)
    assert frame.format.name == "yuv420p"
    for block in BLOCKS:
        cx, cy = block.x + block.width // 2, block.y + block.height // 2
        assert close_to(rgb_at(frame, cx, cy), hex_to_bgr(block.colour)), block
    # the edges land where they should (to within 4:2:0 chroma subsampling)
    assert close_to(rgb_at(frame, 42, 62), hex_to_bgr("#ff0000"), 40)
    assert close_to(rgb_at(frame, 36, 62), (0, 0, 0), 40)


async def test_nothing_is_grabbed_before_consent(display: str, blocks: ColourBlocks) -> None:
    grabber = CountingGrabber(display)
    track = ScreenTrack(fps=30, grabber=grabber, display=display)
    pending = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0.3)
    assert not pending.done()
    assert grabber.opened == 0 and grabber.grabs == 0
    track.open_gate()
    frame = await asyncio.wait_for(pending, 5)
    assert frame is not None and grabber.opened == 1
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_closing_the_gate_stops_at_once(display: str, blocks: ColourBlocks) -> None:
    grabber = CountingGrabber(display)
    track = ScreenTrack(fps=30, grabber=grabber, display=display)
    track.open_gate()
    await asyncio.wait_for(track.recv(), 5)
    track.close_gate()
    pending = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0.05)
    grabs = grabber.grabs
    blocks.recolour(0, "#ffff00")  # a change while closed must not come out
    await asyncio.sleep(0.3)
    assert not pending.done()
    assert grabber.grabs == grabs
    track.open_gate()  # asked again and allowed: capture resumes with a fresh connection
    frame = await asyncio.wait_for(pending, 5)
    assert grabber.opened == 2
    assert close_to(rgb_at(frame, 140, 120), hex_to_bgr("#ffff00"))
    track.stop()


@pytest.mark.parametrize("watch_damage", [True, False], ids=["damage", "polling"])
async def test_unchanged_screen_yields_almost_nothing_and_a_change_shows(
    display: str, blocks: ColourBlocks, watch_damage: bool
) -> None:
    track = ScreenTrack(
        fps=30,
        idle_refresh=1.0,
        grabber=default_grabber(display),
        display=display,
        watch_damage=watch_damage,
    )
    track.open_gate()
    assert track.watching_damage == watch_damage  # Xvfb has the DAMAGE extension
    first = await asyncio.wait_for(track.recv(), 5)
    frames: list[tuple[float, av.VideoFrame]] = []

    async def pull() -> None:
        while True:
            frame = await track.recv()
            frames.append((time.monotonic(), frame))

    puller = asyncio.ensure_future(pull())
    start = time.monotonic()
    await asyncio.sleep(1.2)
    grabs_before = track.stats.grabs
    await asyncio.sleep(1.0)
    idle_frames = len(frames)
    # 2.2 s idle at 30 fps would be 66 frames; only the 1 s refreshes come out
    assert 1 <= idle_frames <= 3, idle_frames
    if watch_damage:
        assert track.stats.grabs - grabs_before == 0, "a still screen must not be read"
    else:
        assert track.stats.unchanged >= 15
    changed_at = time.monotonic()
    blocks.recolour(1, "#ff00ff")
    await asyncio.sleep(0.4)
    puller.cancel()
    track.stop()
    later = [(t, f) for t, f in frames if t >= changed_at]
    assert later, "the change did not come out"
    t, frame = later[0]
    # polling waits for its next poll (up to 100 ms when idle); DAMAGE wakes the grab at once
    assert t - changed_at < (0.1 if watch_damage else 0.3)
    assert close_to(rgb_at(frame, 680, 380), hex_to_bgr("#ff00ff"))
    pts = [first.pts] + [f.pts for _, f in frames]
    assert pts == sorted(pts) and len(set(pts)) == len(pts)
    # pts follow the wall clock (90 kHz)
    assert abs((frames[-1][1].pts - first.pts) / 90000 - (frames[-1][0] - start)) < 0.5


async def test_a_cancel_that_meets_a_drawing_still_ends_recv(
    display: str, blocks: ColourBlocks
) -> None:
    """The sender stops its track by cancelling recv(); when the screen is drawn in the same
    instant, recv() must still end, or the session's teardown hangs."""
    track = ScreenTrack(fps=30, idle_refresh=5.0, grabber=default_grabber(display), display=display)
    track.open_gate()
    assert track.watching_damage
    await asyncio.wait_for(track.recv(), 5)
    for _ in range(20):
        pending = asyncio.ensure_future(track.recv())
        await asyncio.sleep(0.05)  # now waiting for a drawing on a still screen
        assert not pending.done()
        track._dirty.set()  # drawing and the cancel arrive together
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(pending, 2)
    track.stop()


def test_idle_cpu_is_small(display: str, blocks: ColourBlocks) -> None:
    async def run() -> float:
        track = ScreenTrack(fps=30, grabber=default_grabber(display), display=display)
        track.open_gate()
        await track.recv()

        async def pull() -> None:
            while True:
                await track.recv()

        puller = asyncio.ensure_future(pull())
        await asyncio.sleep(1.2)  # settle into the idle poll
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(2.0)
        used = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        puller.cancel()
        track.stop()
        return used

    share = asyncio.run(run())
    assert share < 0.05, f"idle capture used {share:.1%} of a core"


def test_even_size_crop() -> None:
    class OddGrabber:
        monitors = [{"left": 0, "top": 0, "width": 5, "height": 3}] * 2

        def grab(self, monitor: Any) -> Any:
            class Shot:
                width, height = 5, 3
                raw = bytearray(np.full(5 * 3 * 4, 200, dtype=np.uint8).tobytes())

            return Shot()

        def close(self) -> None:
            pass

    async def run() -> av.VideoFrame:
        track = ScreenTrack(grabber=OddGrabber)
        track.open_gate()
        frame = await track.recv()
        track.stop()
        return frame

    frame = asyncio.run(run())
    assert (frame.width, frame.height) == (4, 2)


def test_switching_to_one_window_never_sends_the_old_picture_again() -> None:
    """The old monitor picture must not come out as an idle refresh after the switch, even
    when the first grabs of the window are thrown away because it was moving."""

    class Grabber:
        monitors = [{"left": 0, "top": 0, "width": 64, "height": 48}] * 2

        def grab(self, box: Any) -> Any:
            class Shot:
                width, height = box["width"], box["height"]
                raw = bytearray(np.full(width * height * 4, 200, dtype=np.uint8).tobytes())

            return Shot()

        def close(self) -> None:
            pass

    class MovingWindow:
        """Moves between the two looks of each of its first grabs, then stays put."""

        def __init__(self) -> None:
            self.looks = 0

        def look(self) -> tuple[Rect | None, tuple[Rect, ...]]:
            self.looks += 1
            rect = Rect(10 + (self.looks % 2 if self.looks <= 6 else 0), 10, 20, 10)
            return rect, (rect,)

        def close(self) -> None:
            pass

    async def run() -> list[tuple[int, int]]:
        track = ScreenTrack(fps=30, idle_refresh=0.2, grabber=Grabber, watch_damage=False)
        track.open_gate()
        first = await track.recv()
        await asyncio.sleep(0.3)  # an idle refresh of the monitor picture is due now
        track.share_window(MovingWindow())
        sizes = [(first.width, first.height)]
        for _ in range(2):
            frame = await asyncio.wait_for(track.recv(), 5)
            sizes.append((frame.width, frame.height))
        track.stop()
        return sizes

    assert asyncio.run(run()) == [(64, 48), (20, 10), (20, 10)]


def shade(x: int, y: int) -> int:
    """A grey level that differs from its neighbours, so a shifted row shows; never black."""
    return 40 + (x * 7 + y * 13) % 180


def grey_screen(left: int, top: int, width: int, height: int) -> bytearray:
    """BGRA of the screen area at (left, top), every pixel ``shade`` of its screen position."""
    return bytearray(
        b"".join(
            bytes((v, v, v, 255))
            for y in range(top, top + height)
            for x in range(left, left + width)
            for v in (shade(x, y),)
        )
    )


def lumas(frame: av.VideoFrame) -> list[list[int]]:
    """The frame's Y plane, row by row (full resolution, unlike 4:2:0 chroma)."""
    plane = frame.planes[0]
    data = bytes(plane)
    return [
        list(data[y * plane.line_size : y * plane.line_size + frame.width])
        for y in range(frame.height)
    ]


def luma_of(grey: int) -> int:
    """Y of an sRGB grey in limited-range yuv420p."""
    return round(16 + grey * 219 / 255)


class GreyScreen:
    """An mss-like grabber over a ``width`` x ``height`` screen of ``grey_screen`` pixels."""

    def __init__(self, width: int, height: int) -> None:
        self.monitors = [{"left": 0, "top": 0, "width": width, "height": height}] * 2

    def __call__(self) -> GreyScreen:
        return self

    def grab(self, box: dict[str, int]) -> Any:
        class Shot:
            width, height = box["width"], box["height"]
            raw = grey_screen(box["left"], box["top"], width, height)

        return Shot()

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "size",
    [(16, 8), (6, 4), (13, 9), (7, 5), (161, 91)],
    ids=["rows-match", "padded-rows", "odd", "odd-padded", "odd-larger"],
)
def test_every_pixel_arrives_in_its_place(size: tuple[int, int]) -> None:
    """Monitor grabs, at even and odd sizes (cropped to even), and the idle repeat of them."""
    width, height = size

    async def run() -> tuple[av.VideoFrame, av.VideoFrame]:
        track = ScreenTrack(
            fps=30, idle_refresh=0.1, grabber=GreyScreen(width, height), watch_damage=False
        )
        track.open_gate()
        first = await asyncio.wait_for(track.recv(), 5)
        again = await asyncio.wait_for(track.recv(), 5)  # unchanged: the repeat
        stats = track.stats
        track.stop()
        assert stats.refreshes == 1
        return first, again

    first, again = asyncio.run(run())
    assert (first.width, first.height) == (width & ~1, height & ~1)
    got = lumas(first)
    for y, row in enumerate(got):
        for x, value in enumerate(row):
            assert abs(value - luma_of(shade(x, y))) <= 2, (x, y, value)
    assert lumas(again) == got


def test_window_pixels_outside_the_visible_parts_are_black() -> None:
    """Only what is visible both before and after the grab is kept, at an odd window size
    and odd positions; everything else is black, and a window that is gone is all black."""
    window = Rect(11, 7, 21, 15)  # sent as 20 x 14 from (11, 7)
    # the second part reaches past the crop, the third covers whole rows (one slice)
    before = (Rect(11, 7, 9, 15), Rect(23, 9, 9, 5), Rect(5, 19, 40, 2))
    after = (Rect(11, 7, 21, 11), Rect(25, 11, 3, 3), Rect(0, 19, 64, 2))  # y 18 got covered

    class Window:
        def __init__(self) -> None:
            self.looks = 0

        def look(self) -> tuple[Rect | None, tuple[Rect, ...]]:
            self.looks += 1
            if self.looks > 2:
                return None, ()  # gone after the first grab
            return window, before if self.looks == 1 else after

        def close(self) -> None:
            pass

    async def run() -> tuple[av.VideoFrame, av.VideoFrame]:
        track = ScreenTrack(fps=30, grabber=GreyScreen(64, 48), watch_damage=False)
        track.share_window(Window())
        track.open_gate()
        shown = await asyncio.wait_for(track.recv(), 5)
        gone = await asyncio.wait_for(track.recv(), 5)
        track.stop()
        return shown, gone

    shown, gone = asyncio.run(run())
    assert (shown.width, shown.height) == (20, 14)
    kept = 0
    for y, row in enumerate(lumas(shown)):
        for x, value in enumerate(row):
            sx, sy = window.x + x, window.y + y
            visible = any(a.contains(sx, sy) for a in before) and any(
                b.contains(sx, sy) for b in after
            )
            expected = luma_of(shade(sx, sy)) if visible else luma_of(0)
            assert abs(value - expected) <= 2, (x, y, visible, value)
            kept += visible
    assert kept == 9 * 11 + 8 * 5 + 20 * 2  # the second part ends at the crop (x 23..30)
    assert (gone.width, gone.height) == (20, 14)
    assert all(abs(value - luma_of(0)) <= 2 for row in lumas(gone) for value in row)


def test_copy_part_follows_both_strides() -> None:
    """Pixels are numbered; the source rows carry padding that must never be copied."""
    width, height, stride = 5, 4, 5 * 4 + 8
    data = bytearray(b"\xee" * stride * height)
    for y in range(height):
        for x in range(width):
            data[y * stride + x * 4 : y * stride + x * 4 + 4] = bytes((x, y, 7, 255))
    src = Picture(data, width, height, stride)
    for area in (Rect(1, 1, 3, 2), Rect(0, 2, 5, 2)):
        dst = bytearray(width * height * 4)
        copy_part(dst, src, area)
        for y in range(height):
            for x in range(width):
                pixel = bytes(dst[(y * width + x) * 4 : (y * width + x) * 4 + 4])
                inside = area.contains(x, y)
                assert pixel == (bytes((x, y, 7, 255)) if inside else bytes(4)), (area, x, y)


def test_a_picture_must_fit_its_bytes() -> None:
    with pytest.raises(ValueError, match="stride 16 is less than 5 pixels"):
        Picture(bytes(80), 5, 4, 16)
    with pytest.raises(ValueError, match="79 bytes hold no 5x4 picture"):
        Picture(bytes(79), 5, 4, 20)
    assert Picture(bytes(3 * 28 + 20), 5, 4, 28).height == 4  # the last row needs no padding


def test_a_change_to_many_rows_is_large_and_typing_is_not() -> None:
    width, rows = 64, 80
    stride = width * 4
    before = bytes(stride * rows)
    typed = bytearray(before)
    typed[8 * stride + 8 : 8 * stride + 40] = b"\xff" * 32  # a character on a sampled row
    assert not large_change(before, bytes(typed), stride, rows)
    scrolled = bytearray(before)
    for row in range(0, rows, 2):  # half the rows
        scrolled[row * stride] = 1
    assert large_change(before, bytes(scrolled), stride, rows)
    assert large_change(before, bytes(stride * (rows + 1)), stride, rows)  # another size
