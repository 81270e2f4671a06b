"""Remote control end to end, where it is easiest to get wrong: real server, real peer on Xvfb,
headless Chromium through the console, all in the test's own network namespace.

* Typing: a German operator's mixed text (umlauts, a dead key, AltGr in the Linux and the
  Windows way) and shortcuts (Shift+arrows, Ctrl+C/V, Ctrl+A) arrive as exactly that text.
* Nothing stays held: the operator holds a key and a mouse button when the customer quits, the
  operator's tab crashes or the customer takes control back mid-drag; the X server itself then
  reports no key and no button down, and what follows the revoke is dropped.
* One application: a window covering part of the shared one never shows in the operator's
  video (black there), and a click on that part reaches no window at all.
* No consent: what the operator does on the video -- and raw frames sent on the input channel
  past the console's own checks -- changes nothing on the X server.

Key events reach the console as trusted KeyboardEvents through CDP (see ``remote_helpers``).
What the customer's applications get is read from X clients of the tests' own
(``xrecorder.Recorder``) and from the X server's own key and pointer state.
"""

from __future__ import annotations

import re
import signal
import time
from typing import Any

import pytest
from xrecorder import Recorder

from .console import Console, close
from .remote_helpers import (
    OperatorKeyboard,
    StartPeer,
    connect,
    expect,
    keycodes,
    keydowns,
    page_point,
    picture_point,
    press_hotkey,
    send_raw,
    take_control,
    video_colour_watch,
    wait_until,
    watch_channels,
    watch_keys,
    watch_video_colour,
    x_input,
)
from .screen import Screen

#: Where the recording window sits on the customer's 1920x1080 screen.
RECORDER = (560, 300, 800, 420)
INSIDE = (RECORDER[0] + 200, RECORDER[1] + 150)
CAPTURE = "#keyboard-capture"


def _buttons(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(e["ev"], e["num"]) for e in events if e["ev"] in ("button_down", "button_up")]


def _wait_text(rec: Recorder, text: str, timeout: float = 10) -> None:
    wait_until(rec.text, lambda got: got == text, f"the customer's window holds {text!r}", timeout)


def _ready_to_control(console: Console, screen: Screen, rec: Recorder) -> None:
    """Control granted, the picture showing, the keyboard captured by a click on the recorder
    (which has had that click); the recorder's record starts afresh."""
    take_control(console)
    console.wait_for_blocks(screen.blocks[:1], (screen.width, screen.height), timeout=20)
    console.page.mouse.click(*page_point(console, screen, *INSIDE))
    expect()(console.page.locator(CAPTURE)).to_be_visible()
    wait_until(rec.events, lambda ev: ("button_up", 1) in _buttons(ev), "the first click arrives")
    rec.forget()


# ---------------------------------------------------------------------------- typing


def test_mixed_text_and_shortcuts_arrive_exactly(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    connect(console, start_peer, ("view", "control"))
    page = console.page
    with Recorder(xvfb.display, *RECORDER) as rec:
        _ready_to_control(console, xvfb, rec)
        watch_keys(page)
        rec.clear()
        kb = OperatorKeyboard(page)

        # Umlauts and ß on their own keys, Shift for capitals and ":" and "!", a dead key
        # before "é", AltGr for "€" as Linux reports it and for "@" as Windows does.
        kb.type("Grüße, Ärger: é ß Ä €! ")
        kb.type("@", altgr="windows")
        kb.type("home")
        text = "Grüße, Ärger: é ß Ä €! @home"
        _wait_text(rec, text)

        # Shift+Left x5 selects "@home", Ctrl+C copies it, End, a space, Ctrl+V pastes it.
        kb.down("ShiftLeft", "Shift")
        for _ in range(5):
            kb.tap("ArrowLeft", "ArrowLeft")
        kb.up("ShiftLeft", "Shift")
        kb.chord(("ControlLeft", "Control"), ("KeyC", "c"))
        kb.tap("End", "End")
        kb.type(" ")
        kb.chord(("ControlLeft", "Control"), ("KeyV", "v"))
        _wait_text(rec, text + " @home")

        # Ctrl+A, then typing replaces everything; Shift+Left and a capital replace one letter.
        kb.chord(("ControlLeft", "Control"), ("KeyA", "a"))
        kb.type("ok")
        kb.down("ShiftLeft", "Shift")
        kb.tap("ArrowLeft", "ArrowLeft")
        kb.up("ShiftLeft", "Shift")
        kb.type("K")
        _wait_text(rec, "oK")
        state = x_input(xvfb.display)
        assert state.idle, f"left held after typing: {state}"

        # The console saw real key events, with the layout's keys.
        seen = keydowns(page)
        assert all(trusted for _, _, trusted in seen), seen
        for key_code in (
            ("ü", "BracketLeft"),
            ("Dead", "Equal"),
            ("é", "KeyE"),
            ("AltGraph", "AltRight"),
            ("€", "KeyE"),
            ("@", "KeyQ"),
        ):
            assert (*key_code, True) in seen, (key_code, seen)
        kb.detach()


# ---------------------------------------------------------------------------- nothing held


@pytest.mark.parametrize("ending", ["customer_quits", "operator_tab_crashes"])
def test_nothing_stays_held_when_the_session_ends(
    ending: str, console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    peer = connect(console, start_peer, ("view", "control"))
    page = console.page
    with Recorder(xvfb.display, *RECORDER) as rec:
        _ready_to_control(console, xvfb, rec)
        wait_until(lambda: x_input(xvfb.display), lambda s: s.idle, "nothing held at first")

        # The operator holds Shift and x, and the left button: downs without ups.
        kb = OperatorKeyboard(page)
        kb.down("ShiftLeft", "Shift")
        kb.down("KeyX", "X")
        page.mouse.move(*page_point(console, xvfb, INSIDE[0] + 100, INSIDE[1] + 50))
        page.mouse.down()
        want = keycodes(xvfb.display, "Shift_L", "x")
        wait_until(
            lambda: x_input(xvfb.display),
            lambda s: want <= s.keys and 1 in s.buttons,
            "the operator's keys and button held on the customer's screen",
        )

        if ending == "customer_quits":
            peer.signal(signal.SIGTERM)
            peer.wait_exit(15)
            # The peer is gone: whatever it did not let go of is still down now.
            state = x_input(xvfb.display)
            assert state.idle, f"held after the session ended: {state}"
        else:
            try:  # the renderer dies at once: no unload handler, no release_all from the page
                kb.cdp.send("Page.crash", timeout=2000)
            except Exception:  # a crashed page never answers
                pass
            # The session waits for the operator to come back (--resume-within), but nobody
            # holds those keys any more: the peer lets go of them as soon as it hears so.
            peer.wait_for_line(r"connection was lost; waiting up to \d+ s", timeout=30)
            wait_until(
                lambda: x_input(xvfb.display), lambda s: s.idle, "everything let go", timeout=5
            )
            peer.signal(signal.SIGTERM)
            peer.wait_exit(15)
        events = rec.events()
        assert ("button_up", 1) in _buttons(events), events
        ups = {e["keysym"] for e in events if e["ev"] == "key_up"}
        assert {"Shift_L"} <= ups and ups & {"x", "X"}, events


def test_customer_revoke_mid_drag_releases_and_drops_the_rest(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    page = console.page
    watch_channels(page)
    connect(console, start_peer, ("view", "control"))
    with Recorder(xvfb.display, *RECORDER) as rec:
        _ready_to_control(console, xvfb, rec)

        # A drag with Shift held (a range selection), not finished yet.
        kb = OperatorKeyboard(page)
        kb.down("ShiftLeft", "Shift")
        start, end = (INSIDE[0] + 50, INSIDE[1]), (INSIDE[0] + 250, INSIDE[1] + 80)
        page.mouse.move(*page_point(console, xvfb, *start))
        page.mouse.down()
        page.mouse.move(*page_point(console, xvfb, *end), steps=5)
        shift = keycodes(xvfb.display, "Shift_L")
        wait_until(
            lambda: x_input(xvfb.display),
            lambda s: (
                shift <= s.keys
                and 1 in s.buttons
                and abs(s.pointer[0] - end[0]) <= 4
                and abs(s.pointer[1] - end[1]) <= 4
            ),
            "the drag under way on the customer's screen",
        )

        press_hotkey(xvfb)
        expect()(page.locator("#control-state")).to_contain_text(
            "The customer took back control", timeout=10_000
        )
        released = wait_until(lambda: x_input(xvfb.display), lambda s: s.idle, "all let go", 5)
        assert _buttons(rec.events()) == [("button_down", 1), ("button_up", 1)]

        # The rest of the drag, more keys, and raw frames past the console: all dropped.
        page.mouse.move(*page_point(console, xvfb, INSIDE[0], INSIDE[1] + 200), steps=5)
        page.mouse.up()
        kb.up("ShiftLeft", "Shift")
        kb.type("no")
        send_raw(
            page,
            "input",
            [
                {"type": "pointer_move", "x": 0.1, "y": 0.1},
                {"type": "pointer_button", "button": "left", "down": True, "x": 0.4, "y": 0.4},
                {"type": "key", "code": "KeyQ", "key": "q", "down": True},
                {"type": "wheel", "x": 0.4, "y": 0.4, "dx": 0, "dy": 3},
            ],
        )
        time.sleep(1.5)  # what arrives at all arrives within this
        after = x_input(xvfb.display)
        assert after.idle and after.pointer == released.pointer, (released, after)
        assert _buttons(rec.events()) == [("button_down", 1), ("button_up", 1)], rec.events()
        typed = [e["keysym"] for e in rec.events() if e["ev"] == "key_down"]
        assert not set(typed) & {"n", "o", "N", "O", "q", "Q"}, typed
        assert rec.text() == ""
        kb.detach()


# ---------------------------------------------------------------------------- one application

SHARED = (300, 200, 640, 480)  # window A: x, y, width, height
OTHER = (700, 400, 400, 300)  # window B: covers A's lower right corner and more
OTHER_RGB = (255, 120, 0)
A_VISIBLE = (400, 300)  # screen points: on A, uncovered
A_COVERED = (820, 540)  # on A's rect, under B


def _fractions(point: tuple[int, int]) -> tuple[float, float]:
    x, y, w, h = SHARED
    return ((point[0] - x) / w, (point[1] - y) / h)


def test_one_application_hides_and_blocks_a_covering_window(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    page = console.page
    title = "Ledger A - SupportLink test"
    with (
        Recorder(xvfb.display, *SHARED, title=title) as shared,
        Recorder(xvfb.display, *OTHER, title="Other window", background="#ff7800") as other,
    ):
        connect(console, start_peer, ("view", "control"), extra_args=("--window", "ledger a"))
        expect()(page.locator("#view-state")).to_have_text(
            f"One application: {title}", timeout=15_000
        )
        watch_video_colour(page, OTHER_RGB, 50)  # from here on every presented frame
        # A gets the keyboard focus now: the peer polls the focus (10 times a second) and drops
        # keys until it has seen it there.
        shared.focus()
        take_control(console)
        wait_until(
            console.video_state,
            lambda s: (s["width"], s["height"]) == SHARED[2:],
            "the picture is window A alone",
            timeout=15,
        )
        points = [_fractions(A_VISIBLE), _fractions(A_COVERED)]
        wait_until(
            lambda: console.sample(points),
            lambda s: (
                s is not None
                and min(s.pixels[0]) >= 200  # A's white
                and close(s.pixels[1], (0, 0, 0), 30)
            ),  # B blacked out
            "A shows, the part B covers is black",
        )
        shared.forget()
        other.forget()

        # A click where B covers A, then one on A: only the second lands anywhere. The input
        # channel is ordered, so once A has the second, the first was dealt with.
        page.mouse.click(*picture_point(console, *_fractions(A_COVERED)))
        page.mouse.click(*picture_point(console, *_fractions(A_VISIBLE)))
        events = wait_until(
            shared.events, lambda ev: len(_buttons(ev)) >= 2, "window A gets the click"
        )
        down = next(e for e in events if e["ev"] == "button_down")
        assert abs(down["x_root"] - A_VISIBLE[0]) <= 3, down
        assert abs(down["y_root"] - A_VISIBLE[1]) <= 3, down
        assert _buttons(events) == [("button_down", 1), ("button_up", 1)], events
        assert _buttons(other.events()) == [], other.events()
        assert x_input(xvfb.display).idle

        # Typing into A changes the picture: frames keep coming, B stays out of all of them.
        kb = OperatorKeyboard(page)
        typed = "window mode keeps B out"
        for ch in typed:
            kb.type(ch)
            time.sleep(0.04)
        _wait_text(shared, typed)
        assert other.text() == ""

        # The focus goes to B (the peer sees it there and holds keys back), then back to A,
        # and the operator types at once: the peer has not looked at the focus again yet, and
        # the first keys must wait for it rather than be lost.
        other.focus()
        time.sleep(0.4)
        shared.focus()
        for ch in "now":
            kb.type(ch)
        _wait_text(shared, typed + "now")
        assert other.text() == ""
        kb.detach()
        watch = video_colour_watch(page)
        assert watch["frames"] >= 5, watch
        assert watch["hits"] == 0, f"window B's colour appeared in the operator's video: {watch}"


# ---------------------------------------------------------------------------- no consent

_SUMMARY = re.compile(r"^input: injected (\d+), dropped (\d+)(?: \((.*)\))?$")


def test_without_consent_nothing_reaches_the_x_server(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    page = console.page
    watch_channels(page)
    # Headless, without "control" in --allow, the peer denies the request itself.
    peer = connect(console, start_peer, ("view",))
    request = page.get_by_role("button", name="Request control")
    expect()(request).to_be_visible(timeout=15_000)
    request.click()
    expect()(page.locator("#control-state")).to_contain_text(
        "Control denied by the customer", timeout=10_000
    )
    with Recorder(xvfb.display, *RECORDER) as rec:
        console.wait_for_blocks(xvfb.blocks[:1], (xvfb.width, xvfb.height), timeout=20)
        before = x_input(xvfb.display)
        rec.forget()

        # Everything an operator can do on the picture...
        kb = OperatorKeyboard(page)
        page.mouse.click(*page_point(console, xvfb, *INSIDE))
        page.mouse.move(*page_point(console, xvfb, INSIDE[0] + 40, INSIDE[1] + 40))
        page.mouse.down()
        page.mouse.move(*page_point(console, xvfb, INSIDE[0] + 200, INSIDE[1] + 90), steps=5)
        page.mouse.up()
        page.mouse.wheel(0, 300)
        kb.type("Nö!")
        kb.down("ShiftLeft", "Shift")
        kb.down("KeyX", "X")
        # ...and frames a console could send past its own checks (at a point on the recorder,
        # away from where the X server starts the pointer).
        x, y = INSIDE[0] / xvfb.width, INSIDE[1] / xvfb.height
        raw: list[dict[str, Any]] = [
            {"type": "pointer_move", "x": x, "y": y},
            {"type": "pointer_button", "button": "left", "down": True, "x": x, "y": y},
            {"type": "pointer_button", "button": "left", "down": False, "x": x, "y": y},
            {"type": "wheel", "x": x, "y": y, "dx": 0, "dy": 3},
            {"type": "key", "code": "KeyQ", "key": "q", "down": True},
            {"type": "key", "code": "KeyQ", "key": "q", "down": False},
        ]
        send_raw(page, "input", raw)
        time.sleep(1.5)  # what arrives at all arrives within this
        after = x_input(xvfb.display)
        assert after.idle, after
        assert after.pointer == before.pointer, (before, after)
        assert rec.events() == []
        assert rec.text() == ""
        expect()(page.locator(CAPTURE)).to_be_hidden()
        kb.detach()

    # The raw frames did reach the peer, which dropped them; the console itself sent nothing.
    peer.signal(signal.SIGTERM)
    peer.wait_exit(15)
    summary = peer.wait_for_line(_SUMMARY.pattern, timeout=1)
    injected, _, reasons = summary.groups()
    assert injected == "0", summary.group(0)
    assert f"not_allowed={len(raw)}" in (reasons or "").split(", "), summary.group(0)
