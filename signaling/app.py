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
from signaling.codes import CodeError, CodeRegistry
from signaling.downloads import Catalogue, Download
from signaling.pairing import Pairing, Role
from signaling.passwords import MAX_PASSWORD_CHARS, hash_password, verify_password
from signaling.ratelimit import GuessLimiter, LoginLimiter, Rate
from signaling.settings import MAX_SHOWN_NAME, ServerSettings, is_shown_name
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
from wire import binding, protocol

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
CATALOGUE = web.AppKey("catalogue", Catalogue)
#: A file named by its hash never changes: browsers and proxies may keep it for good.
IMMUTABLE = "public, max-age=31536000, immutable"

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
            organisation=settings.organisation,
            resume_within=settings.resume_within,
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
    app[CATALOGUE] = Catalogue(settings.downloads_dir)
    app.on_response_prepare.append(_security_headers)
    app.cleanup_ctx.append(_storage)
    app.cleanup_ctx.append(_expiry)
    app.on_shutdown.append(_shutdown)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_post("/api/me", set_profile)
    app.router.add_get("/api/sessions", sessions_api)
    app.router.add_get("/ws/operator", ws.operator_socket)
    app.router.add_get("/ws/peer", ws.peer_socket)
    app.router.add_get("/join", join_page)
    app.router.add_get("/api/downloads", downloads_api)
    app.router.add_post("/join/download", join_download)
    app.router.add_get("/download/licenses/{name:.+}", licence_file)
    app.router.add_get("/download/{key}/{name}", download_file)
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
        deadlines = [d for d in (state.codes.next_deadline(), state.pairing.next_deadline()) if d]
        deadline = min(deadlines, default=None)
        now = state.clock()
        delay = 60.0 if deadline is None else min(60.0, max(0.02, deadline - now))
        state.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):  # not wait_for: it may swallow a cancel (3.11)
                await state.wakeup.wait()
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


def _profile(state: ServerState, operator: str) -> dict[str, Any]:
    return {
        "operator": operator,
        "display_name": state.db.display_name(operator),
        "organisation": state.settings.organisation,
    }


async def me(request: web.Request) -> web.Response:
    """``GET /api/me``: who is logged in, the name customers see, the organisation."""
    operator = current_operator(request)
    if operator is None:
        raise json_error(401, "not_authenticated", "log in first")
    return web.json_response(_profile(request.app[STATE], operator))


async def set_profile(request: web.Request) -> web.Response:
    """``POST /api/me {"display_name"}``: the name customers see ("" for the login name).

    Open consoles and sessions no customer has joined yet use it at once; a customer who has
    already joined keeps the name they were shown."""
    state = request.app[STATE]
    if not same_origin(request):
        raise json_error(403, "bad_origin", "the request came from another site")
    operator = current_operator(request)
    if operator is None:
        raise json_error(401, "not_authenticated", "log in first")
    try:
        body: Any = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise json_error(400, "bad_request", "the body must be a JSON object") from None
    if not isinstance(body, dict) or set(body) != {"display_name"}:
        raise json_error(400, "bad_request", "send exactly the field display_name")
    shown = body["display_name"]
    if not isinstance(shown, str):
        raise json_error(400, "bad_request", "display_name must be a string")
    shown = shown.strip()
    if shown and not is_shown_name(shown):
        raise json_error(
            400,
            "bad_request",
            f"a display name has 1 to {MAX_SHOWN_NAME} printable characters",
        )
    state.db.set_display_name(operator, shown)
    state.pairing.rename(operator, shown)
    return web.json_response(_profile(state, operator))


#: Most history rows one request returns.
MAX_HISTORY = 200


async def sessions_api(request: web.Request) -> web.Response:
    """``GET /api/sessions?limit=N``: the logged-in operator's own sessions, newest first,
    from the audit: who the customer said they were, when, how it ended, what was allowed."""
    operator = current_operator(request)
    if operator is None:
        raise json_error(401, "not_authenticated", "log in first")
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        raise json_error(400, "bad_request", "limit must be a whole number") from None
    if not 1 <= limit <= MAX_HISTORY:
        raise json_error(400, "bad_request", f"limit must be 1 to {MAX_HISTORY}")
    records = request.app[STATE].db.list_sessions(limit, operator=operator)
    return web.json_response({"sessions": [r.as_json() for r in records]})


# --------------------------------------------------------------------------- customer downloads


def base_url(request: web.Request) -> str:
    """This server's address as the customer's program must use it: ``--public-url``, or the
    scheme and host the browser used. Raises 400 for a host no program could use."""
    settings = request.app[STATE].settings
    url = settings.public_url or f"{'https' if is_tls(request) else 'http'}://{request.host}"
    try:
        binding.check_server(url)
    except binding.BindingError:
        raise web.HTTPBadRequest(text="this server's address is not usable") from None
    return url.rstrip("/")


async def join_page(request: web.Request) -> web.FileResponse:
    """``GET /join``: the customer's page (``webui/join.html``)."""
    root = request.app[STATE].settings.webui_dir.resolve()
    return web.FileResponse(root / "join.html", headers={"Cache-Control": "no-cache"})


def _describe(download: Download, sha256: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "platform": download.platform,
        "href": download.href,
        "filename": download.filename,
        "size": download.size,
        "sha256": sha256,
        "version": download.version,
    }
    if download.glibc:
        out["glibc"] = download.glibc
    return out


async def downloads_api(request: web.Request) -> web.Response:
    """``GET /api/downloads``: what the customer's page offers (no login: customers use it).

    A program's size and SHA-256 are those of the file as ``GET /download/...`` sends it,
    with this server's address appended."""
    catalogue = request.app[CATALOGUE]
    url = base_url(request)
    files = await catalogue.files()
    tail = binding.encode(binding.Binding(server=url))
    programs = [
        {**_describe(d, d.sum_with(tail)), "size": d.size + len(tail)}
        for d in files
        if d.kind == "program"
    ]
    wheels = [_describe(d, d.sha256) for d in files if d.kind == "wheel"]
    return web.json_response(
        {
            "server": binding.display_host(url),
            "url": url,
            "programs": programs,
            "wheel": wheels[0] if wheels else None,
            "licenses": catalogue.has_licences(),
        }
    )


async def download_file(request: web.Request) -> web.StreamResponse:
    """``GET /download/<sha12>/<name>``: a verified file, cacheable for good. A program gets
    this server's address appended (no code), so it opens ready to take one."""
    catalogue = request.app[CATALOGUE]
    download = await catalogue.find(request.match_info["key"], request.match_info["name"])
    if download is None:
        raise web.HTTPNotFound(text="no such download on this server")
    if download.kind != "program":
        return web.FileResponse(
            download.path,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Disposition": f'attachment; filename="{download.filename}"',
                "Cache-Control": IMMUTABLE,
            },
        )
    tail = binding.encode(binding.Binding(server=base_url(request)))
    return await _send_program(request, download, tail, IMMUTABLE)


async def join_download(request: web.Request) -> web.StreamResponse:
    """``POST /join/download`` (form: ``platform``, ``code``): the program for ``platform``
    bound to this server and, when given, to the session of ``code`` -- which must be live
    and not yet used. Refusals redirect to ``/join?error=TOKEN`` (the page explains them);
    failed code guesses count against the client like wrong codes typed into a program."""
    # No Origin check: the page's own form arrives with "Origin: null" (the pages send no
    # referrer), and another site gains nothing by posting it -- the answer is a download
    # bound to this server, and code guesses count against the client either way.
    state = request.app[STATE]
    try:
        form = await request.post()
    except ValueError:
        raise web.HTTPBadRequest(text="send a form with platform and code") from None
    platform = form.get("platform")
    raw_code = form.get("code") or ""
    if not isinstance(platform, str) or not isinstance(raw_code, str) or len(raw_code) > 32:
        raise web.HTTPBadRequest(text="send a form with platform and code")
    code = "".join(ch for ch in raw_code if ch not in " -\t")
    url = base_url(request)

    def refuse(token: str) -> web.HTTPSeeOther:
        keep = f"#{code}" if len(code) == 8 and code.isascii() and code.isdigit() else ""
        return web.HTTPSeeOther(f"/join?error={token}{keep}")

    bound = binding.Binding(server=url)
    if code:
        if len(code) != 8 or not code.isascii() or not code.isdigit():
            raise refuse("bad_code")
        address = client_address(request)
        if state.guesses.wait(address, state.monotonic()) > 0:
            raise refuse("rate_limited")
        try:
            issued = state.codes.peek(code, state.clock())
        except CodeError as exc:
            if exc.code == "unknown_code":
                state.guesses.failed(address, state.monotonic())
            raise refuse(exc.code) from None
        bound = binding.Binding(server=url, code=code, expires=issued.expires_at)
    download = await request.app[CATALOGUE].program(platform)
    if download is None:
        raise refuse("no_program")
    logger.info("customer program %s downloaded%s", platform, " for a session" if code else "")
    return await _send_program(request, download, binding.encode(bound), "no-store")


async def _send_program(
    request: web.Request, download: Download, tail: bytes, cache: str
) -> web.StreamResponse:
    """The program's bytes, then ``tail``, with the headers of an executable download."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Cache-Control": cache,
        }
    )
    response.content_length = download.size + len(tail)
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    with download.path.open("rb") as f:
        sent = 0
        while sent < download.size:
            block = await loop.run_in_executor(None, f.read, min(1 << 18, download.size - sent))
            if not block:  # the file shrank since it was checked: cut the response short
                logger.error("%s changed while it was being sent", download.path)
                raise ConnectionResetError("download changed")
            await response.write(block)
            sent += len(block)
    await response.write(tail)
    await response.write_eof()
    return response


async def licence_file(request: web.Request) -> web.FileResponse:
    """``GET /download/licenses/<file>``: the licences and source offer beside the programs."""
    path = request.app[CATALOGUE].licence_file(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound(text="no such file")
    return web.FileResponse(path, headers={"Content-Type": "text/plain; charset=utf-8"})
