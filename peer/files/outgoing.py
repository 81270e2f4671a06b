"""The sender's pacing on one files data channel by its own buffer (sans-IO:
``bufferedAmount`` is passed in).

The channel queues what we send; ``bufferedAmount`` is what it has not handed to SCTP yet.
The adapter sends a frame while the budget allows one and otherwise waits for
``bufferedamountlow``, keeping the queue between ``low_threshold`` and ``high_water``::

    pacer = Pacer(max_message_size)           # None: MAX_FRAME, which every side takes
    if pacer.budget(channel.bufferedAmount) < frame + HEADER:
        wait until the channel is down to pacer.low_threshold

What may be on its way beyond the channel (in SCTP and on the link) is ``flow.Window``'s.
"""

from __future__ import annotations

from .frames import MAX_FRAME, chunk_size

#: Stop queueing above this many bytes in the channel.
HIGH_WATER = 1024 * 1024
#: Ask the channel to say when it is down to this (``bufferedAmountLowThreshold``).
LOW_THRESHOLD = 256 * 1024


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
