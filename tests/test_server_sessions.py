"""Sessions through the real server with real WebSocket clients."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sigclient import Closed, Endpoint, add_operator, server_settings

from signaling.app import create_app
from signaling.state import STATE
from wire import protocol as p

PASSWORD = "correct horse"
Start = Callable[..., Awaitable[tuple[Endpoint, str, web.Application]]]


@pytest.fixture
async def start(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Start]:
    """Start a server with settings overrides; returns (endpoint, alice's token, app)."""
    add_operator(tmp_path / "data", "alice", PASSWORD)
    add_operator(tmp_path / "data", "carol", PASSWORD)
    endpoints: list[Endpoint] = []

    async def run(**kw: Any) -> tuple[Endpoint, str, web.Application]:
        app = create_app(server_settings(tmp_path, **kw))
        endpoint = Endpoint.of(await aiohttp_client(app))
        endpoints.append(endpoint)
        return endpoint, await endpoint.login("alice", PASSWORD), app

    yield run
    for endpoint in endpoints:
        await endpoint.aclose()


async def test_pair_relay_and_audit(start: Start) -> None:
    endpoint, token, app = await start()
    op = await endpoint.operator(token)
    before = time.time()
    created = await op.create("screen")
    assert created.ttl == 900 and before + 899 < created.expires_at < time.time() + 901
    peer = await endpoint.peer()
    await peer.join(created.code, host="desk-7", user="bob", os="Linux 6.1")
    pending = await peer.expect(p.JoinPending)
    assert pending == p.JoinPending(operator="alice", mode="screen")
    request = await op.expect(p.JoinRequest)
    assert (request.host, request.user, request.os) == ("desk-7", "bob", "Linux 6.1")
    assert request.address == "127.0.0.1" and request.session_id == created.session_id
    await op.send(p.Accept(session_id=created.session_id))
    paired = await peer.expect(p.Paired)
    to_op = await op.expect(p.Paired)
    assert dataclasses.replace(paired, resume=None) == dataclasses.replace(to_op, resume=None)
    assert paired.resume != to_op.resume  # each side its own secret to come back with
    assert paired.ice_servers == ()  # no TURN settings: no ICE servers, no public STUN
    assert (paired.operator, paired.host, paired.mode) == ("alice", "desk-7", "screen")

    offer = p.Offer(sdp="v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n")
    await peer.send(offer)
    assert await op.expect(p.Offer) == offer
    answer = p.Answer(sdp="v=0\r\nanswer\r\n")
    await op.send(answer)
    assert await peer.expect(p.Answer) == answer
    for sender, receiver in ((op, peer), (peer, op)):
        cand = p.Candidate(candidate=f"candidate:1 1 udp 1 10.0.0.1 9 typ host {sender.role}")
        await sender.send(cand)
        assert await receiver.expect(p.Candidate) == cand
    await op.expect_nothing(0.1)
    await peer.expect_nothing(0.1)

    rows = app[STATE].db.list_sessions(10)
    assert len(rows) == 1 and rows[0].ended_at is None
    await peer.send(p.Bye(reason="done"))
    await peer.expect_bye("peer_ended")
    assert await peer.expect_closed() == 1000
    await op.expect_bye("peer_ended")
    (row,) = app[STATE].db.list_sessions(10)
    assert (row.session_id, row.operator, row.mode) == (created.session_id, "alice", "screen")
    assert (row.host, row.user, row.os) == ("desk-7", "bob", "Linux 6.1")
    assert row.end_reason == "peer_ended" and row.duration is not None and row.duration >= 0
    assert created.code not in repr(row)
    # the operator's socket stays open for the next session, with a new code
    again = await op.create()
    assert again.code != created.code and again.session_id != created.session_id


@pytest.mark.parametrize("how", ["bye", "drop"])
async def test_operator_ends_paired_session(start: Start, how: str) -> None:
    endpoint, token, app = await start(resume_within=0)
    pair = await endpoint.pair(token)
    if how == "bye":
        await pair.op.send(p.Bye(reason="done"))
        await pair.op.expect_bye("operator_ended")
        reason = "operator_ended"
    else:
        await pair.op.close()
        reason = "operator_left"
    await pair.peer.expect_bye(reason)
    await pair.peer.expect_closed()
    (row,) = app[STATE].db.list_sessions(10)
    assert row.end_reason == reason


async def test_peer_drop_gives_operator_bye_at_once(start: Start) -> None:
    endpoint, token, app = await start(resume_within=0)
    pair = await endpoint.pair(token)
    await pair.peer.close()
    await pair.op.expect_bye("peer_left", timeout=1.0)
    (row,) = app[STATE].db.list_sessions(10)
    assert row.end_reason == "peer_left"


async def test_reject_kills_code(start: Start) -> None:
    endpoint, token, app = await start()
    op = await endpoint.operator(token)
    created = await op.create()
    thief = await endpoint.peer()
    await thief.join(created.code, host="intruder")
    await thief.expect(p.JoinPending)
    request = await op.expect(p.JoinRequest)
    assert request.host == "intruder"
    await op.send(p.Reject(session_id=request.session_id))
    await thief.expect_bye("rejected")
    await thief.expect_closed()
    await op.expect_bye("rejected")
    customer = await endpoint.peer()
    await customer.join(created.code)
    await customer.expect_error("used_code")
    assert app[STATE].db.list_sessions(10) == []  # never started: no audit row


async def test_cancel_and_operator_leaving_kill_code(start: Start) -> None:
    endpoint, token, _ = await start()
    op = await endpoint.operator(token)
    cancelled = await op.create()
    await op.send(p.Bye(reason="cancel"))
    await op.expect_bye("cancelled")
    left = await op.create()
    await op.close()
    peer = await endpoint.peer()
    for code in (cancelled.code, left.code):
        await peer.join(code)
        error = await peer.expect_error("used_code")
        assert "already been used" in error.message


async def test_single_use_and_unknown_code(start: Start) -> None:
    endpoint, token, _ = await start()
    op = await endpoint.operator(token)
    created = await op.create()
    first = await endpoint.peer()
    await first.join(created.code)
    await first.expect(p.JoinPending)
    second = await endpoint.peer()
    await second.join(created.code)
    await second.expect_error("used_code")
    wrong = "00000000" if created.code != "00000000" else "00000001"
    await second.join(wrong)  # the socket stays open for another try
    await second.expect_error("unknown_code")
    await op.expect(p.JoinRequest)
    await op.expect_nothing(0.1)


async def test_expiry(start: Start) -> None:
    endpoint, token, _ = await start(code_ttl=0.5)
    op = await endpoint.operator(token)
    created = await op.create()
    assert created.ttl == 1
    await op.expect_bye("expired", timeout=3.0)
    peer = await endpoint.peer()
    await peer.join(created.code)
    error = await peer.expect_error("expired_code")
    assert "expired" in error.message
    again = await op.create()  # the operator can go on
    assert again.code != created.code


async def test_claimed_code_does_not_expire(start: Start) -> None:
    endpoint, token, _ = await start(code_ttl=0.5)
    op = await endpoint.operator(token)
    created = await op.create()
    peer = await endpoint.peer()
    await peer.join(created.code)
    await peer.expect(p.JoinPending)
    await op.expect(p.JoinRequest)
    await asyncio.sleep(0.8)
    await op.send(p.Accept(session_id=created.session_id))
    await peer.expect(p.Paired)


async def test_peer_drop_mid_handshake(start: Start) -> None:
    endpoint, token, _ = await start()
    op = await endpoint.operator(token)
    created = await op.create()
    peer = await endpoint.peer()
    await peer.join(created.code)
    await op.expect(p.JoinRequest)
    await peer.close()
    await op.expect_bye("peer_left")
    await op.send(p.Accept(session_id=created.session_id))
    await op.expect_error("no_session")


async def test_session_exists_and_server_busy(start: Start) -> None:
    endpoint, token, _ = await start(max_sessions=1)
    op = await endpoint.operator(token)
    await op.create()
    await op.send(p.CreateSession(mode="call"))
    await op.expect_error("session_exists")
    other = await endpoint.operator(token)  # a second tab
    await other.send(p.CreateSession(mode="screen"))
    await other.expect_error("server_busy")


async def test_guess_limit_per_client(start: Start) -> None:
    endpoint, token, _ = await start(guess_burst=3)
    peer = await endpoint.peer()
    for code in ("11111111", "22222222", "33333333"):
        await peer.join(code)
        await peer.expect_error("unknown_code")
    await peer.join("44444444")
    error = await peer.expect_error("rate_limited")
    assert error.retry_after is not None and 0 < error.retry_after <= 6
    assert "too many attempts, retry in" in error.message
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await endpoint.peer()
    assert exc.value.status == 429
    assert exc.value.headers is not None and int(exc.value.headers["Retry-After"]) >= 1
    # X-Forwarded-For from an untrusted client changes nothing
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await endpoint.peer(headers={"X-Forwarded-For": "198.51.100.9"})
    async with endpoint.http.get(endpoint.url("/ws/peer")) as resp:
        assert resp.status == 429
        body = await resp.json()
        assert body["error"]["code"] == "rate_limited" and body["error"]["retry_after"] >= 1
    # the right code is refused too while over the limit
    op = await endpoint.operator(token)
    created = await op.create()
    await peer.join(created.code)
    await peer.expect_error("rate_limited")


async def test_guess_limit_behind_trusted_proxy(start: Start) -> None:
    endpoint, token, _ = await start(guess_burst=2, trusted_proxies=("127.0.0.0/8",))
    mallory = {"X-Forwarded-For": "198.51.100.7"}
    peer = await endpoint.peer(headers=mallory)
    for code in ("11111111", "22222222"):
        await peer.join(code)
        await peer.expect_error("unknown_code")
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await endpoint.peer(headers=mallory)
    assert exc.value.status == 429
    # another customer behind the same proxy is not blocked, and the operator sees them
    op = await endpoint.operator(token)
    created = await op.create()
    customer = await endpoint.peer(headers={"X-Forwarded-For": "203.0.113.5, 127.0.0.1"})
    await customer.join(created.code)
    await customer.expect(p.JoinPending)
    assert (await op.expect(p.JoinRequest)).address == "203.0.113.5"


async def test_guess_limit_overall(start: Start) -> None:
    endpoint, _, _ = await start(guess_overall_burst=3, trusted_proxies=("127.0.0.1/32",))
    waiting = await endpoint.peer(headers={"X-Forwarded-For": "198.51.100.200"})
    for i in range(3):
        peer = await endpoint.peer(headers={"X-Forwarded-For": f"198.51.100.{i}"})
        await peer.join("12121212")
        await peer.expect_error("unknown_code")
    await waiting.join("12121212")  # never guessed before, but everyone is over the limit
    await waiting.expect_error("rate_limited")
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await endpoint.peer(headers={"X-Forwarded-For": "198.51.100.201"})
    assert exc.value.status == 429


async def test_forwarded_for_ignored_without_trust(start: Start) -> None:
    endpoint, token, _ = await start()
    op = await endpoint.operator(token)
    created = await op.create()
    peer = await endpoint.peer(headers={"X-Forwarded-For": "203.0.113.5"})
    await peer.join(created.code)
    assert (await op.expect(p.JoinRequest)).address == "127.0.0.1"


async def test_two_sessions_isolated(start: Start) -> None:
    endpoint, token, app = await start(resume_within=0)
    carol = await endpoint.login("carol", PASSWORD)
    a = await endpoint.pair(token, host="a-host")
    b = await endpoint.pair(carol, host="b-host")
    assert a.session_id != b.session_id and a.code != b.code
    for pair, other in ((a, b), (b, a)):
        offer = p.Offer(sdp=f"offer of {pair.session_id}")
        await pair.peer.send(offer)
        assert await pair.op.expect(p.Offer) == offer
        await pair.op.send(p.Answer(sdp=f"answer of {pair.session_id}"))
        assert (await pair.peer.expect(p.Answer)).sdp.endswith(pair.session_id)
        await other.op.expect_nothing(0.05)
        await other.peer.expect_nothing(0.05)
    # one operator cannot act on the other's session
    await a.op.send(p.Accept(session_id=b.session_id))
    await a.op.expect_error("no_session")
    await a.op.send(p.Reject(session_id=b.session_id))
    await a.op.expect_error("no_session")
    # ending one leaves the other working
    await a.peer.close()
    await a.op.expect_bye("peer_left")
    cand = p.Candidate(candidate="candidate:2 1 udp 1 10.0.0.2 9 typ host")
    await b.peer.send(cand)
    assert await b.op.expect(p.Candidate) == cand
    await b.op.send(cand)
    assert await b.peer.expect(p.Candidate) == cand
    await b.op.expect_nothing(0.05)
    rows = {r.session_id: r for r in app[STATE].db.list_sessions(10)}
    assert rows[a.session_id].end_reason == "peer_left"
    assert rows[b.session_id].ended_at is None and rows[b.session_id].operator == "carol"


async def test_customer_sees_display_name_and_organisation(start: Start) -> None:
    endpoint, token, app = await start(organisation="Acme IT")
    op = await endpoint.operator(token)
    created = await op.create("screen")
    # a name set while the console is open and the code is waiting is the one the customer sees
    async with endpoint.http.post(
        endpoint.url("/api/me"),
        json={"display_name": "Alice Smith"},
        headers=endpoint.cookie(token),
    ) as resp:
        assert resp.status == 200
    peer = await endpoint.peer()
    await peer.join(created.code, host="desk", user="bob", os="Linux")
    pending = await peer.expect(p.JoinPending)
    assert (pending.operator, pending.organisation) == ("Alice Smith", "Acme IT")
    await op.expect(p.JoinRequest)
    await op.send(p.Accept(session_id=created.session_id))
    paired = await peer.expect(p.Paired)
    assert (paired.operator, paired.organisation) == ("Alice Smith", "Acme IT")
    # the audit keeps the login, not the name shown
    assert app[STATE].db.list_sessions(1)[0].operator == "alice"


async def test_granted_capabilities_reach_the_audit_only(start: Start) -> None:
    endpoint, token, app = await start()
    early = await endpoint.peer()
    await early.send(p.Granted(capabilities=("view",)))
    await early.expect_error("no_session")
    pair = await endpoint.pair(token, host="a-host")
    await pair.peer.send(p.Granted(capabilities=("view", "chat")))
    await pair.peer.send(p.Granted(capabilities=("view", "control", "teleport")))
    await pair.op.expect_nothing(0.1)  # relayed to no one
    await pair.peer.expect_nothing(0.05)
    (row,) = app[STATE].db.list_sessions(1)
    assert row.capabilities == ("view", "control", "chat")  # unknown names are not kept
    # the operator cannot write the customer's consent into the audit
    await pair.op.send_raw('{"type": "granted", "capabilities": ["clipboard"]}')
    await pair.op.expect_error("unexpected_message")
    assert app[STATE].db.list_sessions(1)[0].capabilities == ("view", "control", "chat")


async def test_turn_credentials(start: Start) -> None:
    urls = ("turns:turn.example.com:443?transport=tcp", "turn:turn.example.com:3478")
    endpoint, token, _ = await start(turn_urls=urls, turn_secret="s3cret", turn_ttl=600)
    now = time.time()
    op = await endpoint.operator(token)
    created = await op.create()
    peer = await endpoint.peer()
    await peer.join(created.code)
    await op.expect(p.JoinRequest)
    await peer.expect(p.JoinPending)
    await op.send(p.Accept(session_id=created.session_id))
    for client, role in ((peer, "peer"), (op, "operator")):
        (server,) = (await client.expect(p.Paired)).ice_servers
        assert server.urls == urls
        assert server.username is not None and server.credential is not None
        expiry, user = server.username.split(":", 1)
        assert user == f"{created.session_id}-{role}"
        assert now + 590 <= int(expiry) <= time.time() + 610
        mac = hmac.new(b"s3cret", server.username.encode(), hashlib.sha1).digest()
        assert server.credential == base64.b64encode(mac).decode()


async def test_heartbeat_drop_gives_partner_bye(start: Start) -> None:
    endpoint, token, _ = await start(heartbeat=0.3, resume_within=1)
    pair = await endpoint.pair(token, autoping=False)
    # the peer reads nothing from now on, so it answers no ping: the operator hears it is
    # away, then, as it does not come back in time, that the session is over
    await pair.op.expect(p.Interrupted, timeout=3.0)
    await pair.op.expect_bye("peer_left", timeout=3.0)


async def test_a_customer_whose_socket_dropped_resumes_on_a_new_one(start: Start) -> None:
    endpoint, token, app = await start(resume_within=30)
    op = await endpoint.operator(token)
    created = await op.create("screen")
    peer = await endpoint.peer()
    await peer.join(created.code, host="desk", user="bob", os="Linux")
    await peer.expect(p.JoinPending)
    await op.expect(p.JoinRequest)
    await op.send(p.Accept(session_id=created.session_id))
    secret = (await peer.expect(p.Paired)).resume
    await op.expect(p.Paired)
    assert secret is not None
    await peer.close()
    assert (await op.expect(p.Interrupted)).resume_within in (29, 30)
    again = await endpoint.peer()
    await again.send(p.Resume(session_id=created.session_id, token=secret))
    await again.expect(p.Resumed)
    await op.expect(p.Resumed)
    fresh = p.Offer(sdp="v=0 fresh", fresh=True)
    await again.send(fresh)
    assert await op.expect(p.Offer) == fresh
    # one audit row, still running: a drop that came back is no end
    (row,) = app[STATE].db.list_sessions(10)
    assert row.ended_at is None
    # a second resume with the same secret, by someone else, takes nothing over
    thief = await endpoint.peer()
    await thief.send(p.Resume(session_id=created.session_id, token="x" * 32))
    await thief.expect_error("no_session")
    await again.send(p.Bye(reason="done"))
    await op.expect_bye("peer_ended")
    assert app[STATE].db.list_sessions(10)[0].end_reason == "peer_ended"


async def test_shutdown_says_bye(start: Start) -> None:
    endpoint, token, app = await start()
    pair = await endpoint.pair(token)
    idle = await endpoint.operator(token)
    await app.shutdown()
    for client in (pair.op, pair.peer, idle):
        await client.expect_bye("server_shutdown")
        with pytest.raises(Closed) as exc:
            await client.recv()
        assert exc.value.code == 1001
    (row,) = app[STATE].db.list_sessions(10)
    assert row.end_reason == "server_shutdown"


async def test_logs_hold_no_codes_passwords_or_sdp(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    urls = ("turns:turn.example.com:443?transport=tcp",)
    endpoint, token, _ = await start(turn_urls=urls, turn_secret="turn-secret-value")
    pair = await endpoint.pair(token)
    await pair.peer.send(p.Offer(sdp="v=0 sdp-content-marker"))
    await pair.op.expect(p.Offer)
    await pair.peer.join("98765432")
    await pair.peer.expect_error("unexpected_message")
    await pair.op.send(p.Bye(reason="done"))
    await pair.peer.expect_bye("operator_ended")
    text = caplog.text
    assert "session" in text and "-> paired" in text  # state changes are logged
    for secret in (pair.code, PASSWORD, token, "turn-secret-value", "sdp-content-marker"):
        assert secret not in text
