"""The aiohttp application: console files, login, health check and the signaling sockets.

``create_app(settings)`` builds everything from a ``ServerSettings``; the store is opened at
start-up and closed at clean-up, a background task ends sessions whose code expired, and at
shutdown every open socket gets ``bye{server_shutdown}``. Every response carries the security
headers of ARCHITECTURE.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from signaling import ws
from signaling.codes import CodeRegistry
from signaling.pairing import Pairing, Role
from signaling.passwords import MAX_PASSWORD_CHARS, hash_password, verify_password
from signaling.ratelimit import GuessLimiter, LoginLimiter, Rate
from signaling.settings import ServerSettings
from signaling.state import (
    COOKIE_NAME,
    STATE,
    ServerState,
    client_address,
    current_operator,
    is_tls,
    json_error,
    same_origin,
    token_digest,
)
from signaling.store import Store
from turn.credentials import ice_servers
from wire import protocol

logger = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
#: Console files the server hands out; anything else under ``webui/`` stays private.
STATIC_SUFFIXES = frozenset(
    {".html", ".js", ".mjs", ".css", ".svg", ".png", ".ico", ".json", ".woff2", ".txt"}
)
MAX_NAME = 128

try:
    VERSION = importlib.metadata.version("supportlink")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
    VERSION = "0+unknown"


def create_app(settings: ServerSettings) -> web.Application:
    """The signaling server and console for ``settings``."""
    codes = CodeRegistry(settings.code_ttl)

    def ice(session_id: str, role: Role, now: float) -> tuple[protocol.IceServer, ...]:
        user = f"{session_id}-{role}"
        return ice_servers(settings.turn_urls, settings.turn_secret, user, now, settings.turn_ttl)

    state = ServerState(
        settings=settings,
        codes=codes,
        pairing=Pairing(
            codes,
            code_ttl=settings.code_ttl,
            max_sessions=settings.max_sessions,
            ice_servers=ice,
        ),
        guesses=GuessLimiter(
            per_client=Rate(settings.guess_burst, settings.guess_per_second),
            overall=Rate(settings.guess_overall_burst, settings.guess_overall_per_second),
        ),
        logins=LoginLimiter(
            per_client=Rate(settings.login_burst, settings.login_per_second),
            per_user=Rate(settings.login_user_burst, settings.login_user_per_second),
        ),
    )
    app = web.Application(client_max_size=64 * 1024)
    app[STATE] = state
    app.on_response_prepare.append(_security_headers)
    app.cleanup_ctx.append(_storage)
    app.cleanup_ctx.append(_expiry)
    app.on_shutdown.append(_shutdown)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_get("/ws/operator", ws.operator_socket)
    app.router.add_get("/ws/peer", ws.peer_socket)
    app.router.add_get("/", console_file)
    app.router.add_get("/{path:.+}", console_file)
    return app


# --------------------------------------------------------------------------- lifecycle


async def _storage(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    state.store = Store(state.settings.data_dir)
    # verified for unknown user names, so they take as long as known ones from the first one on
    cost = state.settings.password_cost
    state.dummy_hash = await asyncio.get_running_loop().run_in_executor(
        None, lambda: hash_password(secrets.token_hex(8), n=cost)
    )
    closed = state.store.close_open_sessions(state.clock(), "server_restart")
    if closed:
        logger.warning("%d session(s) left open by an earlier run were closed", closed)
    try:
        yield
    finally:
        state.store.close()
        state.store = None


async def _expiry(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_expiry_loop(app[STATE]), name="supportlink-expiry")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _expiry_loop(state: ServerState) -> None:
    """Sleep until the next code runs out, end its session; purge old logins now and then."""
    last_purge = 0.0
    while True:
        deadline = state.codes.next_deadline()
        now = state.clock()
        delay = 60.0 if deadline is None else min(60.0, max(0.02, deadline - now))
        state.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.wakeup.wait(), delay)
        now = state.clock()
        try:
            await ws.run_effects(state, state.pairing.expire(now))
            if now - last_purge > 600 and state.store is not None:
                state.store.purge_web_sessions(now)
                last_purge = now
        except Exception:  # pragma: no cover - keep expiring whatever happened
            logger.exception("expiry pass failed")


async def _shutdown(app: web.Application) -> None:
    state = app[STATE]
    state.shutting_down = True
    await ws.run_effects(state, state.pairing.shutdown(state.clock()))
    await ws.wait_closing(state)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if request.path.startswith("/api/"):
        headers["Cache-Control"] = "no-store"
    if is_tls(request):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")


# --------------------------------------------------------------------------- handlers


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "version": VERSION})


async def console_file(request: web.Request) -> web.StreamResponse:
    """A file of the console; ``/`` is ``index.html``. Only known file types, no dot files."""
    root = request.app[STATE].settings.webui_dir.resolve()
    name = request.match_info.get("path", "") or "index.html"
    parts = Path(name).parts
    if any(part.startswith(".") or part in ("", "..") for part in parts):
        raise web.HTTPNotFound()
    try:
        path = (root / name).resolve()
    except (OSError, ValueError):
        raise web.HTTPNotFound() from None
    if not path.is_relative_to(root) or path.suffix not in STATIC_SUFFIXES or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


async def login(request: web.Request) -> web.Response:
    """``POST /api/login {"username", "password"}``: a session cookie, or why not."""
    state = request.app[STATE]
    if not same_origin(request):
        raise json_error(403, "bad_origin", "the request came from another site")
    try:
        body: Any = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise json_error(400, "bad_request", "the body must be a JSON object") from None
    if not isinstance(body, dict) or set(body) != {"username", "password"}:
        raise json_error(400, "bad_request", "send exactly the fields username and password")
    username, password = body["username"], body["password"]
    if not (isinstance(username, str) and 0 < len(username) <= MAX_NAME):
        raise json_error(400, "bad_request", "username must be a non-empty string")
    if not (isinstance(password, str) and 0 < len(password) <= MAX_PASSWORD_CHARS):
        raise json_error(400, "bad_request", "password must be a non-empty string")
    address = client_address(request)
    wait = state.logins.begin(address, username, state.monotonic())
    if wait > 0:
        raise json_error(
            429, "rate_limited", ws.retry_message(wait), retry_after=ws.retry_seconds(wait)
        )
    if not await _check_password(state, username, password):
        logger.info("login from %s refused", address)
        raise json_error(401, "bad_credentials", "wrong user name or password")
    state.logins.succeeded(address, username, state.monotonic())
    token = secrets.token_urlsafe(32)
    state.db.add_web_session(
        token_digest(token), username, state.clock() + state.settings.login_ttl
    )
    logger.info("operator %s logged in from %s", username, address)
    response = web.json_response({"operator": username})
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(state.settings.login_ttl),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=is_tls(request),
    )
    return response


async def _check_password(state: ServerState, username: str, password: str) -> bool:
    """Verify in the executor (scrypt is slow); unknown names cost as much as known ones."""
    loop = asyncio.get_running_loop()
    async with state.password_gate:
        stored = state.db.password_hash(username)
        if stored is None:
            await loop.run_in_executor(None, verify_password, password, state.dummy_hash or "")
            return False
        return await loop.run_in_executor(None, verify_password, password, stored)


async def logout(request: web.Request) -> web.Response:
    """``POST /api/logout``: forget the web session and clear the cookie."""
    state = request.app[STATE]
    if not same_origin(request):
        raise json_error(403, "bad_origin", "the request came from another site")
    token = request.cookies.get(COOKIE_NAME)
    if token:
        state.db.delete_web_session(token_digest(token))
        ws.close_login(state, token_digest(token))
    response = web.Response(status=204)
    response.del_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="Strict", secure=is_tls(request)
    )
    return response


async def me(request: web.Request) -> web.Response:
    """``GET /api/me``: who is logged in."""
    operator = current_operator(request)
    if operator is None:
        raise json_error(401, "not_authenticated", "log in first")
    return web.json_response({"operator": operator})
