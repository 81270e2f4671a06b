"""The sender's pacing on one files data channel (sans-IO: ``bufferedAmount`` is passed in).

The channel queues what we send; ``bufferedAmount`` is what it has not handed to SCTP yet.
The adapter sends a burst whenever the channel fires ``bufferedamountlow`` (and once at the
start), keeping the queue between ``low_threshold`` and ``high_water``::

    pacer = Pacer(max_message_size)           # None: MAX_FRAME, which every side takes
    channel.bufferedAmountLowThreshold = pacer.low_threshold
    queue = SendQueue(sizes)                  # one transfer's files, in index order
    on start and on bufferedamountlow:
        for step in queue.burst(pacer.budget(channel.bufferedAmount), pacer.chunk):
            Piece(index, offset, length) -> read, hash, send frames.encode(...)
            FileEnd(index)               -> send the file's end (its SHA-256)

Every planned frame counts ``length + HEADER`` bytes against the budget, a file's end
``end_cost`` bytes, so a folder of 100,000 empty files is paced too. Only whole chunks are
planned (a file's last one may be shorter); a budget too small for the next one plans nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .frames import HEADER, MAX_FRAME, chunk_size

#: Stop queueing above this many bytes in the channel.
HIGH_WATER = 1024 * 1024
#: Ask the channel to say when it is down to this (``bufferedAmountLowThreshold``).
LOW_THRESHOLD = 256 * 1024
#: What a file's end (a small text message) counts against the budget.
END_COST = 256


class Pacer:
    """Chunk size and budget for one channel, from the other side's max-message-size."""

    def __init__(
        self,
        max_message_size: int | None = None,
        *,
        high_water: int = HIGH_WATER,
        low_threshold: int = LOW_THRESHOLD,
    ) -> None:
        if low_threshold < 0 or high_water - low_threshold < MAX_FRAME:
            raise ValueError(
                f"high water {high_water} must be at least {MAX_FRAME} above "
                f"the low threshold {low_threshold}"
            )
        self.chunk = chunk_size(max_message_size)
        self.high_water = high_water
        self.low_threshold = low_threshold

    def budget(self, buffered_amount: int) -> int:
        """How many bytes may be queued now: 0 at or above the high water."""
        return max(0, self.high_water - buffered_amount)


def plan(file_size: int, start: int, budget: int, chunk: int) -> list[tuple[int, int]]:
    """``(offset, length)`` of the frames to send next from ``start``: each at most ``chunk``
    bytes, never past ``file_size``, the frames (``length + HEADER`` each) within ``budget``."""
    if chunk < 1:
        raise ValueError(f"chunk size {chunk} must be positive")
    if not 0 <= start <= file_size:
        raise ValueError(f"start {start} outside a file of {file_size} bytes")
    pieces: list[tuple[int, int]] = []
    offset = start
    while offset < file_size:
        length = min(chunk, file_size - offset)
        if length + HEADER > budget:
            break
        pieces.append((offset, length))
        budget -= length + HEADER
        offset += length
    return pieces


@dataclass(frozen=True)
class Piece:
    """Send ``length`` bytes of file ``index`` from ``offset`` as one frame."""

    index: int
    offset: int
    length: int


@dataclass(frozen=True)
class FileEnd:
    """All of file ``index`` is queued: send its end (with its SHA-256)."""

    index: int


Step = Piece | FileEnd


class SendQueue:
    """What is left to send of one transfer's files, in index order."""

    def __init__(self, sizes: Sequence[int], *, end_cost: int = END_COST) -> None:
        if any(size < 0 for size in sizes):
            raise ValueError("a file size is negative")
        if end_cost < 0:
            raise ValueError(f"end cost {end_cost} is negative")
        self.sizes = tuple(sizes)
        self.end_cost = end_cost
        self._skipped: set[int] = set()
        self._starts: dict[int, int] = {}
        self._index = 0  # the file being sent
        self._offset: int | None = None  # where it goes on; None: it has not begun

    @property
    def done(self) -> bool:
        """Every file's end has been planned (or the file skipped)."""
        self._pass_skipped()
        return self._index >= len(self.sizes)

    def start_at(self, index: int, offset: int) -> None:
        """File ``index`` resumes at ``offset`` (``digest.resume_offset``), before it begins."""
        if not 0 <= offset <= self.sizes[index]:
            raise ValueError(f"offset {offset} outside file {index} of {self.sizes[index]}")
        if index < self._index or (index == self._index and self._offset is not None):
            raise ValueError(f"file {index} has already begun")
        self._starts[index] = offset

    def skip(self, index: int) -> None:
        """Send nothing more of file ``index`` (the receiver skips it, or it was cancelled);
        a file already begun gets no end either."""
        self._skipped.add(index)

    def burst(self, budget: int, chunk: int) -> list[Step]:
        """The steps to take now, within ``budget`` bytes, frames of at most ``chunk``."""
        steps: list[Step] = []
        while True:
            self._pass_skipped()
            if self._index >= len(self.sizes):
                return steps
            size = self.sizes[self._index]
            offset = self._offset if self._offset is not None else self._starts.get(self._index, 0)
            if offset < size:
                pieces = plan(size, offset, budget, chunk)
                if not pieces:
                    return steps
                steps += [Piece(self._index, at, length) for at, length in pieces]
                budget -= sum(length + HEADER for _, length in pieces)
                self._offset = pieces[-1][0] + pieces[-1][1]
                continue
            if self.end_cost > budget:
                return steps
            steps.append(FileEnd(self._index))
            budget -= self.end_cost
            self._index += 1
            self._offset = None

    def _pass_skipped(self) -> None:
        while self._index < len(self.sizes) and self._index in self._skipped:
            self._index += 1
            self._offset = None
