"""Progress of one transfer (a file, or a folder's files): totals, speed, time left.

Pure: time is passed in (``time.monotonic()`` from the adapter). Used by either side, fed
the bytes it sent (queued) or received::

    plan = TransferPlan(sizes)
    plan.begin(now)                       # when the customer said yes
    plan.resumed(index, offset)           # a resumed file's prefix: done, but not speed
    plan.advance(index, nbytes, now)      # bytes moved
    plan.complete(index) / plan.skip(index)
    plan.progress, plan.file_progress(i), plan.speed(now), plan.time_left(now)
    human_size(plan.done_bytes)           # "3.2 MB", for the lines people read

Speed is the bytes moved in the last ``window`` seconds over that window (or over the time
since ``begin`` if shorter, but at least ``MIN_SPAN`` so that the first chunk does not show
an absurd rate).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

WINDOW = 5.0
MIN_SPAN = 1.0


class TransferPlan:
    """Counters for the files of one transfer (skipped files leave the totals)."""

    def __init__(self, sizes: Sequence[int], *, window: float = WINDOW) -> None:
        if any(size < 0 for size in sizes):
            raise ValueError("a file size is negative")
        if window <= 0:
            raise ValueError(f"speed window {window} must be positive")
        self.sizes = tuple(sizes)
        self.window = window
        self._done = [0] * len(self.sizes)
        self._skipped: set[int] = set()
        self._complete: set[int] = set()
        self._total = sum(self.sizes)
        self._done_bytes = 0
        self._began: float | None = None
        self._samples: deque[tuple[float, int]] = deque()
        self._in_window = 0
        self._last = float("-inf")

    # ------------------------------------------------------------------ totals

    @property
    def total_files(self) -> int:
        return len(self.sizes) - len(self._skipped)

    @property
    def total_bytes(self) -> int:
        return self._total

    @property
    def files_done(self) -> int:
        return len(self._complete)

    @property
    def done_bytes(self) -> int:
        return self._done_bytes

    @property
    def remaining_bytes(self) -> int:
        return self._total - self._done_bytes

    @property
    def progress(self) -> float:
        """0.0 .. 1.0 of the bytes (of the files when there are no bytes)."""
        if self._total:
            return self._done_bytes / self._total
        return self.files_done / self.total_files if self.total_files else 1.0

    def file_progress(self, index: int) -> float:
        size = self.sizes[index]
        if size == 0:
            return 1.0 if index in self._complete else 0.0
        return self._done[index] / size

    # ------------------------------------------------------------------ events

    def begin(self, now: float) -> None:
        if self._began is None:
            self._began = now
            self._last = now

    def resumed(self, index: int, offset: int) -> None:
        """File ``index`` starts at ``offset``: those bytes are done, not moved now."""
        self._add(index, offset - self._done[index])

    def advance(self, index: int, nbytes: int, now: float) -> None:
        """``nbytes`` more of file ``index`` moved at ``now`` (which never goes back)."""
        if nbytes < 0:
            raise ValueError(f"cannot advance by {nbytes} bytes")
        self.begin(now)
        self._add(index, nbytes)
        now = max(now, self._last)
        self._last = now
        self._samples.append((now, nbytes))
        self._in_window += nbytes

    def complete(self, index: int) -> None:
        """File ``index`` arrived and was verified."""
        if self._done[index] != self.sizes[index]:
            raise ValueError(f"file {index} has {self._done[index]} of {self.sizes[index]} bytes")
        self._complete.add(index)

    def skip(self, index: int) -> None:
        """File ``index`` is not (or no longer) transferred: it leaves the totals."""
        if index in self._skipped or index in self._complete:
            return
        self._skipped.add(index)
        self._total -= self.sizes[index]
        self._done_bytes -= self._done[index]

    # ------------------------------------------------------------------ rates

    def speed(self, now: float) -> float:
        """Bytes per second over the last ``window`` seconds."""
        if self._began is None:
            return 0.0
        now = max(now, self._last)
        while self._samples and self._samples[0][0] <= now - self.window:
            self._in_window -= self._samples.popleft()[1]
        span = min(self.window, now - self._began)
        return self._in_window / max(span, min(MIN_SPAN, self.window))

    def time_left(self, now: float) -> float | None:
        """Seconds until done at the current speed; None while nothing moves."""
        speed = self.speed(now)
        if self.remaining_bytes == 0:
            return 0.0
        return self.remaining_bytes / speed if speed > 0 else None

    def _add(self, index: int, nbytes: int) -> None:
        if index in self._skipped or index in self._complete:
            raise ValueError(f"file {index} is skipped or complete")
        if not 0 <= self._done[index] + nbytes <= self.sizes[index]:
            raise ValueError(f"file {index} of {self.sizes[index]} bytes cannot take {nbytes}")
        self._done[index] += nbytes
        self._done_bytes += nbytes


def human_size(n: float) -> str:
    """Bytes as people read them: "512 B", "3.2 MB" (powers of 1000, as disks count)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover - the loop returns
