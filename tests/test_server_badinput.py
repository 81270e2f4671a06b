"""Bad input on the signaling sockets: each frame gets a clear error or a clean close, and no
other session notices anything."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigclient import Closed, Endpoint, Pair, SigClient, add_operator, server_settings

from signaling.app import create_app
from wire import protocol as p

PASSWORD = "correct horse"


@dataclass
class Live:
    endpoint: Endpoint
    token: str
    sentinel: Pair


@pytest.fixture
async def live(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Live]:
    """A server with one paired session that must keep working whatever the others do."""
    add_operator(tmp_path / "data", "alice", PASSWORD)
    endpoint = Endpoint.of(await aiohttp_client(create_app(server_settings(tmp_path))))
    token = await endpoint.login("alice", PASSWORD)
    sentinel = await endpoint.pair(token, host="sentinel")
    yield Live(endpoint, token, sentinel)
    await endpoint.aclose()


async def assert_relays(pair: Pair) -> None:
    """Both directions of ``pair`` still work, and nothing else is waiting there."""
    cand = p.Candidate(candidate="candidate:9 1 udp 1 10.9.9.9 9 typ host")
    await pair.peer.send(cand)
    assert await pair.op.expect(p.Candidate) == cand
    await pair.op.send(cand)
    assert await pair.peer.expect(p.Candidate) == cand


async def fresh_pair(live: Live) -> Pair:
    pair = await live.endpoint.pair(live.token)
    await pair.peer.send(p.Offer(sdp="v=0 offer"))
    await pair.op.expect(p.Offer)
    return pair


# --------------------------------------------------------------------------- strategies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FIELDS = sorted({f for cls in p.SIGNALING.values() for f in cls.__dataclass_fields__} | {"x"})
plausible = (
    json_values
    | st.from_regex(r"[0-9]{8}", fullmatch=True)
    | st.sampled_from(["operator", "peer", "screen", "call", "session-1", "v=0"])
)
valid_looking = st.builds(
    lambda kind, fields: json.dumps({"type": kind, **fields}),
    st.sampled_from([*p.SIGNALING, "", "nope", "consent_request"]),
    st.dictionaries(st.sampled_from(FIELDS), plausible, max_size=6),
)


def label(**kw: Any) -> st.SearchStrategy[str]:
    """Text the message classes accept (no NUL)."""
    return st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), **kw)


valid_messages = st.one_of(
    st.builds(p.Offer, sdp=label(min_size=1, max_size=200)),
    st.builds(p.Answer, sdp=label(min_size=1, max_size=200)),
    st.builds(p.Candidate, candidate=label(max_size=100)),
    st.builds(p.Bye, reason=st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)),
    st.builds(p.Hello, role=st.sampled_from(p.ROLES), protocol=st.integers(1, 1000)),
    st.builds(
        p.Join,
        code=st.from_regex(r"[0-9]{8}", fullmatch=True),
        host=label(max_size=9),
        user=label(max_size=9),
        os=label(max_size=9),
    ),
    st.builds(p.CreateSession, mode=st.sampled_from(p.MODES)),
    st.builds(p.Accept, session_id=st.from_regex(r"[a-z0-9]{8,20}", fullmatch=True)),
    st.builds(p.Reject, session_id=st.from_regex(r"[a-z0-9]{8,20}", fullmatch=True)),
    st.builds(p.Welcome, role=st.sampled_from(p.ROLES), protocol=st.just(1)),
).map(p.serialize)
oversized = st.integers(p.MAX_SIGNAL_BYTES - 20, p.MAX_SIGNAL_BYTES + 5000).map(
    lambda n: json.dumps({"type": "offer", "sdp": "x" * n})
)
frames: st.SearchStrategy[str | bytes] = st.one_of(
    st.text(max_size=300),
    json_values.map(json.dumps),
    valid_looking,
    valid_messages,
    oversized,
    st.binary(max_size=64),
)

RELAYED = {"peer": {"offer", "candidate"}, "operator": {"answer", "candidate"}}


async def check_outcome(frame: str | bytes, sender: SigClient, partner: SigClient) -> None:
    """What the server must do with ``frame`` from ``sender`` in a paired session."""
    if isinstance(frame, bytes):
        await sender.expect_error("bad_json")
        return
    if len(frame.encode()) > p.MAX_SIGNAL_BYTES:
        assert await sender.expect_closed() == 1009
        await partner.expect_bye(f"{sender.role}_left")
        return
    try:
        msg = p.parse(frame)
    except p.ProtocolError as exc:
        await sender.expect_error(exc.code)
        return
    if msg.type in RELAYED[sender.role]:
        assert await partner.recv() == msg
    elif msg.type == "bye":
        reason = f"{sender.role}_ended"
        await sender.expect_bye(reason)
        await partner.expect_bye(reason)
    else:
        error = await sender.expect(p.Error)
        assert error.code in p.ERROR_CODES and error.message


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frame=frames, role=st.sampled_from(["peer", "operator"]))
async def test_random_frames_leave_other_sessions_alone(
    live: Live, frame: str | bytes, role: str
) -> None:
    pair = await fresh_pair(live)
    sender, partner = (pair.peer, pair.op) if role == "peer" else (pair.op, pair.peer)
    await sender.send_raw(frame)
    await check_outcome(frame, sender, partner)
    await pair.op.close()
    await pair.peer.close()
    await assert_relays(live.sentinel)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frames=st.lists(frames.filter(lambda f: len(f) < 1000), min_size=1, max_size=8))
async def test_random_frames_before_hello(live: Live, frames: list[str | bytes]) -> None:
    peer = await live.endpoint.peer(hello=False)
    for frame in frames:
        await peer.send_raw(frame)
        try:
            msg = await peer.recv()
        except Closed:
            break
        assert isinstance(msg, p.Error | p.Welcome | p.Bye), msg
    await peer.close()
    await assert_relays(live.sentinel)


async def test_hello_first(live: Live) -> None:
    op = await live.endpoint.operator(live.token, hello=False)
    await op.send(p.CreateSession(mode="screen"))
    error = await op.expect_error("unexpected_message")
    assert "hello" in error.message
    await op.send(p.Hello(role="peer", protocol=1))
    await op.expect_error("unexpected_message")
    await op.hello()
    await op.send(p.Hello(role="operator", protocol=1))
    await op.expect_error("unexpected_message")


async def test_out_of_order_and_wrong_direction(live: Live) -> None:
    op = await live.endpoint.operator(live.token)
    created = await op.create()
    peer = await live.endpoint.peer()
    await peer.send(p.Offer(sdp="too early"))  # before even joining
    await peer.expect_error("no_session")
    await peer.join(created.code)
    await peer.expect(p.JoinPending)
    await op.expect(p.JoinRequest)
    await peer.send(p.Offer(sdp="before accept"))
    await peer.expect_error("unexpected_message")
    await op.send(p.Answer(sdp="before accept"))
    await op.expect_error("unexpected_message")
    await op.send(p.Accept(session_id=created.session_id))
    await peer.expect(p.Paired)
    await op.expect(p.Paired)
    await op.send(p.Answer(sdp="before any offer"))
    await op.expect_error("unexpected_message")
    await op.send(p.Offer(sdp="wrong way"))
    await op.expect_error("unexpected_message")
    await peer.send(p.Answer(sdp="wrong way"))
    await peer.expect_error("unexpected_message")
    await peer.send(p.Accept(session_id=created.session_id))
    await peer.expect_error("unexpected_message")
    await op.send(p.Accept(session_id=created.session_id))  # already paired
    await op.expect_error("unexpected_message")
    pair = Pair(
        op,
        peer,
        created.session_id,
        created.code,
        p.Paired(
            session_id=created.session_id,
            mode="screen",
            operator="alice",
            host="pc-1",
            user="bob",
            os="Linux",
            ice_servers=(),
        ),
    )
    await assert_relays(pair)  # none of that broke the session itself


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "{",
        "[]",
        "null",
        '"offer"',
        '{"type": 5}',
        '{"type": "offer"}',
        '{"type": "warp"}',
        '{"type": "offer", "sdp": 1}',
        '{"type": "offer", "sdp": "x", "extra": 1}',
        '{"type": "candidate", "candidate": "c", "sdp_mline_index": true}',
        '{"type": "offer", "sdp": "x\\u0000"}',
        '{"type": "candidate", "candidate": NaN}',
        "[" * 100_00,
    ],
)
async def test_malformed_frames_get_errors(live: Live, frame: str) -> None:
    pair = await fresh_pair(live)
    await pair.peer.send_raw(frame)
    error = await pair.peer.expect(p.Error)
    assert error.code in ("bad_json", "bad_message", "unknown_type")
    await assert_relays(pair)
    await assert_relays(live.sentinel)


@pytest.mark.parametrize("role", ["operator", "peer"])
async def test_chat_on_the_signaling_socket_is_refused_and_never_relayed(
    live: Live, role: str
) -> None:
    """Chat is end to end, on a data channel: the server never carries it, before pairing
    or after."""
    op = await live.endpoint.operator(live.token)
    created = await op.create()
    chat = json.dumps({"type": "chat", "text": "hello before pairing"})
    await op.send_raw(chat)
    assert (await op.expect(p.Error)).code == "unknown_type"
    pair = await fresh_pair(live)
    sender, other = (pair.op, pair.peer) if role == "operator" else (pair.peer, pair.op)
    await sender.send_raw(chat)
    assert (await sender.expect(p.Error)).code == "unknown_type"
    await other.expect_nothing()
    await assert_relays(pair)
    await assert_relays(live.sentinel)
    del created


async def test_too_many_bad_frames_close_the_socket(live: Live) -> None:
    pair = await fresh_pair(live)
    for _ in range(19):
        await pair.peer.send_raw("nonsense")
        await pair.peer.expect_error("bad_json")
    await pair.peer.send_raw(b"\x00binary")
    await pair.peer.expect_error("bad_json")
    assert await pair.peer.expect_closed() == 1008
    await pair.op.expect_bye("peer_left")
    await assert_relays(live.sentinel)


async def test_oversized_frame_closes_only_that_socket(live: Live) -> None:
    pair = await fresh_pair(live)
    await pair.op.send_raw(json.dumps({"type": "answer", "sdp": "x" * p.MAX_SIGNAL_BYTES}))
    assert await pair.op.expect_closed() == 1009
    await pair.peer.expect_bye("operator_left")
    await pair.peer.expect_closed()
    await assert_relays(live.sentinel)
