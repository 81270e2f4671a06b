"""What is drawn on the customer's screen: the strokes the operator sent, as a sans-IO model.

``Board.apply(msg, now, by)`` takes the ``annotate`` channel's messages (already parsed, so
every coordinate is a fraction of the shared picture and every width is in range) -- the
operator's, and the customer's own (``by="customer"``: the same messages, ids of their own) --
and keeps:

* strokes by (who, id), in the order they started: a free line (pen, highlighter) gains the
  points of every message; a shape (rectangle, ellipse, arrow) is its last two points, the
  corners of its box (the arrow's tail and head). A stroke that ended takes no more points;
* at most ``MAX_STROKES`` strokes (a new one pushes the oldest out) and ``MAX_POINTS`` points
  in one (more are dropped), at most ``RATE`` messages a second (a burst of ``BURST``);
* fading strokes: gone ``FADE_S`` after they end, fading over the last ``FADE_OUT_S``;
* the laser pointer: a dot, put away ``LASER_S`` after its last move.

Everything refused is counted in ``dropped`` by reason and changes nothing. ``shapes(width,
height, now)`` gives what to draw, in pixels of a picture that size; ``due(now)`` says when the
picture changes by itself next (a fade, the laser going out), so the adapter sleeps until then.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from wire import protocol

#: Most strokes on the screen at once.
MAX_STROKES = 100
#: Most points in one free line.
MAX_POINTS = 4000
#: Messages a second the board takes, on average ...
RATE = 200.0
#: ... and at once.
BURST = 400.0
#: A fading stroke is gone this long after it ends ...
FADE_S = 4.0
#: ... fading out over its last this many seconds.
FADE_OUT_S = 1.0
#: While a stroke fades it is drawn again this often.
FADE_STEP_S = 0.1
#: The laser pointer goes out this long after its last move.
LASER_S = 2.0
#: How see-through the highlighter is (the share of its pixels drawn).
HIGHLIGHTER_ALPHA = 0.5
#: The laser dot's radius, in thousandths of the picture's height (at least 4 px).
LASER_RADIUS = 8

FREE_TOOLS = frozenset({"pen", "highlighter"})


@dataclass
class Mark:
    """One stroke: ``points`` are fractions of the picture."""

    id: int
    by: str
    tool: str
    color: tuple[int, int, int]
    width: int
    fade: bool
    points: list[tuple[float, float]] = field(default_factory=list)
    ended_at: float | None = None


@dataclass(frozen=True)
class Shape:
    """One thing to draw, in pixels: ``kind`` is "line" (``points``, joined), "rect" or
    "ellipse" (the box of its two ``points``), "arrow" (tail, head) or "dot" (centre; ``width``
    is its radius). ``alpha`` 1 is opaque; less is see-through (the highlighter, a fade)."""

    kind: str
    color: tuple[int, int, int]
    width: int
    points: tuple[tuple[int, int], ...]
    alpha: float = 1.0


def parse_color(text: str) -> tuple[int, int, int]:
    return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)


class Board:
    def __init__(self) -> None:
        self.strokes: dict[tuple[str, int], Mark] = {}
        self.laser: tuple[float, float, float] | None = None  # x, y, when it last moved
        self.dropped: Counter[str] = Counter()
        self.applied = 0
        self._tokens = BURST
        self._refilled: float | None = None

    # ------------------------------------------------------------------ messages

    def apply(self, msg: object, now: float, by: str = "operator") -> bool:
        """Take one message of ``by``; ``True`` if what is drawn changed."""
        if by == "operator" and not self._take_token(now):
            self.dropped["rate"] += 1
            return False
        self.applied += 1
        if isinstance(msg, protocol.Stroke):
            return self._stroke(msg, now, by)
        if isinstance(msg, protocol.StrokeUndo):
            if self.strokes.pop((by, msg.id), None) is None:
                self.dropped["unknown_stroke"] += 1
                return False
            return True
        if isinstance(msg, protocol.StrokesClear):
            return self.clear()
        if isinstance(msg, protocol.Laser):
            was = self.laser
            self.laser = (msg.x, msg.y, now) if msg.shown else None
            return was is not None or self.laser is not None
        self.dropped["unknown_message"] += 1
        return False

    def clear(self) -> bool:
        """Take everything away; ``True`` if anything was there."""
        had = bool(self.strokes) or self.laser is not None
        self.strokes.clear()
        self.laser = None
        return had

    def _take_token(self, now: float) -> bool:
        if self._refilled is not None:
            self._tokens = min(BURST, self._tokens + max(0.0, now - self._refilled) * RATE)
        self._refilled = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def _stroke(self, msg: protocol.Stroke, now: float, by: str) -> bool:
        if len(msg.points) % 2:
            self.dropped["odd_points"] += 1
            return False
        pairs = list(zip(msg.points[0::2], msg.points[1::2], strict=True))
        mark = self.strokes.get((by, msg.id))
        if mark is None:
            while len(self.strokes) >= MAX_STROKES:
                del self.strokes[next(iter(self.strokes))]
                self.dropped["oldest_stroke"] += 1
            mark = Mark(msg.id, by, msg.tool, parse_color(msg.color), msg.width, msg.fade)
            self.strokes[(by, msg.id)] = mark
        elif mark.ended_at is not None:
            self.dropped["stroke_ended"] += 1
            return False
        elif mark.tool != msg.tool:
            self.dropped["tool_changed"] += 1
            return False
        if mark.tool in FREE_TOOLS:
            room = MAX_POINTS - len(mark.points)
            if len(pairs) > room:
                self.dropped["too_many_points"] += len(pairs) - room
                pairs = pairs[:room]
            mark.points.extend(pairs)
        elif len(pairs) >= 2:
            mark.points = pairs[-2:]
        elif pairs:
            self.dropped["shape_needs_two_points"] += 1
        if msg.done:
            mark.ended_at = now
        return True

    # ------------------------------------------------------------------ time

    def tick(self, now: float) -> bool:
        """Forget what has faded or gone out; ``True`` if anything went."""
        gone = [
            key
            for key, m in self.strokes.items()
            if m.fade and m.ended_at is not None and now - m.ended_at >= FADE_S
        ]
        for key in gone:
            del self.strokes[key]
        laser_out = self.laser is not None and now - self.laser[2] >= LASER_S
        if laser_out:
            self.laser = None
        return bool(gone) or laser_out

    def due(self, now: float) -> float | None:
        """When the picture next changes by itself (seconds, monotonic), or None."""
        times: list[float] = []
        for m in self.strokes.values():
            if m.fade and m.ended_at is not None:
                end = m.ended_at + FADE_S
                start = end - FADE_OUT_S
                times.append(start if now < start else min(now + FADE_STEP_S, end))
        if self.laser is not None:
            times.append(self.laser[2] + LASER_S)
        return min(times) if times else None

    # ------------------------------------------------------------------ drawing

    def shapes(self, width: int, height: int, now: float) -> list[Shape]:
        """What to draw on a picture of ``width`` x ``height`` pixels, bottom first."""
        out: list[Shape] = []

        def px(p: tuple[float, float]) -> tuple[int, int]:
            return round(p[0] * (width - 1)), round(p[1] * (height - 1))

        for m in self.strokes.values():
            if not m.points:
                continue
            alpha = HIGHLIGHTER_ALPHA if m.tool == "highlighter" else 1.0
            if m.fade and m.ended_at is not None:
                left = m.ended_at + FADE_S - now
                alpha *= max(0.0, min(1.0, left / FADE_OUT_S))
                if alpha <= 0.0:
                    continue
            line = max(1, round(m.width * height / 1000))
            if m.tool == "highlighter":
                line = max(line, 3 * round(m.width * height / 1000), 6)
            points = tuple(px(p) for p in m.points)
            if m.tool in FREE_TOOLS:
                out.append(Shape("line", m.color, line, _thin(points), alpha))
            elif len(points) == 2:
                out.append(Shape(m.tool, m.color, line, points, alpha))
        if self.laser is not None:
            x, y, _ = self.laser
            radius = max(4, round(LASER_RADIUS * height / 1000))
            out.append(Shape("dot", (230, 30, 30), radius, (px((x, y)),)))
        return out


def _thin(points: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """The same line without points that repeat the one before (same pixel)."""
    out = [points[0]]
    for p in points[1:]:
        if p != out[-1]:
            out.append(p)
    return tuple(out)


def arrow_head(
    tail: tuple[int, int], head: tuple[int, int], width: int
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """The triangle at an arrow's head: its tip and the two back corners."""
    dx, dy = head[0] - tail[0], head[1] - tail[1]
    length = math.hypot(dx, dy) or 1.0
    size = max(10.0, 4.0 * width)
    ux, uy = dx / length, dy / length
    bx, by = head[0] - ux * size, head[1] - uy * size
    nx, ny = -uy * size * 0.5, ux * size * 0.5
    return head, (round(bx + nx), round(by + ny)), (round(bx - nx), round(by - ny))
