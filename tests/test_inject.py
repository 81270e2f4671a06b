"""peer.inject on a real X server: what a recorder window receives is what the operator meant.

Xvfb (``tests/xvfb.py``) and a Tk recorder of our own (``tests/xrecorder.py``); the input
goes through the real ``InputCore`` and ``Injector`` as the peer will run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from xrecorder import Recorder
from xvfb import virtual_display

from peer.remote_input import InputCore, Rect
from wire import protocol

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")

SCREEN = Rect(0, 0, 1280, 720)
WINDOW = Rect(100, 100, 600, 300)  # where the recorder sits
SHIFT_MASK, CONTROL_MASK, MOD1_MASK = 1, 4, 8

# what a browser with a US layout sends for these characters (Shift held for these)
US_SHIFTED = set('~!@#$%^&*()_+{}|:"<>?') | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# and what a browser with a German layout sends for these (code, needs Shift)
GERMAN = {"é": ("Equal", False), "ß": ("Minus", False), "Ä": ("Quote", True), "€": ("KeyE", False)}


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    import Xlib.display

    with virtual_display(1280, 720) as name, pytest.MonkeyPatch.context() as mp:
        # Xvfb resets when its last client leaves; a connection held open avoids racing that
        keepalive = Xlib.display.Display(name)
        mp.setenv("DISPLAY", name)
        yield name
        keepalive.close()


@pytest.fixture
def recorder(display: str) -> Iterator[Recorder]:
    with Recorder(display, WINDOW.x, WINDOW.y, WINDOW.width, WINDOW.height) as rec:
        yield rec


@pytest.fixture
def xdisplay(display: str) -> Iterator[Any]:
    import Xlib.display

    d = Xlib.display.Display(display)
    yield d
    d.close()


class Operator:
    """Sends what a browser would send, through the core, into the injector."""

    def __init__(self, rect: Rect = SCREEN) -> None:
        from peer.inject import Injector

        self.core = InputCore(rate=100_000, burst=100_000)
        self.core.set_geometry(rect)
        self.core.set_allowed(True)
        self.injector = Injector()
        self.now = 0.0

    def send(self, msg: object) -> list[Any]:
        self.now += 0.001
        actions = self.core.handle(msg, self.now)
        self.injector.perform(actions)
        return actions

    def key(self, code: str, key: str, down: bool) -> None:
        self.send(protocol.Key(code=code, key=key, down=down))

    def tap(self, code: str, key: str) -> None:
        self.key(code, key, True)
        self.key(code, key, False)

    def chord(self, *keys_: tuple[str, str]) -> None:
        """Press keys in order, release them in reverse (Ctrl+A, Ctrl+Shift+Left...)."""
        for code, key in keys_:
            self.key(code, key, True)
        for code, key in reversed(keys_):
            self.key(code, key, False)

    def type(self, text: str) -> None:
        for ch in text:
            code, shifted = GERMAN.get(ch, (_us_code(ch), ch in US_SHIFTED))
            if shifted:
                self.key("ShiftLeft", "Shift", True)
            self.tap(code, ch)
            if shifted:
                self.key("ShiftLeft", "Shift", False)

    def move(self, x: float, y: float) -> None:
        self.send(protocol.PointerMove(x=x, y=y))

    def click(self, x: float, y: float, button: str = "left") -> None:
        self.send(protocol.PointerButton(button=button, down=True, x=x, y=y))
        self.send(protocol.PointerButton(button=button, down=False, x=x, y=y))

    def close(self) -> None:
        self.injector.close()


def _us_code(ch: str) -> str:
    if ch.isalpha() and ch.isascii():
        return f"Key{ch.upper()}"
    if ch.isdigit():
        return f"Digit{ch}"
    return {
        " ": "Space",
        ",": "Comma",
        "!": "Digit1",
        "#": "Digit3",
        "[": "BracketLeft",
        "]": "BracketRight",
        "/": "Slash",
        "?": "Slash",
        ".": "Period",
    }.get(ch, "")


@pytest.fixture
def operator(recorder: Recorder) -> Iterator[Operator]:
    op = Operator()
    op.move(0.3, 0.3)  # over the recorder: with no window manager focus follows the pointer
    yield op
    op.close()


def key_downs(rec: Recorder) -> list[tuple[str, int]]:
    return [(e["keysym"], e["state"]) for e in rec.events() if e["ev"] == "key_down"]


# --------------------------------------------------------------------------- keyboard


def test_types_text_with_shift_punctuation_and_non_ascii(
    operator: Operator, recorder: Recorder
) -> None:
    text = "Hello, World! é ß Ä € 123 #[] a/b?"
    operator.type(text)
    assert recorder.text() == text


def test_ctrl_a_then_typing_replaces_everything(operator: Operator, recorder: Recorder) -> None:
    operator.type("old text")
    recorder.forget()
    operator.chord(("ControlLeft", "Control"), ("KeyA", "a"))
    assert ("a", CONTROL_MASK) in key_downs(recorder)
    operator.type("New")
    assert recorder.text() == "New"


def test_shift_arrows_select(operator: Operator, recorder: Recorder) -> None:
    operator.type("abcdef")
    operator.key("ShiftLeft", "Shift", True)
    for _ in range(3):
        operator.tap("ArrowLeft", "ArrowLeft")
    operator.key("ShiftLeft", "Shift", False)
    operator.type("X")
    assert recorder.text() == "abcX"


def test_copy_and_paste_shortcuts(operator: Operator, recorder: Recorder) -> None:
    operator.type("abc")
    operator.chord(("ControlLeft", "Control"), ("KeyA", "a"))
    operator.chord(("ControlLeft", "Control"), ("KeyC", "c"))
    operator.tap("End", "End")
    operator.chord(("ControlLeft", "Control"), ("KeyV", "v"))
    assert recorder.text() == "abcabc"


def test_modifier_combinations_and_named_keys_arrive(
    operator: Operator, recorder: Recorder
) -> None:
    operator.chord(("AltLeft", "Alt"), ("Tab", "Tab"))
    operator.chord(("ControlLeft", "Control"), ("ShiftLeft", "Shift"), ("ArrowLeft", "ArrowLeft"))
    operator.tap("F5", "F5")
    operator.tap("Escape", "Escape")
    operator.chord(("ControlLeft", "Control"), ("KeyC", "с"))  # a Cyrillic layout's Ctrl+C
    downs = key_downs(recorder)
    assert ("Tab", MOD1_MASK) in downs
    assert ("Left", SHIFT_MASK | CONTROL_MASK) in downs
    assert ("F5", 0) in downs
    assert ("Escape", 0) in downs
    assert ("c", CONTROL_MASK) in downs


# --------------------------------------------------------------------------- pointer


def test_click_lands_at_the_mapped_point(operator: Operator, recorder: Recorder) -> None:
    operator.click(0.25, 0.5)
    operator.click(0.5, 0.25, "right")
    operator.click(0.3, 0.3, "middle")
    clicks = [
        (e["num"], e["x_root"], e["y_root"]) for e in recorder.events() if e["ev"] == "button_down"
    ]
    assert clicks == [(1, 320, 360), (3, 640, 180), (2, 384, 216)]


def test_window_offset_and_wheel(recorder: Recorder) -> None:
    op = Operator(rect=WINDOW)  # the picture is the recorder's window only
    try:
        op.send(protocol.Wheel(x=0.5, y=0.5, dx=-1, dy=2))
        op.send(protocol.Wheel(x=0.5, y=0.5, dx=0, dy=-1))
        op.click(0.0, 0.0)
        op.click(1.0, 1.0)
    finally:
        op.close()
    # Tk reports the horizontal wheel buttons 6/7 as Shift + 4/5
    downs = [
        (e["num"], e["state"] & SHIFT_MASK, e["x_root"], e["y_root"])
        for e in recorder.events()
        if e["ev"] == "button_down"
    ]
    assert downs == [
        (5, 0, 400, 250),  # dy=2: two notches down
        (5, 0, 400, 250),
        (4, SHIFT_MASK, 400, 250),  # dx=-1: one notch left (button 6)
        (4, 0, 400, 250),  # dy=-1: one notch up
        (1, 0, 100, 100),
        (1, 0, 699, 399),
    ]


def test_drag(operator: Operator, recorder: Recorder) -> None:
    operator.send(protocol.PointerButton(button="left", down=True, x=0.2, y=0.2))
    operator.move(0.3, 0.25)
    operator.send(protocol.PointerButton(button="left", down=False, x=0.4, y=0.3))
    events = [e for e in recorder.events() if e["ev"].startswith("button")]
    assert [(e["ev"], e["x_root"], e["y_root"]) for e in events] == [
        ("button_down", 256, 144),
        ("button_up", 512, 216),
    ]
    assert events[1]["state"] & 0x100  # Button1 was held during the release


# --------------------------------------------------------------------------- safety


def test_release_all_leaves_nothing_held(operator: Operator, xdisplay: Any) -> None:
    from peer.inject import held_keys, pointer_buttons

    operator.key("ControlLeft", "Control", True)
    operator.key("ShiftLeft", "Shift", True)
    operator.key("AltRight", "AltGraph", True)
    operator.key("KeyE", "€", True)  # on a borrowed keycode
    operator.send(protocol.PointerButton(button="left", down=True, x=0.3, y=0.3))
    operator.send(protocol.PointerButton(button="right", down=True, x=0.3, y=0.3))
    pressed = operator.injector.pressed_keycodes
    assert len(pressed) == 4 and pressed <= held_keys(xdisplay)
    assert pointer_buttons(xdisplay) == {1, 3}

    operator.injector.release_everything(operator.core.set_allowed(False))
    assert held_keys(xdisplay) == set()
    assert pointer_buttons(xdisplay) == set()
    assert operator.injector.pressed_keycodes == frozenset()


def test_release_everything_catches_what_the_core_forgot(operator: Operator, xdisplay: Any) -> None:
    from peer.inject import held_keys

    operator.key("ShiftLeft", "Shift", True)
    operator.core.release_all()  # actions lost: the safety check must still let go
    operator.injector.release_everything()
    assert held_keys(xdisplay) == set()


def test_close_gives_borrowed_keycodes_back(recorder: Recorder, xdisplay: Any) -> None:
    before = _keymap(xdisplay)
    op = Operator()
    op.move(0.3, 0.3)
    op.type("éß€")
    assert _keymap(xdisplay) != before
    op.close()
    assert _keymap(xdisplay) == before
    assert recorder.text() == "éß€"


def _keymap(d: Any) -> list[list[int]]:
    info = d.display.info
    count = info.max_keycode - info.min_keycode + 1
    return [list(r) for r in d.get_keyboard_mapping(info.min_keycode, count)]


def test_display_env_is_the_virtual_one(display: str) -> None:
    assert os.environ["DISPLAY"] == display


# --------------------------------------------------------------------------- window mode


def test_window_mode_end_to_end(recorder: Recorder, xdisplay: Any) -> None:
    """The window tracker feeds the core: presses on a covering window and keys while the
    focus is elsewhere never reach X; the rest lands in the shared window."""
    import Xlib.X

    from peer.windows import WindowTracker

    root = xdisplay.screen().root
    cover = root.create_window(400, 0, 300, 720, 0, xdisplay.screen().root_depth)
    cover.map()
    xdisplay.sync()
    op = Operator()
    try:
        state = WindowTracker(xdisplay, recorder.window).look()
        assert state.rect == WINDOW
        assert state.visible == (Rect(100, 100, 300, 300),)  # the right half is covered
        op.core.set_geometry(
            state.rect, window_id=recorder.window, visible=state.visible, focused=state.focused
        )
        assert state.focused  # the recorder took the focus
        op.click(0.25, 0.5)
        op.click(0.75, 0.5)  # on the covering window: dropped
        op.type("ok")
        xdisplay.set_input_focus(cover, Xlib.X.RevertToPointerRoot, Xlib.X.CurrentTime)
        xdisplay.sync()
        op.core.set_focused(WindowTracker(xdisplay, recorder.window).look().focused, op.now)
        op.type("lost")  # waits for the focus to come back into the window; it does not
        assert op.core.release_all() == []  # ending the wait drops (and counts) them
    finally:
        op.close()
        cover.destroy()
        xdisplay.sync()
    clicks = [(e["x_root"], e["y_root"]) for e in recorder.events() if e["ev"] == "button_down"]
    assert clicks == [(250, 250)]
    assert op.core.counters["outside_window"] == 1 + len("lost")
    assert recorder.text() == "ok"
