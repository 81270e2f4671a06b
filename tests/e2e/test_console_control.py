"""Remote control, monitors and clipboard from the operator console, end to end: headless
Chromium, the real server, the real peer on a virtual screen, one network namespace.

The console is driven by what a person sees and its fixed hooks: buttons "Request control",
"Hand back control", "Release keyboard", "Request clipboard", "Send clipboard";
``#control-state``, ``#keyboard-capture``, ``select#monitor``, ``#view-state``,
``textarea#clipboard-out``, ``#clipboard-in``. What reaches the customer is read from an X
client of the tests' own (``xrecorder.Recorder``) and from the customer's X clipboard.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from xrecorder import Recorder

from .console import Console, StartPeer
from .remote_helpers import (
    customer_clipboard,
    customer_copies,
    page_point,
    picture_point,
    press_hotkey,
    take_control,
    wait_until,
)
from .remote_helpers import expect as playwright_expect
from .screen import Screen

CAPTURE_TEXT = (
    "Press Esc three times quickly to release the keyboard "
    "(a single Esc still goes to the customer)"
)
#: Where the recording window sits on the customer's 1920x1080 screen.
RECORDER = (560, 300, 800, 420)


# An application window with a title (not override-redirect, so the peer can share it alone):
# prints "ready", then the root coordinates of its first button press, until stdin closes.
_TITLED_WINDOW = """
import sys, tkinter
title, x, y, w, h = sys.argv[1], *map(int, sys.argv[2:6])
root = tkinter.Tk()
root.title(title)
root.geometry(f"{w}x{h}+{x}+{y}")
root.configure(background="#f4f4f4")
pressed = []
def press(event):
    if not pressed:
        pressed.append(event)
        print(event.x_root, event.y_root, flush=True)
root.bind("<ButtonPress-1>", press)
root.tk.createfilehandler(sys.stdin, tkinter.READABLE, lambda *_: root.destroy())
root.update()
print("ready", flush=True)
root.mainloop()
"""


def _read_line(stream: IO[str], timeout: float = 10) -> str:
    """One line from a child's stdout, or AssertionError after ``timeout`` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no line from the child within {timeout} s"
    return stream.readline()


def _take_control(console: Console) -> None:
    """``take_control``, and the console offers to hand control back."""
    take_control(console)
    button = console.page.get_by_role("button", name="Hand back control")
    playwright_expect()(button).to_be_visible()


def _wait_events(
    rec: Recorder, want: Callable[[list[dict[str, Any]]], bool], timeout: float = 10
) -> list[dict[str, Any]]:
    return wait_until(rec.events, want, "the customer's window gets what was expected", timeout)


def _wait_text(rec: Recorder, text: str, timeout: float = 10) -> None:
    wait_until(rec.text, lambda got: got == text, f"the customer's window holds {text!r}", timeout)


def _buttons(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["ev"] in ("button_down", "button_up")]


@contextmanager
def _recorder(screen: Screen) -> Iterator[Recorder]:
    with Recorder(screen.display, *RECORDER) as rec:
        yield rec


def test_control_click_type_and_hand_back(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    console.connect(start_peer, allow=("view", "control"))
    page = console.page
    expect = playwright_expect()
    with _recorder(xvfb) as rec:
        _take_control(console)
        console.wait_for_blocks(xvfb.blocks[:1], (xvfb.width, xvfb.height), timeout=20)
        rec.forget()

        # A click on the picture lands at the same point of the customer's screen.
        target = (RECORDER[0] + 200, RECORDER[1] + 150)
        page.mouse.click(*page_point(console, xvfb, *target))
        events = _wait_events(rec, lambda ev: len(_buttons(ev)) >= 2)
        down, up = _buttons(events)[:2]
        assert (down["ev"], down["num"], up["ev"], up["num"]) == (
            "button_down",
            1,
            "button_up",
            1,
        ), events
        # One CSS pixel of the scaled picture is about two screen pixels.
        assert abs(down["x_root"] - target[0]) <= 4, (down, target)
        assert abs(down["y_root"] - target[1]) <= 4, (down, target)

        # The click gave the picture the keyboard: keys go to the customer, visibly.
        capture = page.locator("#keyboard-capture")
        expect(capture).to_be_visible()
        expect(capture).to_have_text(CAPTURE_TEXT)
        rec.clear()
        page.keyboard.type("Hello 42")
        _wait_text(rec, "Hello 42")

        # The wheel over the picture scrolls on the customer's screen (X button 5: down).
        rec.forget()
        page.mouse.wheel(0, 300)
        _wait_events(rec, lambda ev: any(e["ev"] == "button_down" and e["num"] == 5 for e in ev))

        # Escape three times: the keyboard is the browser's again.
        for _ in range(3):
            page.keyboard.press("Escape")
        expect(capture).to_be_hidden()
        page.keyboard.type("zz")
        time.sleep(1)
        assert rec.text() == "Hello 42"

        # A click captures again; the visible button releases.
        page.mouse.click(*page_point(console, xvfb, *target))
        expect(capture).to_be_visible()
        page.get_by_role("button", name="Release keyboard").click()
        expect(capture).to_be_hidden()

        # The special-keys menu presses what the operator's own computer would keep.
        rec.forget()
        menu = page.locator("#special-keys")
        menu.select_option("alt_tab")
        events = _wait_events(rec, lambda ev: sum(e["ev"] == "key_up" for e in ev) >= 2)
        keys = [(e["ev"], e["keysym"]) for e in events if e["ev"] in ("key_down", "key_up")]
        assert keys[:4] == [
            ("key_down", "Alt_L"),
            ("key_down", "Tab"),
            ("key_up", "Tab"),
            ("key_up", "Alt_L"),
        ], keys
        expect(menu).to_have_value("")  # ready for the next one

        # Hand back: nothing reaches the customer any more.
        page.get_by_role("button", name="Hand back control").click()
        expect(page.locator("#control-state")).to_contain_text("handed back", timeout=5000)
        expect(page.get_by_role("button", name="Request control")).to_be_visible(timeout=10_000)
        rec.forget()
        page.mouse.click(*page_point(console, xvfb, *target))
        page.keyboard.type("no")
        time.sleep(1.5)
        assert _buttons(rec.events()) == [], rec.events()
        assert rec.text() == "Hello 42\t"  # the menu's Alt+Tab typed a tab, and nothing since
        expect(capture).to_be_hidden()


def test_customer_takes_control_back(console: Console, start_peer: StartPeer, xvfb: Screen) -> None:
    console.connect(start_peer, allow=("view", "control"))
    page = console.page
    expect = playwright_expect()
    with _recorder(xvfb) as rec:
        _take_control(console)
        console.wait_for_blocks(xvfb.blocks[:1], (xvfb.width, xvfb.height), timeout=20)
        page.mouse.click(*page_point(console, xvfb, RECORDER[0] + 100, RECORDER[1] + 100))
        capture = page.locator("#keyboard-capture")
        expect(capture).to_be_visible()
        rec.clear()
        page.keyboard.type("ab")
        _wait_text(rec, "ab")

        press_hotkey(xvfb)
        expect(page.locator("#control-state")).to_contain_text(
            "The customer took back control", timeout=10_000
        )
        expect(capture).to_be_hidden()
        expect(page.get_by_role("button", name="Hand back control")).to_be_hidden()
        page.keyboard.type("cd")
        time.sleep(1.5)
        assert rec.text() == "ab"

    # The customer's word stands: asking again is answered by them, not by --allow.
    page.get_by_role("button", name="Request control").click()
    expect(page.locator("#control-state")).to_contain_text(
        "Control denied by the customer", timeout=10_000
    )


def test_control_denied(console: Console, start_peer: StartPeer, xvfb: Screen) -> None:
    # Headless, without "control" in --allow, the peer denies the request itself.
    console.connect(start_peer, allow=("view",))
    page = console.page
    expect = playwright_expect()
    expect(page.get_by_role("button", name="Hand back control")).to_be_hidden()
    request = page.get_by_role("button", name="Request control")
    expect(request).to_be_visible(timeout=15_000)
    request.click()
    expect(page.locator("#control-state")).to_contain_text(
        "Control denied by the customer", timeout=10_000
    )
    expect(page.get_by_role("button", name="Hand back control")).to_be_hidden()
    with _recorder(xvfb) as rec:
        console.wait_for_blocks(xvfb.blocks[:1], (xvfb.width, xvfb.height), timeout=20)
        rec.forget()
        page.mouse.click(*page_point(console, xvfb, RECORDER[0] + 100, RECORDER[1] + 100))
        page.keyboard.type("no")
        time.sleep(1.5)
        assert _buttons(rec.events()) == [], rec.events()
        assert rec.text() == ""
    expect(page.locator("#keyboard-capture")).to_be_hidden()


def test_monitor_picker_and_view_state(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    console.connect(start_peer, allow=("view",))
    page = console.page
    expect = playwright_expect()
    # one monitor: nothing to pick, and no number to name it by
    expect(page.locator("#view-state")).to_have_text("Whole screen", timeout=15_000)
    picker = page.locator("select#monitor")
    expect(picker).to_be_hidden()
    options = picker.locator("option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text(f"Monitor 1 ({xvfb.width}×{xvfb.height})")
    assert options.first.get_attribute("value") == "0"
    expect(page.get_by_role("button", name="Limit to one application")).to_be_visible()


def test_one_application_view_and_its_mapping(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    page = console.page
    expect = playwright_expect()
    x, y, width, height = 300, 200, 640, 480
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            _TITLED_WINDOW,
            "Ledger - SupportLink test",
            *map(str, (x, y, width, height)),
        ],
        env=xvfb.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as window:
        assert window.stdin is not None and window.stdout is not None
        try:
            assert _read_line(window.stdout).strip() == "ready"
            console.connect(
                start_peer, allow=("view", "control"), extra_args=("--window", "ledger")
            )
            expect(page.locator("#view-state")).to_have_text(
                "One application: Ledger - SupportLink test", timeout=15_000
            )
            expect(page.locator("select#monitor")).to_be_hidden()
            expect(page.get_by_role("button", name="Limit to one application")).to_be_hidden()
            # the console cannot undo it: it says who can, inside the stage
            note = page.locator("#view-note")
            expect(note).to_have_text(
                "Only the customer can share the whole screen again: ask them with the button, "
                "or they use their SupportLink window."
            )
            stage = page.locator(".stage").bounding_box()
            box = note.bounding_box()
            assert stage is not None and box is not None
            assert stage["x"] <= box["x"] and box["x"] + box["width"] <= stage["x"] + stage["width"]

            _take_control(console)
            # The picture is the window alone, in its own shape (4:3 in a wider element).
            deadline = time.monotonic() + 15
            while True:
                state = console.video_state()
                if (
                    state["height"]
                    and abs(state["width"] / state["height"] - width / height) < 0.02
                ):
                    break
                assert time.monotonic() < deadline, state
                time.sleep(0.2)
            page.mouse.click(*picture_point(console, 0.25, 0.75))
            line = _read_line(window.stdout)  # the window prints its first button press
            press = [int(v) for v in line.split()]
            target = (x + width * 0.25, y + height * 0.75)
            assert abs(press[0] - target[0]) <= 3 and abs(press[1] - target[1]) <= 3, (
                press,
                target,
            )
        finally:
            window.stdin.close()
            window.wait(10)


def test_clipboard_both_ways_only_after_consent(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    console.connect(start_peer, allow=("view", "clipboard"))
    page = console.page
    expect = playwright_expect()
    out = page.locator("textarea#clipboard-out")
    expect(out).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="Request clipboard")).to_be_hidden()

    # Out: the operator's text lands on the customer's clipboard.
    text = "Ticket 4711 — ok ✓"
    out.fill(text)
    page.get_by_role("button", name="Send clipboard").click()
    deadline = time.monotonic() + 10
    while (got := customer_clipboard(xvfb)) != text:
        assert time.monotonic() < deadline, f"the customer's clipboard holds {got!r}"
        time.sleep(0.3)

    # Too long: said, and nothing sent.
    out.fill("x" * 4001)
    expect(page.locator("#clipboard-problem")).to_contain_text("at most 4000")
    expect(page.get_by_role("button", name="Send clipboard")).to_be_disabled()

    # In: what the customer copies appears in the console.
    copied = "copied by the customer"
    with customer_copies(xvfb, copied):
        expect(page.locator("#clipboard-in")).to_have_text(copied, timeout=10_000)
        expect(page.locator("#clipboard-in")).to_be_visible()


def test_clipboard_off_until_allowed(console: Console, start_peer: StartPeer) -> None:
    # Headless, without "clipboard" in --allow, the peer denies it.
    console.connect(start_peer, allow=("view",))
    page = console.page
    expect = playwright_expect()
    request = page.get_by_role("button", name="Request clipboard")
    expect(request).to_be_visible(timeout=15_000)
    expect(page.locator("textarea#clipboard-out")).to_be_hidden()
    expect(page.get_by_role("button", name="Send clipboard")).to_be_hidden()
    request.click()
    expect(page.locator("#clipboard-panel")).to_contain_text("denied", timeout=10_000)
    expect(page.locator("textarea#clipboard-out")).to_be_hidden()
    expect(page.locator("#clipboard-in")).to_be_hidden()


def _white_pixels(screen: Screen, box: tuple[int, int, int, int]) -> int:
    """White pixels of the customer's real screen (an X grab, not the video) inside ``box``
    (x0, y0, x1, y1); the painted blocks hold no white."""
    shot = screen.grab()
    x0, y0, x1, y1 = box
    return sum(1 for y in range(y0, y1, 2) for x in range(x0, x1, 2) if min(shot.pixel(x, y)) > 235)


def test_drawing_shows_on_the_customers_screen_and_clicks_go_through(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    console.connect(start_peer, allow=("view", "control", "annotate"))
    page = console.page
    expect = playwright_expect()
    # --allow grants drawing without asking the customer: the tools are there at once
    expect(page.locator("#annotate-state")).to_contain_text("Allowed", timeout=15_000)
    expect(page.get_by_role("button", name="Ask to draw")).to_be_hidden()
    console.wait_for_blocks(xvfb.blocks[:1], (xvfb.width, xvfb.height), timeout=20)
    # a flat white ellipse in the black band between the rows of painted blocks, around a
    # dark window of the customer's that records the clicks it gets
    left, top, right, bottom = 300, 490, 1500, 590
    with Recorder(xvfb.display, 850, 505, 100, 70, background="#404040") as rec:
        page.get_by_role("button", name="Ellipse", exact=True).click()
        page.get_by_role("button", name="White").click()
        page.mouse.move(*page_point(console, xvfb, left, top))
        page.mouse.down()
        page.mouse.move(
            *page_point(console, xvfb, (left + right) // 2, (top + bottom) // 2), steps=5
        )
        page.mouse.move(*page_point(console, xvfb, right, bottom), steps=5)
        page.mouse.up()
        # drawn at once in the console, over the picture
        top_x, top_y = page_point(console, xvfb, (left + right) // 2, top)
        drawn = page.evaluate(
            """([x, y]) => {
              const c = document.getElementById("annotate-canvas");
              const r = c.getBoundingClientRect(), k = c.width / r.width;
              const ctx = c.getContext("2d");
              const d = ctx.getImageData((x - r.left) * k - 3, (y - r.top) * k - 3, 7, 7).data;
              let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;
            }""",
            [top_x, top_y],
        )
        assert drawn > 0, "the console did not draw the stroke locally"
        # and on the customer's real screen, on the ellipse and nowhere far from it
        wait_until(
            lambda: _white_pixels(xvfb, (left - 10, top - 10, right + 10, bottom + 10)),
            lambda n: n > 300,
            "a white ellipse on the customer's screen",
            timeout=10,
        )
        assert _white_pixels(xvfb, (0, 0, xvfb.width, top - 12)) == 0
        assert _white_pixels(xvfb, (0, bottom + 12, xvfb.width, xvfb.height)) == 0
        # the pointer gives the picture back to remote control; a click inside the ellipse
        # goes through the drawing to the window below
        page.get_by_role("button", name="Pointer", exact=True).click()
        _take_control(console)
        rec.forget()
        target = (900, 540)
        page.mouse.click(*page_point(console, xvfb, *target))
        events = _wait_events(rec, lambda ev: len(_buttons(ev)) >= 2)
        down = _buttons(events)[0]
        assert abs(down["x_root"] - target[0]) <= 4 and abs(down["y_root"] - target[1]) <= 4
        # Clear takes it away on the customer's screen
        page.get_by_role("button", name="Clear", exact=True).click()
        wait_until(
            lambda: _white_pixels(xvfb, (left - 10, top - 10, right + 10, bottom + 10)),
            lambda n: n == 0,
            "the ellipse gone from the customer's screen",
            timeout=10,
        )
