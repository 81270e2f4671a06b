"""Perform the input core's actions on the customer's X11 display.

The adapter around ``peer.remote_input``: ``Injector.perform(actions)`` moves, clicks and
scrolls with pynput's mouse ``Controller`` and presses keysyms through the XTEST extension.

Why keys do not go through pynput's keyboard ``Controller``: ``KeyCode.from_vk(keysym)`` makes
pynput call ``fake_input(display.keysym_to_keycode(keysym))``, which (a) gives keycode 0 --
nothing -- for a keysym that is not in the keymap (``é``, ``ß``, ``Ä``, ``€`` on a US map),
(b) presses the keycode without the level the keysym sits on (``"/"`` is unshifted on a US map;
an operator whose layout needs Shift for it holds Shift, and the customer would get ``?``),
and (c) uses Xlib's cached keymap, never refreshed since pynput's connection reads no events.
Its character path (``Controller.press("é")``) borrows keycodes but sends the key with
``XSendEvent``, which many clients ignore. So ``KeyMapper`` resolves keysyms itself and the
key goes through ``xtest.fake_input`` on our own connection -- what pynput does for ``vk`` keys.

How a keysym becomes a keycode (``KeyMapper.keycode_for``):

1. a keycode whose keysym at the level the held Shift selects is that keysym: pressed as is
   (``a`` without Shift, ``A`` with Shift, ``Shift+Left``, ``Ctrl+c``);
2. a function key (Tab, arrows, modifiers, F-keys, media keys) anywhere in the keymap: its
   keycode; held modifiers then do what they do (Shift+Tab gives ``ISO_Left_Tab``);
3. anything else -- a character on another level, with AltGr held, or not in the keymap at
   all: a *spare* keycode (one with no keysyms) is bound to the keysym on every level with
   ``change_keyboard_mapping``, so it produces exactly that character whatever modifiers
   are held. Bindings are kept (least recently used first to be rebound) and removed again by
   ``close()``. A client that receives the key before it has re-read the keymap sees no
   keysym (seen with Tk: about one in ten fresh bindings lost a character), so after binding
   the injector waits ``rebind_delay`` (20 ms; 2 ms was already enough under Xvfb) before the
   press -- only the first time a character needs a spare keycode.

Both X connections (pynput's and ours) are synced after every action, so a modifier pressed
on one is in effect before a click on the other.

Measured under Xvfb (1280x720, 2-core machine, each call synced): a move p50 0.18 ms /
p99 0.33 ms; a key press p50 0.09 ms / p99 0.46 ms; a key needing a fresh spare-keycode
binding ~21 ms (``rebind_delay``). Because of that last figure, and because any X call blocks
if the X server stalls, ``perform`` runs off the event loop, on one thread that keeps the
order (``peer.remote.RemoteControl``).

Safety helpers read the server's own state: ``held_keys(display)`` (keycodes down, via
``query_keymap``) and ``pointer_buttons(display)`` (buttons down, via ``query_pointer``).
``Injector.release_everything(actions)`` performs the core's release actions and then lets
go of any key or button this injector pressed that the server still reports down.

pynput, like every X client here, connects to ``$DISPLAY``; import it only with one set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import Xlib.display
import Xlib.X
from Xlib.ext import xtest

from peer import keys
from peer.remote_input import Action, Button, KeyAction, MoveTo, Scroll

logger = logging.getLogger(__name__)

NO_SYMBOL = 0
_BUTTON_NUMBERS = {"left": 1, "middle": 2, "right": 3}


class InjectError(RuntimeError):
    """The X server refused an injection (lost display, no XTEST extension)."""


# --------------------------------------------------------------------------- server state


def held_keys(display: Any) -> set[int]:
    """Keycodes the X server reports down right now (``XQueryKeymap``), from any source."""
    bits = display.query_keymap()
    return {i * 8 + b for i, byte in enumerate(bits) for b in range(8) if byte >> b & 1}


def pointer_buttons(display: Any) -> set[int]:
    """Pointer buttons (1 left, 2 middle, 3 right, 4/5 wheel) the X server reports down."""
    mask = display.screen().root.query_pointer().mask
    return {n for n in range(1, 6) if mask & (Xlib.X.Button1Mask << (n - 1))}


# --------------------------------------------------------------------------- keymap


def _is_function_keysym(keysym: int) -> bool:
    """Keys whose meaning does not depend on the level: not characters, not the keypad."""
    if 0xFF80 <= keysym <= 0xFFBD:  # keypad characters (KP_1 and KP_End share a key)
        return False
    return 0xFD00 <= keysym <= 0xFFFF or 0x1008FF00 <= keysym <= 0x1008FFFF


def _level_keysyms(row: Sequence[int]) -> tuple[int, int]:
    """The keysyms of level 1 and level 2 (Shift) of one keycode, by the core protocol rule."""
    first = row[0] if len(row) > 0 else NO_SYMBOL
    second = row[1] if len(row) > 1 else NO_SYMBOL
    if second == NO_SYMBOL:
        ch = chr(first) if 0x20 <= first <= 0xFF else ""
        if ch and ch.lower() != ch.upper() and len(ch.upper()) == 1 and ch.upper() <= "\xff":
            return ord(ch.lower()), ord(ch.upper())
        return first, first
    return first, second


class KeyMapper:
    """Finds the keycode to press for a keysym; binds spare keycodes for the ones it lacks."""

    def __init__(self, display: Any) -> None:
        self._display = display
        info = display.display.info
        self._min = int(info.min_keycode)
        self._max = int(info.max_keycode)
        self._rows: list[list[int]] = []
        self._spare: list[int] = []
        self._bound: OrderedDict[int, int] = OrderedDict()  # keysym -> spare keycode (LRU)
        self.refresh()

    def refresh(self) -> None:
        """Read the keymap again (after the customer switched layouts)."""
        count = self._max - self._min + 1
        self._rows = [list(r) for r in self._display.get_keyboard_mapping(self._min, count)]
        bound = set(self._bound.values())
        # keycode 8 is skipped: some toolkits never deliver it
        self._spare = [
            kc
            for kc in range(self._max, max(self._min, 9) - 1, -1)
            if kc in bound or not any(self._rows[kc - self._min])
        ]

    @property
    def borrowed(self) -> bool:
        """True while some spare keycode carries a keysym bound here."""
        return bool(self._bound)

    @property
    def width(self) -> int:
        return len(self._rows[0]) if self._rows else 2

    def lookup(self, keysym: int, *, shift: bool, level3: bool) -> int | None:
        """A keycode that gives ``keysym`` with the given modifiers held, without rebinding."""
        bound = self._bound.get(keysym)
        if bound is not None:
            self._bound.move_to_end(keysym)
            return bound
        function = _is_function_keysym(keysym)
        if not level3 or function:
            for i, row in enumerate(self._rows):
                if self._min + i in self._bound.values():
                    continue
                if _level_keysyms(row)[1 if shift else 0] == keysym:
                    return self._min + i
        if function:
            for i, row in enumerate(self._rows):
                if keysym in row:
                    return self._min + i
        return None

    def bind(self, keysym: int, busy: Iterable[int]) -> int | None:
        """Bind ``keysym`` on every level of a spare keycode not in ``busy``; return it."""
        busy = set(busy)
        free = [kc for kc in self._spare if kc not in self._bound.values() and kc not in busy]
        if free:
            keycode = free[0]
        else:
            old = next((ks for ks, kc in self._bound.items() if kc not in busy), None)
            if old is None:
                return None
            keycode = self._bound.pop(old)
        row = [keysym] * self.width
        self._display.change_keyboard_mapping(keycode, [row])
        self._rows[keycode - self._min] = row
        self._bound[keysym] = keycode
        logger.debug("keycode %d -> keysym %#x", keycode, keysym)
        return keycode

    def unbind_all(self) -> None:
        """Give every borrowed keycode back (no keysyms)."""
        for keycode in self._bound.values():
            row = [NO_SYMBOL] * self.width
            self._display.change_keyboard_mapping(keycode, [row])
            self._rows[keycode - self._min] = row
        self._bound.clear()


# --------------------------------------------------------------------------- the injector


class Injector:
    """Performs ``remote_input`` actions on ``$DISPLAY`` (pynput mouse, XTEST keys)."""

    #: Seconds to wait after binding a spare keycode before pressing it (see the docstring).
    rebind_delay = 0.02
    #: how long close() waits before it gives borrowed keycodes back
    settle_delay = 0.25

    def __init__(self) -> None:
        from pynput import mouse  # needs $DISPLAY at import time

        self._display = Xlib.display.Display()
        if not self._display.has_extension("XTEST"):
            self._display.close()
            raise InjectError("the X server has no XTEST extension")
        self._mouse = mouse.Controller()
        self._buttons = {
            "left": mouse.Button.left,
            "middle": mouse.Button.middle,
            "right": mouse.Button.right,
        }
        self._keymap = KeyMapper(self._display)
        self._pressed_keys: dict[int, int] = {}  # keysym -> keycode it went down on
        self._pressed_buttons: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------ actions

    def perform(self, actions: Iterable[Action]) -> None:
        """Perform ``actions`` in order; the X server has them all when this returns."""
        with self._lock:
            if self._closed:
                return
            for action in actions:
                if isinstance(action, MoveTo):
                    self._mouse.position = (action.x, action.y)
                elif isinstance(action, Button):
                    self._button(action)
                elif isinstance(action, Scroll):
                    # pynput: positive dy scrolls up; the protocol: positive dy scrolls down
                    self._mouse.scroll(action.dx, -action.dy)
                elif isinstance(action, KeyAction):
                    self._key(action)
            self._display.sync()

    def _button(self, action: Button) -> None:
        button = self._buttons[action.name]
        if action.down:
            self._mouse.press(button)
            self._pressed_buttons.add(action.name)
        else:
            self._mouse.release(button)
            self._pressed_buttons.discard(action.name)

    def _key(self, action: KeyAction) -> None:
        if not action.down:
            keycode = self._pressed_keys.pop(action.keysym, None)
            if keycode is not None:
                xtest.fake_input(self._display, Xlib.X.KeyRelease, keycode)
            return
        keycode = self._pressed_keys.get(action.keysym)  # a repeat: the same keycode again
        if keycode is None:
            held = set(self._pressed_keys)
            keycode = self._keymap.lookup(
                action.keysym,
                shift=bool(held & keys.SHIFT_KEYSYMS),
                level3=bool(held & keys.LEVEL3_KEYSYMS),
            )
            if keycode is None:
                keycode = self._keymap.bind(action.keysym, self._pressed_keys.values())
                if keycode is None:
                    logger.warning("no keycode free for keysym %#x", action.keysym)
                    return
                # let clients read the new mapping before the key that needs it arrives
                self._display.sync()
                if self.rebind_delay > 0:
                    time.sleep(self.rebind_delay)
        xtest.fake_input(self._display, Xlib.X.KeyPress, keycode)
        self._pressed_keys[action.keysym] = keycode

    # ------------------------------------------------------------------ safety

    def release_everything(self, actions: Iterable[Action] = ()) -> None:
        """Perform the core's release ``actions``, then let go of anything this injector
        pressed that the X server still reports down. The customer's own keys and buttons
        are left alone."""
        self.perform(actions)
        with self._lock:
            if self._closed:
                return
            down = held_keys(self._display)
            for keysym, keycode in list(self._pressed_keys.items()):
                if keycode in down:
                    xtest.fake_input(self._display, Xlib.X.KeyRelease, keycode)
                del self._pressed_keys[keysym]
            buttons = pointer_buttons(self._display)
            for name in list(self._pressed_buttons):
                if _BUTTON_NUMBERS[name] in buttons:
                    self._mouse.release(self._buttons[name])
            self._pressed_buttons.clear()
            self._display.sync()

    @property
    def pressed_keycodes(self) -> frozenset[int]:
        return frozenset(self._pressed_keys.values())

    def close(self) -> None:
        """Release everything, give borrowed keycodes back and close the connections."""
        if self._closed:
            return
        self.release_everything()
        with self._lock:
            self._closed = True
            if self._keymap.borrowed:
                # A client decodes a key press with the mapping it reads when it gets to the
                # event: give it time to read the last ones before the borrowed keycodes change.
                self._display.sync()
                time.sleep(self.settle_delay)
            self._keymap.unbind_all()
            self._display.sync()
            self._display.close()
            mouse_display = getattr(self._mouse, "_display", None)
            if mouse_display is not None:
                mouse_display.close()
                del self._mouse._display  # pynput's __del__ would close it again

    def __enter__(self) -> Injector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
