"""peer/showwindow.py on a real Xvfb: the operator's picture shows on the customer's screen (an
X screenshot of the root window) where the window is, fitted with black bars; the window
follows a resize, repaints what was covered, and hears the window manager's close button."""

from __future__ import annotations

import os
import select
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import av
import mss
import numpy as np
import pytest
from Xlib import X
from Xlib.protocol import event
from xvfb import virtual_display

from peer.showwindow import ShowWindow, ShowWindowError

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")

RED = (200, 40, 40)
GREEN = (40, 180, 60)
BLUE = (50, 60, 200)
WHITE = (230, 230, 230)
GREY = (128, 128, 128)
BLACK = (0, 0, 0)
TOLERANCE = 12  # per channel: YUV 4:2:0 rounding

Box = tuple[int, int, int, int]  # x, y, width, height


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(1280, 720) as name:
        yield name


@pytest.fixture
def other(display: str) -> Iterator[Any]:
    """A second X client: the window manager's or the customer's hand."""
    import Xlib.display

    d = Xlib.display.Display(display)
    yield d
    d.close()


@pytest.fixture
def windows() -> Iterator[list[ShowWindow]]:
    """Every ShowWindow a test opens is closed afterwards, passed or failed."""
    opened: list[ShowWindow] = []
    yield opened
    for window in opened:
        window.close()


def frame(width: int, height: int, blocks: list[tuple[Box, tuple[int, int, int]]]) -> Any:
    """A yuv420p frame, grey, with solid colour blocks (as a WebRTC decoder gives them)."""
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    rgb[:] = GREY
    for (x, y, w, h), colour in blocks:
        rgb[y : y + h, x : x + w] = colour
    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")


def quadrants(width: int, height: int) -> Any:
    """Red, green / blue, white quarters."""
    w, h = width // 2, height // 2
    return frame(
        width,
        height,
        [((0, 0, w, h), RED), ((w, 0, w, h), GREEN), ((0, h, w, h), BLUE), ((w, h, w, h), WHITE)],
    )


def screen(display: str) -> np.ndarray:
    """The customer's screen as X has it (RGB rows)."""
    with mss.MSS(display=display) as grabber:
        shot = grabber.grab(grabber.monitors[0])
    return np.frombuffer(shot.rgb, dtype=np.uint8).reshape(shot.height, shot.width, 3)


def off_colour(img: np.ndarray, box: Box, colour: tuple[int, int, int]) -> str | None:
    """Why ``box`` of ``img`` is not all ``colour`` (None: it is)."""
    x, y, w, h = box
    patch = img[y : y + h, x : x + w].astype(int)
    if patch.size == 0:
        return f"{box} is off the screen"
    worst = int(np.abs(patch - np.array(colour)).max())
    if worst > TOLERANCE:
        return f"{box} should be {colour}, has {patch.reshape(-1, 3).mean(0).round()} (off {worst})"
    return None


def eventually(display: str, expected: list[tuple[Box, tuple[int, int, int]]]) -> np.ndarray:
    """A screenshot in which every box has its colour (the X server draws a little later than
    it is asked to); fails after 5 s with the first box that does not."""
    deadline = time.monotonic() + 5.0
    while True:
        img = screen(display)
        problems = [p for box, colour in expected if (p := off_colour(img, box, colour))]
        if not problems:
            return img
        if time.monotonic() > deadline:
            pytest.fail("; ".join(problems))
        time.sleep(0.02)


def pump_until(window: ShowWindow, done: Callable[[], bool], what: str) -> None:
    """Let the window handle its X events until ``done()`` (at most 5 s)."""
    deadline = time.monotonic() + 5.0
    while not done():
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"the window never got {what}")
        select.select([window.fileno()], [], [], min(0.05, left))
        window.pump()


def placed(other: Any, window: ShowWindow) -> Box:
    """The window's box on the root window, as the X server has it."""
    win = other.create_resource_object("window", window.window_id)
    geometry = win.get_geometry()
    origin = other.screen().root.translate_coords(win, 0, 0)
    return int(origin.x), int(origin.y), int(geometry.width), int(geometry.height)


def inside(box: Box, dx: int, dy: int, w: int, h: int, inset: int = 4) -> Box:
    """The part ``dx, dy, w, h`` of ``box``, ``inset`` pixels in from each edge."""
    return box[0] + dx + inset, box[1] + dy + inset, w - 2 * inset, h - 2 * inset


def test_the_picture_shows_1_to_1_centred_in_a_bigger_window(
    display: str, other: Any, windows: list[ShowWindow]
) -> None:
    window = ShowWindow(display, "Alice's screen", lambda: None, size=(800, 500))
    windows.append(window)
    window.show(quadrants(640, 360))
    window.pump()
    assert window.shown == 1
    box = placed(other, window)
    assert box[2:] == (800, 500)
    x, y = 80, 70  # (800 - 640) / 2, (500 - 360) / 2
    img = eventually(
        display,
        [
            (inside(box, x, y, 320, 180), RED),
            (inside(box, x + 320, y, 320, 180), GREEN),
            (inside(box, x, y + 180, 320, 180), BLUE),
            (inside(box, x + 320, y + 180, 320, 180), WHITE),
            (inside(box, 0, 0, 800, y, inset=0), BLACK),  # the bars
            (inside(box, 0, y + 360, 800, 500 - y - 360, inset=0), BLACK),
            (inside(box, 0, y, x, 360, inset=0), BLACK),
            (inside(box, x + 640, y, 800 - x - 640, 360, inset=0), BLACK),
        ],
    )
    # 1:1: the colours change at the picture's own edges, without blur (but for the 4:2:0
    # chroma, shared by two rows)
    left, top = box[0] + x, box[1] + y
    assert off_colour(img, (left, top, 1, 1), RED) is None
    assert off_colour(img, (left + 319, top + 177, 1, 1), RED) is None
    assert off_colour(img, (left + 320, top, 1, 1), GREEN) is None
    assert off_colour(img, (left + 319, top + 182, 1, 1), BLUE) is None
    assert off_colour(img, (left + 639, top + 359, 1, 1), WHITE) is None
    assert off_colour(img, (left - 1, top - 1, 1, 1), BLACK) is None
    assert off_colour(img, (left + 640, top + 360, 1, 1), BLACK) is None
    # nothing of it outside the window (the rest of the root stays black)
    lit = np.nonzero(img.max(axis=2) > 30)
    assert lit[1].min() >= box[0] and lit[1].max() < box[0] + box[2]
    assert lit[0].min() >= box[1] and lit[0].max() < box[1] + box[3]


def test_a_bigger_picture_is_scaled_down_with_its_aspect_kept(
    display: str, other: Any, windows: list[ShowWindow]
) -> None:
    # 1920x1080 into 640x480: a third, 640x360, with bars of 60 rows above and below
    picture = frame(
        1920,
        1080,
        [((0, 0, 960, 1080), RED), ((960, 0, 960, 1080), BLUE), ((1680, 945, 240, 135), GREEN)],
    )
    window = ShowWindow(display, "Alice's screen", lambda: None, size=(640, 480))
    windows.append(window)
    window.show(picture)
    window.pump()
    box = placed(other, window)
    img = eventually(
        display,
        [
            (inside(box, 0, 60, 320, 360), RED),
            (inside(box, 320, 60, 320, 315), BLUE),
            (inside(box, 560, 375, 80, 45), GREEN),  # the corner block, a third of its size
            (inside(box, 0, 0, 640, 60, inset=0), BLACK),
            (inside(box, 0, 420, 640, 60, inset=0), BLACK),
        ],
    )
    rows = np.nonzero(img[box[1] : box[1] + 480, box[0] + 100].max(axis=1) > 30)[0]
    assert abs(rows.min() - 60) <= 1 and abs(rows.max() - 419) <= 1
    assert window.size == (640, 480)  # a size given is kept


def test_a_resize_lays_the_last_frame_out_again(
    display: str, other: Any, windows: list[ShowWindow]
) -> None:
    window = ShowWindow(display, "Alice's screen", lambda: None)
    windows.append(window)
    window.show(quadrants(640, 360))
    pump_until(window, lambda: window.size == (640, 360), "the picture's size")
    box = placed(other, window)
    eventually(
        display, [(inside(box, 0, 0, 320, 180), RED), (inside(box, 320, 180, 320, 180), WHITE)]
    )
    # the customer makes it taller and narrower: 400x225 at y = 87
    other.create_resource_object("window", window.window_id).configure(width=400, height=400)
    other.flush()
    pump_until(window, lambda: window.size == (400, 400), "its new size")
    box = placed(other, window)
    assert box[2:] == (400, 400)
    eventually(
        display,
        [
            (inside(box, 0, 87, 200, 112), RED),
            (inside(box, 200, 87, 200, 112), GREEN),
            (inside(box, 0, 200, 200, 112), BLUE),
            (inside(box, 200, 200, 200, 112), WHITE),
            (inside(box, 0, 0, 400, 87, inset=0), BLACK),
            (inside(box, 0, 313, 400, 87, inset=0), BLACK),
        ],
    )
    assert window.shown == 1  # the same frame, laid out again
    # a smaller picture keeps the customer's size: 1:1 at (40, 80), the old picture's
    # place around it painted black
    window.show(quadrants(320, 240))
    window.pump()
    eventually(
        display,
        [
            (inside(box, 40, 80, 160, 120), RED),
            (inside(box, 200, 200, 160, 120), WHITE),
            (inside(box, 0, 0, 400, 80, inset=0), BLACK),
            (inside(box, 0, 320, 400, 80, inset=0), BLACK),
            (inside(box, 0, 80, 40, 240, inset=0), BLACK),
            (inside(box, 360, 80, 40, 240, inset=0), BLACK),
        ],
    )
    time.sleep(0.1)
    window.pump()
    assert window.size == (400, 400) and placed(other, window)[2:] == (400, 400)


def test_the_window_takes_the_shape_of_the_first_picture(
    display: str, other: Any, windows: list[ShowWindow]
) -> None:
    window = ShowWindow(display, "Alice's camera", lambda: None)
    windows.append(window)
    width, height = placed(other, window)[2:]
    assert width <= 1024 and height <= 576  # 80 % of the 1280x720 screen at most
    window.show(quadrants(640, 480))  # a 4:3 camera, fits as it is
    pump_until(window, lambda: window.size == (640, 480), "the picture's size")
    box = placed(other, window)
    assert box[2:] == (640, 480)
    eventually(
        display, [(inside(box, 0, 0, 320, 240), RED), (inside(box, 320, 240, 320, 240), WHITE)]
    )


def test_what_was_covered_is_painted_again(
    display: str, other: Any, windows: list[ShowWindow]
) -> None:
    from Xlib import X

    window = ShowWindow(display, "Alice's screen", lambda: None, size=(640, 360))
    windows.append(window)
    window.show(quadrants(640, 360))
    window.pump()
    box = placed(other, window)
    eventually(display, [(inside(box, 0, 0, 320, 180), RED)])
    screen_ = other.screen()
    cover = screen_.root.create_window(
        box[0], box[1], 320, 180, 0, screen_.root_depth, X.InputOutput, X.CopyFromParent,
        background_pixel=screen_.white_pixel, override_redirect=True,
    )  # fmt: skip
    cover.map()
    other.sync()
    eventually(display, [(inside(box, 0, 0, 320, 180), (255, 255, 255))])
    cover.destroy()
    other.sync()
    deadline = time.monotonic() + 5.0
    while off_colour(screen(display), inside(box, 0, 0, 320, 180), RED):
        assert time.monotonic() < deadline, "the uncovered part was not painted again"
        select.select([window.fileno()], [], [], 0.05)
        window.pump()
    assert window.shown == 1


def test_the_close_button_calls_on_close_once_and_the_window_stays(
    display: str, other: Any, windows: list[ShowWindow]
) -> None:
    from Xlib import X, Xatom, error
    from Xlib.protocol import event

    closes: list[int] = []
    window = ShowWindow(display, "Alice's screen", lambda: closes.append(1), size=(320, 180))
    windows.append(window)
    win = other.create_resource_object("window", window.window_id)
    # what the window manager reads
    protocols = other.intern_atom("WM_PROTOCOLS")
    delete = other.intern_atom("WM_DELETE_WINDOW")
    assert list(win.get_full_property(protocols, Xatom.ATOM).value) == [delete]
    assert win.get_wm_class() == ("supportlink", "SupportLink")
    assert not win.get_attributes().override_redirect

    def close_button() -> None:
        message = event.ClientMessage(
            window=win, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
        )
        win.send_event(message, event_mask=0)  # to the window's own client
        other.flush()

    close_button()
    pump_until(window, lambda: bool(closes), "the close message")
    close_button()  # a second click before the owner reacted
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        select.select([window.fileno()], [], [], 0.05)
        window.pump()
    assert closes == [1]
    assert win.get_attributes().map_state == X.IsViewable  # still there: the owner decides
    window.close()
    window.close()
    window.pump()  # nothing happens after close
    window.show(quadrants(64, 36))
    assert window.shown == 0
    deadline = time.monotonic() + 5.0
    while True:
        try:
            win.get_geometry()
        except (error.BadDrawable, error.BadWindow):
            break
        assert time.monotonic() < deadline, "the window is still there after close()"
        time.sleep(0.02)


def test_the_title_is_set_for_the_window_manager(
    display: str, other: Any, windows: list[ShowWindow]
) -> None:
    from Xlib import Xatom

    window = ShowWindow(display, "Alice's screen", lambda: None, size=(320, 180))
    windows.append(window)
    win = other.create_resource_object("window", window.window_id)
    net_wm_name = other.intern_atom("_NET_WM_NAME")
    utf8 = other.intern_atom("UTF8_STRING")
    assert win.get_full_property(Xatom.WM_NAME, Xatom.STRING).value == b"Alice's screen"
    assert win.get_full_property(net_wm_name, utf8).value == b"Alice's screen"
    window.set_title("田中さんのカメラ")
    window.pump()
    deadline = time.monotonic() + 5.0
    while win.get_full_property(net_wm_name, utf8).value != "田中さんのカメラ".encode():
        assert time.monotonic() < deadline, "the title did not change"
        time.sleep(0.02)
    assert win.get_full_property(Xatom.WM_NAME, 0).value == "田中さんのカメラ".encode()


# python-xlib leaves the socket of a failed connection to the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_no_display_is_a_show_window_error(monkeypatch: pytest.MonkeyPatch) -> None:
    number = next(n for n in range(900, 1000) if not os.path.exists(f"/tmp/.X11-unix/X{n}"))
    with pytest.raises(ShowWindowError):
        ShowWindow(f"unix:{number}", "x", lambda: None)
    with pytest.raises(ShowWindowError):
        ShowWindow("no display here", "x", lambda: None)
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ShowWindowError):
        ShowWindow(None, "x", lambda: None)


def test_a_window_thread_draws_the_newest_frame_and_closes_from_its_own_thread(
    display: str, other: Any
) -> None:
    from peer.showwindow import WindowThread

    closes: list[str] = []
    window = ShowWindow(
        display, "Alice's screen", lambda: closes.append(threading.current_thread().name),
        size=(800, 500),
    )  # fmt: skip
    drawer = WindowThread(window)
    try:
        stale = frame(640, 360, [((0, 0, 640, 360), GREEN)])
        for _ in range(5):  # handed over faster than drawn: the newest wins
            drawer.put(stale)
        drawer.put(quadrants(640, 360))
        box = placed(other, window)
        eventually(display, [(inside(box, 80, 70, 320, 180), RED)])
        assert 1 <= window.shown <= 6
        # the close button reaches on_close on the window's thread (the owner hands it on)
        win = other.create_resource_object("window", window.window_id)
        protocols = other.intern_atom("WM_PROTOCOLS")
        delete = other.intern_atom("WM_DELETE_WINDOW")
        win.send_event(
            event.ClientMessage(
                window=win, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
            ),
            event_mask=X.NoEventMask,
        )
        other.sync()
        deadline = time.monotonic() + 5
        while not closes and time.monotonic() < deadline:
            time.sleep(0.02)
        assert closes == ["show-window"]
    finally:
        drawer.close()
    assert not drawer._thread.is_alive()
    drawer.close()  # twice is harmless
