"""One customer session from code to goodbye: signaling, the connection, consent, and one
``Feature`` per capability (``peer.features``).

The user interface (headless printer or Tk window) implements ``PeerUI`` and calls back into
``PeerSession`` (``answer``, ``revoke``, ``disconnect``, ``feature_input``,
``limit_to_window``, ``share_whole_screen``) on the session's event loop.

What the customer allowed drives everything else: ``Consent`` decides, and the session tells
the capability's feature (``set_allowed``). Messages from the operator reach a feature only
while its capability is allowed; the rest are dropped and counted in ``refused``. Losing the
connection or a data channel tells every feature (``link_lost``: remote control lets go of
every key and button held for the operator at once).

Media can be added to a connected session and its direction changed (``add_track``,
``set_direction``, then ``renegotiate``): the peer, always the offerer, sends a new offer and
the console answers. What was added goes on every fresh connection too. The screen is on the
first offer of a screen session; in a call it is added once the customer allows viewing, and
voice once the customer allows it. The operator's voice arrives as a remote track and goes to
the feature whose capability carries audio (``Feature.remote_track``).

A lost connection is not the end while the server keeps the session (``resume_within`` in
``paired``): when ICE fails or the signaling socket drops, the peer says it is reconnecting,
comes back on a new socket with ``resume`` if it must, and once both sides are there offers a
fresh connection (``offer.fresh``) with the same certificate -- the same verification code;
an answer with another one ends the session. Consent is kept on this side throughout; only
the connection is new. Past the deadline the session ends as a failed connection.

``run()`` returns an ``Outcome``: the exit status (0 ended normally, 1 failed after the code
was accepted, 2 code refused, 3 server unreachable) and the words that say why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from aiortc import RTCCertificate, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamTrack

from wire import protocol

from . import consent as c
from .capture import ScreenTrack, default_grabber
from .connection import PeerLink
from .encoder import install
from .feature import Feature, Shown
from .features import make_features
from .features.files import FilesFeature
from .features.view import ViewFeature
from .i18n import t
from .negotiation import Negotiation
from .remote import InjectorLike, default_injector
from .settings import PeerSettings
from .signal import CodeRefused, ServerUnreachable, SessionRefused, SignalClient
from .windows import WindowInfo
from .words import capability_name, operator_label

logger = logging.getLogger(__name__)

#: Seconds from the offer to a working connection before the peer gives up.
CONNECT_TIMEOUT = 30.0
#: Seconds a fresh connection gets to come up before the next try (while time is left).
RELINK_EVERY = 12.0

F = TypeVar("F", bound=Feature)

EXIT_OK, EXIT_FAILED, EXIT_CODE_REFUSED, EXIT_UNREACHABLE = 0, 1, 2, 3


class PeerUI(Protocol):
    def status(self, text: str) -> None: ...

    def ask(self, capability: str, operator: str) -> None: ...

    def decided(self, capability: str, allowed: bool, why: str) -> None: ...

    def granted(self, capabilities: tuple[str, ...]) -> None: ...

    def verification(self, code: str) -> None: ...

    def ended(self, text: str) -> None: ...

    def notice(self, text: str) -> None:
        """One line about what happens (``control: revoked``, ``view: monitor 0 (WxH)``)."""
        ...

    def hotkey(self, label: str) -> None:
        """The hotkey that takes control back works (show it)."""
        ...

    def pick_window(self, windows: list[WindowInfo]) -> None:
        """Ask the customer to pick the one window to share (GUI only), with Cancel."""
        ...

    def ask_whole_screen(self, operator: str) -> None:
        """Ask whether the operator may see the whole screen again (GUI only); the answer
        comes back through ``PeerSession.answer_whole_screen``."""
        ...

    def ask_files(
        self, transfer: int, operator: str, name: str, count: int, size: str, preview: list[str]
    ) -> None:
        """Ask whether to accept files from the operator, where to, and what to do with names
        already there (GUI only); the answer comes back through ``answer_files``."""
        ...

    def view_mode(self, window: str | None) -> None:
        """Window mode started (the title) or ended (``None``)."""
        ...

    def show(self, capability: str, shown: Shown) -> None:
        """What a feature shows the customer (a chat message, a line about it)."""
        ...


@dataclass(frozen=True)
class Outcome:
    exit_status: int
    message: str


def _bye_words(reason: str) -> str:
    """Our words for why a session ended; a reason we do not know, as it came."""
    return t(f"bye.{reason}") if reason in protocol.BYE_REASONS else reason


def _error_words(code: str, message: str) -> str:
    """Our words for a stable error code; the server's own for a code we do not know."""
    return t(f"error.{code}") if code in protocol.ERROR_CODES else message


class PeerSession:
    def __init__(
        self,
        settings: PeerSettings,
        ui: PeerUI,
        *,
        display: str | None = None,
        injector: Callable[[], InjectorLike] = default_injector,
    ) -> None:
        self.settings = settings
        self.ui = ui
        self.consent = c.Consent(settings.allow, can_ask=not settings.headless)
        self.link: PeerLink | None = None
        self.features: dict[str, Feature] = {}
        self.refused: Counter[str] = Counter()
        self.operator = "the operator"
        self._injector = injector
        self._display = display
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._signal: SignalClient | None = None
        self._stop = asyncio.Event()
        self._stop_reason = "peer_ended"
        self._connected = False
        self._verified = False
        self._shown_granted: tuple[str, ...] | None = None
        self._reported: set[str] = set()  # capabilities the server's audit was told of
        self._outcome: Outcome | None = None
        self._by_type: dict[str, Feature] = {}
        self._raw: dict[str, Feature] = {}
        self._negotiation: Negotiation | None = None
        # reconnecting: one certificate for every connection of the session
        self._certificate = RTCCertificate.generateCertificate()
        self._ice_servers: tuple[protocol.IceServer, ...] = ()
        self._resume: tuple[str, str, int] | None = None  # session id, secret, seconds
        self._first_code: str | None = None
        self._lost_until: float | None = None  # set while the connection is being recovered
        self._away = False  # the operator's socket is lost; the server waits for them
        self._relink_lock = asyncio.Lock()
        self._relinked_at = 0.0
        self._identity_changed = False
        self._media: dict[MediaStreamTrack, str] = {}  # sent on every connection, in order

    # ------------------------------------------------------------------ for features

    @property
    def display(self) -> str | None:
        return self._display

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    def send(self, label: str, msg: Any) -> bool:
        return self.link is not None and self.link.send(label, msg)

    def send_bytes(self, label: str, data: bytes) -> bool:
        return self.link is not None and self.link.send_bytes(label, data)

    def buffered_amount(self, label: str) -> int:
        return 0 if self.link is None else self.link.buffered_amount(label)

    async def drained(self, label: str, low: int) -> None:
        if self.link is not None:
            await self.link.drained(label, low)
        else:
            await asyncio.sleep(0.5)

    def tell(self, label: str, code: str, message: str) -> None:
        if self.link is not None:
            self.link.tell(label, code, message)

    def show(self, capability: str, shown: Shown) -> None:
        self.ui.show(capability, shown)

    def notice(self, text: str) -> None:
        self.ui.notice(text)

    def refuse(self, what: str) -> None:
        self.refused[what] += 1

    def hotkey(self, label: str) -> None:
        self.ui.hotkey(label)

    def view_mode(self, window: str | None) -> None:
        self.ui.view_mode(window)

    def pick_window(self, windows: list[WindowInfo]) -> None:
        self.ui.pick_window(windows)

    def _report_granted(self, granted: tuple[str, ...]) -> None:
        """Tell the server's audit the names of what the customer has allowed (once each)."""
        if self._signal is None or set(granted) <= self._reported:
            return
        self._reported.update(granted)
        names = tuple(name for name in protocol.CAPABILITIES if name in self._reported)
        self.start(self._signal.send(protocol.Granted(capabilities=names)))

    def start(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ the features, by name

    def feature(self, cls: type[F]) -> F | None:
        """This session's feature of class ``cls``, if the session has one."""
        feature = self.features.get(cls.capability)
        return feature if isinstance(feature, cls) else None

    @property
    def track(self) -> ScreenTrack | None:
        view = self.feature(ViewFeature)
        return None if view is None else view.track

    # ------------------------------------------------------------------ from the UI

    def disconnect(self) -> None:
        """The customer ends everything (button, SIGINT, SIGTERM)."""
        if not self._stop.is_set():
            logger.info("session: customer disconnects")
            for feature in self.features.values():
                feature.stop_now()  # capture stops, held keys are let go, first of all
            self._end_consent()  # and nothing the operator sends from now on grants anything
            self._stop.set()

    def answer(self, capability: str, allowed: bool) -> None:
        self._apply(self.consent.answer(capability, allowed))

    def revoke(self, capability: str) -> None:
        self._apply(self.consent.revoke(capability))

    def feature_input(self, capability: str, action: str, value: str) -> None:
        """The customer did something in a feature's pane (``"chat", "send", text``)."""
        feature = self.features.get(capability)
        if feature is None:
            if self.link is None:
                self.ui.notice(
                    t("notice.not_connected_yet", capability=capability_name(capability))
                )
            else:
                self.ui.notice(t("notice.not_in_session", capability=capability_name(capability)))
            return
        feature.from_ui(action, value)

    def limit_to_window(self, wid: int, title: str) -> None:
        """The customer picked the one window to share."""
        if view := self.feature(ViewFeature):
            view.view.limit_to_window(wid, title)

    def share_whole_screen(self) -> None:
        """The customer ends window mode."""
        if view := self.feature(ViewFeature):
            view.view.share_whole_screen()

    def ask_whole_screen(self) -> None:
        """The operator asks to see the whole screen again: only the customer can say so."""
        self.ui.ask_whole_screen(self.operator)

    def ask_files(
        self, transfer: int, name: str, count: int, size: str, preview: list[str]
    ) -> None:
        self.ui.ask_files(transfer, self.operator, name, count, size, preview)

    def answer_files(self, transfer: int, folder: str | None, existing: str = "keep_both") -> None:
        """The customer's answer to ``ask_files``: the folder to save into, or ``None``."""
        files = self.features.get("files")
        if isinstance(files, FilesFeature):
            files.answered(transfer, None if folder is None else Path(folder), existing)

    def answer_whole_screen(self, allowed: bool) -> None:
        """The customer's answer to ``ask_whole_screen``."""
        if allowed:
            self.share_whole_screen()
        self.send("control", protocol.WholeScreenReply(allowed=allowed))

    def offer_window_choice(self) -> None:
        """Show the customer the window picker (GUI)."""
        if view := self.feature(ViewFeature):
            view.offer_window_choice()

    # ------------------------------------------------------------------ media

    def has_track(self, track: MediaStreamTrack) -> bool:
        return track in self._media

    def add_track(self, track: MediaStreamTrack, direction: str = "sendonly") -> None:
        """Send ``track`` (with ``direction``) on this connection and every fresh one; it
        takes effect with the next offer (``renegotiate``)."""
        if track in self._media:
            self.set_direction(track, direction)
            return
        self._media[track] = direction
        if self.link is not None:
            self.link.add_track(track, direction)

    def set_direction(self, track: MediaStreamTrack, direction: str) -> None:
        """``"sendrecv"``, ``"inactive"``...: for ``track``'s transceiver, from the next offer."""
        self._media[track] = direction
        transceiver = self.transceiver(track)
        if transceiver is not None:
            transceiver.direction = direction

    def transceiver(self, track: MediaStreamTrack) -> RTCRtpTransceiver | None:
        """The transceiver that sends ``track`` on the current connection."""
        if self.link is None:
            return None
        for transceiver in self.link.pc.getTransceivers():
            if transceiver.sender.track is track:
                return transceiver
        return None

    async def renegotiate(self) -> None:
        """A new offer for the media as they are now (answered, or timed out, on return)."""
        if self._negotiation is not None and self.link is not None and not self._stop.is_set():
            await self._negotiation.renegotiate()

    def _remote_track(self, link: PeerLink | None, track: MediaStreamTrack) -> None:
        """The operator sends media (voice, their screen or camera): to the feature whose
        transceiver it came on (``Feature.carries``); nothing else ever plays or shows it."""
        if link is None or link is not self.link:
            return
        ours = next(
            (t.sender.track for t in link.pc.getTransceivers() if t.receiver.track is track), None
        )
        for feature in self.features.values():
            if ours is not None and feature.carries(ours):
                feature.remote_track(track)
                return
        logger.warning("a %s track from the operator: nothing here takes it", track.kind)
        self.refused[f"{track.kind}_track"] += 1

    def _offer(self, sdp: str, fresh: bool | None = None) -> protocol.Offer:
        """The offer message: its SDP, and the m-lines on which the operator's screen and
        camera are welcome (only those the customer allowed are receiving)."""
        mids: dict[str, str] = {}
        for track, direction in self._media.items():
            transceiver = self.transceiver(track)
            if direction != "recvonly" or transceiver is None or transceiver.mid is None:
                continue
            for feature in self.features.values():
                if feature.carries(track):
                    mids[f"{feature.capability}_mid"] = transceiver.mid
        return protocol.Offer(sdp=sdp, fresh=fresh, **mids)

    # ------------------------------------------------------------------ the session

    async def run(self, code: str) -> Outcome:
        s = self.settings
        self._loop = asyncio.get_running_loop()
        signal = self._signal = SignalClient(s.ws_url)
        try:
            self.ui.status(t("status.connecting_server", server=s.server))
            welcome = await signal.connect()
            del welcome
            self.ui.status(t("status.checking_code"))
            pending = await self._until_stopped(signal.join(code))
            if pending is None:
                return self._finish(EXIT_OK, t("ended.by_you"))
            self.operator = operator_label(pending.operator, pending.organisation)
            self.ui.status(t("status.waiting_accept", operator=self.operator))
            paired = await self._until_stopped(signal.wait_paired())
            if paired is None:
                await signal.send(protocol.Bye(reason="peer_ended"))
                return self._finish(EXIT_OK, t("ended.by_you"))
            return await self._paired(signal, paired)
        except ServerUnreachable as exc:
            return self._finish(EXIT_UNREACHABLE, t(f"unreachable.{exc.why}", detail=exc.detail))
        except CodeRefused as exc:
            return self._finish(
                EXIT_CODE_REFUSED,
                t("ended.code_refused", words=_error_words(exc.code, exc.message)),
            )
        except SessionRefused as exc:
            return self._finish(EXIT_FAILED, _bye_words(exc.reason))
        finally:
            await self._teardown()

    def _build_features(self, mode: str) -> None:
        s = self.settings
        install(s.encoder_tuning())
        # no X connection and no grab until the customer allows viewing (the gate opens)
        track = ScreenTrack(
            monitor=s.monitor,
            fps=s.fps,
            idle_refresh=s.idle_refresh,
            grabber=default_grabber(self._display),
            display=self._display,
        )
        if mode == "screen":  # in a call the screen is added once the customer allows it
            self._media[track] = "sendonly"
        features = make_features(self, s, mode, track=track, injector=self._injector)
        self.features = {f.capability: f for f in features}
        for feature in features:
            for kind in feature.handles:
                self._by_type[kind] = feature
            for label in feature.reads_raw:
                self._raw[label] = feature

    def _make_link(self) -> PeerLink:
        link: PeerLink | None = None

        def on_state(state: str) -> None:
            if link is self.link:  # a replaced connection's last words are not news
                self._connection_state(state)

        link = PeerLink(
            self._ice_servers,
            track=None,
            codec=self.settings.codec,
            on_message=self._message,
            on_state=on_state,
            on_raw=self._raw_frame,
            raw=frozenset(self._raw),
            on_channel_closed=self._channel_closed,
            on_track=lambda track: self._remote_track(link, track),
            certificate=self._certificate,
        )
        for track, direction in self._media.items():
            link.add_track(track, direction)
        return link

    async def _signal_send(self, msg: Any) -> None:
        if self._signal is not None:
            await self._signal.send(msg)

    async def _paired(self, signal: SignalClient, paired: protocol.Paired) -> Outcome:
        self.operator = operator_label(paired.operator, paired.organisation)
        self.ui.status(t("status.paired", operator=self.operator))
        self._ice_servers = paired.ice_servers
        if paired.resume is not None and paired.resume_within:
            self._resume = (paired.session_id, paired.resume, paired.resume_within)
        self._build_features(paired.mode)
        self.link = self._make_link()
        # first on the control channel: what this peer can do in this session
        self.send("control", protocol.Capabilities(supported=tuple(self.features)))
        for feature in self.features.values():
            feature.start()
        self._apply(self.consent.paired(paired.mode, tuple(self.features)))
        self.ui.status(t("status.connecting_operator"))
        self._negotiation = Negotiation(self.link, lambda sdp: self._signal_send(self._offer(sdp)))
        sdp = await self._negotiation.offer()
        turn = any(u.startswith("turn") for server in paired.ice_servers for u in server.urls)
        if turn and " typ relay " not in sdp:
            self.ui.notice(t("notice.no_relay"))
        self.start(self._connect_deadline())
        while True:
            current = self._signal
            assert current is not None
            msg = await self._until_stopped(current.recv())
            if self._stop.is_set():
                await self._signal_send(protocol.Bye(reason=self._stop_reason))
                if self._identity_changed:
                    return self._finish(EXIT_FAILED, t("ended.identity_changed"))
                if self._stop_reason == "peer_ended":
                    return self._finish(EXIT_OK, t("ended.by_you"))
                return self._finish(EXIT_FAILED, t("ended.connection_failed"))
            if msg is None:
                if self._resume is None:
                    return self._finish(EXIT_FAILED, t("ended.server_closed"))
                ended = await self._resume_signaling()
                if ended is not None:
                    return ended
                continue
            if isinstance(msg, protocol.Answer):
                await self._answered(msg.sdp)
            elif isinstance(msg, protocol.Candidate):
                if self.link is not None:
                    await self.link.add_candidate(msg)
            elif isinstance(msg, protocol.Interrupted):
                self._operator_away(msg.resume_within)
            elif isinstance(msg, protocol.Resumed):
                self._both_back(msg.ice_servers)
            elif isinstance(msg, protocol.Bye):
                status = EXIT_FAILED if msg.reason == "connection_failed" else EXIT_OK
                return self._finish(status, _bye_words(msg.reason))
            elif isinstance(msg, protocol.Error):
                logger.warning("signaling: server error %s: %s", msg.code, msg.message)

    async def _answered(self, sdp: str) -> None:
        negotiation = self._negotiation
        if negotiation is None:
            return
        code = await negotiation.answer(sdp)
        if code is None:
            self.refused["answer"] += 1
        elif self._first_code is None:
            self._first_code = code
            self._verified = True
            self.ui.verification(code)
        elif code != self._first_code:
            # the certificates are kept across a reconnect: another code is another party
            logger.warning("session: the operator's side came back with another certificate")
            self._identity_changed = True
            self._end_consent()
            self._stop_reason = "peer_ended"
            self._stop.set()

    # ------------------------------------------------------------------ reconnecting

    def _operator_away(self, seconds: int) -> None:
        """The server says the operator's socket is lost; it waits ``seconds`` for them.
        Nobody is there to let go of what they hold: every key and button goes up now."""
        self._away = True
        for feature in self.features.values():
            feature.link_lost()
        self.ui.status(t("status.operator_away", operator=self.operator, seconds=seconds))

    def _both_back(self, ice_servers: tuple[protocol.IceServer, ...]) -> None:
        """Both sides are back with the server: a fresh connection, whatever the old one does."""
        self._away = False
        self._ice_servers = ice_servers
        self._lose()
        self.start(self._fresh_link())

    def _lose(self) -> None:
        """The connection is lost (or about to be replaced): reconnect until the deadline."""
        if self._resume is None or self._stop.is_set():
            return
        if self._lost_until is None:
            self._lost_until = time.monotonic() + self._resume[2]
            self._connected = False
            for feature in self.features.values():
                feature.link_lost()
            self.ui.status(t("status.reconnecting", seconds=self._resume[2]))
            self.start(self._watch_recovery())

    async def _watch_recovery(self) -> None:
        """Until connected again: a fresh connection now and then while the server is
        reachable and the operator there; past the deadline, the end."""
        while not self._stop.is_set() and self._lost_until is not None:
            if time.monotonic() >= self._lost_until:
                logger.info("session: not reconnected in time")
                self._end_consent()
                self._stop_reason = "connection_failed"
                self._stop.set()
                return
            signal = self._signal
            ready = signal is not None and not signal.closed and not self._away
            if ready and time.monotonic() - self._relinked_at >= RELINK_EVERY:
                await self._fresh_link()
            await asyncio.sleep(0.5)

    async def _fresh_link(self) -> None:
        """Replace the connection: same certificate, same tracks, channels anew, and what the
        operator must know said again on them; the offer goes out marked fresh."""
        async with self._relink_lock:
            if self._stop.is_set():
                return
            self._relinked_at = time.monotonic()
            old = self.link
            if old is not None:
                old.detach_tracks()  # closing the old connection must not stop the capture
            for feature in self.features.values():
                feature.link_lost()
            link = self.link = self._make_link()
            first = True

            async def send_offer(sdp: str) -> None:
                nonlocal first
                fresh, first = first, False
                await self._signal_send(self._offer(sdp, fresh or None))

            self._negotiation = Negotiation(link, send_offer)
            self.send("control", protocol.Capabilities(supported=tuple(self.features)))
            self.send("control", protocol.ConsentState(granted=self.consent.granted))
            for feature in self.features.values():
                feature.relinked()
            if old is not None:
                await old.close()
            logger.info("session: offering a fresh connection")
            await self._negotiation.offer()

    async def _resume_signaling(self) -> Outcome | None:
        """The signaling socket is gone: a new one, ``resume`` on it, until the deadline.
        ``None`` when back (reading goes on), else how the session ended."""
        assert self._resume is not None
        session_id, secret, within = self._resume
        deadline = time.monotonic() + within
        if self._lost_until is not None:
            deadline = min(deadline, self._lost_until)
        self.ui.status(t("status.reconnecting", seconds=within))
        old, self._signal = self._signal, None
        if old is not None:
            await old.close()
        while not self._stop.is_set() and time.monotonic() < deadline:
            signal = SignalClient(self.settings.ws_url)

            async def attempt(signal: SignalClient = signal) -> Any:
                await signal.connect()
                return await asyncio.wait_for(signal.resume(session_id, secret), 10)

            try:
                # a Disconnect meanwhile ends it at once, not after a connect's timeout
                reply = await self._until_stopped(attempt())
                if reply is None:
                    await signal.close()
                    break
            except SessionRefused as exc:
                await signal.close()
                self._end_consent()
                if exc.reason == "resume_refused":
                    return self._finish(EXIT_FAILED, t("ended.connection_lost"))
                return self._finish(EXIT_FAILED, _bye_words(exc.reason))
            except (ServerUnreachable, CodeRefused, TimeoutError) as exc:
                await signal.close()
                logger.info("signaling: not back yet (%s)", exc)
                await self._until_stopped(asyncio.sleep(2.0))
                continue
            self._signal = signal
            logger.info("signaling: back in the session")
            if isinstance(reply, protocol.Resumed):
                self._both_back(reply.ice_servers)
            else:
                self._operator_away(reply.resume_within)
            return None
        if self._stop.is_set():  # the customer disconnected meanwhile
            return self._finish(EXIT_OK, t("ended.by_you"))
        self._end_consent()
        return self._finish(EXIT_FAILED, t("ended.connection_lost"))

    async def _until_stopped(self, coro: Any) -> Any:
        """``coro``'s result, or ``None`` if the customer disconnects first."""
        task = asyncio.ensure_future(coro)
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if task.done():
            return task.result()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return None

    def _end_consent(self) -> None:
        for action in self.consent.end():  # quietly: the ending line says it all
            if isinstance(action, c.Decided):
                self._carry_out(action.capability, False)

    def _finish(self, status: int, message: str) -> Outcome:
        self._end_consent()
        if self.link is not None:
            for feature in self.features.values():
                line = feature.summary()
                if line:
                    self.ui.notice(line)
        self._outcome = Outcome(status, message)
        self.ui.ended(message)
        return self._outcome

    async def _teardown(self) -> None:
        for feature in self.features.values():
            feature.stop_now()
        for feature in self.features.values():
            try:
                await feature.close()
            except Exception:
                logger.exception("closing %s failed", feature.capability)
        for task in list(self._tasks):
            task.cancel()
        if self.link is not None:
            await self.link.close()
        if self.track is not None:
            self.track.stop()
        if self._signal is not None:
            await self._signal.close()

    # ------------------------------------------------------------------ events

    async def _connect_deadline(self) -> None:
        """Give up when no connection comes up in ``CONNECT_TIMEOUT`` (ICE alone takes about
        a minute to fail once every check is exhausted; the customer should not wait that)."""
        await asyncio.sleep(CONNECT_TIMEOUT)
        if not self._connected and not self._stop.is_set():
            self._connection_state("failed")

    def _connection_state(self, state: str) -> None:
        if state == "connected":
            self._connected = True
            again = self._lost_until is not None
            self._lost_until = None
            self.ui.status(t("status.connected_again") if again else t("status.connected"))
        elif state in ("disconnected", "failed", "closed"):
            for feature in self.features.values():
                feature.link_lost()
        if state == "failed" and self._resume is not None and self._first_code is not None:
            self._lose()  # connected once: try to get it back instead of ending
            return
        if state == "failed":
            self.ui.status(t("status.connection_failed"))
            self._end_consent()
            self._stop_reason = "connection_failed"
            self._stop.set()

    def _channel_closed(self, label: str) -> None:
        for feature in self.features.values():
            feature.link_lost()

    def _message(self, label: str, msg: Any) -> None:
        if isinstance(msg, protocol.ConsentRequest):
            self._apply(self.consent.request(msg.capability))
            return
        if isinstance(msg, protocol.Release):
            self._apply(self.consent.release(msg.capability))
            return
        feature = self._by_type.get(msg.type)
        if feature is None:
            logger.warning("%s from the operator: nothing here handles it", msg.type)
            self.refused[msg.type] += 1
            return
        if not self.consent.allows(feature.capability):
            logger.warning("%s refused: %s not allowed", msg.type, feature.capability)
            self.refused[msg.type] += 1
            feature.refused()
            if self.link is not None:
                self.link.tell(
                    label, "not_allowed", f"the customer has not allowed {feature.capability}"
                )
            return
        feature.handle(msg)

    def _raw_frame(self, label: str, data: str | bytes) -> None:
        self._raw[label].frame(label, data)

    def _carry_out(self, capability: str, allowed: bool) -> bool:
        """Tell the feature; ``False`` if it cannot work on this computer."""
        feature = self.features.get(capability)
        if feature is None:
            return not allowed
        if allowed == feature.allowed and not allowed:
            return True
        return feature.set_allowed(allowed)

    def _apply(self, actions: list[c.Action]) -> None:
        unavailable: list[str] = []  # granted, but this computer cannot do it: taken back
        for action in actions:
            if isinstance(action, c.Ask):
                self.ui.ask(action.capability, self.operator)
            elif isinstance(action, c.Decided):
                self.ui.decided(action.capability, action.allowed, action.why)
                if not self._carry_out(action.capability, action.allowed):
                    unavailable.append(action.capability)
            elif isinstance(action, c.Reply):
                self.send(
                    "control",
                    protocol.ConsentReply(capability=action.capability, allowed=action.allowed),
                )
            elif isinstance(action, c.State):
                self.send("control", protocol.ConsentState(granted=action.granted))
                self._report_granted(action.granted)
                if action.granted != self._shown_granted:
                    self._shown_granted = action.granted
                    self.ui.granted(action.granted)

        for capability in unavailable:
            self.ui.notice(t("notice.not_on_this_computer", capability=capability_name(capability)))
            self._apply(self.consent.revoke(capability))
