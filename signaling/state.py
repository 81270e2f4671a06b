"""What the HTTP and WebSocket handlers share: the server's state and request helpers.

``ServerState`` lives in the application under ``STATE``; it holds the settings, the store
(opened at start-up), the pairing table, the rate limiters and the open sockets.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from signaling import clientaddr
from signaling.codes import CodeRegistry
from signaling.pairing import ConnId, Pairing
from signaling.ratelimit import GuessLimiter, LoginLimiter
from signaling.settings import ServerSettings
from signaling.store import Store
from wire import protocol

COOKIE_NAME = "supportlink_session"


@dataclass
class ServerState:
    settings: ServerSettings
    codes: CodeRegistry
    pairing: Pairing
    guesses: GuessLimiter
    logins: LoginLimiter
    #: Wall clock for codes, sessions and the audit; monotonic clock for rate limits.
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    store: Store | None = None
    sockets: dict[ConnId, web.WebSocketResponse] = field(default_factory=dict)
    #: The login (SHA-256 of its cookie) each operator socket was opened with.
    logins_of: dict[ConnId, str] = field(default_factory=dict)
    conn_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: Set when a new code is issued, so the expiry task looks at its deadline.
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    #: scrypt needs memory: a few verifications at a time, in the default executor.
    password_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))
    #: A hash verified for unknown user names, so they take as long as known ones.
    dummy_hash: str | None = None
    shutting_down: bool = False
    #: Closes of sockets started in the background.
    closing: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def db(self) -> Store:
        if self.store is None:
            raise RuntimeError("the store is not open (the application has not started)")
        return self.store


STATE = web.AppKey("state", ServerState)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def client_address(request: web.Request) -> str:
    """The client's address; ``X-Forwarded-For`` counts only from a trusted proxy."""
    settings = request.app[STATE].settings
    return clientaddr.client_address(
        request.remote, request.headers.get("X-Forwarded-For"), settings.trusted_networks
    )


def is_tls(request: web.Request) -> bool:
    """Whether the browser reached us over TLS (directly, or through a trusted proxy)."""
    if request.app[STATE].settings.tls or request.secure:
        return True
    proto = request.headers.get("X-Forwarded-Proto", "").strip().lower()
    trusted = request.app[STATE].settings.trusted_networks
    return proto == "https" and clientaddr.is_trusted_peer(request.remote, trusted)


def same_origin(request: web.Request) -> bool:
    """True when there is no ``Origin`` or it names the host the request was sent to."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    default = {"http": 80, "https": 443}[parts.scheme]
    return _host_port(parts.netloc, default) == _host_port(request.host, default)


def _host_port(netloc: str, default: int) -> tuple[str, int]:
    host, sep, port = netloc.rpartition(":")
    if not sep or "]" in port:
        host, port = netloc, ""
    try:
        number = int(port) if port else default
    except ValueError:
        number = -1
    return host.lower().strip("[]"), number


def current_login(request: web.Request) -> tuple[str, str] | None:
    """The operator logged in with this request's cookie and the login's digest, if any."""
    token = request.cookies.get(COOKIE_NAME)
    if not token or len(token) > 256:
        return None
    state = request.app[STATE]
    digest = token_digest(token)
    operator = state.db.web_session_operator(digest, state.clock())
    return None if operator is None else (operator, digest)


def current_operator(request: web.Request) -> str | None:
    """The operator logged in with this request's cookie, if any."""
    login = current_login(request)
    return None if login is None else login[0]


def error_body(code: str, message: str, retry_after: float | None = None) -> dict[str, Any]:
    assert code in protocol.ERROR_CODES, code
    error: dict[str, Any] = {"code": code, "message": message}
    if retry_after is not None:
        error["retry_after"] = retry_after
    return {"error": error}


def json_error(status: int, code: str, message: str, *, retry_after: float | None = None) -> Any:
    """An ``HTTPException`` to raise, with the JSON error body of ARCHITECTURE.md."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    cls = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        429: web.HTTPTooManyRequests,
        503: web.HTTPServiceUnavailable,
    }[status]
    body = json.dumps(error_body(code, message, retry_after))
    return cls(text=body, headers=headers, content_type="application/json")
