"""The aiortc side of a session: one RTCPeerConnection that the peer offers.

* ICE servers come only from ``paired`` (never aiortc's default public STUN server).
* The data channels ``control`` and ``input`` (both ordered, reliable) are created before
  the offer. ``control`` carries ``protocol.CONTROL``; ``input`` carries ``protocol.INPUT``,
  handed over as raw text to ``on_input`` (``remote_input.InputCore.handle_text`` parses and
  counts it). A message of one channel arriving on the other is dropped there.
* The screen goes out on a ``sendonly`` video transceiver offering only the chosen codec.
* Control messages are parsed with ``protocol.CONTROL``; anything malformed, oversized, binary
  or not the operator's to send is dropped and counted in ``dropped`` -- never raised.
* The verification code comes from both DTLS fingerprints once the answer is in.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from signaling import protocol

logger = logging.getLogger(__name__)

#: Control messages the operator may send us.
FROM_OPERATOR = frozenset(
    {"consent_request", "release", "select_monitor", "limit_request", "clipboard"}
)
_MIME = {"vp8": "video/vp8", "h264": "video/h264"}


def rtc_configuration(ice_servers: Sequence[protocol.IceServer]) -> RTCConfiguration:
    """Exactly the servers ``paired`` named (an empty list means host candidates only)."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in ice_servers
        ]
    )


class PeerLink:
    def __init__(
        self,
        ice_servers: Sequence[protocol.IceServer],
        *,
        track: MediaStreamTrack | None,
        codec: str = "vp8",
        on_control: Callable[[Any], None],
        on_channel_open: Callable[[], None],
        on_state: Callable[[str], None],
        on_input: Callable[[str | bytes], None] | None = None,
        on_channel_closed: Callable[[str], None] | None = None,
    ) -> None:
        self.pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self.dropped: Counter[str] = Counter()
        self.verification_code: str | None = None
        self._unsent: list[Any] = []
        self._on_control = on_control
        self._on_channel_open = on_channel_open
        self._on_state = on_state
        self._on_input = on_input
        self._on_channel_closed = on_channel_closed
        self.channel: RTCDataChannel = self.pc.createDataChannel("control", ordered=True)
        self.channel.on("open", self._channel_opened)
        self.channel.on("message", self._message)
        self.channel.on("close", lambda: self._channel_closed("control"))
        self.input_channel: RTCDataChannel = self.pc.createDataChannel("input", ordered=True)
        self.input_channel.on("message", self._input)
        self.input_channel.on("close", lambda: self._channel_closed("input"))
        if track is not None:
            transceiver = self.pc.addTransceiver(track, direction="sendonly")
            mime = _MIME[codec]
            preferred = [
                c
                for c in RTCRtpSender.getCapabilities("video").codecs
                if c.mimeType.lower() in (mime, "video/rtx")
            ]
            transceiver.setCodecPreferences(preferred)
        self.pc.on("connectionstatechange", self._state_changed)

    async def offer(self) -> str:
        """The offer SDP, with every candidate in it (aiortc gathers before it returns)."""
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
            self._drop("bad_candidate", str(exc))
            return
        candidate.sdpMid = msg.sdp_mid
        candidate.sdpMLineIndex = msg.sdp_mline_index
        if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
            candidate.sdpMLineIndex = 0
        try:
            await self.pc.addIceCandidate(candidate)
        except ValueError as exc:
            self._drop("bad_candidate", str(exc))

    def send_control(self, msg: Any) -> None:
        """Send on the control channel; before it opens, keep it to send on open (in order)."""
        if self.channel.readyState == "open":
            self.channel.send(protocol.serialize(msg))
        elif self.channel.readyState == "connecting":
            self._unsent.append(msg)

    async def close(self) -> None:
        await self.pc.close()

    # ------------------------------------------------------------------ callbacks

    def _channel_opened(self) -> None:
        logger.info("control channel: open")
        unsent, self._unsent = self._unsent, []
        for msg in unsent:
            self.channel.send(protocol.serialize(msg))
        self._on_channel_open()

    def _message(self, data: str | bytes) -> None:
        if not isinstance(data, str):
            self._drop("binary", f"{len(data)} bytes")
            return
        try:
            msg = protocol.parse(data, protocol.CONTROL)
        except protocol.ProtocolError as exc:
            self._drop(exc.code, exc.message)
            return
        if msg.type not in FROM_OPERATOR:
            self._drop("unexpected_message", msg.type)
            return
        try:
            self._on_control(msg)
        except Exception:  # one bad message must not end the session
            logger.exception("control channel: handling %s failed", msg.type)
            self.dropped["handler_failed"] += 1

    def _input(self, data: str | bytes) -> None:
        if self._on_input is None:
            self.dropped["no_input_handler"] += 1
            return
        try:
            self._on_input(data)
        except Exception:  # one bad message must not end the session
            logger.exception("input channel: handling a message failed")
            self.dropped["handler_failed"] += 1

    def _channel_closed(self, label: str) -> None:
        logger.info("%s channel: closed", label)
        if self._on_channel_closed is not None:
            self._on_channel_closed(label)

    def _drop(self, why: str, detail: str) -> None:
        self.dropped[why] += 1
        logger.warning("control channel: dropped a message (%s: %.80s)", why, detail)

    def _state_changed(self) -> None:
        logger.info("peer connection: %s", self.pc.connectionState)
        self._on_state(self.pc.connectionState)
