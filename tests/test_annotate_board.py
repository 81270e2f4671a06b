"""peer/annotate/board.py: what the operator's strokes become on the customer's screen, as a
pure model: where they land, how they fade, what is refused and counted."""

from __future__ import annotations

import pytest

from peer.annotate import board as b
from peer.annotate.board import Board, arrow_head
from wire import protocol as p


def stroke(
    stroke_id: int = 1,
    tool: str = "pen",
    points: tuple[float, ...] = (0.0, 0.0, 1.0, 1.0),
    *,
    done: bool = False,
    fade: bool = False,
    width: int = 10,
) -> p.Stroke:
    return p.Stroke(
        id=stroke_id, tool=tool, color="#e5322d", width=width, fade=fade, points=points, done=done
    )


def test_points_are_fractions_of_whatever_is_shared() -> None:
    board = Board()
    board.apply(stroke(points=(0.0, 0.0, 0.5, 0.25, 1.0, 1.0)), 0.0)
    (line,) = board.shapes(1920, 1080, 0.0)
    assert line.kind == "line" and line.color == (229, 50, 45)
    assert line.points == ((0, 0), (960, 270), (1919, 1079))  # the last pixel, not one past it
    assert line.width == 11  # 10 thousandths of 1080 px
    (small,) = board.shapes(800, 600, 0.0)  # the shared window is smaller now
    assert small.points == ((0, 0), (400, 150), (799, 599))


def test_a_free_line_grows_a_shape_is_its_last_two_corners() -> None:
    board = Board()
    board.apply(stroke(1, "pen", (0.1, 0.1)), 0.0)
    board.apply(stroke(1, "pen", (0.2, 0.2, 0.3, 0.3)), 0.0)
    board.apply(stroke(2, "ellipse", (0.1, 0.1, 0.2, 0.2)), 0.0)
    board.apply(stroke(2, "ellipse", (0.1, 0.1, 0.5, 0.6), done=True), 0.0)
    pen, ellipse = board.shapes(1001, 1001, 0.0)
    assert pen.points == ((100, 100), (200, 200), (300, 300))
    assert ellipse.kind == "ellipse" and ellipse.points == ((100, 100), (500, 600))
    # an ended stroke takes no more; another tool on the same id is refused
    assert not board.apply(stroke(2, "ellipse", (0.0, 0.0, 1.0, 1.0)), 0.0)
    assert not board.apply(stroke(1, "rect", (0.0, 0.0, 1.0, 1.0)), 0.0)
    assert board.dropped == {"stroke_ended": 1, "tool_changed": 1}


def test_the_highlighter_is_wide_and_see_through_fading_strokes_go() -> None:
    board = Board()
    board.apply(stroke(1, "highlighter", width=3), 0.0)
    board.apply(stroke(2, "arrow", fade=True, done=True), 10.0)
    hi, arrow = board.shapes(1000, 1000, 10.0)
    assert hi.alpha == b.HIGHLIGHTER_ALPHA and hi.width >= 9
    assert arrow.alpha == 1.0
    assert board.due(10.0) == pytest.approx(10.0 + b.FADE_S - b.FADE_OUT_S)
    halfway = 10.0 + b.FADE_S - b.FADE_OUT_S / 2
    assert board.shapes(1000, 1000, halfway)[1].alpha == pytest.approx(0.5)
    assert not board.tick(halfway)
    assert board.tick(10.0 + b.FADE_S)
    assert [s.kind for s in board.shapes(1000, 1000, 20.0)] == ["line"]  # the highlighter stays


def test_undo_clear_and_the_laser() -> None:
    board = Board()
    board.apply(stroke(1), 0.0)
    board.apply(stroke(2), 0.0)
    assert board.apply(p.StrokeUndo(id=1), 0.0)
    assert not board.apply(p.StrokeUndo(id=99), 0.0)
    assert list(board.strokes) == [("operator", 2)] and board.dropped["unknown_stroke"] == 1
    assert board.apply(p.Laser(x=0.5, y=0.5, shown=True), 1.0)
    assert board.shapes(100, 100, 1.0)[-1].kind == "dot"
    assert board.tick(1.0 + b.LASER_S) and board.laser is None
    board.apply(p.Laser(x=0.5, y=0.5, shown=True), 5.0)
    assert board.apply(p.StrokesClear(), 5.0)
    assert not board.strokes and board.laser is None
    assert not board.apply(p.StrokesClear(), 5.0)  # nothing left to change


def test_limits_strokes_points_and_rate_are_kept_and_counted() -> None:
    board = Board()
    for i in range(b.MAX_STROKES + 3):
        board.apply(stroke(i + 1, "rect", done=True), i * 0.01)
    assert len(board.strokes) == b.MAX_STROKES and next(iter(board.strokes)) == ("operator", 4)
    assert board.dropped["oldest_stroke"] == 3

    big = Board()
    many = (0.5, 0.5) * p.MAX_STROKE_POINTS_PER_MESSAGE
    for i in range(20):
        big.apply(stroke(1, "pen", many), i * 0.01)
    assert len(big.strokes[("operator", 1)].points) == b.MAX_POINTS
    assert big.dropped["too_many_points"] == 20 * 256 - b.MAX_POINTS

    flood = Board()
    accepted = sum(flood.apply(p.Laser(x=0.1, y=0.1, shown=i % 2 == 0), 0.0) for i in range(1000))
    assert accepted == b.BURST and flood.dropped["rate"] == 1000 - b.BURST
    assert flood.apply(p.Laser(x=0.1, y=0.1, shown=True), 1.0)  # a second later: room again


def test_odd_points_and_a_one_point_shape_are_refused() -> None:
    board = Board()
    assert not board.apply(stroke(points=(0.1, 0.2, 0.3)), 0.0)
    board.apply(stroke(2, "rect", (0.1, 0.2)), 0.0)
    assert board.dropped == {"odd_points": 1, "shape_needs_two_points": 1}
    assert board.shapes(100, 100, 0.0) == []  # a shape without its corners draws nothing


def test_the_arrow_head_points_along_the_arrow() -> None:
    tip, left, right = arrow_head((0, 0), (100, 0), 2)
    assert tip == (100, 0)
    assert left[0] == right[0] == 90 and left[1] == -right[1] != 0


def test_the_customers_strokes_live_beside_the_operators_and_only_they_undo_them() -> None:
    board = Board()
    board.apply(stroke(1, "rect", done=True), 0.0)
    board.apply(stroke(1, "arrow", done=True), 0.0, by="customer")  # the same id, another side
    assert [(m.by, m.tool) for m in board.strokes.values()] == [
        ("operator", "rect"),
        ("customer", "arrow"),
    ]
    board.apply(p.StrokeUndo(id=1), 0.0)  # the operator's undo
    assert [m.by for m in board.strokes.values()] == ["customer"]
    flood = Board()  # the customer's own drawing is not rate-limited (it never leaves here)
    assert all(flood.apply(p.Laser(x=0.1, y=0.1, shown=True), 0.0, by="customer")
               for _ in range(1000))  # fmt: skip
