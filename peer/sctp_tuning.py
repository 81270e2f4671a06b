"""aiortc's SCTP, fit for bulk file transfer: the data channels' throughput without changing
what goes on the wire.

aiortc 1.16's SCTP association works per packet in Python, and a few of its steps cost time
in proportion to what is in flight, which is where a file transfer spends it (profiled with
Chromium on the far side):

* **A SACK for every packet received.** RFC 9260 section 6.2 asks for one at least for every
  second packet and within 200 ms; Chromium's dcsctp acknowledges every second packet. Here:
  at once when two DATA packets are unacknowledged, when anything arrived out of order or
  twice (the sender needs the gap report to retransmit) or a FORWARD TSN came; otherwise after
  ``SACK_DELAY`` seconds. Half the packets going back, half the SACKs the sender handles.
* **Reassembly from the start for every chunk.** ``InboundStream.pop_messages`` walks every
  chunk it holds each time one arrives: quadratic in the fragments of a message (56 for a
  64 KiB file frame). A chunk that lands after all the others and is not the last fragment of
  its message cannot complete a message, so the walk is skipped for it.
* **Received TSNs bookkept through a sorted set.** ``_mark_received`` sorts and filters the
  out-of-order set for every chunk; the common case (the next TSN, nothing out of order) is
  now one comparison.
* **Every sent chunk looked at for retransmission on every SACK.** ``_transmit`` walks the
  whole sent queue (hundreds of chunks with the window open) looking for chunks marked for
  retransmission; only a SACK with gap reports or a T3 timeout can mark one, so the walk
  waits for those.
* **Small UDP buffers** (aioice asks for 256 KiB to receive, the kernel's default to send)
  overflow under a burst; aioice's sockets ask for ``SOCKET_BUFFER`` bytes both ways (the
  kernel caps it at ``net.core.rmem_max``/``wmem_max``).

The wire is unchanged; a peer on an unpatched aiortc or in a browser talks to it as before.
The patches are written against aiortc ``SUPPORTED``; on another version ``install()`` leaves
aiortc as it is and says so (slower, never wrong), and ``tests/test_sctp_tuning.py`` fails
until the patches are checked against the new code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time

import aioice.ice
import aioice.turn
from aiortc import rtcsctptransport as sctp
from aiortc.utils import uint32_gt

from .aiortc_patch import Patch

logger = logging.getLogger(__name__)

#: The aiortc versions the patches were read against.
SUPPORTED = frozenset({"1.16.0"})
#: Seconds a SACK may wait for a second DATA packet.
SACK_DELAY = 0.02
#: Bytes asked for each UDP socket's receive and send buffers.
SOCKET_BUFFER = 4 * 1024 * 1024

PATCH = Patch("file transfer", SUPPORTED, "SCTP left as it is (file transfer slower)")

Transport = sctp.RTCSctpTransport


def installed() -> bool:
    return PATCH.installed


def install() -> bool:
    """Patch aiortc and aioice (once); False when this aiortc is not one the patches know."""
    return PATCH.apply(
        [
            (Transport, "_handle_data", _handle_data),
            (Transport, "_mark_received", _mark_received),
            (Transport, "_receive_data_chunk", _receive_data_chunk),
            (Transport, "_receive_sack_chunk", _receive_sack_chunk),
            (Transport, "_send_sack", _send_sack),
            (Transport, "_t3_expired", _t3_expired),
            (Transport, "_transmit", _transmit),
            (aioice.ice.StunProtocol, "connection_made", _connection_made),
            # aioice sets every host and TURN socket's receive buffer to this after creating it
            (aioice.turn, "UDP_SOCKET_BUFFER_SIZE", SOCKET_BUFFER),
        ]
    )


def uninstall() -> None:
    """Put aiortc back as it was (for comparisons in the benchmark and the tests)."""
    PATCH.undo()


# ------------------------------------------------------------------------------ receiving


async def _handle_data(self: Transport, data: bytes) -> None:
    """``RTCSctpTransport._handle_data`` with the SACK delayed as RFC 9260 section 6.2 allows."""
    try:
        _, _, verification_tag, chunks = sctp.parse_packet(data)
    except ValueError:
        return
    if any(isinstance(c, sctp.InitChunk) for c in chunks):
        if len(chunks) != 1:
            return
        expected_tag = 0
    else:
        expected_tag = self._local_verification_tag
    if verification_tag != expected_tag:
        return

    state = _sack_state(self)
    urgent = False
    carried_data = False
    for chunk in chunks:
        if isinstance(chunk, sctp.DataChunk):
            carried_data = True
        elif isinstance(chunk, sctp.ForwardTsnChunk):
            urgent = True
        await self._receive_chunk(chunk)

    if not self._sack_needed:
        return
    if carried_data:
        state.unacked += 1
    if urgent or state.unacked >= 2 or self._sack_misordered or self._sack_duplicates:
        await self._send_sack()
    elif state.timer is None:
        state.timer = asyncio.get_running_loop().call_later(SACK_DELAY, _delayed_sack, self)


class _SackState:
    __slots__ = ("timer", "unacked")

    def __init__(self) -> None:
        self.unacked = 0
        self.timer: asyncio.TimerHandle | None = None


def _sack_state(self: Transport) -> _SackState:
    state: _SackState | None = self.__dict__.get("_sl_sack")
    if state is None:
        state = self.__dict__["_sl_sack"] = _SackState()
    return state


def _delayed_sack(self: Transport) -> None:
    state = _sack_state(self)
    state.timer = None
    if self._sack_needed and self._association_state != Transport.State.CLOSED:
        task = asyncio.ensure_future(_send_sack_quietly(self))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())


async def _send_sack_quietly(self: Transport) -> None:
    # the association may have ended while the SACK waited: nothing left to acknowledge
    with contextlib.suppress(ConnectionError):
        await self._send_sack()


async def _send_sack(self: Transport) -> None:
    state = _sack_state(self)
    state.unacked = 0
    if state.timer is not None:
        state.timer.cancel()
        state.timer = None
    await PATCH.original("_send_sack")(self)


def _mark_received(self: Transport, tsn: int) -> bool:
    """``_mark_received`` with the in-order case first: the next TSN, nothing out of order."""
    last = self._last_received_tsn
    if (
        last is not None
        and not self._sack_misordered
        and not self._sack_duplicates
        and tsn == sctp.tsn_plus_one(last)
    ):
        self._last_received_tsn = tsn
        return False
    result: bool = PATCH.original("_mark_received")(self, tsn)
    return result


async def _receive_data_chunk(self: Transport, chunk: sctp.DataChunk) -> None:
    """``_receive_data_chunk`` that skips reassembly when the chunk cannot complete a message."""
    self._sack_needed = True
    if self._mark_received(chunk.tsn):
        return
    inbound_stream = self._get_inbound_stream(chunk.stream_id)
    held = inbound_stream.reassembly
    at_the_end = not held or uint32_gt(chunk.tsn, held[-1].tsn)
    inbound_stream.add_chunk(chunk)
    self._advertised_rwnd -= len(chunk.user_data)
    if at_the_end and not chunk.flags & sctp.SCTP_DATA_LAST_FRAG:
        # every fragment before it is older: a message ends only at a last fragment
        return
    for message in inbound_stream.pop_messages():
        self._advertised_rwnd += len(message[2])
        await self._receive(*message)
    await self._reset_deferred_streams()


# ------------------------------------------------------------------------------ sending


def _retransmit_pending(self: Transport) -> bool:
    return bool(self.__dict__.get("_sl_retransmit", True))


def _set_retransmit_pending(self: Transport, pending: bool) -> None:
    self.__dict__["_sl_retransmit"] = pending


async def _receive_sack_chunk(self: Transport, chunk: sctp.SackChunk) -> None:
    if chunk.gaps:
        # a gap report may mark chunks for retransmission (three strikes)
        _set_retransmit_pending(self, True)
    await PATCH.original("_receive_sack_chunk")(self, chunk)


def _t3_expired(self: Transport) -> None:
    _set_retransmit_pending(self, True)
    PATCH.original("_t3_expired")(self)


async def _transmit(self: Transport) -> None:
    """``RTCSctpTransport._transmit`` (aiortc 1.16) that walks the sent queue for chunks to
    retransmit only after something may have marked one."""
    if self._forward_tsn_chunk is not None:
        await self._send_chunk(self._forward_tsn_chunk)
        self._forward_tsn_chunk = None
        if not self._t3_handle:
            self._t3_start()

    if self._fast_recovery_exit is not None:
        burst_size = 2 * sctp.USERDATA_MAX_LENGTH
    else:
        burst_size = 4 * sctp.USERDATA_MAX_LENGTH
    cwnd = min(self._flight_size + burst_size, self._cwnd)

    if _retransmit_pending(self):
        _set_retransmit_pending(self, False)
        retransmit_earliest = True
        for chunk in self._sent_queue:
            if chunk._retransmit:
                if self._fast_recovery_transmit:
                    self._fast_recovery_transmit = False
                elif self._flight_size >= cwnd:
                    _set_retransmit_pending(self, True)
                    return
                self._flight_size_increase(chunk)
                chunk._misses = 0
                chunk._retransmit = False
                chunk._sent_count += 1
                await self._send_chunk(chunk)
                if retransmit_earliest:
                    self._t3_restart()
            retransmit_earliest = False

    while self._outbound_queue and self._flight_size < cwnd:
        chunk = self._outbound_queue.popleft()
        self._sent_queue.append(chunk)
        self._flight_size_increase(chunk)
        chunk._sent_count += 1
        chunk._sent_time = time.time()
        await self._send_chunk(chunk)
        if not self._t3_handle:
            self._t3_start()


# ------------------------------------------------------------------------------ sockets


def _connection_made(self: aioice.ice.StunProtocol, transport: asyncio.BaseTransport) -> None:
    PATCH.original("connection_made")(self, transport)
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
