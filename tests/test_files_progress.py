"""peer.files.progress: totals, speed and time left of one transfer, time passed in."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peer.files.progress import TransferPlan


def test_a_folder_from_start_to_end() -> None:
    plan = TransferPlan([1000, 0, 3000], window=5.0)
    assert (plan.total_files, plan.total_bytes, plan.progress) == (3, 4000, 0.0)
    assert plan.speed(0.0) == 0.0 and plan.time_left(0.0) is None
    plan.begin(10.0)
    plan.advance(0, 1000, 11.0)
    plan.complete(0)
    plan.complete(1)
    assert plan.file_progress(0) == plan.file_progress(1) == 1.0
    assert plan.files_done == 2 and plan.progress == 0.25
    plan.advance(2, 1000, 12.0)
    assert plan.file_progress(2) == pytest.approx(1 / 3)
    assert plan.speed(12.0) == pytest.approx(1000.0)  # 2000 bytes in 2 s
    assert plan.time_left(12.0) == pytest.approx(2.0)
    assert plan.speed(16.5) == pytest.approx(200.0)  # only the second 1000 in the window
    assert plan.speed(30.0) == 0.0 and plan.time_left(30.0) is None  # stalled
    plan.advance(2, 2000, 31.0)
    plan.complete(2)
    assert plan.progress == 1.0 and plan.remaining_bytes == 0 and plan.time_left(31.0) == 0.0


def test_the_first_chunk_does_not_show_an_absurd_speed() -> None:
    plan = TransferPlan([10**9])
    plan.begin(0.0)
    plan.advance(0, 65536, 0.001)
    assert plan.speed(0.001) == pytest.approx(65536.0)  # over at least a second


def test_resumed_bytes_count_as_done_but_not_as_speed() -> None:
    plan = TransferPlan([1000])
    plan.resumed(0, 600)
    plan.begin(0.0)
    plan.advance(0, 100, 2.0)
    assert plan.progress == 0.7 and plan.speed(2.0) == pytest.approx(50.0)
    assert plan.time_left(2.0) == pytest.approx(6.0)


def test_skipped_files_leave_the_totals() -> None:
    plan = TransferPlan([100, 200, 0])
    plan.advance(1, 50, 1.0)
    plan.skip(1)
    plan.skip(1)
    assert (plan.total_files, plan.total_bytes, plan.done_bytes) == (2, 100, 0)
    plan.skip(0)
    assert plan.progress == 0.0  # no bytes: counted by files
    plan.complete(2)
    assert plan.progress == 1.0
    with pytest.raises(ValueError):
        plan.advance(0, 1, 2.0)


def test_what_cannot_happen_is_refused() -> None:
    plan = TransferPlan([10])
    with pytest.raises(ValueError):
        plan.advance(0, 11, 0.0)
    with pytest.raises(ValueError):
        plan.advance(0, -1, 0.0)
    with pytest.raises(ValueError):
        plan.complete(0)  # not all there
    with pytest.raises(ValueError):
        TransferPlan([-1])
    with pytest.raises(ValueError):
        TransferPlan([1], window=0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3000), st.floats(0, 3)), max_size=40),
)
def test_counters_stay_consistent(sizes: list[int], moves: list[tuple[int, int, float]]) -> None:
    plan = TransferPlan(sizes)
    done = [0] * len(sizes)
    now = 0.0
    for index, nbytes, dt in moves:
        index %= len(sizes)
        now += dt
        nbytes = min(nbytes, sizes[index] - done[index])
        plan.advance(index, nbytes, now)
        done[index] += nbytes
        assert plan.done_bytes == sum(done) <= plan.total_bytes
        assert plan.file_progress(index) == (done[index] / sizes[index] if sizes[index] else 0.0)
        assert 0.0 <= plan.progress <= 1.0
        assert plan.speed(now) >= 0.0
        left = plan.time_left(now)
        assert left is None or left >= 0.0
