"""The server's HTTP side: health, console files, security headers, login, logout, me."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sigclient import COOKIE, TEST_COST, Endpoint, add_operator

from signaling.app import CONTENT_SECURITY_POLICY, create_app
from signaling.settings import ServerSettings

Client = TestClient[Any, Any]


def settings(tmp_path: Path, **kw: Any) -> ServerSettings:
    webui = tmp_path / "webui"
    webui.mkdir(exist_ok=True)
    (webui / "index.html").write_text("<!doctype html><title>SupportLink</title>")
    (webui / "app.js").write_text("export {};")
    (webui / "secret.py").write_text("x = 1")
    (webui / ".hidden.js").write_text("")
    kw.setdefault("webui_dir", webui)
    return ServerSettings(data_dir=tmp_path / "data", password_cost=TEST_COST, **kw)


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client: Any) -> Client:
    add_operator(tmp_path / "data", "alice", "correct horse")
    c: Client = await aiohttp_client(create_app(settings(tmp_path)))
    return c


async def login(client: Client, username: str, password: str, **kw: Any) -> Any:
    return await client.post("/api/login", json={"username": username, "password": password}, **kw)


async def test_healthz_and_security_headers(client: Client) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok" and body["version"]
    assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in resp.headers


async def test_console_files(client: Client) -> None:
    resp = await client.get("/")
    assert resp.status == 200 and "SupportLink" in await resp.text()
    assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    resp = await client.get("/app.js")
    assert resp.status == 200 and "javascript" in resp.headers["Content-Type"]
    for path in ("/secret.py", "/.hidden.js", "/missing.js"):
        resp = await client.get(path)
        assert resp.status == 404, path
        assert resp.headers["X-Frame-Options"] == "DENY"


async def test_console_files_never_come_from_outside_the_console(
    tmp_path: Path, client: Client
) -> None:
    """A servable file right next to the console directory, reached with an encoded '../' that
    the client does not normalise and through a link inside the console directory."""
    from yarl import URL

    (tmp_path / "outside.js").write_text("leaked")
    (tmp_path / "webui" / "link.js").symlink_to(tmp_path / "outside.js")
    for path in ("/..%2foutside.js", "/%2e%2e%2foutside.js", "/link.js"):
        resp = await client.get(URL(path, encoded=True))
        assert resp.status == 404, path
        assert "leaked" not in await resp.text()


async def test_login_me_logout(client: Client) -> None:
    resp = await client.get("/api/me")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "not_authenticated"
    assert resp.headers["Cache-Control"] == "no-store"

    resp = await login(client, "alice", "correct horse")
    assert resp.status == 200 and await resp.json() == {"operator": "alice"}
    assert resp.headers["Cache-Control"] == "no-store"
    morsel = resp.cookies[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == "/"
    assert not morsel["secure"]
    assert int(morsel["max-age"]) == 12 * 3600
    assert len(morsel.value) >= 40
    resp = await client.get("/api/me")
    assert resp.status == 200
    assert await resp.json() == {"operator": "alice", "display_name": "", "organisation": None}

    resp = await client.post("/api/logout")
    assert resp.status == 204
    assert resp.cookies[COOKIE].value == ""
    # the old token is dead on the server, not only forgotten by the browser
    client.session.cookie_jar.clear()
    resp = await client.get("/api/me", headers={"Cookie": f"{COOKIE}={morsel.value}"})
    assert resp.status == 401


async def test_token_is_stored_hashed(client: Client, tmp_path: Path) -> None:
    resp = await login(client, "alice", "correct horse")
    token = resp.cookies[COOKIE].value
    raw = b"".join(p.read_bytes() for p in (tmp_path / "data").iterdir())
    assert token.encode() not in raw


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong"), ("nobody", "correct horse"), ("ALICE", "correct horse")],
)
async def test_bad_credentials(client: Client, username: str, password: str) -> None:
    resp = await login(client, username, password)
    assert resp.status == 401
    error = (await resp.json())["error"]
    assert error["code"] == "bad_credentials" and error["message"]
    assert COOKIE not in resp.cookies


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"username": "alice"}',
        b'{"username": 1, "password": "x"}',
        b'{"username": "alice", "password": "", }',
        b'{"username": "", "password": "x"}',
        b'{"username": "alice", "password": "x", "extra": 1}',
    ],
)
async def test_login_bad_request(client: Client, body: bytes) -> None:
    resp = await client.post("/api/login", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_request"


async def test_login_rate_limited(tmp_path: Path, aiohttp_client: Any) -> None:
    add_operator(tmp_path / "data", "alice", "correct horse")
    client = await aiohttp_client(create_app(settings(tmp_path, login_user_burst=3)))
    for _ in range(3):
        assert (await login(client, "alice", "nope")).status == 401
    resp = await login(client, "alice", "correct horse")  # even the right password waits
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) >= 1
    error = (await resp.json())["error"]
    assert error["code"] == "rate_limited" and error["retry_after"] > 0
    assert "too many attempts, retry in" in error["message"]
    # another user from the same client is not blocked by alice's bucket
    resp = await login(client, "bob", "x")
    assert resp.status == 401


async def test_login_rate_limited_per_client(tmp_path: Path, aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(settings(tmp_path, login_burst=2)))
    for name in ("a", "b"):
        assert (await login(client, name, "nope")).status == 401
    resp = await login(client, "c", "nope")
    assert resp.status == 429


async def test_foreign_origin_refused(client: Client) -> None:
    resp = await login(client, "alice", "correct horse", headers={"Origin": "http://evil.example"})
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "bad_origin"
    own = str(client.make_url("/")).rstrip("/")
    resp = await login(client, "alice", "correct horse", headers={"Origin": own})
    assert resp.status == 200


async def test_operator_socket_needs_cookie_and_origin(client: Client) -> None:
    endpoint = Endpoint.of(client)
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await client.ws_connect("/ws/operator")
    assert exc.value.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await client.ws_connect("/ws/operator", headers=Endpoint.cookie("forged-token"))
    assert exc.value.status == 401
    token = await endpoint.login("alice", "correct horse")
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await endpoint.operator(token, origin="http://evil.example")
    assert exc.value.status == 403
    op = await endpoint.operator(token, origin=endpoint.base)
    assert not op.closed
    await op.close()


async def test_plain_get_on_socket_endpoint(client: Client) -> None:
    resp = await client.get("/ws/peer")
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_request"


async def test_secure_cookie_and_hsts_under_tls(tmp_path: Path, aiohttp_client: Any) -> None:
    add_operator(tmp_path / "data", "alice", "correct horse")
    (tmp_path / "cert.pem").write_text("unused by the test client")
    (tmp_path / "key.pem").write_text("unused by the test client")
    s = settings(tmp_path, tls_cert=tmp_path / "cert.pem", tls_key=tmp_path / "key.pem")
    client = await aiohttp_client(create_app(s))
    resp = await login(client, "alice", "correct horse")
    assert resp.status == 200
    assert resp.cookies[COOKIE]["secure"] is True
    assert "max-age=" in resp.headers["Strict-Transport-Security"]


async def test_secure_cookie_behind_trusted_proxy(tmp_path: Path, aiohttp_client: Any) -> None:
    add_operator(tmp_path / "data", "alice", "correct horse")
    client = await aiohttp_client(
        create_app(settings(tmp_path, trusted_proxies=("127.0.0.0/8", "::1")))
    )
    resp = await login(client, "alice", "correct horse", headers={"X-Forwarded-Proto": "https"})
    assert resp.cookies[COOKIE]["secure"] is True


async def test_forwarded_proto_ignored_from_untrusted(client: Client) -> None:
    resp = await login(client, "alice", "correct horse", headers={"X-Forwarded-Proto": "https"})
    assert not resp.cookies[COOKIE]["secure"]


async def test_concurrent_logins_cannot_outrun_the_limit(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    """Attempts in flight at once are charged before the slow password check: they cannot all
    find the buckets full."""
    import asyncio

    add_operator(tmp_path / "data", "alice", "correct horse")
    client = await aiohttp_client(create_app(settings(tmp_path, login_user_burst=3, login_burst=3)))
    answers = await asyncio.gather(*(login(client, "alice", "nope") for _ in range(20)))
    statuses = sorted(r.status for r in answers)
    assert statuses.count(401) == 3 and statuses.count(429) == 17, statuses


async def test_logout_ends_the_open_operator_socket(client: Client) -> None:
    endpoint = Endpoint.of(client)
    token = await endpoint.login("alice", "correct horse")
    op = await endpoint.operator(token)
    resp = await client.post("/api/logout", headers=endpoint.cookie(token))
    assert resp.status == 204
    assert await op.expect_closed() is not None


async def test_a_removed_operator_can_do_nothing_more(tmp_path: Path, client: Client) -> None:
    from signaling.store import Store
    from wire import protocol as p

    endpoint = Endpoint.of(client)
    token = await endpoint.login("alice", "correct horse")
    op = await endpoint.operator(token)
    other = Store(tmp_path / "data")  # as `supportlink operator remove` does
    other.remove_operator("alice")
    other.close()
    await op.send(p.CreateSession(mode="screen"))
    await op.expect_error("not_authenticated")
    assert await op.expect_closed() is not None


async def test_display_name_is_set_checked_and_given_back(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    add_operator(tmp_path / "data", "alice", "correct horse")
    app = create_app(settings(tmp_path, organisation="Acme IT"))
    client: Client = await aiohttp_client(app)
    assert (await client.post("/api/me", json={"display_name": "Alice"})).status == 401
    await login(client, "alice", "correct horse")
    me = await (await client.get("/api/me")).json()
    assert me == {"operator": "alice", "display_name": "", "organisation": "Acme IT"}

    resp = await client.post("/api/me", json={"display_name": "  Alice Smith  "})
    assert resp.status == 200
    assert (await resp.json())["display_name"] == "Alice Smith"
    assert (await (await client.get("/api/me")).json())["display_name"] == "Alice Smith"

    for bad in ("x" * 65, "Alice\u202eevil", "tab\there", 7, None):
        resp = await client.post("/api/me", json={"display_name": bad})
        assert resp.status == 400, bad
        assert (await resp.json())["error"]["code"] == "bad_request"
    for body in ({}, {"display_name": "A", "operator": "bob"}, []):
        resp = await client.post("/api/me", json=body)
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_request"
    resp = await client.post(
        "/api/me", json={"display_name": "Mallory"}, headers={"Origin": "https://evil.example"}
    )
    assert resp.status == 403
    # nothing bad was kept; "" goes back to the login name
    assert (await (await client.get("/api/me")).json())["display_name"] == "Alice Smith"
    resp = await client.post("/api/me", json={"display_name": ""})
    assert (await resp.json())["display_name"] == ""


async def test_history_is_the_operators_own_newest_first(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    from signaling.state import STATE

    add_operator(tmp_path / "data", "alice", "correct horse")
    add_operator(tmp_path / "data", "carol", "correct horse")
    app = create_app(settings(tmp_path))
    client: Client = await aiohttp_client(app)
    assert (await client.get("/api/sessions")).status == 401
    db = app[STATE].db
    for i, who in enumerate(("alice", "carol", "alice")):
        db.session_started(
            f"session-{i}",
            operator=who,
            mode="screen",
            host=f"desk-{i}",
            user="bob",
            os="Linux",
            started_at=100.0 + i,
        )
    db.session_granted("session-0", ["control", "view"])
    db.session_ended("session-0", 160.0, "operator_ended")
    await login(client, "alice", "correct horse")
    resp = await client.get("/api/sessions")
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    rows = (await resp.json())["sessions"]
    assert [r["session_id"] for r in rows] == ["session-2", "session-0"]
    assert rows[1]["capabilities"] == ["view", "control"]
    assert (rows[1]["duration"], rows[1]["end_reason"]) == (60.0, "operator_ended")
    assert (rows[0]["ended_at"], rows[0]["duration"], rows[0]["capabilities"]) == (None, None, [])
    assert [
        r["session_id"]
        for r in (await (await client.get("/api/sessions?limit=1")).json())["sessions"]
    ] == ["session-2"]
    for bad in ("0", "201", "x", "1e3"):
        assert (await client.get(f"/api/sessions?limit={bad}")).status == 400
