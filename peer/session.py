"""One customer session from code to goodbye: signaling + connection + consent + screen,
remote control, one-window mode and clipboard.

The user interface (headless printer or Tk window) implements ``PeerUI`` and calls back into
``PeerSession`` (``answer``, ``revoke``, ``disconnect``, ``limit_to_window``,
``share_whole_screen``) on the session's event loop.

What the customer allowed drives everything else (``Consent`` decides, this module carries
out): ``view`` opens the capture gate and starts ``View``; ``control`` lets the ``input``
channel reach the ``Injector`` (``RemoteControl``); ``clipboard`` starts watching the
customer's clipboard and lets the operator's text in. Taking ``control`` back -- the Stop
button, the hotkey (``hotkey.LABEL``), the operator's ``release`` -- releases every key and
button held for the operator at once, as do disconnecting, a failed or closed connection and
a closed data channel.

``run()`` returns an ``Outcome``: the exit status (0 ended normally, 1 failed after the code
was accepted, 2 code refused, 3 server unreachable) and the words that say why.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from signaling import protocol

from . import consent as c
from .capture import ScreenTrack, default_grabber
from .clipboard import XClipboard
from .connection import PeerLink
from .encoder import install
from .hotkey import GlobalHotkey, HotkeyError
from .remote import InjectorLike, RemoteControl, default_injector
from .settings import PeerSettings
from .signal import CodeRefused, ServerUnreachable, SessionRefused, SignalClient
from .view import View
from .windows import WindowInfo

logger = logging.getLogger(__name__)

#: Seconds from the offer to a working connection before the peer gives up.
CONNECT_TIMEOUT = 30.0

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

    def view_mode(self, window: str | None) -> None:
        """Window mode started (the title) or ended (``None``)."""
        ...


@dataclass(frozen=True)
class Outcome:
    exit_status: int
    message: str


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
        self.track: ScreenTrack | None = None
        self.link: PeerLink | None = None
        self.remote = RemoteControl(injector)
        self.view: View | None = None
        self.clipboard: XClipboard | None = None
        self.hotkey: GlobalHotkey | None = None
        self.clipboard_counts: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self.operator = "the operator"
        self._display = display
        self._signal: SignalClient | None = None
        self._stop = asyncio.Event()
        self._stop_reason = "peer_ended"
        self._connected = False
        self._outcome: Outcome | None = None

    # ------------------------------------------------------------------ from the UI

    def disconnect(self) -> None:
        """The customer ends everything (button, SIGINT, SIGTERM)."""
        if not self._stop.is_set():
            logger.info("session: customer disconnects")
            if self.track is not None:
                self.track.close_gate()  # capture stops before anything else happens
            self.remote.allow(False)  # and every key and button held is let go
            self._stop.set()

    def answer(self, capability: str, allowed: bool) -> None:
        self._apply(self.consent.answer(capability, allowed))

    def revoke(self, capability: str) -> None:
        self._apply(self.consent.revoke(capability))

    def limit_to_window(self, wid: int, title: str) -> None:
        """The customer picked the one window to share."""
        if self.view is not None:
            self.view.limit_to_window(wid, title)

    def share_whole_screen(self) -> None:
        """The customer ends window mode."""
        if self.view is not None:
            self.view.share_whole_screen()

    def windows(self) -> list[WindowInfo]:
        """The windows the customer may limit the session to."""
        return [] if self.view is None else self.view.windows()

    def offer_window_choice(self) -> None:
        """Show the customer the window picker (GUI)."""
        if self.view is None:
            return
        try:
            windows = self.view.windows()
        except Exception as exc:  # no X display
            logger.warning("window list: %s", exc)
            windows = []
        self.ui.pick_window(windows)

    # ------------------------------------------------------------------ the session

    async def run(self, code: str) -> Outcome:
        s = self.settings
        self._loop = asyncio.get_running_loop()
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
                display=self._display,
            )
        self.link = PeerLink(
            paired.ice_servers,
            track=self.track,
            codec=s.codec,
            on_control=self._control,
            on_channel_open=lambda: self._apply(self.consent.channel_open()),
            on_state=self._connection_state,
            on_input=self.remote.handle_text,
            on_channel_closed=self._channel_closed,
        )
        if self.track is not None:
            self.view = View(
                self.track,
                self.remote,
                display=self._display,
                send=self._send,
                notice=self.ui.notice,
                on_mode=self.ui.view_mode,
            )
            if s.window is not None:  # before any grab: never the whole screen
                self.view.limit_to_title(s.window)
        self._start_hotkey()
        self._apply(self.consent.paired(paired.mode))
        self.ui.status("connecting to the operator")
        sdp = await self.link.offer()
        turn = any(u.startswith("turn") for server in paired.ice_servers for u in server.urls)
        if turn and " typ relay " not in sdp:
            self.ui.notice(
                "network: the TURN relay gave no address (unreachable, or it refused the "
                "credentials); only a direct connection can work"
            )
        await signal.send(protocol.Offer(sdp=sdp))
        self._start(self._connect_deadline())
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
                status = EXIT_FAILED if msg.reason == "connection_failed" else EXIT_OK
                return self._finish(status, protocol.BYE_REASONS.get(msg.reason, msg.reason))
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
        self.remote.allow(False)
        if self.link is not None:
            self.ui.notice(f"input: {self.remote.summary()}")
            counts = self.clipboard_counts
            if counts:
                self.ui.notice(
                    f"clipboard: sent {counts['sent']}, received {counts['received']}, "
                    f"dropped {counts['dropped']}"
                )
        self._outcome = Outcome(status, message)
        self.ui.ended(message)
        return self._outcome

    async def _teardown(self) -> None:
        if self.track is not None:
            self.track.close_gate()
        await self.remote.close()
        if self.hotkey is not None:
            self.hotkey.close()
        if self.clipboard is not None:
            self.clipboard.close()
        if self.view is not None:
            await self.view.close()
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
            self.ui.status("connected")
        elif state in ("disconnected", "failed", "closed"):
            self.remote.release()  # nobody can send the key-ups now
        if state == "failed":
            self.ui.status("the connection to the operator failed")
            self._stop_reason = "connection_failed"
            self._stop.set()

    def _channel_closed(self, label: str) -> None:
        self.remote.release()

    def _control(self, msg: Any) -> None:
        if isinstance(msg, protocol.ConsentRequest):
            self._apply(self.consent.request(msg.capability))
        elif isinstance(msg, protocol.Release):
            self._apply(self.consent.release(msg.capability))
        elif isinstance(msg, protocol.SelectMonitor):
            if self.view is None or not self.consent.allows("view"):
                logger.warning("select_monitor %d refused: view not allowed", msg.index)
                self.refused["select_monitor"] += 1
            elif not self.view.select_monitor(msg.index):
                self.refused["select_monitor"] += 1
        elif isinstance(msg, protocol.LimitRequest):
            self._limit_request()
        elif isinstance(msg, protocol.Clipboard):
            self._clipboard_in(msg.text)

    def _limit_request(self) -> None:
        if self.view is None or not self.consent.allows("view"):
            logger.warning("limit_request refused: view not allowed")
            self.refused["limit_request"] += 1
        elif self.settings.headless:
            if self.settings.window is None:
                self.ui.notice("limit to one application: not available in headless mode")
            else:
                logger.info("limit_request: already limited by --window")
        else:
            self.offer_window_choice()

    # ------------------------------------------------------------------ clipboard

    def _clipboard_in(self, text: str) -> None:
        if not self.consent.allows("clipboard") or self.clipboard is None:
            logger.warning("clipboard from the operator dropped: not allowed")
            self.clipboard_counts["dropped"] += 1
            return
        self.clipboard.set_text(text)
        self.clipboard_counts["received"] += 1
        self.ui.notice(f"clipboard: received {len(text)} characters")

    def _clipboard_changed(self, text: str) -> None:
        """On the loop: the customer's clipboard holds new text."""
        if not self.consent.allows("clipboard"):
            self.clipboard_counts["dropped"] += 1
            return
        text = protocol.clean_text(text)[: protocol.MAX_CLIPBOARD_CHARS]
        self._send(protocol.Clipboard(text=text))
        self.clipboard_counts["sent"] += 1
        self.ui.notice(f"clipboard: sent {len(text)} characters")

    def _clipboard_allowed(self, allowed: bool) -> bool:
        if allowed and self.clipboard is None:
            loop = self._loop
            if loop is None:
                return False

            def changed(text: str) -> None:  # on the clipboard thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._clipboard_changed, text)

            clipboard = XClipboard(self._display, changed, max_chars=protocol.MAX_CLIPBOARD_CHARS)
            try:
                clipboard.start()
            except Exception as exc:
                logger.warning("clipboard: not available here: %s", exc)
                return False
            self.clipboard = clipboard
        if self.clipboard is not None:
            self.clipboard.watch(allowed)
        return True

    # ------------------------------------------------------------------ control

    def _start_hotkey(self) -> None:
        loop = self._loop
        if loop is None:
            return

        def pressed() -> None:  # on the hotkey thread
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._hotkey_pressed)

        hotkey = GlobalHotkey(self._display, pressed)
        try:
            hotkey.start()
        except HotkeyError as exc:
            logger.warning("hotkey %s: %s", hotkey.label, exc)
            return
        self.hotkey = hotkey
        self.ui.hotkey(hotkey.label)

    def _hotkey_pressed(self) -> None:
        if self.consent.allows("control"):
            logger.info("control: taken back with the hotkey")
            self.revoke("control")

    def _control_allowed(self, allowed: bool) -> bool:
        """Carry out a decision about ``control``; ``False`` if it cannot work here."""
        was = self.remote.allowed
        if allowed:
            if not self.remote.allow(True):
                return False
            if self.hotkey is not None:
                self.ui.notice(f"control: press {self.hotkey.label} to take back control")
        else:
            self.remote.allow(False)
            if was:
                self.ui.notice("control: revoked")
        return True

    def _start(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _apply(self, actions: list[c.Action]) -> None:
        unavailable: list[str] = []  # granted, but this computer cannot do it: taken back
        for action in actions:
            if isinstance(action, c.Ask):
                self.ui.ask(action.capability, self.operator)
            elif isinstance(action, c.Decided):
                self.ui.decided(action.capability, action.allowed, action.why)
                if action.capability == "control" and not self._control_allowed(action.allowed):
                    unavailable.append("control")
                elif action.capability == "clipboard" and not self._clipboard_allowed(
                    action.allowed
                ):
                    unavailable.append("clipboard")
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
                if self.view is not None:
                    self._start(self.view.start())
            elif isinstance(action, c.StopView):
                if self.track is not None:
                    self.track.close_gate()
                if self.view is not None:
                    self.view.pause()

        for capability in unavailable:
            self.ui.notice(f"{capability}: not available on this computer")
            self._apply(self.consent.revoke(capability))

    def _send(self, msg: Any) -> None:
        if self.link is not None:
            self.link.send_control(msg)
