"""One customer session from code to goodbye: signaling + connection + consent + screen.

The user interface (headless printer or Tk window) implements ``PeerUI`` and calls back into
``PeerSession`` (``answer``, ``revoke``, ``disconnect``) on the session's event loop.

``run()`` returns an ``Outcome``: the exit status (0 ended normally, 1 failed after the code
was accepted, 2 code refused, 3 server unreachable) and the words that say why.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from signaling import protocol

from . import consent as c
from .capture import ScreenTrack, default_grabber
from .connection import PeerLink
from .encoder import install
from .settings import PeerSettings
from .signal import CodeRefused, ServerUnreachable, SessionRefused, SignalClient

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_CODE_REFUSED, EXIT_UNREACHABLE = 0, 1, 2, 3


class PeerUI(Protocol):
    def status(self, text: str) -> None: ...

    def ask(self, capability: str, operator: str) -> None: ...

    def decided(self, capability: str, allowed: bool, why: str) -> None: ...

    def granted(self, capabilities: tuple[str, ...]) -> None: ...

    def verification(self, code: str) -> None: ...

    def ended(self, text: str) -> None: ...


@dataclass(frozen=True)
class Outcome:
    exit_status: int
    message: str


class PeerSession:
    def __init__(self, settings: PeerSettings, ui: PeerUI, *, display: str | None = None) -> None:
        self.settings = settings
        self.ui = ui
        self.consent = c.Consent(settings.allow, can_ask=not settings.headless)
        self.track: ScreenTrack | None = None
        self.link: PeerLink | None = None
        self.operator = "the operator"
        self._display = display
        self._signal: SignalClient | None = None
        self._stop = asyncio.Event()
        self._stop_reason = "peer_ended"
        self._outcome: Outcome | None = None

    # ------------------------------------------------------------------ from the UI

    def disconnect(self) -> None:
        """The customer ends everything (button, SIGINT, SIGTERM)."""
        if not self._stop.is_set():
            logger.info("session: customer disconnects")
            if self.track is not None:
                self.track.close_gate()  # capture stops before anything else happens
            self._stop.set()

    def answer(self, capability: str, allowed: bool) -> None:
        self._apply(self.consent.answer(capability, allowed))

    def revoke(self, capability: str) -> None:
        self._apply(self.consent.revoke(capability))

    # ------------------------------------------------------------------ the session

    async def run(self, code: str) -> Outcome:
        s = self.settings
        signal = self._signal = SignalClient(s.ws_url)
        try:
            self.ui.status(f"connecting to {s.server}")
            welcome = await signal.connect()
            del welcome
            self.ui.status("checking the code")
            pending = await self._until_stopped(signal.join(code))
            if pending is None:
                return self._finish(EXIT_OK, "you ended the session")
            self.operator = pending.operator
            self.ui.status(f"waiting for {pending.operator} to accept")
            paired = await self._until_stopped(signal.wait_paired())
            if paired is None:
                await signal.send(protocol.Bye(reason="peer_ended"))
                return self._finish(EXIT_OK, "you ended the session")
            return await self._paired(signal, paired)
        except ServerUnreachable as exc:
            return self._finish(EXIT_UNREACHABLE, str(exc))
        except CodeRefused as exc:
            return self._finish(EXIT_CODE_REFUSED, f"code refused ({exc.code}): {exc.message}")
        except SessionRefused as exc:
            return self._finish(EXIT_FAILED, str(exc))
        finally:
            await self._teardown()

    async def _paired(self, signal: SignalClient, paired: protocol.Paired) -> Outcome:
        s = self.settings
        self.operator = paired.operator
        self.ui.status(f"paired with {paired.operator}")
        if paired.mode == "screen":
            install(s.encoder_tuning())
            self.track = ScreenTrack(
                monitor=s.monitor,
                fps=s.fps,
                idle_refresh=s.idle_refresh,
                grabber=default_grabber(self._display),
            )
        self.link = PeerLink(
            paired.ice_servers,
            track=self.track,
            codec=s.codec,
            on_control=self._control,
            on_channel_open=lambda: self._apply(self.consent.channel_open()),
            on_state=self._connection_state,
        )
        self._apply(self.consent.paired(paired.mode))
        self.ui.status("connecting to the operator")
        sdp = await self.link.offer()
        await signal.send(protocol.Offer(sdp=sdp))
        while True:
            msg = await self._until_stopped(signal.recv())
            if self._stop.is_set():
                await signal.send(protocol.Bye(reason=self._stop_reason))
                if self._stop_reason == "peer_ended":
                    return self._finish(EXIT_OK, "you ended the session")
                return self._finish(EXIT_FAILED, "the connection to the operator failed")
            if msg is None:
                return self._finish(EXIT_FAILED, "the server closed the connection")
            if isinstance(msg, protocol.Answer):
                code = await self.link.accept_answer(msg.sdp)
                self.ui.verification(code)
            elif isinstance(msg, protocol.Candidate):
                await self.link.add_candidate(msg)
            elif isinstance(msg, protocol.Bye):
                return self._finish(EXIT_OK, protocol.BYE_REASONS.get(msg.reason, msg.reason))
            elif isinstance(msg, protocol.Error):
                logger.warning("signaling: server error %s: %s", msg.code, msg.message)

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

    def _finish(self, status: int, message: str) -> Outcome:
        self._apply(self.consent.end())
        self._outcome = Outcome(status, message)
        self.ui.ended(message)
        return self._outcome

    async def _teardown(self) -> None:
        if self.track is not None:
            self.track.close_gate()
        if self.link is not None:
            await self.link.close()
        if self.track is not None:
            self.track.stop()
        if self._signal is not None:
            await self._signal.close()

    # ------------------------------------------------------------------ events

    def _connection_state(self, state: str) -> None:
        if state == "connected":
            self.ui.status("connected")
        elif state == "failed":
            self.ui.status("the connection to the operator failed")
            self._stop_reason = "connection_failed"
            self._stop.set()

    def _control(self, msg: Any) -> None:
        if isinstance(msg, protocol.ConsentRequest):
            self._apply(self.consent.request(msg.capability))
        elif isinstance(msg, protocol.Release):
            self._apply(self.consent.release(msg.capability))
        elif isinstance(msg, protocol.SelectMonitor):
            if self.track is not None and self.consent.allows("view"):
                self.track.select_monitor(msg.index)

    def _apply(self, actions: list[c.Action]) -> None:
        for action in actions:
            if isinstance(action, c.Ask):
                self.ui.ask(action.capability, self.operator)
            elif isinstance(action, c.Decided):
                self.ui.decided(action.capability, action.allowed, action.why)
            elif isinstance(action, c.Reply):
                self._send(
                    protocol.ConsentReply(capability=action.capability, allowed=action.allowed)
                )
            elif isinstance(action, c.State):
                self._send(protocol.ConsentState(granted=action.granted))
                self.ui.granted(action.granted)
            elif isinstance(action, c.StartView):
                if self.track is not None:
                    self.track.open_gate()
            elif isinstance(action, c.StopView):
                if self.track is not None:
                    self.track.close_gate()

    def _send(self, msg: Any) -> None:
        if self.link is not None:
            self.link.send_control(msg)
