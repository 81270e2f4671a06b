"""The aiortc side of a session: one RTCPeerConnection that the peer offers.

* ICE servers come only from ``paired`` (never aiortc's default public STUN server).
* Every data channel of ``protocol.CHANNELS`` is created before the first offer, with the
  delivery its row asks for. Frames of a label in ``raw`` go to ``on_raw`` unparsed, text or
  binary (its reader parses, checks and counts them: ``InputCore``); every
  other text frame is parsed with its channel's registry and must be one the operator may
  send there (``from_operator``), then goes to ``on_message(label, msg)``. Anything
  malformed, oversized, binary or not the operator's to send is dropped and counted in
  ``dropped`` -- never raised -- and, on a channel whose peer side may send ``error``, the
  sender is told why (at most ``ERROR_REPLIES_PER_SECOND``). A channel the operator opens
  (any label) is closed at once and counted: only the peer creates channels.
* The screen goes out on a ``sendonly`` video transceiver offering only the chosen codec (in a
  call, only once the customer allows it), asking the browser to show each frame at once
  (``playout_delay``). Voice goes both ways on one ``sendrecv`` audio
  transceiver (Opus as ``opus_tuning`` sets it up); the operator's voice arrives as a remote
  track through ``on_track``. The operator's screen and camera arrive on ``recvonly`` video
  transceivers that the peer adds (``Receiving``) once the customer allows them. Later
  tracks (``add_track`` / ``remove_track``) need a new offer (``offer()`` again); the
  console answers every offer.
* The verification code comes from both DTLS fingerprints once the answer is in.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from aiortc import (
    RTCCertificate,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from wire import protocol

from . import opus_tuning, playout_delay, sctp_tuning, video_jitter, video_pacer, voice_jitter

logger = logging.getLogger(__name__)

_MIME = {"vp8": "video/vp8", "h264": "video/h264"}
#: Most ``error`` answers to bad frames per channel and second (a flood gets no flood back).
ERROR_REPLIES_PER_SECOND = 5
#: Most messages kept for a channel that has not opened yet.
MAX_UNSENT = 1000


def rtc_configuration(ice_servers: Sequence[protocol.IceServer]) -> RTCConfiguration:
    """Exactly the servers ``paired`` named (an empty list means host candidates only)."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in ice_servers
        ]
    )


class Receiving(MediaStreamTrack):
    """The place of a transceiver that only receives (the operator's screen or camera): it
    stands where a sent track would (``add_track(slot, "recvonly")``), so the session knows
    whose transceiver it is. Nothing is ever read from it: a ``recvonly`` sender never starts."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        raise MediaStreamError("a receiving place sends nothing")


class PeerLink:
    def __init__(
        self,
        ice_servers: Sequence[protocol.IceServer],
        *,
        track: MediaStreamTrack | None,
        codec: str = "vp8",
        on_message: Callable[[str, Any], None],
        on_channel_open: Callable[[str], None] = lambda _label: None,
        on_state: Callable[[str], None],
        on_raw: Callable[[str, str | bytes], None] | None = None,
        raw: frozenset[str] = frozenset(),
        on_channel_closed: Callable[[str], None] | None = None,
        on_track: Callable[[MediaStreamTrack], None] | None = None,
        certificate: RTCCertificate | None = None,
    ) -> None:
        sctp_tuning.install()
        opus_tuning.install()
        voice_jitter.install()
        video_jitter.install()
        video_pacer.install()
        playout_delay.install()
        self.pc = RTCPeerConnection(rtc_configuration(ice_servers))
        if certificate is not None:
            # one certificate for every connection of a session: a fresh connection after a
            # lost one has the same fingerprint, so the same verification code
            self.pc._RTCPeerConnection__certificates = [certificate]  # type: ignore[attr-defined]
        self.dropped: Counter[str] = Counter()
        self.verification_code: str | None = None
        self.channels: dict[str, RTCDataChannel] = {}
        self._unsent: dict[str, list[Any]] = {}
        self._replies: dict[str, tuple[int, int]] = {}
        self._on_message = on_message
        self._on_channel_open = on_channel_open
        self._on_state = on_state
        self._on_raw = on_raw
        self._raw = raw
        self._on_channel_closed = on_channel_closed
        self._codec = codec
        for spec in protocol.CHANNELS:
            self._create(spec)
        if track is not None:
            self.add_track(track)
        self.pc.on("connectionstatechange", self._state_changed)
        self.pc.on("datachannel", self._foreign_channel)
        if on_track is not None:
            self.pc.on("track", on_track)

    def _create(self, spec: protocol.ChannelSpec) -> None:
        label = spec.label
        channel = self.pc.createDataChannel(
            label, ordered=spec.ordered, maxRetransmits=spec.max_retransmits
        )
        self.channels[label] = channel
        self._unsent[label] = []
        channel.on("open", lambda: self._opened(label))
        channel.on("message", lambda data: self._frame(spec, data))
        channel.on("close", lambda: self._channel_closed(label))

    async def offer(self) -> str:
        """An offer SDP, with every candidate in it (aiortc gathers before it returns). The
        first starts the session; each later one renegotiates the tracks."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp: str = self.pc.localDescription.sdp
        logger.debug("local offer:\n%s", sdp)
        return sdp

    async def accept_answer(self, sdp: str) -> str:
        """Apply the operator's answer; returns the verification code both sides can compare."""
        logger.debug("remote answer:\n%s", sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        self.verification_code = protocol.verification_code(
            protocol.sdp_fingerprint(self.pc.localDescription.sdp), protocol.sdp_fingerprint(sdp)
        )
        return self.verification_code

    def add_track(self, track: MediaStreamTrack, direction: str = "sendonly") -> RTCRtpTransceiver:
        """Send one more track (takes effect with the next offer): video offers only the
        chosen codec; audio is Opus, ``sendrecv`` for a call both ways."""
        transceiver: RTCRtpTransceiver = self.pc.addTransceiver(track, direction=direction)
        stream_id = getattr(track, "stream_id", None)
        if isinstance(stream_id, str):  # the console tells this picture by its stream
            transceiver.sender._stream_id = stream_id
        if track.kind == "video":
            mime = _MIME[self._codec]
            preferred = [
                c
                for c in RTCRtpSender.getCapabilities("video").codecs
                if c.mimeType.lower() in (mime, "video/rtx")
            ]
            transceiver.setCodecPreferences(preferred)
        else:
            opus = [
                c
                for c in RTCRtpSender.getCapabilities("audio").codecs
                if c.mimeType.lower() == "audio/opus"
            ]
            transceiver.setCodecPreferences(opus)
            # a stream of its own (aiortc puts every track of a connection in one): in one
            # stream the browser holds the voice back to keep it in step with the screen,
            # and the screen's picture is often a few hundred ms behind on a loaded link
            transceiver.sender._stream_id = str(uuid.uuid4())
        return transceiver

    def remove_track(self, transceiver: RTCRtpTransceiver) -> None:
        """Stop sending on ``transceiver`` (takes effect with the next offer)."""
        transceiver.sender.replaceTrack(None)
        transceiver.direction = "inactive"

    async def add_candidate(self, msg: protocol.Candidate) -> None:
        """A candidate trickled by the browser; a bad one is dropped and counted."""
        text = msg.candidate.strip()
        if not text:
            # end of candidates: without it ICE waits for more forever instead of failing
            await self.pc.addIceCandidate(None)
            return
        try:
            candidate = candidate_from_sdp(text.removeprefix("candidate:"))
        except (ValueError, IndexError) as exc:
            self._drop("control", "bad_candidate", str(exc))
            return
        candidate.sdpMid = msg.sdp_mid
        candidate.sdpMLineIndex = msg.sdp_mline_index
        if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
            candidate.sdpMLineIndex = 0
        try:
            await self.pc.addIceCandidate(candidate)
        except ValueError as exc:
            self._drop("control", "bad_candidate", str(exc))

    def send(self, label: str, msg: Any) -> bool:
        """Send on channel ``label``; before it opens, keep it to send on open (in order, at
        most ``MAX_UNSENT``). ``False`` if it cannot go: the channel closed, or too much waits."""
        channel = self.channels[label]
        if channel.readyState == "open":
            channel.send(protocol.serialize(msg))
            return True
        if channel.readyState == "connecting" and len(self._unsent[label]) < MAX_UNSENT:
            self._unsent[label].append(msg)
            return True
        self.dropped["unsent"] += 1
        return False

    def send_bytes(self, label: str, data: bytes) -> bool:
        """A binary frame on channel ``label``, only while it is open (nothing is kept)."""
        channel = self.channels[label]
        if channel.readyState != "open":
            self.dropped["unsent"] += 1
            return False
        channel.send(data)
        return True

    def buffered_amount(self, label: str) -> int:
        return int(self.channels[label].bufferedAmount)

    async def drained(self, label: str, low: int) -> None:
        """Wait until channel ``label`` holds at most ``low`` bytes unsent (or has closed)."""
        channel = self.channels[label]
        if channel.bufferedAmount <= low or channel.readyState != "open":
            return
        channel.bufferedAmountLowThreshold = low
        done = asyncio.get_running_loop().create_future()

        def low_now() -> None:
            if not done.done():
                done.set_result(None)

        channel.once("bufferedamountlow", low_now)
        channel.once("close", low_now)
        try:
            async with asyncio.timeout(1.0):  # never stuck on a missed event: look again
                await done
        except TimeoutError:
            pass
        finally:
            channel.remove_listener("bufferedamountlow", low_now)
            channel.remove_listener("close", low_now)

    def detach_tracks(self) -> None:
        """Take the tracks off this connection, so closing it does not stop them (a fresh
        connection sends them on)."""
        for transceiver in self.pc.getTransceivers():
            transceiver.sender.replaceTrack(None)

    async def close(self) -> None:
        await self.pc.close()

    # ------------------------------------------------------------------ callbacks

    def _opened(self, label: str) -> None:
        logger.info("%s channel: open", label)
        unsent, self._unsent[label] = self._unsent[label], []
        for msg in unsent:
            self.channels[label].send(protocol.serialize(msg))
        self._on_channel_open(label)

    def _frame(self, spec: protocol.ChannelSpec, data: str | bytes) -> None:
        label = spec.label
        if label in self._raw and self._on_raw is not None:
            try:
                self._on_raw(label, data)
            except Exception:  # one bad message must not end the session
                logger.exception("%s channel: handling a frame failed", label)
                self.dropped["handler_failed"] += 1
            return
        if not isinstance(data, str):
            self._drop(label, "binary", f"{len(data)} bytes on a text channel")
            return
        try:
            msg = protocol.parse(data, spec.registry)
        except protocol.ProtocolError as exc:
            self._drop(label, exc.code, exc.message)
            return
        if msg.type not in spec.from_operator:
            self._drop(label, "unexpected_message", f"{msg.type} is not the operator's to send")
            return
        try:
            self._on_message(label, msg)
        except Exception:  # one bad message must not end the session
            logger.exception("%s channel: handling %s failed", label, msg.type)
            self.dropped["handler_failed"] += 1

    def _foreign_channel(self, channel: RTCDataChannel) -> None:
        """The operator opened a channel: every channel is the peer's to create, so it is
        closed at once (whatever its label) and counted."""
        self.dropped["unknown_channel"] += 1
        logger.warning("data channel %.40r opened by the operator: closed", channel.label)
        channel.close()

    def _channel_closed(self, label: str) -> None:
        logger.info("%s channel: closed", label)
        if self._on_channel_closed is not None:
            self._on_channel_closed(label)

    def _drop(self, label: str, why: str, detail: str) -> None:
        self.dropped[why] += 1
        logger.warning("%s channel: dropped a message (%s: %.80s)", label, why, detail)
        self.tell(label, why, detail)

    def tell(self, label: str, code: str, message: str) -> None:
        """Tell the operator why something sent on ``label`` was refused, where that channel
        carries ``error`` from the peer; at most ``ERROR_REPLIES_PER_SECOND``."""
        spec = protocol.CHANNEL_BY_LABEL.get(label)
        if spec is None or "error" not in spec.from_peer:
            return
        second = int(time.monotonic())
        at, count = self._replies.get(label, (second, 0))
        if at != second:
            count = 0
        if count >= ERROR_REPLIES_PER_SECOND:
            return
        self._replies[label] = (second, count + 1)
        code = {"binary": "bad_json"}.get(code, code)
        code = code if code in protocol.ERROR_CODES else "bad_message"
        self.send(label, protocol.Error(code=code, message=message[:500]))

    def _state_changed(self) -> None:
        logger.info("peer connection: %s", self.pc.connectionState)
        self._on_state(self.pc.connectionState)
