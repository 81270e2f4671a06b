"""The screen's packets go out at the rate the link can take, so voice never waits behind them.

aiortc 1.16 sends every packet of an encoded frame back to back. A whole 1080p screen after a
keyframe request is 100-150 kB even at the lowest bitrate: on a 512 kbit/s link that is two
seconds of the link poured into a queue that holds a few hundred milliseconds. The queue
overflows, the picture's packets and the voice packets behind them are dropped, the browser
asks for another keyframe, and the link never empties (bench/voice.py measured a queue full at
400 ms and a third of the operator's voice lost).

Two parts, both for the screen encoders of ``peer.encoder`` only (audio is never held back):

* **Pacing** (``Pacer``): each packet leaves no earlier than the link at ``rate`` bit/s would
  have sent what went before it, less ``BURST_S`` of credit (a small frame on a fast link goes
  at once, as before). The rate is the encoder's ``pace_bps`` (``peer.rate_control``): the
  receiver's estimate, more on a wide calm link; before the first estimate (within a second)
  ``INITIAL_PACE_BPS``: the first picture must not flood a thin link.
* **Retransmissions are paced too** (``_retransmit``): they share the pacer with the
  picture, and one that would wait over ``RTX_MAX_WAIT_S`` is given up.
* **Encoding goes on while a frame is paced out** (``Backlog``): the encoder codes each frame
  against the one before it, so the frames must keep coming at the capture's pace -- a frame
  taken a second after the last one of a scrolling page is a whole new page (hundreds of kB at
  1080p; a 6-pixel scroll step between two frames is 8 kB). If the encoder waited for the
  pacer, one big frame (the first of a scroll) would make the next gap long and the next frame
  big again, and the stream would lock itself at 1-3 fps. So frames are encoded at the
  capture's pace into a queue the sender drains at the pacing rate, and encoding stops only
  while more than ``MAX_BACKLOG_S`` of the link waits behind the frame on its way: the queue
  can never hold more than that of old pictures, and a thin link gets fewer, current ones.
* **Keyframe requests** (``KeyframeGate``): a request that arrives while the last keyframe is
  still on its way (its size at the pacing rate, plus ``KEYFRAME_MARGIN_S``) is answered by that
  keyframe, not by another one.

``install()`` replaces ``RTCRtpSender._run_rtp`` with a copy of aiortc's own that waits for the
pacer before it stamps and sends each packet (the send-time stamp the browser's estimate reads
must be the moment the packet really leaves). Written against aiortc ``SUPPORTED``; on another
version it leaves aiortc as it is and says so, and ``tests/test_video_pacer.py`` fails until
the copy is checked against the new code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from typing import Any

from aiortc import clock, rtcrtpsender
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket, wrap_rtx
from aiortc.utils import random32, uint16_add, uint32_add

from .aiortc_patch import Patch

logger = logging.getLogger(__name__)

#: The aiortc versions the copied send loop was read against.
SUPPORTED = frozenset({"1.16.0"})
#: Seconds of the link a burst may take at once.
BURST_S = 0.02
#: Before the receiver's first estimate, pace at this rate (bit/s). 2.5x the codec's rate poured
#: a 1080p first picture, 300 kB, into a 512 kbit/s link at 3 Mbit/s: the link's queue filled,
#: and the operator's clicks waited behind it (and behind SCTP's retransmission timer) for up
#: to two seconds.
INITIAL_PACE_BPS = 500_000
#: Bytes on the wire per packet besides the payload (IP, UDP, SRTP, RTP header and extensions).
OVERHEAD = 60
#: A keyframe is taken to be on its way this long after the pacer has sent it.
KEYFRAME_MARGIN_S = 0.3
#: A retransmission that would wait longer than this behind the screen's packets is given up:
#: it would come too late to help. aiortc sends every retransmission at once, outside any
#: pacing: on a 512 kbit/s link a lost first picture made the browser ask for hundreds of
#: packets, which went out at 4 Mbit/s, were lost in turn, and no picture ever got through.
RTX_MAX_WAIT_S = 0.15
#: On a calm link (``RateController.calm``) the pacer goes fast enough to send what it holds
#: within this many seconds.
DRAIN_S = 0.15
#: Encoding waits while more than this many seconds of the link (at the pacing rate) are
#: queued behind the frame being sent.
MAX_BACKLOG_S = 0.5


class Pacer:
    """When each packet may leave, for a link drained at a given rate (a leaky bucket)."""

    def __init__(self, burst_s: float = BURST_S) -> None:
        self._burst = burst_s
        self._drained_at = 0.0  # when the link, at the pacing rate, will have sent all so far
        self.waited = 0.0  # seconds packets waited in all
        self.rtx_dropped = 0  # retransmissions given up (they would have waited too long)

    def backlog(self, now: float) -> float:
        """Seconds until the link, at the pacing rate, has sent everything paced so far."""
        return max(0.0, self._drained_at - now)

    def delay(self, size: int, rate_bps: float, now: float) -> float:
        """Seconds a packet of ``size`` bytes (payload) must wait from ``now``; it is counted
        as sent at ``now`` plus that."""
        start = max(self._drained_at, now)
        wait = max(0.0, start - now - self._burst)
        self._drained_at = start + (size + OVERHEAD) * 8 / max(rate_bps, 1.0)
        self.waited += wait
        return wait


class Backlog:
    """Encoded frames waiting for the pacer, in bytes: the one being sent and those behind it."""

    def __init__(self, limit_s: float = MAX_BACKLOG_S) -> None:
        self._limit = limit_s
        self._sizes: list[int] = []  # bytes left of each queued frame, the one on its way first
        self.stalls = 0

    def add(self, size: int) -> None:
        self._sizes.append(size)

    def sent(self, size: int) -> None:
        """``size`` bytes of the first frame left."""
        if self._sizes:
            self._sizes[0] -= size
            if self._sizes[0] <= 0:
                self._sizes.pop(0)

    def frames(self) -> int:
        return len(self._sizes)

    def bytes(self) -> int:
        return sum(self._sizes)

    def full(self, rate_bps: float) -> bool:
        """Whether the frames behind the one on its way take more than the limit to send."""
        waiting = sum(self._sizes[1:])
        return waiting * 8 / max(rate_bps, 1.0) > self._limit


class KeyframeGate:
    """Whether a keyframe request should make a new keyframe."""

    def __init__(self, margin_s: float = KEYFRAME_MARGIN_S) -> None:
        self._margin = margin_s
        self._busy_until = 0.0
        self.ignored = 0

    def allow(self, now: float) -> bool:
        if now < self._busy_until:
            self.ignored += 1
            return False
        return True

    def sent(self, size: int, rate_bps: float, now: float) -> None:
        """A keyframe of ``size`` bytes was just encoded; it goes out at ``rate_bps``."""
        self._busy_until = now + size * 8 / max(rate_bps, 1.0) + self._margin


async def _run_rtp(self: Any, codec: Any) -> None:
    """aiortc 1.16's ``RTCRtpSender._run_rtp``, split in two: frames are encoded at the
    capture's pace into a queue (while the ``Backlog`` allows) and sent by a second task, each
    packet waiting for the pacer first."""
    self._RTCRtpSender__log_debug("- RTP started")
    self._RTCRtpSender__rtp_started.set()
    backlog = Backlog()
    pacer = Pacer()
    self.__dict__["_sl_pacer"] = pacer  # retransmissions share it (_retransmit)
    frames: asyncio.Queue[Any] = asyncio.Queue()
    drained = asyncio.Event()
    sending = asyncio.ensure_future(_send_frames(self, codec, frames, backlog, drained, pacer))
    try:
        while True:
            if not self._RTCRtpSender__track:
                await asyncio.sleep(0.02)
                continue
            while (rate := _rate(self, backlog)) and backlog.full(rate) and not sending.done():
                backlog.stalls += 1
                drained.clear()
                await drained.wait()
            if sending.done():
                break
            enc_frame = await self._next_encoded_frame(codec)
            if enc_frame is None:
                continue
            backlog.add(sum(len(p) for p in enc_frame.payloads))
            frames.put_nowait((enc_frame, time.monotonic()))
    except (asyncio.CancelledError, ConnectionError, MediaStreamError):
        pass
    except Exception:
        # __rtp_exited must be set, or RTCRtpSender.stop() hangs
        self._RTCRtpSender__log_warning(traceback.format_exc())
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sending

    if self._RTCRtpSender__track:
        self._RTCRtpSender__track.stop()
        self._RTCRtpSender__track = None
    self._RTCRtpSender__encoder = None
    self._RTCRtpSender__log_debug("- RTP finished")
    self._RTCRtpSender__rtp_exited.set()


def _rate(sender: Any, backlog: Backlog) -> float | None:
    """The pacing rate now: the encoder's, or on a calm wide link enough to empty the queue
    within ``DRAIN_S`` if that is more (``None``: not a screen encoder, no pacing)."""
    encoder = sender._RTCRtpSender__encoder
    rate: float | None = getattr(encoder, "pace_bps", None)
    if rate and getattr(encoder, "link_calm", False):
        rate = max(rate, backlog.bytes() * 8 / DRAIN_S)
    return rate


async def _send_frames(
    self: Any,
    codec: Any,
    frames: asyncio.Queue[Any],
    backlog: Backlog,
    drained: asyncio.Event,
    pacer: Pacer,
) -> None:
    """The second half of ``_run_rtp``: aiortc's packet loop, behind the pacer."""
    next_log = 0.0
    sequence_number = random_sequence_number()
    timestamp_origin = random32()
    try:
        while True:
            enc_frame, encoded_at = await frames.get()
            timestamp = uint32_add(timestamp_origin, enc_frame.timestamp)
            encoder = self._RTCRtpSender__encoder
            rtt = self._RTCRtpSender__rtt
            if rtt is not None and hasattr(encoder, "round_trip"):
                encoder.round_trip(rtt)
            if time.monotonic() >= next_log and hasattr(encoder, "control"):
                next_log = time.monotonic() + 1.0
                control = encoder.control
                logger.debug(
                    "screen: pace %.0f bit/s%s, estimate %s, rate %d, rtt %s, queued %d frames"
                    " (%d bytes), %d stalls, %d retransmissions given up",
                    _rate(self, backlog) or 0,
                    " (calm)" if encoder.link_calm else "",
                    control.estimate,
                    control.target().bitrate,
                    control.rtt,
                    backlog.frames(),
                    backlog.bytes(),
                    backlog.stalls,
                    pacer.rtx_dropped,
                )

            for i, payload in enumerate(enc_frame.payloads):
                rate = _rate(self, backlog)
                if rate:
                    wait = pacer.delay(len(payload), rate, time.monotonic())
                    if wait > 0:
                        await asyncio.sleep(wait)
                packet = RtpPacket(
                    payload_type=codec.payloadType,
                    sequence_number=sequence_number,
                    timestamp=timestamp,
                )
                packet.ssrc = self._ssrc
                packet.payload = payload
                packet.marker = (i == len(enc_frame.payloads) - 1) and 1 or 0

                packet.extensions.abs_send_time = (clock.current_ntp_time() >> 14) & 0x00FFFFFF
                packet.extensions.mid = self._RTCRtpSender__mid
                if enc_frame.audio_level is not None:
                    packet.extensions.audio_level = (False, -enc_frame.audio_level)

                self._RTCRtpSender__log_debug("> %s", packet)
                self._RTCRtpSender__rtp_history[packet.sequence_number % RTP_HISTORY_SIZE] = packet
                packet_bytes = packet.serialize(self._RTCRtpSender__rtp_header_extensions_map)
                await self.transport._send_rtp(packet_bytes)

                self._RTCRtpSender__ntp_timestamp = clock.current_ntp_time()
                self._RTCRtpSender__rtp_timestamp = packet.timestamp
                self._RTCRtpSender__octet_count += len(payload)
                self._RTCRtpSender__packet_count += 1
                sequence_number = uint16_add(sequence_number, 1)
                backlog.sent(len(payload))
                drained.set()
            if hasattr(encoder, "control"):
                encoder.control.on_frame_sent(time.monotonic() - encoded_at)
    except (asyncio.CancelledError, ConnectionError):
        pass
    except Exception:
        self._RTCRtpSender__log_warning(traceback.format_exc())
    finally:
        drained.set()  # the encoding half must not wait for a sender that has stopped


async def _retransmit(self: Any, sequence_number: int) -> None:
    """aiortc 1.16's ``RTCRtpSender._retransmit``, through the screen's pacer: a retransmission
    waits its turn like any packet, and is given up if that would take over
    ``RTX_MAX_WAIT_S``. Senders without a pacer (voice) retransmit as aiortc does."""
    pacer: Pacer | None = self.__dict__.get("_sl_pacer")
    rate = getattr(self._RTCRtpSender__encoder, "pace_bps", None)
    if pacer is None or not rate:
        await _aiortc_retransmit(self, sequence_number)
        return
    packet = self._RTCRtpSender__rtp_history.get(sequence_number % RTP_HISTORY_SIZE)
    if not packet or packet.sequence_number != sequence_number:
        return
    now = time.monotonic()
    if pacer.backlog(now) > RTX_MAX_WAIT_S:
        pacer.rtx_dropped += 1
        return
    wait = pacer.delay(len(packet.payload), rate, now)
    if self._RTCRtpSender__rtx_payload_type is not None:
        packet = wrap_rtx(
            packet,
            payload_type=self._RTCRtpSender__rtx_payload_type,
            sequence_number=self._RTCRtpSender__rtx_sequence_number,
            ssrc=self._rtx_ssrc,
        )
        self._RTCRtpSender__rtx_sequence_number = uint16_add(
            self._RTCRtpSender__rtx_sequence_number, 1
        )
    self._RTCRtpSender__log_debug("> %s", packet)
    packet_bytes = packet.serialize(self._RTCRtpSender__rtp_header_extensions_map)
    if wait > 0:
        await asyncio.sleep(wait)
    await self.transport._send_rtp(packet_bytes)


_aiortc_retransmit = rtcrtpsender.RTCRtpSender._retransmit


PATCH = Patch(
    "screen", SUPPORTED, "left as it is (a big picture may crowd voice out on a thin link)"
)


def installed() -> bool:
    return PATCH.installed


def install() -> bool:
    """Patch aiortc (once); ``False`` if its version was not checked against the copy."""
    return PATCH.apply(
        [
            (rtcrtpsender.RTCRtpSender, "_run_rtp", _run_rtp),
            (rtcrtpsender.RTCRtpSender, "_retransmit", _retransmit),
        ]
    )


def uninstall() -> None:
    """Put aiortc back as it was (tests)."""
    PATCH.undo()
