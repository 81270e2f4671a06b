"""What the peer's in-process tests share: a real server on loopback with one operator, and
that operator's browser played by aiortc (``LoopbackOperator``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from sigclient import Endpoint, SigClient, add_operator, server_settings

from peer.cli import HeadlessUI
from signaling.app import create_app
from wire import protocol as p

OPERATOR_PASSWORD = "correct horse"


@pytest.fixture
async def loopback_endpoint(
    tmp_path: Path, aiohttp_server: Any
) -> AsyncIterator[tuple[Endpoint, str]]:
    """A real signaling server on 127.0.0.1 with operator ``alice`` logged in."""
    add_operator(tmp_path / "data", "alice", OPERATOR_PASSWORD)
    server = await aiohttp_server(create_app(server_settings(tmp_path)), host="127.0.0.1")
    http = aiohttp.ClientSession()
    ep = Endpoint(http, str(server.make_url("/")))
    token = await ep.login("alice", OPERATOR_PASSWORD)
    yield ep, token
    await http.close()


class RecordingUI(HeadlessUI):
    """The headless UI, keeping its lines instead of printing them."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def _line(self, text: str) -> None:
        self.lines.append(text)


async def until(predicate: Callable[[], Any], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


class LoopbackOperator:
    """The operator's console, played by aiortc: accepts the customer, answers every offer
    (renegotiations too), adopts channels by the table and records what arrives on each."""

    def __init__(self, sig: SigClient) -> None:
        self.sig = sig
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channels: dict[str, Any] = {}
        self.received: dict[str, list[Any]] = {c.label: [] for c in p.CHANNELS}
        self.tracks: list[MediaStreamTrack] = []
        self.offers: list[str] = []
        self.bye: str | None = None
        self._answering: asyncio.Task[None] | None = None
        self.pc.on("datachannel", self._channel)
        self.pc.on("track", self.tracks.append)

    def _channel(self, channel: Any) -> None:
        spec = p.CHANNEL_BY_LABEL[channel.label]
        self.channels[channel.label] = channel
        channel.on(
            "message",
            lambda m: self.received[spec.label].append(p.parse(m, spec.registry)),
        )

    @property
    def control(self) -> list[Any]:
        return self.received["control"]

    def states(self) -> list[tuple[str, ...]]:
        return [m.granted for m in self.control if isinstance(m, p.ConsentState)]

    def send(self, label: str, msg: Any) -> None:
        self.channels[label].send(p.serialize(msg))

    async def accept(self) -> None:
        """Accept the customer and answer the first offer; later offers are answered too."""
        request = await self.sig.expect(p.JoinRequest)
        await self.sig.send(p.Accept(session_id=request.session_id))
        await self.sig.expect(p.Paired)
        await self._answer(await self.sig.expect(p.Offer, timeout=10))
        self._answering = asyncio.ensure_future(self._answer_later_offers())

    async def _answer(self, offer: p.Offer) -> None:
        self.offers.append(offer.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.sig.send(p.Answer(sdp=self.pc.localDescription.sdp))

    async def _answer_later_offers(self) -> None:
        while True:
            try:
                msg = await self.sig.recv(3600)
            except Exception:  # the socket closed
                return
            if isinstance(msg, p.Offer):
                await self._answer(msg)
            elif isinstance(msg, p.Bye):
                self.bye = msg.reason
                return

    async def close(self) -> None:
        if self._answering is not None:
            self._answering.cancel()
        await self.pc.close()
