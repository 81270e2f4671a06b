"""peer.files.outgoing: pacing the sender by the channel's bufferedAmount (no channel here)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peer.files.frames import HEADER, MAX_FRAME
from peer.files.outgoing import (
    END_COST,
    HIGH_WATER,
    LOW_THRESHOLD,
    FileEnd,
    Pacer,
    Piece,
    SendQueue,
    Step,
    plan,
)


def test_pacer_budget_and_threshold() -> None:
    pacer = Pacer(65536)
    assert pacer.chunk == MAX_FRAME - HEADER
    assert (pacer.high_water, pacer.low_threshold) == (HIGH_WATER, LOW_THRESHOLD)
    assert pacer.budget(0) == HIGH_WATER
    assert pacer.budget(LOW_THRESHOLD) == HIGH_WATER - LOW_THRESHOLD
    assert pacer.budget(HIGH_WATER) == 0
    assert pacer.budget(HIGH_WATER + 5) == 0
    assert Pacer(None).chunk == Pacer(262144).chunk == MAX_FRAME - HEADER
    with pytest.raises(ValueError):
        Pacer(high_water=300_000, low_threshold=256 * 1024)  # no room for one frame


def test_plan_examples() -> None:
    assert plan(10, 0, 1000, 4) == [(0, 4), (4, 4), (8, 2)]
    assert plan(10, 8, 1000, 4) == [(8, 2)]
    assert plan(10, 10, 1000, 4) == []
    assert plan(100, 0, 2 * (4 + HEADER), 4) == [(0, 4), (4, 4)]
    assert plan(100, 0, 4 + HEADER - 1, 4) == []  # never a cut-down chunk to fit the budget
    assert plan(0, 0, 1000, 4) == []
    with pytest.raises(ValueError):
        plan(10, 11, 1000, 4)
    with pytest.raises(ValueError):
        plan(10, 0, 1000, 0)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 300_000),
    st.integers(0, 300_000),
    st.integers(64, 70_000),
    st.lists(st.integers(-100, 2 * HIGH_WATER), min_size=1, max_size=40),
)
def test_bursts_cover_the_file_exactly_once_in_order(
    size: int, start: int, chunk: int, budgets: list[int]
) -> None:
    start = min(start, size)
    offset = start
    for budget in budgets:
        pieces = plan(size, offset, budget, chunk)
        assert sum(length + HEADER for _, length in pieces) <= max(budget, 0)
        for at, length in pieces:
            assert at == offset and 1 <= length <= chunk and at + length <= size
            offset += length
        if not pieces and offset < size:
            assert budget < min(chunk, size - offset) + HEADER  # only a small budget stalls
    offset_after_big = offset
    while offset < size:  # a budget that always fits a frame finishes the file
        pieces = plan(size, offset, chunk + HEADER, chunk)
        assert pieces == [(offset, min(chunk, size - offset))]
        offset += pieces[0][1]
    assert offset == size and offset_after_big <= size


# --------------------------------------------------------------------------- many files


def test_a_queue_of_files() -> None:
    queue = SendQueue([5, 0, 3])
    assert queue.burst(1000, 4) == [
        Piece(0, 0, 4),
        Piece(0, 4, 1),
        FileEnd(0),
        FileEnd(1),
        Piece(2, 0, 3),
        FileEnd(2),
    ]
    assert queue.done and queue.burst(1000, 4) == []


def test_the_queue_waits_for_budget_and_resumes_where_it_stopped() -> None:
    queue = SendQueue([10, 2])
    assert queue.burst(4 + HEADER, 4) == [Piece(0, 0, 4)]
    assert queue.burst(0, 4) == []
    assert queue.burst(2 * (4 + HEADER) + 2 + HEADER, 4) == [
        Piece(0, 4, 4),
        Piece(0, 8, 2),
    ]  # the end costs END_COST, which is not left
    assert queue.burst(END_COST, 4) == [FileEnd(0)]
    assert not queue.done


def test_resume_and_skip() -> None:
    queue = SendQueue([10, 10, 10, 10])
    queue.start_at(0, 6)
    queue.start_at(2, 10)  # all there already: only its end
    queue.skip(1)
    assert queue.burst(10_000, 4) == [
        Piece(0, 6, 4),
        FileEnd(0),
        FileEnd(2),
        Piece(3, 0, 4),
        Piece(3, 4, 4),
        Piece(3, 8, 2),
        FileEnd(3),
    ]
    with pytest.raises(ValueError):
        queue.start_at(3, 0)  # already sent


def test_skipping_the_file_being_sent_ends_it_without_an_end() -> None:
    queue = SendQueue([10, 1])
    assert queue.burst(4 + HEADER, 4) == [Piece(0, 0, 4)]
    with pytest.raises(ValueError):
        queue.start_at(0, 8)  # it has begun
    queue.skip(0)
    assert queue.burst(10_000, 4) == [Piece(1, 0, 1), FileEnd(1)]
    assert queue.done


def test_a_hundred_thousand_empty_files_are_paced_too() -> None:
    queue = SendQueue([0] * 100_000)
    first = queue.burst(HIGH_WATER, MAX_FRAME - HEADER)
    assert len(first) == HIGH_WATER // END_COST
    bursts = 1
    while not queue.done:
        assert queue.burst(HIGH_WATER - LOW_THRESHOLD, MAX_FRAME - HEADER)
        bursts += 1
    assert bursts > 20


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 300), max_size=8),
    st.data(),
    st.lists(st.integers(0, 600), min_size=1, max_size=30),
    st.integers(1, 64),
)
def test_a_queue_sends_every_byte_once_and_each_end_last(
    sizes: list[int], data: st.DataObject, budgets: list[int], chunk: int
) -> None:
    queue = SendQueue(sizes, end_cost=10)
    starts: dict[int, int] = {}
    for i, size in enumerate(sizes):
        if data.draw(st.booleans()):
            starts[i] = data.draw(st.integers(0, size))
            queue.start_at(i, starts[i])
    skipped = {i for i in range(len(sizes)) if data.draw(st.booleans()) and i not in starts}
    for i in skipped:
        queue.skip(i)
    steps: list[Step] = []
    for budget in [*budgets, *[10**9]]:
        burst = queue.burst(budget, chunk)
        cost = sum(s.length + HEADER if isinstance(s, Piece) else 10 for s in burst)
        assert cost <= budget
        steps += burst
    assert queue.done
    ends = [s.index for s in steps if isinstance(s, FileEnd)]
    assert ends == [i for i in range(len(sizes)) if i not in skipped]
    for i, size in enumerate(sizes):
        mine = [k for k, s in enumerate(steps) if s.index == i]
        pieces = [steps[k] for k in mine if isinstance(steps[k], Piece)]
        if i in skipped:
            assert mine == []
            continue
        assert steps[mine[-1]] == FileEnd(i)  # the end comes after every piece
        offset = starts.get(i, 0)
        for piece in pieces:
            assert isinstance(piece, Piece)
            assert piece.offset == offset and 1 <= piece.length <= chunk
            offset += piece.length
        assert offset == size
