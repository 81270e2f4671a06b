"""The two signaling WebSockets: ``/ws/operator`` and ``/ws/peer``.

A thin adapter around ``signaling.pairing``: each frame is parsed with ``wire.protocol``,
handed to the pairing table, and the effects it returns are carried out here (send, close,
audit). Malformed frames get an ``error`` and are otherwise ignored; after
``max_bad_frames`` of them the socket is closed with 1008. Frames over
``protocol.MAX_SIGNAL_BYTES`` close the socket with 1009 (aiohttp does this).
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
from collections.abc import Iterable

from aiohttp import WSCloseCode, WSMsgType, web

from signaling.pairing import (
    Close,
    ConnId,
    Effect,
    Ended,
    Granted,
    PairingError,
    Role,
    Send,
    Started,
)
from signaling.state import (
    STATE,
    ServerState,
    client_address,
    current_login,
    json_error,
    same_origin,
)
from wire import protocol

logger = logging.getLogger(__name__)


def retry_seconds(wait: float) -> int:
    """A wait as the whole seconds told to clients (``Retry-After``, ``retry_after``)."""
    return min(86400, max(1, math.ceil(wait)))


def retry_message(wait: float) -> str:
    return f"too many attempts, retry in {retry_seconds(wait)} s"


async def operator_socket(request: web.Request) -> web.StreamResponse:
    """``GET /ws/operator``: needs the login cookie and, if sent, our own ``Origin``."""
    state = request.app[STATE]
    if not same_origin(request):
        raise json_error(403, "bad_origin", "the request came from another site")
    login = current_login(request)
    if login is None:
        raise json_error(401, "not_authenticated", "log in first")
    operator, digest = login
    return await _serve(request, state, "operator", operator, digest)


async def peer_socket(request: web.Request) -> web.StreamResponse:
    """``GET /ws/peer``: open to all, refused (429) while the client is over the guess limit."""
    state = request.app[STATE]
    address = client_address(request)
    wait = state.guesses.wait(address, state.monotonic())
    if wait > 0:
        raise json_error(429, "rate_limited", retry_message(wait), retry_after=retry_seconds(wait))
    return await _serve(request, state, "peer", address)


async def _serve(
    request: web.Request, state: ServerState, role: Role, name: str, login: str | None = None
) -> web.StreamResponse:
    settings = state.settings
    if state.shutting_down or state.pairing.connections >= settings.max_connections:
        raise json_error(503, "server_busy", "the server cannot take more connections now")
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat, max_msg_size=protocol.MAX_SIGNAL_BYTES)
    if not ws.can_prepare(request).ok:
        raise json_error(400, "bad_request", "this endpoint takes a WebSocket upgrade")
    await ws.prepare(request)
    conn = next(state.conn_ids)
    state.sockets[conn] = ws
    if login is not None:
        state.logins_of[conn] = login
    shown = state.db.display_name(name) if role == "operator" else ""
    state.pairing.connect(conn, role, name, shown)
    logger.info("%s socket %d: new -> open", role, conn)
    bad = 0
    broke_rules = False
    try:
        async for frame in ws:
            if frame.type is WSMsgType.TEXT:
                ok = await _on_text(state, conn, role, name, frame.data)
            elif frame.type is WSMsgType.BINARY:
                await _send(ws, protocol.Error(code="bad_json", message="send text frames only"))
                ok = False
            else:  # ERROR: too large, or a broken connection; aiohttp has closed it
                exc = ws.exception()
                logger.info("%s socket %d: %s", role, conn, exc)
                too_big = getattr(exc, "code", None) == WSCloseCode.MESSAGE_TOO_BIG
                broke_rules = broke_rules or too_big
                break
            if not ok:
                bad += 1
                if bad >= settings.max_bad_frames:
                    broke_rules = True
                    await ws.close(
                        code=WSCloseCode.POLICY_VIOLATION, message=b"too many bad frames"
                    )
                    break
    finally:
        state.sockets.pop(conn, None)
        state.logins_of.pop(conn, None)
        # closed for breaking the rules (bad frames, too big, logged out): no coming back
        resumable = not broke_rules and ws.close_code != WSCloseCode.POLICY_VIOLATION
        effects = state.pairing.disconnect(conn, state.clock(), resumable=resumable)
        state.wakeup.set()  # a paired session may now wait for its member: a new deadline
        logger.info("%s socket %d: open -> closed (%s)", role, conn, ws.close_code)
        await run_effects(state, effects)
    return ws


async def _on_text(state: ServerState, conn: ConnId, role: Role, name: str, text: str) -> bool:
    """Handle one text frame; false when it was a bad frame."""
    ws = state.sockets[conn]
    login = state.logins_of.get(conn)
    if login is not None and state.db.web_session_operator(login, state.clock()) != name:
        # logged out, password changed, operator removed, or the login expired
        await _send(ws, protocol.Error(code="not_authenticated", message="log in again"))
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"login ended")
        return True
    try:
        msg = protocol.parse(text)
    except protocol.ProtocolError as exc:
        await _send(ws, protocol.Error(code=exc.code, message=exc.message[:500]))
        return False
    if role == "peer" and isinstance(msg, protocol.Join):
        wait = state.guesses.wait(name, state.monotonic())
        if wait > 0:
            await _send(
                ws,
                protocol.Error(
                    code="rate_limited",
                    message=retry_message(wait),
                    retry_after=retry_seconds(wait),
                ),
            )
            return True
    try:
        effects = state.pairing.receive(conn, msg, state.clock())
    except PairingError as exc:
        if exc.failed_guess:
            state.guesses.failed(name, state.monotonic())
        await _send(ws, protocol.Error(code=exc.code, message=exc.message[:500]))
        return exc.failed_guess  # wrong codes are limited by the guess limiter instead
    if isinstance(msg, protocol.CreateSession):
        state.wakeup.set()
    await run_effects(state, effects)
    return True


async def _send(ws: web.WebSocketResponse, msg: object) -> None:
    if ws.closed:
        return
    try:
        await ws.send_str(protocol.serialize(msg))
    except (ConnectionError, RuntimeError) as exc:  # the other end went away meanwhile
        logger.debug("send failed: %s", exc)


async def _close(ws: web.WebSocketResponse, code: int) -> None:
    try:
        await ws.close(code=code)
    except (ConnectionError, RuntimeError) as exc:  # pragma: no cover - racing a drop
        logger.debug("close failed: %s", exc)


async def run_effects(state: ServerState, effects: Iterable[Effect]) -> None:
    """Carry out what the pairing table decided."""
    for effect in effects:
        if isinstance(effect, Send):
            ws = state.sockets.get(effect.conn)
            if ws is not None:
                await _send(ws, effect.message)
        elif isinstance(effect, Close):
            ws = state.sockets.get(effect.conn)
            if ws is not None:
                _close_soon(state, ws, effect.code)
        elif isinstance(effect, Started | Granted | Ended):
            _audit(state, effect)


def _audit(state: ServerState, effect: Started | Granted | Ended) -> None:
    store = state.store
    if store is None:
        logger.warning("audit record of session %s lost: the store is closed", effect.session_id)
        return
    try:
        if isinstance(effect, Started):
            store.session_started(
                effect.session_id,
                operator=effect.operator,
                mode=effect.mode,
                host=effect.host,
                user=effect.user,
                os=effect.os,
                started_at=effect.started_at,
            )
        elif isinstance(effect, Granted):
            store.session_granted(effect.session_id, effect.capabilities)
        elif effect.started:
            store.session_ended(effect.session_id, effect.ended_at, effect.reason)
    except sqlite3.Error:
        logger.exception("audit record of session %s could not be written", effect.session_id)


async def wait_closing(state: ServerState) -> None:
    """Wait for the background closes started so far."""
    if state.closing:
        await asyncio.gather(*list(state.closing), return_exceptions=True)


def close_login(state: ServerState, login: str) -> None:
    """Close the operator sockets opened with ``login`` (a logout)."""
    for conn, digest in list(state.logins_of.items()):
        ws = state.sockets.get(conn)
        if digest == login and ws is not None:
            _close_soon(state, ws, WSCloseCode.POLICY_VIOLATION)


def _close_soon(state: ServerState, ws: web.WebSocketResponse, code: int) -> None:
    """Close ``ws`` in the background, so one slow client cannot stall another."""
    if ws.closed:
        return
    task = asyncio.create_task(_close(ws, code))
    state.closing.add(task)
    task.add_done_callback(state.closing.discard)
