"""peer.remote_input: the pure input core, without X and without an event loop."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peer.remote_input import (
    Button,
    InputCore,
    KeyAction,
    MoveTo,
    Rect,
    Scroll,
    TokenBucket,
)
from wire import protocol

MONITOR = Rect(1920, 0, 1280, 720)  # the second monitor, right of a 1920-px one


def core(rect: Rect | None = MONITOR, allowed: bool = True) -> InputCore:
    c = InputCore()
    c.set_geometry(rect)
    c.set_allowed(allowed)
    return c


def key(code: str, key_: str, down: bool = True) -> protocol.Key:
    return protocol.Key(code=code, key=key_, down=down)


# --------------------------------------------------------------------------- mapping


@pytest.mark.parametrize(
    ("fx", "fy", "x", "y"),
    [
        (0.0, 0.0, 1920, 0),
        (1.0, 1.0, 1920 + 1279, 719),  # the far edge stays on the monitor
        (0.5, 0.5, 1920 + 640, 360),
        (0.25, 0.75, 1920 + 320, 540),
    ],
)
def test_move_maps_fractions_onto_the_monitor(fx: float, fy: float, x: int, y: int) -> None:
    c = core()
    assert c.handle(protocol.PointerMove(x=fx, y=fy), 0.0) == [MoveTo(x, y)]


def test_click_and_drag() -> None:
    c = core(Rect(0, 0, 100, 100))
    assert c.handle(protocol.PointerButton(button="left", down=True, x=0.1, y=0.1), 0) == [
        MoveTo(10, 10),
        Button("left", True),
    ]
    assert c.held_buttons == {"left"}
    assert c.handle(protocol.PointerMove(x=0.5, y=0.5), 0) == [MoveTo(50, 50)]
    assert c.handle(protocol.PointerButton(button="left", down=False, x=0.9, y=0.9), 0) == [
        MoveTo(90, 90),
        Button("left", False),
    ]
    assert c.held_buttons == frozenset()


def test_wheel_both_axes() -> None:
    c = core(Rect(0, 0, 100, 100))
    assert c.handle(protocol.Wheel(x=0.5, y=0.5, dx=-2, dy=3), 0) == [
        MoveTo(50, 50),
        Scroll(-2, 3),
    ]
    assert c.handle(protocol.Wheel(x=0.5, y=0.5, dx=0, dy=0), 0) == []


# --------------------------------------------------------------------------- keys


def test_shift_arrow_and_key_up_releases_what_went_down() -> None:
    c = core()
    assert c.handle(key("ShiftLeft", "Shift"), 0) == [KeyAction(0xFFE1, True)]
    assert c.handle(key("KeyA", "A"), 0) == [KeyAction(ord("A"), True)]
    assert c.handle(key("ShiftLeft", "Shift", False), 0) == [KeyAction(0xFFE1, False)]
    # the key-up says "a" now that Shift is up, but "A" is what is held
    assert c.handle(key("KeyA", "a", False), 0) == [KeyAction(ord("A"), False)]
    assert c.held_keysyms == frozenset()


def test_ctrl_a_on_a_cyrillic_layout_is_ctrl_a() -> None:
    c = core()
    c.handle(key("ControlLeft", "Control"), 0)
    assert c.handle(key("KeyA", "ф"), 0) == [KeyAction(ord("a"), True)]


def test_altgr_characters_are_not_shortcuts() -> None:
    c = core()
    c.handle(key("ControlLeft", "Control"), 0)  # what Windows sends with AltGr
    c.handle(key("AltRight", "AltGraph"), 0)
    assert c.handle(key("KeyE", "€"), 0) == [KeyAction(0x010020AC, True)]


def test_autorepeat_presses_again() -> None:
    c = core()
    assert c.handle(key("KeyX", "x"), 0) == [KeyAction(ord("x"), True)]
    assert c.handle(key("KeyX", "x"), 0.03) == [KeyAction(ord("x"), True)]
    assert c.handle(key("KeyX", "x", False), 0.06) == [KeyAction(ord("x"), False)]


def test_dead_and_unknown_keys_are_counted() -> None:
    c = core()
    assert c.handle(key("BracketLeft", "Dead"), 0) == []
    assert c.handle(key("BracketLeft", "Dead", False), 0) == []
    assert c.counters["no_keysym"] == 1
    assert c.counters["not_held"] == 1


def test_release_all_releases_keys_then_modifiers_then_buttons() -> None:
    c = core(Rect(0, 0, 10, 10))
    c.handle(key("ControlLeft", "Control"), 0)
    c.handle(key("KeyC", "c"), 0)
    c.handle(protocol.PointerButton(button="right", down=True, x=0, y=0), 0)
    assert c.handle(protocol.ReleaseAll(), 0) == [
        KeyAction(ord("c"), False),
        KeyAction(0xFFE3, False),
        Button("right", False),
    ]
    assert c.release_all() == []


def test_too_many_keys_held() -> None:
    c = InputCore(max_held_keys=2)
    c.set_geometry(MONITOR)
    c.set_allowed(True)
    c.handle(key("KeyA", "a"), 0)
    c.handle(key("KeyB", "b"), 0)
    assert c.handle(key("KeyC", "c"), 0) == []
    assert c.counters["too_many_keys"] == 1


# --------------------------------------------------------------------------- consent


def test_nothing_while_not_allowed() -> None:
    c = core(allowed=False)
    assert c.handle(protocol.PointerMove(x=0.5, y=0.5), 0) == []
    assert c.handle(key("KeyA", "a"), 0) == []
    assert c.counters["not_allowed"] == 2


def test_revoke_releases_everything() -> None:
    c = core()
    c.handle(key("AltLeft", "Alt"), 0)
    c.handle(key("Tab", "Tab"), 0)
    assert c.set_allowed(False) == [KeyAction(0xFF09, False), KeyAction(0xFFE9, False)]
    assert c.held_keysyms == frozenset()


def test_no_geometry() -> None:
    c = core(rect=None)
    assert c.handle(protocol.PointerMove(x=0.5, y=0.5), 0) == []
    assert c.counters["no_geometry"] == 1


def test_switching_monitor_releases_but_a_window_moving_does_not() -> None:
    c = core()
    c.handle(protocol.PointerButton(button="left", down=True, x=0.5, y=0.5), 0)
    assert c.set_geometry(Rect(0, 0, 1920, 1080)) == [Button("left", False)]
    c.set_geometry(Rect(10, 10, 100, 100), window_id=7, focused=True)
    c.handle(protocol.PointerButton(button="left", down=True, x=0.5, y=0.5), 0)
    assert c.set_geometry(Rect(50, 60, 200, 100), window_id=7, focused=True) == []
    assert c.handle(protocol.PointerMove(x=0.0, y=0.0), 0) == [MoveTo(50, 60)]
    assert c.set_geometry(Rect(50, 60, 200, 100), window_id=8) == [Button("left", False)]


# --------------------------------------------------------------------------- window mode


def test_window_mode_drops_presses_on_covered_parts_and_keys_without_focus() -> None:
    c = InputCore()
    window = Rect(100, 100, 200, 100)
    visible = [Rect(100, 100, 100, 100)]  # the right half is under another window
    c.set_geometry(window, window_id=42, visible=visible, focused=False)
    c.set_allowed(True)
    left = protocol.PointerButton(button="left", down=True, x=0.25, y=0.5)
    right = protocol.PointerButton(button="left", down=True, x=0.75, y=0.5)
    assert c.handle(right, 0) == []
    assert c.handle(protocol.Wheel(x=0.75, y=0.5, dx=0, dy=1), 0) == []
    assert c.counters["outside_window"] == 2
    # a move over the covered part is performed: it is inside the rect
    assert c.handle(protocol.PointerMove(x=0.75, y=0.5), 0) == [MoveTo(250, 150)]
    assert c.handle(left, 0) == [MoveTo(150, 150), Button("left", True)]
    # releasing over the covered part is still performed (never leave a button held)
    up = protocol.PointerButton(button="left", down=False, x=0.75, y=0.5)
    assert c.handle(up, 0) == [MoveTo(250, 150), Button("left", False)]
    # a key without the focus waits for it briefly, then is dropped
    assert c.handle(key("KeyA", "a"), 0) == []
    assert c.handle(key("KeyA", "a", False), 0.01) == []
    assert c.set_focused(False, 0.2) == []
    assert c.handle(key("KeyB", "b"), 0.5) == []  # "a" waited too long: dropped now
    assert c.counters["outside_window"] == 3
    assert c.set_focused(True, 0.6) == [KeyAction(ord("b"), True)]
    assert c.handle(key("KeyB", "b", False), 0.6) == [KeyAction(ord("b"), False)]
    assert c.handle(key("KeyA", "a"), 0.7) == [KeyAction(ord("a"), True)]
    c.set_focused(False, 0.8)
    # a key already held is always let go
    assert c.handle(key("KeyA", "a", False), 0.8) == [KeyAction(ord("a"), False)]


def test_keys_typed_just_before_the_focus_arrives_come_through_in_order() -> None:
    """Clicking into the shared window and typing at once: the focus is seen a moment later
    than the first keys arrive; they wait for it and keep their order (Shift before the
    letter it shifts, ups after downs)."""
    c = InputCore()
    c.set_geometry(Rect(0, 0, 100, 100), window_id=42, focused=False)
    c.set_allowed(True)
    typed = [
        key("ShiftLeft", "Shift"),
        key("KeyH", "H"),
        key("KeyH", "H", False),
        key("ShiftLeft", "Shift", False),
        key("KeyI", "i"),
    ]
    for i, msg in enumerate(typed):
        assert c.handle(msg, i * 0.01) == []
    assert c.set_focused(True, 0.08) == [
        KeyAction(0xFFE1, True),
        KeyAction(ord("H"), True),
        KeyAction(ord("H"), False),
        KeyAction(0xFFE1, False),
        KeyAction(ord("i"), True),
    ]
    assert c.handle(key("KeyI", "i", False), 0.09) == [KeyAction(ord("i"), False)]
    assert c.counters["outside_window"] == 0


def test_keys_waiting_for_the_focus_are_dropped_on_revoke_and_on_a_switch() -> None:
    c = InputCore()
    c.set_geometry(Rect(0, 0, 100, 100), window_id=42, focused=False)
    c.set_allowed(True)
    c.handle(key("KeyA", "a"), 0)
    assert c.set_allowed(False) == []
    c.set_allowed(True)
    assert c.set_focused(True, 0.05) == []  # revoked: nothing replays
    c.set_focused(False, 0.06)
    c.handle(key("KeyA", "a"), 0.07)
    c.set_geometry(Rect(0, 0, 100, 100), window_id=43, focused=True)  # another window
    assert c.set_focused(True, 0.08) == []
    assert c.counters["outside_window"] == 2


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"type": "pointer_move", "x": 2, "y": 0}',
        '{"type": "pointer_move", "x": NaN, "y": 0}',
        '{"type": "pointer_move", "x": 0.5}',
        '{"type": "key", "code": "KeyA", "key": "", "down": true}',
        '{"type": "pointer_button", "button": "back", "down": true, "x": 0, "y": 0}',
        '{"type": "wheel", "x": 0, "y": 0, "dx": 1000, "dy": 0}',
        '{"type": "consent_request", "capability": "control"}',
        json.dumps({"type": "key", "code": "KeyA", "key": "a" * 600, "down": True}),
        b"\xff\xfe",
    ],
)
def test_malformed_text_is_counted(text: str | bytes) -> None:
    c = core()
    assert c.handle_text(text, 0) == []
    assert c.counters["malformed"] == 1


def test_other_messages_are_malformed() -> None:
    c = core()
    assert c.handle(protocol.LimitRequest(), 0) == []
    assert c.counters["malformed"] == 1


def test_handle_text() -> None:
    c = core(Rect(0, 0, 10, 10))
    assert c.handle_text('{"type":"pointer_move","x":1,"y":0}', 0) == [MoveTo(9, 0)]


def test_flood_is_limited_but_releases_pass() -> None:
    c = InputCore(rate=100, burst=10)
    c.set_geometry(Rect(0, 0, 10, 10))
    c.set_allowed(True)
    c.handle(key("ShiftLeft", "Shift"), 0)
    moves = [c.handle(protocol.PointerMove(x=0.5, y=0.5), 0) for _ in range(50)]
    assert sum(1 for m in moves if m) == 9
    assert c.counters["flood"] == 41
    assert c.handle(key("ShiftLeft", "Shift", False), 0) == [KeyAction(0xFFE1, False)]
    # the bucket refills with time
    assert c.handle(protocol.PointerMove(x=0.5, y=0.5), 0.1) == [MoveTo(5, 5)]


def test_token_bucket() -> None:
    b = TokenBucket(rate=500, burst=200)
    assert sum(b.take(0.0) for _ in range(300)) == 200
    assert sum(b.take(0.1) for _ in range(100)) == 50
    with pytest.raises(ValueError):
        TokenBucket(0, 1)


def test_rect_validates() -> None:
    with pytest.raises(ValueError, match="empty"):
        Rect(0, 0, 0, 10)


# --------------------------------------------------------------------------- properties

fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
codes = st.sampled_from(
    ["KeyA", "KeyQ", "Digit1", "ShiftLeft", "ControlLeft", "AltRight", "Enter", "Numpad1", ""]
)
key_values = st.sampled_from(
    ["a", "A", "1", "!", "é", "Shift", "Control", "AltGraph", "Enter", "Dead", "End", "€"]
)
messages = st.one_of(
    st.builds(protocol.PointerMove, x=fractions, y=fractions),
    st.builds(
        protocol.PointerButton,
        button=st.sampled_from(protocol.BUTTONS),
        down=st.booleans(),
        x=fractions,
        y=fractions,
    ),
    st.builds(
        protocol.Wheel,
        x=fractions,
        y=fractions,
        dx=st.integers(-50, 50),
        dy=st.integers(-50, 50),
    ),
    st.builds(protocol.Key, code=codes, key=key_values, down=st.booleans()),
    st.just(protocol.ReleaseAll()),
)
rects = st.builds(
    Rect,
    x=st.integers(-4000, 4000),
    y=st.integers(-4000, 4000),
    width=st.integers(1, 5000),
    height=st.integers(1, 5000),
)
# (seconds since the previous message, message, flip consent first)
steps = st.lists(st.tuples(st.floats(0, 0.05), messages, st.booleans()), max_size=60)


@given(steps=steps)
def test_nothing_is_injected_while_not_allowed(steps: list[tuple[float, object, bool]]) -> None:
    c = core(allowed=False)
    now = 0.0
    for dt, msg, _ in steps:
        now += dt
        assert c.handle(msg, now) == []


@settings(max_examples=200)
@given(steps=steps, rect=rects, window=st.booleans())
def test_coordinates_stay_inside_and_release_all_lets_go(
    steps: list[tuple[float, object, bool]], rect: Rect, window: bool
) -> None:
    c = InputCore(rate=500, burst=200)
    c.set_geometry(rect, window_id=1 if window else None, focused=True)
    allowed = True
    c.set_allowed(allowed)
    pressed_keys: set[int] = set()
    pressed_buttons: set[str] = set()
    now = 0.0
    for dt, msg, flip in steps:
        now += dt
        actions = []
        if flip:
            allowed = not allowed
            actions += c.set_allowed(allowed)
        out = c.handle(msg, now)
        if not allowed:
            assert out == []
        actions += out
        for a in actions:
            if isinstance(a, MoveTo):
                assert rect.contains(a.x, a.y)
            elif isinstance(a, KeyAction):
                (pressed_keys.add if a.down else pressed_keys.discard)(a.keysym)
            elif isinstance(a, Button):
                (pressed_buttons.add if a.down else pressed_buttons.discard)(a.name)
        assert c.held_keysyms == pressed_keys
        assert c.held_buttons == pressed_buttons
    for a in c.release_all():
        assert isinstance(a, KeyAction | Button) and not a.down
        if isinstance(a, KeyAction):
            pressed_keys.discard(a.keysym)
        else:
            pressed_buttons.discard(a.name)
    assert not pressed_keys and not pressed_buttons
    assert c.held_keysyms == frozenset() and c.held_buttons == frozenset()


def test_two_keys_with_one_keysym_release_on_the_last_up() -> None:
    c = core()
    assert c.handle(key("KeyA", "a"), 0) == [KeyAction(ord("a"), True)]
    assert c.handle(key("KeyQ", "a"), 0) == [KeyAction(ord("a"), True)]
    assert c.handle(key("KeyA", "a", False), 0) == []
    assert c.handle(key("KeyQ", "a", False), 0) == [KeyAction(ord("a"), False)]


def test_keys_are_dropped_while_nothing_is_shared() -> None:
    """While the shared window is gone or not found yet (geometry None), a key must not go to
    whatever window has the focus; a key already held is still let go."""
    c = InputCore()
    c.set_geometry(Rect(0, 0, 100, 100), window_id=5, focused=True)
    c.set_allowed(True)
    assert c.handle(key("KeyA", "a"), 0) == [KeyAction(ord("a"), True)]
    c.set_geometry(None)  # the window is gone: what is held was let go by the switch
    assert c.handle(key("KeyB", "b"), 0.1) == []
    assert c.handle(key("KeyB", "b", False), 0.1) == []
    assert c.counters["no_geometry"] == 1
    fresh = InputCore()
    fresh.set_allowed(True)
    assert fresh.handle(key("KeyA", "a"), 0) == []
