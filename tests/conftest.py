"""What the peer's in-process tests share: a real server on loopback with one operator, that
operator's browser played by aiortc (``LoopbackOperator``), and one peer session joined to it
(``start_session`` → ``Running``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCCertificate, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from loopback_ice import LOOPBACK, candidate_addresses, loopback_only
from sigclient import Endpoint, SigClient, add_operator, server_settings

from peer import encoder, opus_tuning
from peer.cli import HeadlessUI
from peer.features.chat import ChatFeature
from peer.features.clipboard import ClipboardFeature
from peer.features.control import ControlFeature
from peer.features.view import ViewFeature
from peer.remote import RemoteControl
from peer.session import Outcome, PeerSession
from peer.settings import PeerSettings
from peer.view import View
from peer.windows import WindowInfo
from signaling.app import create_app
from wire import protocol as p

OPERATOR_PASSWORD = "correct horse"


@pytest.fixture
def loopback_peer() -> Iterator[None]:
    """aiortc in this process gathers on 127.0.0.1 only; the screen encoder and the Opus
    tuning are put back after (in the reverse of the order a session installs them: both
    replace ``rtcrtpsender.get_encoder``)."""
    with loopback_only():
        yield
    opus_tuning.uninstall()
    encoder.uninstall()


@pytest.fixture
def peer_display(display: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``$DISPLAY`` set to the module's virtual display (the injector's X connection reads it)."""
    monkeypatch.setenv("DISPLAY", display)
    return display


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


@pytest.fixture
def xdisplay(display: str) -> Iterator[Any]:
    """An Xlib connection to the test module's ``display``."""
    import Xlib.display

    d = Xlib.display.Display(display)
    yield d
    d.close()


class RecordingUI(HeadlessUI):
    """The headless UI, keeping its lines instead of printing them; records the questions and
    window pickers a windowed session (``headless=False``) would show."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.asked: list[tuple[str, str]] = []
        self.pickers: list[list[WindowInfo]] = []
        self.whole_screen_asks: list[str] = []
        self.notices: list[str] = []  # what the window would show in its status line
        self.file_asks: list[tuple[Any, ...]] = []

    def _line(self, text: str) -> None:
        self.lines.append(text)

    def ask(self, capability: str, operator: str) -> None:
        self.asked.append((capability, operator))

    def pick_window(self, windows: list[WindowInfo]) -> None:
        self.pickers.append(windows)

    def notice(self, text: str) -> None:
        self.notices.append(text)
        super().notice(text)

    def ask_whole_screen(self, operator: str) -> None:
        self.whole_screen_asks.append(operator)

    def ask_files(
        self, transfer: int, operator: str, name: str, count: int, size: str, preview: list[str]
    ) -> None:
        self.file_asks.append((transfer, operator, name, count, size, preview))


def remote_of(session: PeerSession) -> RemoteControl:
    """The session's remote control (its ``control`` feature's)."""
    feature = session.feature(ControlFeature)
    assert feature is not None, "this session has no remote control"
    return feature.remote


def view_of(session: PeerSession) -> View:
    feature = session.feature(ViewFeature)
    assert feature is not None, "this session shares no screen"
    return feature.view


def clipboard_of(session: PeerSession) -> ClipboardFeature:
    feature = session.feature(ClipboardFeature)
    assert feature is not None, "this session has no clipboard feature"
    return feature


def chat_of(session: PeerSession) -> ChatFeature | None:
    return session.feature(ChatFeature)


async def until(predicate: Callable[[], Any], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


class LoopbackOperator:
    """The operator's console, played by aiortc: accepts the customer, answers every offer
    (renegotiations too; a fresh offer with a new connection, as the console does, with the
    same certificate), adopts channels by the table and records what arrives on each."""

    def __init__(self, sig: SigClient, voice: MediaStreamTrack | None = None) -> None:
        self.sig = sig
        self.voice = voice  # the operator's microphone, sent once the peer offers audio
        # what the operator shows (capability -> track), sent on the m-line the offer names
        self.show: dict[str, MediaStreamTrack | None] = {}
        self.certificate = RTCCertificate.generateCertificate()
        self.channels: dict[str, Any] = {}
        self.received: dict[str, list[Any]] = {c.label: [] for c in p.CHANNELS}
        self.tracks: list[MediaStreamTrack] = []
        self.offers: list[str] = []
        self.offer_msgs: list[p.Offer] = []
        self.answers: list[str] = []
        self.signals: list[Any] = []  # interrupted, resumed: what the server said meanwhile
        self.bye: str | None = None
        self._answering: asyncio.Task[None] | None = None
        self.old_pcs: list[RTCPeerConnection] = []
        self.pc = self._new_pc()

    def _new_pc(self) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc._RTCPeerConnection__certificates = [self.certificate]  # type: ignore[attr-defined]
        pc.on("datachannel", self._channel)
        pc.on("track", self.tracks.append)
        return pc

    def _channel(self, channel: Any) -> None:
        spec = p.CHANNEL_BY_LABEL[channel.label]
        self.channels[channel.label] = channel

        def message(m: str | bytes) -> None:
            # binary frames (file data) are kept as they came
            parsed = m if isinstance(m, bytes) else p.parse(m, spec.registry)
            self.received[spec.label].append(parsed)

        channel.on("message", message)

    @property
    def control(self) -> list[Any]:
        """What arrived on the control channel."""
        return self.received["control"]

    @property
    def track(self) -> MediaStreamTrack | None:
        """The first video track received (the customer's screen), once there is one."""
        return next((t for t in self.tracks if t.kind == "video"), None)

    @property
    def audio(self) -> MediaStreamTrack | None:
        """The customer's voice, once it comes."""
        return next((t for t in reversed(self.tracks) if t.kind == "audio"), None)

    @property
    def latest_track(self) -> MediaStreamTrack | None:
        """The video track of the newest connection (after a reconnect, the fresh one's)."""
        return next((t for t in reversed(self.tracks) if t.kind == "video"), None)

    def states(self) -> list[tuple[str, ...]]:
        return [m.granted for m in self.control if isinstance(m, p.ConsentState)]

    def of(self, cls: type[Any]) -> list[Any]:
        """The control messages of type ``cls``, in order."""
        return [m for m in self.control if isinstance(m, cls)]

    def send(self, label: str, msg: Any) -> None:
        self.channels[label].send(p.serialize(msg))

    def input(self, msg: Any) -> None:
        """Send on the input channel: a message, or a frame (``str``) exactly as given."""
        self.channels["input"].send(msg if isinstance(msg, str) else p.serialize(msg))

    def key(self, code: str, key: str, down: bool) -> None:
        self.input(p.Key(code=code, key=key, down=down))

    def type_text(self, text: str) -> None:
        for ch in text:
            code = f"Key{ch.upper()}" if ch.isalpha() else ""
            self.key(code, ch, True)
            self.key(code, ch, False)

    async def accept(self) -> None:
        """Accept the customer and answer the first offer; later offers are answered too."""
        request = await self.sig.expect(p.JoinRequest)
        await self.sig.send(p.Accept(session_id=request.session_id))
        await self.sig.expect(p.Paired)
        await self._answer(await self.sig.expect(p.Offer, timeout=10))
        self._answering = asyncio.ensure_future(self._answer_later_offers())

    async def _answer(self, offer: p.Offer) -> None:
        if offer.fresh and self.offers:
            self.old_pcs.append(self.pc)
            await self.pc.close()
            self.pc = self._new_pc()
        self.offers.append(offer.sdp)
        self.offer_msgs.append(offer)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        audio = [t for t in self.pc.getTransceivers() if t.kind == "audio"]
        if self.voice is not None and audio and audio[0].sender.track is None:
            self.pc.addTrack(self.voice)  # the peer's audio transceiver: both ways
        for capability, mid in (
            ("show_screen", offer.show_screen_mid),
            ("show_camera", offer.show_camera_mid),
        ):
            track = self.show.get(capability)
            slot = next((t for t in self.pc.getTransceivers() if t.mid == mid), None)
            if mid is not None and track is not None and slot is not None:
                slot.sender.replaceTrack(track)
                slot.direction = "sendonly"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self.answers.append(self.pc.localDescription.sdp)
        await self.sig.send(p.Answer(sdp=self.answers[-1]))

    async def _answer_later_offers(self) -> None:
        while True:
            try:
                msg = await self.sig.recv(3600)
            except Exception:  # the socket closed
                return
            if isinstance(msg, p.Offer):
                await self._answer(msg)
            elif isinstance(msg, p.Interrupted | p.Resumed):
                self.signals.append(msg)
            elif isinstance(msg, p.Bye):
                self.bye = msg.reason
                return

    async def close(self) -> None:
        if self._answering is not None:
            self._answering.cancel()
        await self.pc.close()


class Running:
    """One peer session joined to an operator that answered it."""

    def __init__(
        self,
        session: PeerSession,
        ui: RecordingUI,
        operator: LoopbackOperator,
        run: asyncio.Future[Outcome],
    ) -> None:
        self.session = session
        self.ui = ui
        self.operator = operator
        self.run = run

    async def settled(self, injected: int) -> None:
        """Wait until ``injected`` messages were injected and the X server has them."""
        await until(lambda: remote_of(self.session).injected >= injected)
        await remote_of(self.session).flush()

    async def end(self) -> Outcome:
        if not self.run.done():
            self.session.disconnect()
        outcome = await asyncio.wait_for(self.run, 10)
        await self.operator.close()
        await self.operator.sig.close()
        return outcome


async def start_session(
    endpoint: tuple[Endpoint, str],
    display: str,
    *,
    allow: frozenset[str] = frozenset({"view"}),
    headless: bool = True,
    window: str | None = None,
    **kw: Any,
) -> Running:
    """A "screen" session: the peer started with ``allow``, accepted and answered on loopback
    only, its control and input channels there and (when viewing the whole screen) the input
    geometry known."""
    ep, token = endpoint
    sig = await ep.operator(token)
    created = await sig.create("screen")
    settings = PeerSettings(
        server=ep.base,
        code=created.code,
        allow=allow,
        headless=headless,
        idle_refresh=0.2,
        window=window,
        **kw,
    )
    ui = RecordingUI()
    session = PeerSession(settings, ui, display=display)
    run = asyncio.ensure_future(session.run(created.code))
    operator = LoopbackOperator(sig)
    await operator.accept()
    offer, answer = operator.offers[0], operator.answers[0]
    assert "webrtc-datachannel" in offer
    assert candidate_addresses(offer) == {LOOPBACK} == candidate_addresses(answer)
    await until(lambda: {"control", "input"} <= set(operator.channels), 10)
    if "view" in allow and window is None:
        await until(lambda: bool(operator.of(p.ViewState)))  # input geometry known
    return Running(session, ui, operator, run)
