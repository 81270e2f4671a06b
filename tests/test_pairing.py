"""The session table without a loop: states, who may send what, relay targets, ends."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from signaling.codes import CodeRegistry
from signaling.pairing import (
    Close,
    Effect,
    Ended,
    Pairing,
    PairingError,
    Role,
    Send,
    Started,
    State,
)
from wire import protocol as p

OP, PEER, OP2, PEER2, THIEF = 1, 2, 3, 4, 5


def make(ttl: float = 60.0, **kw: Any) -> Pairing:
    codes = iter(f"{n:08d}" for n in itertools.count(12345678))
    ids = iter(f"session-{n}" for n in itertools.count(1))
    return Pairing(
        CodeRegistry(ttl, draw=lambda: next(codes)),
        code_ttl=ttl,
        new_session_id=lambda: next(ids),
        **kw,
    )


def sent(effects: list[Effect], conn: int) -> list[Any]:
    return [e.message for e in effects if isinstance(e, Send) and e.conn == conn]


def hello(t: Pairing, conn: int, role: Role, name: str) -> None:
    t.connect(conn, role, name)
    (welcome,) = sent(t.receive(conn, p.Hello(role=role, protocol=1), 0.0), conn)
    assert isinstance(welcome, p.Welcome) and welcome.role == role


def create(t: Pairing, op: int = OP, name: str = "alice") -> p.SessionCreated:
    hello(t, op, "operator", name)
    (created,) = sent(t.receive(op, p.CreateSession(mode="screen"), 0.0), op)
    assert isinstance(created, p.SessionCreated)
    return created


def join(t: Pairing, peer: int, code: str, now: float = 1.0) -> list[Effect]:
    hello(t, peer, "peer", "192.0.2.7")
    return t.receive(peer, p.Join(code=code, host="pc", user="bob", os="Linux"), now)


def paired(t: Pairing) -> p.SessionCreated:
    created = create(t)
    join(t, PEER, created.code)
    t.receive(OP, p.Accept(session_id=created.session_id), 2.0)
    return created


def test_hello_first_and_only_once() -> None:
    t = make()
    t.connect(OP, "operator", "alice")
    with pytest.raises(PairingError) as e:
        t.receive(OP, p.CreateSession(mode="screen"), 0.0)
    assert e.value.code == "unexpected_message"
    with pytest.raises(PairingError, match="for the operator"):
        t.receive(OP, p.Hello(role="peer", protocol=1), 0.0)
    (welcome,) = sent(t.receive(OP, p.Hello(role="operator", protocol=1), 0.0), OP)
    assert welcome.operator == "alice"
    with pytest.raises(PairingError, match="already"):
        t.receive(OP, p.Hello(role="operator", protocol=1), 0.0)


def test_full_session() -> None:
    t = make()
    created = create(t)
    assert created.ttl == 60 and created.expires_at == 60.0
    effects = join(t, PEER, created.code)
    (pending,) = sent(effects, PEER)
    assert pending == p.JoinPending(operator="alice", mode="screen")
    (request,) = sent(effects, OP)
    assert request == p.JoinRequest(
        session_id=created.session_id, host="pc", user="bob", os="Linux", address="192.0.2.7"
    )
    assert t.session(created.session_id).state is State.CLAIMED  # type: ignore[union-attr]
    effects = t.receive(OP, p.Accept(session_id=created.session_id), 5.0)
    (to_peer,) = sent(effects, PEER)
    (to_op,) = sent(effects, OP)
    assert isinstance(to_peer, p.Paired) and to_peer.ice_servers == ()
    # the same facts for both, but each its own secret to come back with
    assert to_op.resume and to_peer.resume and to_op.resume != to_peer.resume
    assert to_op.resume_within == 60
    assert dataclasses.replace(to_op, resume=None) == dataclasses.replace(to_peer, resume=None)
    assert to_op.host == "pc" and to_op.operator == "alice"
    (started,) = [e for e in effects if isinstance(e, Started)]
    assert started.started_at == 5.0 and started.user == "bob"

    offer = p.Offer(sdp="v=0 offer")
    assert t.receive(PEER, offer, 6.0) == [Send(OP, offer)]
    answer = p.Answer(sdp="v=0 answer")
    assert t.receive(OP, answer, 6.0) == [Send(PEER, answer)]
    cand = p.Candidate(candidate="candidate:1")
    assert t.receive(OP, cand, 6.0) == [Send(PEER, cand)]
    assert t.receive(PEER, cand, 6.0) == [Send(OP, cand)]

    effects = t.receive(PEER, p.Bye(reason="done"), 65.0)
    assert sent(effects, OP) == [p.Bye(reason="peer_ended")]
    assert sent(effects, PEER) == [p.Bye(reason="peer_ended")]
    assert Close(PEER) in effects
    assert Ended(created.session_id, "peer_ended", 65.0, started=True) in effects
    assert len(t) == 0
    # the operator's socket stays, ready for the next session
    (again,) = sent(t.receive(OP, p.CreateSession(mode="call"), 70.0), OP)
    assert isinstance(again, p.SessionCreated) and again.code != created.code


@pytest.mark.parametrize(
    ("conn", "msg"),
    [
        (PEER, p.Offer(sdp="x")),  # offer before accept
        (PEER, p.Candidate(candidate="c")),
        (OP, p.Answer(sdp="x")),
    ],
)
def test_nothing_relayed_before_paired(conn: int, msg: Any) -> None:
    t = make()
    created = create(t)
    join(t, PEER, created.code)
    with pytest.raises(PairingError) as e:
        t.receive(conn, msg, 1.0)
    assert e.value.code == "unexpected_message"


def test_direction_rules() -> None:
    t = make()
    paired(t)
    for conn, msg in [
        (OP, p.Offer(sdp="x")),
        (PEER, p.Answer(sdp="x")),
        (OP, p.Join(code="12345678", host="h", user="u", os="o")),
        (PEER, p.CreateSession(mode="screen")),
        (PEER, p.Accept(session_id="session-1")),
        (OP, p.Welcome(role="operator", protocol=1)),
        (
            OP,
            p.Paired(
                session_id="session-1",
                mode="screen",
                operator="a",
                host="h",
                user="u",
                os="o",
                ice_servers=(),
            ),
        ),
    ]:
        with pytest.raises(PairingError) as e:
            t.receive(conn, msg, 3.0)
        assert e.value.code == "unexpected_message", msg
    with pytest.raises(PairingError, match="answer before any offer"):
        t.receive(OP, p.Answer(sdp="x"), 3.0)


def test_operator_errors() -> None:
    t = make(max_sessions=1)
    created = create(t)
    with pytest.raises(PairingError) as e:
        t.receive(OP, p.CreateSession(mode="screen"), 0.0)
    assert e.value.code == "session_exists"
    with pytest.raises(PairingError) as e:
        t.receive(OP, p.Accept(session_id=created.session_id), 0.0)
    assert e.value.code == "unexpected_message"  # nobody joined yet
    with pytest.raises(PairingError) as e:
        t.receive(OP, p.Accept(session_id="someone-elses"), 0.0)
    assert e.value.code == "no_session"
    hello(t, OP2, "operator", "carol")
    with pytest.raises(PairingError) as e:
        t.receive(OP2, p.CreateSession(mode="screen"), 0.0)
    assert e.value.code == "server_busy"
    with pytest.raises(PairingError) as e:
        t.receive(OP2, p.Bye(reason="x"), 0.0)
    assert e.value.code == "no_session"
    with pytest.raises(PairingError) as e:
        t.receive(OP2, p.Candidate(candidate="c"), 0.0)
    assert e.value.code == "no_session"


def test_codes_single_use_and_errors() -> None:
    t = make()
    created = create(t)
    join(t, PEER, created.code)
    with pytest.raises(PairingError) as e:
        join(t, THIEF, created.code)
    assert (e.value.code, e.value.failed_guess) == ("used_code", True)
    with pytest.raises(PairingError) as e:
        t.receive(THIEF, p.Join(code="00000000", host="h", user="u", os="o"), 1.0)
    assert (e.value.code, e.value.failed_guess) == ("unknown_code", True)
    with pytest.raises(PairingError) as e:
        t.receive(PEER, p.Join(code=created.code, host="h", user="u", os="o"), 1.0)
    assert e.value.code == "unexpected_message" and not e.value.failed_guess


@pytest.mark.parametrize(
    ("end", "reason"),
    [("reject", "rejected"), ("op_bye", "operator_ended"), ("op_drop", "operator_left")],
)
def test_claimed_session_ends_and_code_dies(end: str, reason: str) -> None:
    t = make()
    created = create(t)
    join(t, PEER, created.code)
    if end == "reject":
        effects = t.receive(OP, p.Reject(session_id=created.session_id), 3.0)
    elif end == "op_bye":
        effects = t.receive(OP, p.Bye(reason="x"), 3.0)
    else:
        effects = t.disconnect(OP, 3.0)
    assert sent(effects, PEER) == [p.Bye(reason=reason)]
    assert Close(PEER) in effects
    assert Ended(created.session_id, reason, 3.0, started=False) in effects
    assert len(t) == 0
    with pytest.raises(PairingError) as e:
        join(t, THIEF, created.code)
    assert e.value.code == "used_code"


@pytest.mark.parametrize("end", ["bye", "drop"])
def test_waiting_session_cancel_kills_code(end: str) -> None:
    t = make()
    created = create(t)
    if end == "bye":
        effects = t.receive(OP, p.Bye(reason="x"), 3.0)
        assert sent(effects, OP) == [p.Bye(reason="cancelled")]
    else:
        effects = t.disconnect(OP, 3.0)
        assert not [e for e in effects if isinstance(e, Send)]
    with pytest.raises(PairingError) as e:
        join(t, PEER, created.code)
    assert e.value.code == "used_code"


def test_expiry() -> None:
    t = make(ttl=10.0)
    created = create(t)
    assert t.expire(9.0) == []
    effects = t.expire(10.0)
    assert sent(effects, OP) == [p.Bye(reason="expired")]
    assert Ended(created.session_id, "expired", 10.0, started=False) in effects
    with pytest.raises(PairingError) as e:
        join(t, PEER, created.code, now=11.0)
    assert e.value.code == "expired_code"


def test_claimed_sessions_do_not_expire() -> None:
    t = make(ttl=10.0)
    created = create(t)
    join(t, PEER, created.code, now=5.0)
    assert t.expire(20.0) == []
    assert t.session(created.session_id).state is State.CLAIMED  # type: ignore[union-attr]


def test_peer_drop_tells_operator() -> None:
    t = make(resume_within=0)  # no waiting: the end at once
    created = paired(t)
    effects = t.disconnect(PEER, 9.0)
    assert effects == [
        Send(OP, p.Bye(reason="peer_left")),
        Ended(created.session_id, "peer_left", 9.0, started=True),
    ]
    assert t.disconnect(PEER, 9.0) == []


def _resume_secrets(t: Pairing) -> tuple[p.SessionCreated, str, str]:
    created = create(t)
    join(t, PEER, created.code)
    effects = t.receive(OP, p.Accept(session_id=created.session_id), 2.0)
    (to_peer,) = sent(effects, PEER)
    (to_op,) = sent(effects, OP)
    return created, to_op.resume, to_peer.resume


def test_a_dropped_member_comes_back_with_its_secret_and_both_hear_resumed() -> None:
    t = make()
    created, op_secret, peer_secret = _resume_secrets(t)
    sid = created.session_id
    # the customer's network drops: the operator is told, nothing ends
    assert t.disconnect(PEER, 10.0) == [Send(OP, p.Interrupted(resume_within=60))]
    assert t.session(sid).state is State.INTERRUPTED  # type: ignore[union-attr]
    assert t.next_deadline() == 70.0
    # the operator's candidates and answers go nowhere meanwhile, without an error
    assert t.receive(OP, p.Candidate(candidate=""), 11.0) == []
    # a stranger, a wrong secret, the operator's secret on the customer's side: refused
    hello(t, THIEF, "peer", "198.51.100.9")
    for token in ("x" * 32, op_secret):
        with pytest.raises(PairingError) as e:
            t.receive(THIEF, p.Resume(session_id=sid, token=token), 12.0)
        assert e.value.code == "no_session"
    with pytest.raises(PairingError):
        t.receive(THIEF, p.Resume(session_id="session-404", token=peer_secret), 12.0)
    # the customer comes back on a new socket
    hello(t, PEER2, "peer", "203.0.113.5")
    effects = t.receive(PEER2, p.Resume(session_id=sid, token=peer_secret), 30.0)
    assert sent(effects, PEER2) == [p.Resumed(ice_servers=())]
    assert sent(effects, OP) == [p.Resumed(ice_servers=())]
    assert t.session(sid).state is State.PAIRED and t.next_deadline() is None  # type: ignore[union-attr]
    # and the session goes on: a fresh offer reaches the operator, the answer the customer
    offer = p.Offer(sdp="v=0 fresh", fresh=True)
    assert sent(t.receive(PEER2, offer, 31.0), OP) == [offer]
    assert sent(t.receive(OP, p.Answer(sdp="v=0 answer"), 31.0), PEER2) == [
        p.Answer(sdp="v=0 answer")
    ]
    # the old socket's late close changes nothing; a secret is good for its session only
    assert t.disconnect(PEER, 32.0) == []
    assert all(not isinstance(e, Ended) for e in t.receive(OP, p.Candidate(candidate=""), 33.0))


def test_an_interrupted_session_ends_when_time_runs_out() -> None:
    t = make(resume_within=20)
    created, _, _ = _resume_secrets(t)
    assert sent(t.disconnect(OP, 5.0), PEER) == [p.Interrupted(resume_within=20)]
    assert t.expire(24.0) == []
    effects = t.expire(25.0)
    assert sent(effects, PEER) == [p.Bye(reason="operator_left")]
    assert Ended(created.session_id, "operator_left", 25.0, started=True) in effects
    assert t.session(created.session_id) is None


def test_the_operator_may_come_back_only_as_the_same_operator() -> None:
    t = make()
    created, op_secret, _ = _resume_secrets(t)
    t.disconnect(OP, 5.0)
    hello(t, OP2, "operator", "mallory")
    with pytest.raises(PairingError):
        t.receive(OP2, p.Resume(session_id=created.session_id, token=op_secret), 6.0)
    hello(t, 6, "operator", "alice")
    effects = t.receive(6, p.Resume(session_id=created.session_id, token=op_secret), 6.0)
    assert sent(effects, PEER) == [p.Resumed(ice_servers=())]


def test_a_new_socket_takes_the_place_of_one_not_yet_known_dead() -> None:
    t = make()
    created, _, peer_secret = _resume_secrets(t)
    hello(t, PEER2, "peer", "203.0.113.5")
    effects = t.receive(PEER2, p.Resume(session_id=created.session_id, token=peer_secret), 8.0)
    assert Close(PEER, 1000) in effects
    assert sent(effects, PEER2) == [p.Resumed(ice_servers=())]
    assert t.disconnect(PEER, 9.0) == []  # the replaced socket ends nothing
    assert t.session(created.session_id).state is State.PAIRED  # type: ignore[union-attr]


def test_a_bye_while_interrupted_ends_at_once() -> None:
    t = make()
    created, _, _ = _resume_secrets(t)
    t.disconnect(PEER, 5.0)
    effects = t.receive(OP, p.Bye(reason="done"), 6.0)
    assert Ended(created.session_id, "operator_ended", 6.0, started=True) in effects
    assert t.next_deadline() is None


@pytest.mark.parametrize("side", [OP, PEER])
def test_a_failed_connection_is_told_as_such(side: int) -> None:
    """Either side may end a paired session because no network path was found; both hear
    why (and the audit records it), instead of "the customer ended the session"."""
    t = make()
    created = paired(t)
    effects = t.receive(side, p.Bye(reason="connection_failed"), 40.0)
    assert sent(effects, OP) == [p.Bye(reason="connection_failed")]
    assert sent(effects, PEER) == [p.Bye(reason="connection_failed")]
    assert Ended(created.session_id, "connection_failed", 40.0, started=True) in effects


def test_connection_failed_before_pairing_is_an_ordinary_end() -> None:
    t = make()
    created = create(t)
    join(t, PEER, created.code)
    effects = t.receive(PEER, p.Bye(reason="connection_failed"), 3.0)
    assert sent(effects, OP) == [p.Bye(reason="peer_ended")]


def test_two_sessions_isolated() -> None:
    t = make()
    a = paired(t)
    b = create(t, OP2, "carol")
    join(t, PEER2, b.code)
    t.receive(OP2, p.Accept(session_id=b.session_id), 2.0)
    assert a.code != b.code and a.session_id != b.session_id
    for conn, partner in [(PEER, OP), (PEER2, OP2)]:
        effects = t.receive(conn, p.Offer(sdp=f"from {conn}"), 3.0)
        assert [e.conn for e in effects if isinstance(e, Send)] == [partner]
    with pytest.raises(PairingError):
        t.receive(OP, p.Accept(session_id=b.session_id), 3.0)
    with pytest.raises(PairingError):
        t.receive(OP2, p.Reject(session_id=a.session_id), 3.0)
    effects = t.disconnect(OP, 4.0)
    assert {e.conn for e in effects if isinstance(e, Send | Close)} == {PEER}
    assert t.receive(PEER2, p.Candidate(candidate="c"), 5.0) == [
        Send(OP2, p.Candidate(candidate="c"))
    ]


def test_ice_servers_per_member() -> None:
    calls: list[tuple[str, str, float]] = []

    def ice(session_id: str, role: Role, now: float) -> tuple[p.IceServer, ...]:
        calls.append((session_id, role, now))
        return (p.IceServer(urls=("turns:t.example:443?transport=tcp",), username=role),)

    t = make(ice_servers=ice)
    created = create(t)
    join(t, PEER, created.code)
    effects = t.receive(OP, p.Accept(session_id=created.session_id), 2.0)
    assert sorted(calls) == [
        (created.session_id, "operator", 2.0),
        (created.session_id, "peer", 2.0),
    ]
    assert sent(effects, PEER)[0].ice_servers[0].username == "peer"
    assert sent(effects, OP)[0].ice_servers[0].username == "operator"


def test_shutdown() -> None:
    t = make()
    created = paired(t)
    hello(t, OP2, "operator", "carol")
    effects = t.shutdown(9.0)
    for conn in (OP, PEER, OP2):
        assert sent(effects, conn) == [p.Bye(reason="server_shutdown")]
        assert Close(conn, 1001) in effects
    assert Ended(created.session_id, "server_shutdown", 9.0, started=True) in effects
    assert len(t) == 0
