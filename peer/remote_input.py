"""The input core: what to inject for the operator's pointer and keyboard, and what to drop.

Sans-IO. ``InputCore`` is told three things and answers with a list of actions::

    consent        set_allowed(bool)                   -> actions (release on revoke)
    geometry       set_geometry(rect, window_id=...)   -> actions (release on a mode change)
    input          handle(msg, now) / handle_text(text, now) -> actions
    safety         release_all()                       -> actions that let go of everything held

Actions are ``MoveTo(x, y)`` (X screen pixels), ``Button(name, down)``, ``Scroll(dx, dy)``
(notches; positive ``dy`` scrolls down, positive ``dx`` right) and ``KeyAction(keysym,
down)``; ``peer/inject.py`` performs them. Nothing here touches X, a clock or a socket.

Mapping. An ``x``/``y`` fraction of the picture maps onto the shared rect (a monitor's rect,
or the one window's rect in root coordinates): ``rect.x + min(width - 1, floor(x * width))``,
so every coordinate the core ever emits lies inside the shared rect.

What is dropped, and counted in ``counters`` by reason (the caller can report them):

``not_allowed``     anything while the customer does not allow ``control``
``no_geometry``     pointer input before anything is shared
``malformed``       text that ``protocol.parse`` rejects, or a message of another channel
``out_of_range``    a coordinate that is not a finite fraction 0..1 (defence in depth)
``no_keysym``       a key with no keysym (``peer.keys.keysym_for`` returned ``None``)
``not_held``        a key-up or button-up for something not held
``too_many_keys``   a key-down while ``max_held_keys`` keys are already held
``outside_window``  window mode: a press or wheel on a part of the window's rect that another
                    window covers, or a key-down while the keyboard focus is not in the window
``flood``           over the token bucket (``rate`` events/s, ``burst``); a wheel costs one
                    token per notch

Decisions:

* **Releases are never dropped** for flood, focus or region: a key-up or button-up for
  something held is always performed, so a flood cannot leave a key stuck.
* **Moves are never outside**: a fraction always maps into the shared rect. In window mode a
  move over a part of the rect covered by another window is performed (dropping it would make
  the pointer jump); a press or wheel there is dropped.
* **Keys in window mode** go only while the focus is inside the window (``focused``), since
  X delivers them to whatever has the focus, not to the point under the pointer.
* A key-up releases the keysym that its key-down pressed (tracked by ``code``), not what the
  key-up's ``key`` says: Shift+a goes down as ``A`` and, Shift released first, comes up as
  ``a``.
* Revoking control, a lost connection (the caller calls ``release_all``), a ``release_all``
  message, and switching what is shared (monitor <-> window, another monitor, another window)
  release everything held. A shared window moving or resizing does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from peer import keys
from wire import protocol

# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Rect:
    """A rectangle in X root-window (screen) pixels."""

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(f"rect {self.width}x{self.height} is empty")

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height

    def intersect(self, other: Rect) -> Rect | None:
        """The part both rects cover, or ``None``."""
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1 = min(self.x + self.width, other.x + other.width)
        y1 = min(self.y + self.height, other.y + other.height)
        return Rect(x0, y0, x1 - x0, y1 - y0) if x0 < x1 and y0 < y1 else None


@dataclass(frozen=True)
class MoveTo:
    x: int
    y: int


@dataclass(frozen=True)
class Button:
    name: str  # "left", "middle", "right"
    down: bool


@dataclass(frozen=True)
class Scroll:
    dx: int  # notches, positive scrolls right
    dy: int  # notches, positive scrolls down


@dataclass(frozen=True)
class KeyAction:
    keysym: int
    down: bool


Action = MoveTo | Button | Scroll | KeyAction

DROP_REASONS = (
    "not_allowed",
    "no_geometry",
    "malformed",
    "out_of_range",
    "no_keysym",
    "not_held",
    "too_many_keys",
    "outside_window",
    "flood",
)


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; ``now`` is passed in."""

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"token bucket needs rate > 0 and burst >= 1, not {rate}, {burst}")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last: float | None = None

    def _refill(self, now: float) -> None:
        if self._last is not None and now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        if self._last is None or now > self._last:
            self._last = now

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens if there are that many; say whether it was spent."""
        self._refill(now)
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False

    def force(self, now: float, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens even if that leaves a debt (for releases, never refused)."""
        self._refill(now)
        self._tokens = max(self._tokens - cost, -self.burst)


# --------------------------------------------------------------------------- the core


#: How long a key may wait for the keyboard focus to reach the shared window, in seconds.
FOCUS_GRACE = 0.3
#: How many key events may wait for it at most.
MAX_WAITING_KEYS = 64


class InputCore:
    """Turns INPUT channel messages into actions, enforcing consent, geometry and limits."""

    def __init__(
        self, *, rate: float = 500.0, burst: float = 200.0, max_held_keys: int = 16
    ) -> None:
        self.counters: dict[str, int] = dict.fromkeys(DROP_REASONS, 0)
        self._bucket = TokenBucket(rate, burst)
        self._max_held_keys = max_held_keys
        self._allowed = False
        self._rect: Rect | None = None
        self._window_id: int | None = None
        self._visible: tuple[Rect, ...] | None = None
        self._focused = False
        self._keys: dict[str, int] = {}  # hold id (the key's code) -> keysym pressed
        self._buttons: set[str] = set()
        # window mode: keys that came while the focus seemed outside the window, with when
        self._waiting: list[tuple[float, protocol.Key]] = []

    # ------------------------------------------------------------------ state in

    @property
    def allowed(self) -> bool:
        return self._allowed

    @property
    def rect(self) -> Rect | None:
        return self._rect

    @property
    def held_keysyms(self) -> frozenset[int]:
        return frozenset(self._keys.values())

    @property
    def held_buttons(self) -> frozenset[str]:
        return frozenset(self._buttons)

    def set_allowed(self, allowed: bool) -> list[Action]:
        """The customer allowed or revoked ``control``; revoking releases everything held."""
        self._allowed = allowed
        return [] if allowed else self.release_all()

    def set_geometry(
        self,
        rect: Rect | None,
        *,
        window_id: int | None = None,
        visible: Sequence[Rect] | None = None,
        focused: bool = False,
    ) -> list[Action]:
        """What is shared now: a monitor's rect (``window_id`` None) or one window's rect.

        In window mode ``visible`` is the part of the rect not covered by other windows
        (``None``: all of it) and ``focused`` says whether the keyboard focus is inside the
        window. Switching what is shared releases everything held; a window moving does not.
        Keys that waited for the focus come out of ``set_focused`` (or before the next key).
        """
        switched = (
            rect is None
            or self._rect is None
            or window_id != self._window_id
            or (window_id is None and rect != self._rect)
        )
        actions = self.release_all() if switched else []
        self._rect = rect
        self._window_id = window_id if rect is not None else None
        self._visible = tuple(visible) if visible is not None and window_id is not None else None
        self._focused = focused
        return actions

    def set_focused(self, focused: bool, now: float) -> list[Action]:
        """Window mode: whether the keyboard focus is inside the shared window, at ``now``.

        With the focus inside, the keys that waited for it (less than ``FOCUS_GRACE``) are let
        through, in the order they came."""
        self._focused = focused
        return self._flush_waiting(now) if self._may_type() else []

    def _may_type(self) -> bool:
        return self._window_id is None or self._focused

    def _flush_waiting(self, now: float) -> list[Action]:
        waiting, self._waiting = self._waiting, []
        actions: list[Action] = []
        for arrived, msg in waiting:
            if now - arrived > FOCUS_GRACE or self._window_id is None:
                if msg.down:
                    self._drop("outside_window")
                continue
            actions += self._key(msg, now)
        return actions

    # ------------------------------------------------------------------ input in

    def handle_text(self, text: str | bytes, now: float) -> list[Action]:
        """Parse one INPUT channel frame and handle it; malformed frames are counted."""
        try:
            msg = protocol.parse(text, protocol.INPUT)
        except protocol.ProtocolError:
            return self._drop("malformed")
        return self.handle(msg, now)

    def handle(self, msg: object, now: float) -> list[Action]:
        """Handle one parsed INPUT message at time ``now`` (seconds, any monotonic clock)."""
        if isinstance(msg, protocol.ReleaseAll):
            self._bucket.force(now)
            return self.release_all()
        if not isinstance(
            msg, protocol.PointerMove | protocol.PointerButton | protocol.Wheel | protocol.Key
        ):
            return self._drop("malformed")
        if not self._allowed:
            return self._drop("not_allowed")
        if isinstance(msg, protocol.Key):
            return self._key(msg, now)
        if self._rect is None:
            return self._drop("no_geometry")
        point = self._map(msg.x, msg.y, self._rect)
        if point is None:
            return self._drop("out_of_range")
        if isinstance(msg, protocol.PointerMove):
            if not self._bucket.take(now):
                return self._drop("flood")
            return [MoveTo(*point)]
        if isinstance(msg, protocol.PointerButton):
            return self._button(msg, point, now)
        return self._wheel(msg, point, now)

    def release_all(self) -> list[Action]:
        """Actions that let go of every key and button held; afterwards nothing is held.

        Ordinary keys first, modifiers last, then buttons (without moving the pointer).
        """
        self.counters["outside_window"] += sum(msg.down for _, msg in self._waiting)
        self._waiting.clear()
        held = list(dict.fromkeys(self._keys.values()))
        ordered = [k for k in held if k not in keys.MODIFIER_KEYSYMS] + [
            k for k in held if k in keys.MODIFIER_KEYSYMS
        ]
        actions: list[Action] = [KeyAction(k, False) for k in ordered]
        actions += [Button(b, False) for b in protocol.BUTTONS if b in self._buttons]
        self._keys.clear()
        self._buttons.clear()
        return actions

    # ------------------------------------------------------------------ helpers

    def _wait_for_focus(self, msg: protocol.Key, hold_id: str, now: float) -> list[Action]:
        """Keep a key that came while the focus seemed outside the shared window: the focus
        is looked at a few times a second, so an operator who clicks into the window and types
        at once is usually ahead of it. Keys older than ``FOCUS_GRACE`` are dropped."""
        while self._waiting and now - self._waiting[0][0] > FOCUS_GRACE:
            _, old = self._waiting.pop(0)
            if old.down:
                self._drop("outside_window")
        if len(self._waiting) >= MAX_WAITING_KEYS:
            return self._drop("outside_window") if msg.down else []
        self._waiting.append((now, msg))
        return []

    def _waits(self, hold_id: str) -> bool:
        return any((m.code or f"key:{m.key}") == hold_id for _, m in self._waiting)

    def _drop(self, reason: str) -> list[Action]:
        self.counters[reason] = self.counters.get(reason, 0) + 1
        return []

    @staticmethod
    def _map(fx: float, fy: float, rect: Rect) -> tuple[int, int] | None:
        if not (math.isfinite(fx) and math.isfinite(fy) and 0 <= fx <= 1 and 0 <= fy <= 1):
            return None
        x = rect.x + min(rect.width - 1, int(fx * rect.width))
        y = rect.y + min(rect.height - 1, int(fy * rect.height))
        return x, y

    def _on_window(self, x: int, y: int) -> bool:
        if self._window_id is None or self._visible is None:
            return True
        return any(r.contains(x, y) for r in self._visible)

    def _button(
        self, msg: protocol.PointerButton, point: tuple[int, int], now: float
    ) -> list[Action]:
        if not msg.down:
            if msg.button not in self._buttons:
                return self._drop("not_held")
            self._bucket.force(now)
            self._buttons.discard(msg.button)
            return [MoveTo(*point), Button(msg.button, False)]
        if not self._on_window(*point):
            return self._drop("outside_window")
        if not self._bucket.take(now):
            return self._drop("flood")
        self._buttons.add(msg.button)
        return [MoveTo(*point), Button(msg.button, True)]

    def _wheel(self, msg: protocol.Wheel, point: tuple[int, int], now: float) -> list[Action]:
        if msg.dx == 0 and msg.dy == 0:
            return []
        if not self._on_window(*point):
            return self._drop("outside_window")
        if not self._bucket.take(now, max(1, abs(msg.dx) + abs(msg.dy))):
            return self._drop("flood")
        return [MoveTo(*point), Scroll(msg.dx, msg.dy)]

    def _key(self, msg: protocol.Key, now: float) -> list[Action]:
        hold_id = msg.code or f"key:{msg.key}"
        if self._waiting and self._may_type():
            return self._flush_waiting(now) + self._key(msg, now)
        if not msg.down and hold_id not in self._keys and self._waits(hold_id):
            return self._wait_for_focus(msg, hold_id, now)
        if not msg.down:
            keysym = self._keys.pop(hold_id, None)
            if keysym is None:
                return self._drop("not_held")
            self._bucket.force(now)
            if keysym in self._keys.values():
                return []  # another held key pressed the same keysym: it stays down
            return [KeyAction(keysym, False)]
        if self._rect is None:  # nothing shared (yet, or the shared window is gone)
            return self._drop("no_geometry")
        if self._window_id is not None and not self._focused:
            return self._wait_for_focus(msg, hold_id, now)
        held = set(self._keys.values())
        command = bool(held & keys.COMMAND_KEYSYMS) and not held & keys.LEVEL3_KEYSYMS
        keysym = keys.keysym_for(msg.code, msg.key, command=command)
        if keysym is None:
            return self._drop("no_keysym")
        previous = self._keys.get(hold_id)
        if previous is None and len(self._keys) >= self._max_held_keys:
            return self._drop("too_many_keys")
        if not self._bucket.take(now):
            return self._drop("flood")
        actions: list[Action] = []
        self._keys[hold_id] = keysym
        if previous is not None and previous != keysym and previous not in self._keys.values():
            actions.append(KeyAction(previous, False))  # the same key now means another keysym
        actions.append(KeyAction(keysym, True))  # a repeat presses again, as X autorepeat does
        return actions
