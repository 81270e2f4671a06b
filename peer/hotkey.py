"""One global hotkey that takes control back: Ctrl+Alt+End, grabbed on the X root window.

``XGrabKey`` on the root window delivers the key to us whichever window has the focus, and no
other client sees it. X matches modifiers exactly, so the grab is made for Ctrl+Alt with every
combination of the lock modifiers (Caps Lock, Num Lock, Scroll Lock), Shift and Super: the
customer's hotkey works even while the operator holds Shift for them. If another program
already grabbed the combination, ``start()`` raises ``HotkeyError`` and the caller says so.

The key also works when the operator presses it (injected input goes through the same X
server): the operator then hands control back, which is harmless.

A thread with its own X connection waits for the key and calls ``on_press()`` there; the
caller hands it over to its own loop. The keymap can change (another layout, a spare keycode
bound by the injector): on ``MappingNotify`` the grab is made again.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

import Xlib.display
import Xlib.error
import Xlib.X
import Xlib.XK

logger = logging.getLogger(__name__)

#: The hotkey as the customer reads it.
LABEL = "Ctrl+Alt+End"
_KEYSYM = Xlib.XK.XK_End
_MODIFIERS = Xlib.X.ControlMask | Xlib.X.Mod1Mask
#: Modifiers that may be down as well: the locks (Caps, Num, Scroll: Lock, Mod2, Mod5 on the
#: usual maps) and Shift and Super, which the operator may be holding through the injector.
_OTHERS = (
    Xlib.X.LockMask,
    Xlib.X.Mod2Mask,
    Xlib.X.Mod5Mask,
    Xlib.X.ShiftMask,
    Xlib.X.Mod4Mask,
)


class HotkeyError(RuntimeError):
    """The hotkey could not be grabbed (no display, or another program holds it)."""


class GlobalHotkey:
    label = LABEL

    def __init__(self, display: str | None, on_press: Callable[[], None]) -> None:
        self.on_press = on_press
        self._display_name = display
        self._d: Any = None
        self._keycode = 0
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False

    def start(self) -> None:
        try:
            self._d = Xlib.display.Display(self._display_name)
        except Exception as exc:
            raise HotkeyError(f"no X display: {exc}") from exc
        try:
            self._grab()
        except HotkeyError:
            self._d.close()
            self._d = None
            raise
        self._thread = threading.Thread(target=self._run, name="supportlink-hotkey", daemon=True)
        self._thread.start()
        logger.info("hotkey %s: grabbed", LABEL)

    def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop = True
            os.write(self._wake_w, b"x")
            thread.join(5)
        if self._d is not None:
            try:
                self._d.close()
            except Exception:
                pass
            self._d = None
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def _combinations(self) -> list[int]:
        combos = [0]
        for lock in _OTHERS:
            combos += [c | lock for c in combos]
        return [_MODIFIERS | c for c in combos]

    def _grab(self) -> None:
        d = self._d
        root = d.screen().root
        keycode = d.keysym_to_keycode(_KEYSYM)
        if not keycode:
            raise HotkeyError("the keyboard has no End key")
        if self._keycode and self._keycode != keycode:
            for mods in self._combinations():
                root.ungrab_key(self._keycode, mods)
        catch = Xlib.error.CatchError(Xlib.error.BadAccess)
        for mods in self._combinations():
            root.grab_key(
                keycode, mods, False, Xlib.X.GrabModeAsync, Xlib.X.GrabModeAsync, onerror=catch
            )
        d.sync()
        if catch.get_error() is not None:
            raise HotkeyError(f"another program already uses {LABEL}")
        self._keycode = keycode

    def _run(self) -> None:
        d = self._d
        try:
            while not self._stop:
                select.select([d, self._wake_r], [], [], None)
                if self._stop:
                    return
                while d.pending_events():
                    ev = d.next_event()
                    if ev.type == Xlib.X.KeyPress and ev.detail == self._keycode:
                        logger.info("hotkey %s pressed", LABEL)
                        self.on_press()
                    elif ev.type == Xlib.X.MappingNotify:
                        d.refresh_keyboard_mapping(ev)
                        if d.keysym_to_keycode(_KEYSYM) == self._keycode:
                            continue
                        try:
                            self._grab()
                        except HotkeyError as exc:
                            logger.warning("hotkey: %s", exc)
        except Exception:
            if not self._stop:
                logger.exception("hotkey: the X connection failed")
