"""The peer's side of the signaling WebSocket (``/ws/peer``), speaking ``wire.protocol``.

    hello -> welcome -> join{code, host, user, os} -> join_pending -> paired
    -> offer -> answer / candidate ... -> bye

    after a lost socket, on a new one:  hello -> welcome -> resume -> interrupted | resumed

Errors (all ``PeerError``)::

    PeerError(Exception)
     +-- ServerUnreachable(PeerError, ConnectionError)   no connection, or it broke early
     +-- CodeRefused(PeerError, ValueError)              unknown/expired/used code, rate limit
     +-- SessionRefused(PeerError)                       bye before paired (rejected, ...)
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import platform
import socket
from typing import Any

import aiohttp

from wire import protocol

logger = logging.getLogger(__name__)

AGENT = "supportlink-peer/0.1"
CONNECT_TIMEOUT = 10.0
#: Error codes that mean "this code will not work" (the server's words are shown as they are).
CODE_ERRORS = frozenset({"unknown_code", "expired_code", "used_code", "rate_limited"})


class PeerError(Exception):
    """Something ended the peer's session before or while it ran."""


class ServerUnreachable(PeerError, ConnectionError):
    """``why`` says what went wrong as a token the UI puts in words (``unreachable.<why>``);
    ``detail`` is the technical part (a status, an exception) shown as it is."""

    def __init__(self, why: str, detail: str = "") -> None:
        super().__init__(f"{why}: {detail}" if detail else why)
        self.why = why
        self.detail = detail


class CodeRefused(PeerError, ValueError):
    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


class SessionRefused(PeerError):
    def __init__(self, reason: str) -> None:
        super().__init__(protocol.BYE_REASONS.get(reason, reason))
        self.reason = reason


def describe_host() -> tuple[str, str, str]:
    """(host, user, os) as the operator is shown them, trimmed to the protocol's limits."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    os_name = f"{platform.system()} {platform.release()}".strip() or "unknown"
    return (socket.gethostname()[:128] or "unknown", user[:128], os_name[:128])


class SignalClient:
    """One WebSocket to the server; ``recv()`` yields parsed messages, ``None`` once closed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.bad_frames = 0
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def connect(self) -> protocol.Welcome:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        try:
            self._ws = await asyncio.wait_for(
                self._http.ws_connect(
                    self.url, heartbeat=15.0, max_msg_size=protocol.MAX_SIGNAL_BYTES
                ),
                CONNECT_TIMEOUT,
            )
        except aiohttp.WSServerHandshakeError as exc:
            await self.close()
            if exc.status == 429:
                raise CodeRefused(
                    "rate_limited", "too many attempts from here; wait a while and retry"
                ) from None
            raise ServerUnreachable("refused", str(exc.status)) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self.close()
            raise ServerUnreachable("unreachable", str(exc or type(exc).__name__)) from None
        await self.send(
            protocol.Hello(role="peer", protocol=protocol.PROTOCOL_VERSION, agent=AGENT)
        )
        msg = await self.recv()
        if not isinstance(msg, protocol.Welcome):
            await self.close()
            raise ServerUnreachable("no_welcome", _kind(msg))
        logger.info("signaling: connected")
        return msg

    async def join(self, code: str) -> protocol.JoinPending:
        """Claim ``code``; raises ``CodeRefused`` with the server's words if it is refused."""
        host, user, os_name = describe_host()
        await self.send(protocol.Join(code=code, host=host, user=user, os=os_name))
        while True:
            msg = await self.recv()
            if isinstance(msg, protocol.JoinPending):
                return msg
            if isinstance(msg, protocol.Error):
                if msg.code in CODE_ERRORS:
                    raise CodeRefused(msg.code, msg.message, msg.retry_after)
                logger.warning("signaling: server error %s: %s", msg.code, msg.message)
                continue
            if isinstance(msg, protocol.Bye):
                raise SessionRefused(msg.reason)
            if msg is None:
                raise ServerUnreachable("closed")
            logger.debug("signaling: ignored %s while joining", _kind(msg))

    async def wait_paired(self) -> protocol.Paired:
        """Wait while the operator decides; ``SessionRefused`` if they reject us."""
        while True:
            msg = await self.recv()
            if isinstance(msg, protocol.Paired):
                return msg
            if isinstance(msg, protocol.Bye):
                raise SessionRefused(msg.reason)
            if msg is None:
                raise ServerUnreachable("closed")
            if isinstance(msg, protocol.Error):
                logger.warning("signaling: server error %s: %s", msg.code, msg.message)
            else:
                logger.debug("signaling: ignored %s while waiting", _kind(msg))

    async def resume(self, session_id: str, token: str) -> protocol.Interrupted | protocol.Resumed:
        """Take our place again in a paired session after a lost socket; ``Resumed`` when the
        operator is there too, ``Interrupted`` while they are away. ``SessionRefused`` if the
        session is over."""
        await self.send(protocol.Resume(session_id=session_id, token=token))
        while True:
            msg = await self.recv()
            if isinstance(msg, protocol.Interrupted | protocol.Resumed):
                return msg
            if isinstance(msg, protocol.Error):
                raise SessionRefused("resume_refused")  # the session is over: too late
            if isinstance(msg, protocol.Bye):
                raise SessionRefused(msg.reason)
            if msg is None:
                raise ServerUnreachable("closed")
            logger.debug("signaling: ignored %s while resuming", _kind(msg))

    @property
    def closed(self) -> bool:
        return self._ws is None or self._ws.closed

    async def send(self, msg: Any) -> None:
        if self._ws is None or self._ws.closed:
            return
        try:
            await self._ws.send_str(protocol.serialize(msg))
        except (ConnectionError, aiohttp.ClientError) as exc:
            logger.info("signaling: send failed: %s", exc)

    async def recv(self) -> Any:
        """The next well-formed message, or ``None`` when the socket is closed."""
        while self._ws is not None:
            frame = await self._ws.receive()
            if frame.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.ERROR,
            ):
                return None
            if frame.type != aiohttp.WSMsgType.TEXT:
                self.bad_frames += 1
                continue
            try:
                return protocol.parse(frame.data, protocol.SIGNALING)
            except protocol.ProtocolError as exc:
                self.bad_frames += 1
                logger.warning("signaling: dropped a bad frame from the server (%s)", exc.code)
        return None

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            await ws.close()
        http, self._http = self._http, None
        if http is not None:
            await http.close()


def _kind(msg: Any) -> str:
    return "nothing" if msg is None else str(getattr(msg, "type", type(msg).__name__))
