"""peer.files.outgoing: pacing the sender by the channel's bufferedAmount (no channel here)."""

from __future__ import annotations

import pytest

from peer.files.frames import HEADER, MAX_FRAME
from peer.files.outgoing import HIGH_WATER, LOW_THRESHOLD, Pacer


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
