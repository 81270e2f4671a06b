"""How much of a transfer may be on its way at once, and in what frame size (sans-IO: the
caller passes the time and the receiver's ``file_ack``\\ s).

A data channel's own flow control (``bufferedAmount``) only bounds what waits in the sender;
SCTP then fills whatever queue the slowest link on the way has. On a thin link that queue is
seconds long and everything else in the session -- the operator's clicks and keys on the
``control`` channel, voice -- waits behind the file. So the receiver acknowledges what it has
(``file_ack``: bytes of the transfer received in this session; the first bytes after a pause
at once, then at most every ``ACK_EVERY`` seconds), and the sender keeps a window of bytes on
their way that aims at ``QUEUE_TARGET`` seconds of queueing on the link, as LEDBAT (RFC 6817)
does for background transfers:

* every acknowledgement gives a round-trip sample (the age of the newest byte it covers);
  the smallest sample of the transfer is the link's base round trip, and a sample's excess
  over it is the time spent in queues;
* each acknowledged byte grows the window by ``(QUEUE_TARGET - queueing) / QUEUE_TARGET``
  bytes (+1 at most: doubling per round trip on an empty link), and shrinks it once the queue
  passes the target, by at most ``DECREASE_GAIN`` bytes (a quarter of the window per round
  trip: gently, as the sample it reacts to is a round trip old).

Frames are cut to about ``FRAME_TIME`` seconds of the link at the highest delivery rate seen
over the last ``RATE_MEMORY`` seconds (``MIN_FRAME`` .. the channel's frame size): SCTP
without message interleaving sends a message's fragments back to back, so a 64 KiB frame would
hold a click on the same association back for a second at 512 kbit/s. The transfer starts
with ``START_WINDOW`` bytes of ``MIN_FRAME`` frames, so the first sample sees an empty queue.

A receiver that never acknowledges (an older program): after ``START_WINDOW`` bytes and
``SILENT_AFTER`` seconds without a ``file_ack`` the window stops applying (``unacked``) and
only the channel's buffer paces the transfer, as before acknowledgements existed.
"""

from __future__ import annotations

from collections import deque

#: Seconds of data the sender lets wait at the link's bottleneck.
QUEUE_TARGET = 0.02
#: An acknowledged byte shrinks the window by at most this much (it grows it by at most 1).
DECREASE_GAIN = 0.25
#: The window starts at this many bytes ...
START_WINDOW = 4 * 1024
#: ... and never shrinks below this (nor below two frames).
MIN_WINDOW = 2 * 1024
#: Nor grows above this.
MAX_WINDOW = 16 * 1024 * 1024
#: While voice is on, at most this many bytes of a transfer are on their way: this program
#: handles files and voice on one event loop, and a file at full speed makes voice late and
#: broken (bench/voice.py: gaps 6-9 % of a talk-spurt with a full window, 1-2.5 % with
#: this one). A file still moves, slower: a frame bigger than the room still goes when nothing
#: is on its way (the sender's rule), so frames keep their size.
VOICE_WINDOW = 16 * 1024
_voice_on = False


def voice_on(on: bool) -> None:
    """Voice started or ended in this process's session (``peer.features.voice``)."""
    global _voice_on
    _voice_on = on


#: Seconds over which the highest delivery rate is remembered.
RATE_MEMORY = 2.0
#: A delivery rate is measured over at least this many seconds of acknowledgements.
RATE_SPAN = 0.05
#: A frame carries about this many seconds of the link.
FRAME_TIME = 0.008
#: Smallest frame payload, bytes.
MIN_FRAME = 1024
#: The receiver acknowledges at most this often (seconds) ...
ACK_EVERY = 0.01
#: ... and at the latest after this many bytes.
ACK_BYTES = 256 * 1024
#: Seconds without any acknowledgement, a full window out, before the window stops applying.
SILENT_AFTER = 3.0
#: Send marks kept for round-trip samples (older ones are merged).
MAX_MARKS = 1024


class Acker:
    """The receiver's side: when to send ``file_ack`` for one transfer.

    The first bytes after a quiet spell are acknowledged at once; then at most one ack per
    ``ACK_EVERY`` seconds (or per ``ACK_BYTES``): ``add`` says when to ack now, ``due`` says
    when a held-back count must go even if nothing more arrives (the adapter's timer)."""

    def __init__(self, now: float) -> None:
        self.received = 0
        self._acked = 0
        self._at = now - ACK_EVERY

    def add(self, n: int, now: float, *, last: bool = False) -> int | None:
        """``n`` more payload bytes arrived; the count to acknowledge now, or None."""
        if n < 0:
            raise ValueError(f"negative byte count {n}")
        self.received += n
        if last or self.received - self._acked >= ACK_BYTES:
            return self._ack(now)
        return self.flush(now)

    def flush(self, now: float) -> int | None:
        """The count to acknowledge now that ``ACK_EVERY`` has passed, or None."""
        if now - self._at >= ACK_EVERY - 1e-6:  # a timer set for ``due`` may fire a hair early
            return self._ack(now)
        return None

    @property
    def due(self) -> float | None:
        """When the bytes not yet acknowledged must be (None: there are none)."""
        return self._at + ACK_EVERY if self.received > self._acked else None

    def _ack(self, now: float) -> int | None:
        if self.received == self._acked:
            return None
        self._acked = self.received
        self._at = now
        return self.received


class Window:
    """The sender's side for one transfer (one data channel direction)."""

    def __init__(self, now: float, *, max_frame: int) -> None:
        if max_frame < MIN_FRAME:
            raise ValueError(f"frame size {max_frame} below {MIN_FRAME}")
        self.max_frame = max_frame
        self.sent = 0
        self.acked = 0
        self.unacked = False
        self.base_rtt: float | None = None
        self.queueing = 0.0
        self._window = float(START_WINDOW)
        self._marks: deque[tuple[int, float]] = deque()
        self._rates: deque[tuple[float, float]] = deque()  # (time, bytes/s)
        self._acks: deque[tuple[float, int]] = deque()  # (time, bytes acknowledged)
        self._quiet_since = now

    # -------------------------------------------------------------------- the sender asks

    @property
    def rate(self) -> float:
        """Highest delivery rate (bytes/s) over the last ``RATE_MEMORY`` seconds; 0 unknown."""
        return max((r for _, r in self._rates), default=0.0)

    @property
    def window(self) -> int:
        return int(self._window)

    @property
    def in_flight(self) -> int:
        return self.sent - self.acked

    def room(self, now: float) -> int:
        """Bytes that may be sent now (a very large number once ``unacked``)."""
        if not self.unacked and self.acked == 0 and self.in_flight >= START_WINDOW:
            if now - self._quiet_since >= SILENT_AFTER:
                self.unacked = True
        if self.unacked:
            return MAX_WINDOW
        window = min(self.window, VOICE_WINDOW) if _voice_on else self.window
        return max(0, window - self.in_flight)

    def frame(self) -> int:
        """Payload bytes for the next frame."""
        size = int(self.rate * FRAME_TIME) // 1024 * 1024
        return max(MIN_FRAME, min(self.max_frame, size))

    # -------------------------------------------------------------------- the sender tells

    def on_sent(self, n: int, now: float) -> None:
        if n < 0:
            raise ValueError(f"negative byte count {n}")
        if self.in_flight == 0:
            self._quiet_since = now
        if not self._acks:
            self._acks.append((now, self.acked))  # the first rate is measured from here
        self.sent += n
        marks = self._marks
        if len(marks) >= MAX_MARKS:
            marks.popleft()  # the ack that covers the next one gives the (longer) sample
        marks.append((self.sent, now))

    def on_ack(self, received: int, now: float) -> None:
        """The receiver has ``received`` bytes of this transfer (``file_ack``)."""
        if received <= self.acked:
            return
        received = min(received, self.sent)
        newly = received - self.acked
        sample: float | None = None
        while self._marks and self._marks[0][0] <= received:
            _, at = self._marks.popleft()
            sample = max(now - at, 0.0)
        if sample is not None:
            if self.base_rtt is None or sample < self.base_rtt:
                self.base_rtt = sample
            self.queueing = sample - self.base_rtt
            off_target = max(-1.0, min(1.0, (QUEUE_TARGET - self.queueing) / QUEUE_TARGET))
            gain = 1.0 if off_target > 0 else DECREASE_GAIN
            floor = max(MIN_WINDOW, 2 * self.frame())
            grown = self._window + gain * off_target * newly
            cap = VOICE_WINDOW if _voice_on else MAX_WINDOW  # never grown where it cannot be used
            self._window = min(float(cap), max(floor, grown))
        self._measure_rate(received, now)
        self.acked = received
        self._quiet_since = now

    def _measure_rate(self, received: int, now: float) -> None:
        acks = self._acks
        span = max(RATE_SPAN, self.base_rtt or 0.0)
        base: tuple[float, int] | None = None
        for then, then_bytes in acks:
            if now - then < span:
                break
            base = (then, then_bytes)
        if base is not None and now > base[0]:
            self._rates.append((now, (received - base[1]) / (now - base[0])))
        acks.append((now, received))
        while len(acks) > 2 and now - acks[1][0] >= span:
            acks.popleft()  # keep the newest ack at least a span old, and what came after it
        while self._rates and now - self._rates[0][0] > RATE_MEMORY:
            self._rates.popleft()
