"""``peer.files.flow``: the sender's window and frame size and the receiver's acknowledgements,
run against a simulated link (a bottleneck of a given rate with a FIFO queue, a propagation
delay each way): the transfer uses the link, the queue it builds stays near ``QUEUE_TARGET``,
frames shrink on thin links, and a receiver that never acknowledges does not stall it."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import pytest

from peer.files import flow
from peer.files.frames import HEADER

MAX_FRAME = 64 * 1024


@dataclass
class Result:
    delivered: int
    seconds: float
    queue_delays: list[float] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds


def simulate(rate: float, one_way: float, seconds: float, *, ack: bool = True) -> Result:
    """Send for ``seconds`` over a link of ``rate`` bytes/s; every frame waits in the
    bottleneck's FIFO queue, then ``one_way`` seconds; acknowledgements come back after
    ``one_way`` seconds (they are small: no queue)."""
    window = flow.Window(0.0, max_frame=MAX_FRAME)
    acker = flow.Acker(0.0)
    events: list[tuple[float, int, str, int]] = []
    serial = 0
    link_free = 0.0
    now = 0.0
    delivered = 0
    result = Result(0, seconds)

    def push(at: float, kind: str, value: int) -> None:
        nonlocal serial
        serial += 1
        heapq.heappush(events, (at, serial, kind, value))

    def send_what_fits() -> None:
        nonlocal link_free
        while window.room(now) > 0:
            size = window.frame()
            window.on_sent(size, now)
            result.frames.append(size)
            start = max(now, link_free)
            result.queue_delays.append(start - now)
            link_free = start + (size + HEADER) / rate
            push(link_free + one_way, "arrive", size)

    push(0.0, "tick", 0)
    while events:
        now, _, kind, value = heapq.heappop(events)
        if now > seconds:
            break
        if kind == "arrive":
            delivered += value
            count = acker.add(value, now)
            if count is not None and ack:
                push(now + one_way, "ack", count)
            elif acker.due is not None:
                push(acker.due, "flush", 0)
        elif kind == "flush":
            count = acker.flush(now)
            if count is not None and ack:
                push(now + one_way, "ack", count)
            elif acker.due is not None and acker.due > now:
                push(acker.due, "flush", 0)
        elif kind == "ack":
            window.on_ack(value, now)
        elif kind == "tick":
            push(now + 0.01, "tick", 0)  # the sender also looks now and then (a timer)
        send_what_fits()
    result.delivered = delivered
    return result


def steady(values: list[float]) -> list[float]:
    return values[len(values) // 2 :]


@pytest.mark.parametrize(
    ("rate", "one_way"),
    [(512_000 / 8, 0.02), (2_000_000 / 8, 0.02), (20_000_000 / 8, 0.02), (40e6, 0.0005)],
    ids=["512kbit-40ms", "2mbit-40ms", "20mbit-40ms", "40MBps-1ms"],
)
def test_the_transfer_fills_the_link_and_keeps_its_queue_short(rate: float, one_way: float) -> None:
    result = simulate(rate, one_way, seconds=min(20.0, 4e7 / rate))
    assert result.rate >= 0.85 * rate / (1 + HEADER / flow.MIN_FRAME), result.rate / rate
    delays = sorted(steady(result.queue_delays))
    p95 = delays[int(len(delays) * 0.95)]
    # at most the target and a frame or two of the link's time
    frame_time = max(flow.FRAME_TIME, (flow.MIN_FRAME + HEADER) / rate)
    assert p95 <= flow.QUEUE_TARGET + flow.ACK_EVERY + 2 * frame_time, p95


def test_frames_are_small_on_a_thin_link_and_large_on_a_fast_one() -> None:
    thin = steady(simulate(512_000 / 8, 0.02, seconds=10.0).frames)
    fast = steady(simulate(40e6, 0.0005, seconds=1.0).frames)
    assert max(thin) <= 2048  # a click waits at most ~30 ms behind one at 512 kbit/s
    assert min(fast) >= 32 * 1024


def test_a_receiver_that_never_acknowledges_is_not_waited_for_forever() -> None:
    window = flow.Window(0.0, max_frame=MAX_FRAME)
    sent = 0
    now = 0.0
    while window.room(now) > 0:
        n = window.frame()
        window.on_sent(n, now)
        sent += n
    assert sent <= flow.START_WINDOW + MAX_FRAME
    assert window.room(flow.SILENT_AFTER - 0.1) == 0
    assert window.room(flow.SILENT_AFTER + 0.1) > 0 and window.unacked


def test_the_acker_acknowledges_often_enough_and_not_for_every_frame() -> None:
    acker = flow.Acker(0.0)
    acks = [acker.add(1200, i * 0.001) for i in range(1000)]  # 1.2 MB/s for a second
    sent = [a for a in acks if a is not None]
    assert acks[0] == 1200  # the first bytes at once
    assert 90 <= len(sent) <= 110  # then every 10 ms
    assert sent == sorted(sent) and sent[-1] <= 1_200_000
    assert acker.add(0, 1.0, last=True) == 1_200_000  # the end of a file is acknowledged at once
    assert acker.add(0, 1.001, last=True) is None  # nothing new: nothing to say
    assert acker.due is None
    assert acker.add(100, 1.002) is None and acker.due == pytest.approx(1.01)
    assert acker.flush(1.005) is None and acker.flush(1.01) == 1_200_100


def test_acknowledgements_out_of_reason_change_nothing() -> None:
    window = flow.Window(0.0, max_frame=MAX_FRAME)
    window.on_sent(10_000, 0.0)
    window.on_ack(50_000, 0.05)  # more than was sent: counted as what was sent
    assert window.acked == 10_000 and window.in_flight == 0
    window.on_ack(5_000, 0.06)  # going backwards: ignored
    assert window.acked == 10_000
    with pytest.raises(ValueError):
        window.on_sent(-1, 0.1)
    with pytest.raises(ValueError):
        flow.Acker(0.0).add(-5, 0.0)


def test_while_voice_is_on_a_transfer_keeps_little_on_its_way() -> None:
    window = flow.Window(0.0, max_frame=64 * 1024)
    for i in range(400):  # a fast, empty link: the window grows far past the voice cap
        window.on_sent(64 * 1024, i * 0.001)
        window.on_ack(window.sent, i * 0.001 + 0.0005)
    assert window.room(1.0) > flow.VOICE_WINDOW
    flow.voice_on(True)
    try:
        assert window.room(1.0) == flow.VOICE_WINDOW
        window.on_sent(4096, 3.0)
        assert window.room(3.0) == flow.VOICE_WINDOW - 4096
        # the link's queue grows (and its fast rate is two seconds old): the window comes
        # down from the cap at once, not from the megabytes it grew to while the cap held it
        # (minutes of acks at a voice's pace)
        window.on_ack(window.sent, 3.2)
        assert window.window == flow.VOICE_WINDOW
        window.on_sent(8192, 3.2)
        window.on_ack(window.sent, 3.4)
        assert window.window < flow.VOICE_WINDOW
    finally:
        flow.voice_on(False)
    for i in range(20):  # the call is over: an empty link lets it grow again
        window.on_sent(window.room(4.0 + i * 0.001), 4.0 + i * 0.001)
        window.on_ack(window.sent, 4.0 + i * 0.001 + 0.0005)
    assert window.room(5.0) > 8 * flow.VOICE_WINDOW
