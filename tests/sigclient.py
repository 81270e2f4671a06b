"""A typed signaling client for tests: real WebSockets speaking ``wire.protocol``.

Works against pytest-aiohttp's ``TestClient`` (``Endpoint.of(client)``) or any running server
(``Endpoint(http_session, "http://127.0.0.1:8080")``)::

    endpoint = Endpoint.of(aiohttp_client_instance)
    token = await endpoint.login("alice", "secret")
    op = await endpoint.operator(token)                     # hello/welcome done
    created = await op.create()                             # session_created
    peer = await endpoint.peer()
    await peer.send(p.Join(code=created.code, host="pc", user="bob", os="Linux"))
    await peer.expect(p.JoinPending)
    request = await op.expect(p.JoinRequest)
    await op.send(p.Accept(session_id=request.session_id))
    await op.expect(p.Paired); await peer.expect(p.Paired)

or all of that at once: ``pair = await endpoint.pair(token)``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp.test_utils import TestClient

from signaling.passwords import hash_password
from signaling.settings import ServerSettings
from signaling.store import Store
from wire import protocol as p

T = TypeVar("T")

COOKIE = "supportlink_session"
#: scrypt cost for test operators: fast, unlike the production default.
TEST_COST = 2**10


def add_operator(data_dir: Path, name: str, password: str) -> None:
    """Create an operator with a cheap hash (before or while the server runs)."""
    with Store(data_dir) as store:
        store.add_operator(name, hash_password(password, n=TEST_COST), 0.0)


def server_settings(tmp_path: Path, **kw: Any) -> ServerSettings:
    """Settings for a test server in ``tmp_path`` (cheap password hashes)."""
    kw.setdefault("password_cost", TEST_COST)
    return ServerSettings(data_dir=tmp_path / "data", **kw)


class Closed(AssertionError):
    """The socket closed while a message was expected."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"socket closed (code {code})")
        self.code = code


class SigClient:
    """One signaling WebSocket (operator or peer side)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, role: str) -> None:
        self.ws = ws
        self.role = role

    async def send(self, msg: Any) -> None:
        await self.ws.send_str(p.serialize(msg))

    async def send_raw(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            await self.ws.send_bytes(frame)
        else:
            await self.ws.send_str(frame)

    async def recv(self, timeout: float = 5.0) -> Any:
        """The next message; ``Closed`` if the socket closes instead."""
        frame = await self.ws.receive(timeout)
        if frame.type is aiohttp.WSMsgType.TEXT:
            return p.parse(frame.data)
        if frame.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        ):
            raise Closed(self.ws.close_code)
        raise AssertionError(f"unexpected frame {frame.type}: {frame.data!r}")

    async def expect(self, cls: type[T], timeout: float = 5.0) -> T:
        """The next message, which must be a ``cls``."""
        msg = await self.recv(timeout)
        if not isinstance(msg, cls):
            raise AssertionError(f"{self.role}: expected {cls.__name__}, got {msg!r}")
        return msg

    async def expect_error(self, code: str, timeout: float = 5.0) -> p.Error:
        error = await self.expect(p.Error, timeout)
        assert error.code == code, f"{self.role}: expected error {code}, got {error!r}"
        return error

    async def expect_bye(self, reason: str, timeout: float = 5.0) -> p.Bye:
        bye = await self.expect(p.Bye, timeout)
        assert bye.reason == reason, f"{self.role}: expected bye {reason}, got {bye!r}"
        return bye

    async def expect_closed(self, timeout: float = 5.0) -> int | None:
        """Wait for the server to close the socket (no message may come first)."""
        try:
            msg = await self.recv(timeout)
        except Closed as closed:
            return closed.code
        raise AssertionError(f"{self.role}: expected the socket to close, got {msg!r}")

    async def expect_nothing(self, within: float = 0.2) -> None:
        """Nothing arrives for ``within`` seconds."""
        with contextlib.suppress(asyncio.TimeoutError):
            frame = await self.ws.receive(within)
            raise AssertionError(f"{self.role}: expected nothing, got {frame!r}")

    async def hello(self) -> p.Welcome:
        await self.send(p.Hello(role=self.role, protocol=p.PROTOCOL_VERSION, agent="tests"))
        return await self.expect(p.Welcome)

    async def create(self, mode: str = "screen") -> p.SessionCreated:
        await self.send(p.CreateSession(mode=mode))
        return await self.expect(p.SessionCreated)

    async def join(
        self, code: str, *, host: str = "pc-1", user: str = "bob", os: str = "Linux"
    ) -> None:
        await self.send(p.Join(code=code, host=host, user=user, os=os))

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class Pair:
    op: SigClient
    peer: SigClient
    session_id: str
    code: str
    paired: p.Paired


class Endpoint:
    """Where a SupportLink server is: an HTTP client session and the server's base URL."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base.rstrip("/")
        self.clients: list[SigClient] = []

    async def aclose(self) -> None:
        """Close every socket this endpoint opened."""
        for client in self.clients:
            if not client.closed:
                with contextlib.suppress(Exception):
                    await client.close()
        self.clients.clear()

    @classmethod
    def of(cls, client: TestClient[Any, Any]) -> Endpoint:
        return cls(client.session, str(client.make_url("/")))

    def url(self, path: str, *, ws: bool = False) -> str:
        base = self.base.replace("http", "ws", 1) if ws else self.base
        return base + path

    async def login(self, username: str, password: str) -> str:
        """Log in; the session token (the client's cookie jar is left empty)."""
        async with self.http.post(
            self.url("/api/login"), json={"username": username, "password": password}
        ) as resp:
            assert resp.status == 200, await resp.text()
            token = resp.cookies[COOKIE].value
        self.http.cookie_jar.clear()
        return token

    @staticmethod
    def cookie(token: str) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={token}"}

    async def operator(
        self, token: str, *, hello: bool = True, origin: str | None = None
    ) -> SigClient:
        ws = await self.http.ws_connect(
            self.url("/ws/operator", ws=True), headers=self.cookie(token), origin=origin
        )
        client = SigClient(ws, "operator")
        self.clients.append(client)
        if hello:
            await client.hello()
        return client

    async def peer(
        self,
        *,
        hello: bool = True,
        headers: dict[str, str] | None = None,
        autoping: bool = True,
    ) -> SigClient:
        ws = await self.http.ws_connect(
            self.url("/ws/peer", ws=True), headers=headers, autoping=autoping
        )
        client = SigClient(ws, "peer")
        self.clients.append(client)
        if hello:
            await client.hello()
        return client

    async def pair(
        self, token: str, *, host: str = "pc-1", user: str = "bob", autoping: bool = True
    ) -> Pair:
        """A new operator socket and peer, paired and ready for offer/answer."""
        op = await self.operator(token)
        created = await op.create()
        peer = await self.peer(autoping=autoping)
        await peer.join(created.code, host=host, user=user)
        await peer.expect(p.JoinPending)
        request = await op.expect(p.JoinRequest)
        await op.send(p.Accept(session_id=request.session_id))
        paired = await peer.expect(p.Paired)
        assert (await op.expect(p.Paired)).session_id == paired.session_id
        return Pair(op, peer, created.session_id, created.code, paired)
