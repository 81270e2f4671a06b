"""The session table: who is paired with whom, and what each side may send when.

Sans-IO: the WebSocket adapter (``signaling.ws``) gives every socket a ``ConnId``, hands each
parsed message to ``Pairing.receive`` and carries out the ``Effect`` list it gets back
(``Send``, ``Close``, ``Started``, ``Ended``). Nothing here awaits, sleeps or reads a clock;
``now`` is passed in. A message is only ever relayed to the other member of the sender's own
session: this is where one session is kept from reaching another.

A session's states::

    waiting --join--> claimed --accept--> paired <--resume (both back)--+
       |                 |                  |                           |
       |                 |                  +--drop--> interrupted -----+
       |                 |                  |              |
       +-----------------+------------------+--------------+--> ended (bye, reject, drop
                                                                before pairing, expiry,
                                                                resume_within run out)

A paired member whose socket drops is not the end: the session waits ``resume_within``
seconds (``interrupted``; the other member is told) for that member to come back on a new
socket with ``resume`` and the secret ``paired`` gave it. Media is peer to peer, so nothing
is lost meanwhile but the way to renegotiate; once both are back they get ``resumed`` and the
peer offers a fresh connection.

Which side may send what (anything else is ``unexpected_message``)::

    before hello   hello only
    operator       create_session (no live session), accept/reject (claimed),
                   answer (paired, after an offer), candidate (paired), bye (any)
    peer           join (no session yet), offer (paired), candidate (paired), bye (any)
    both           resume (no session yet on this socket)

Errors::

    PairingError(Exception)   .code from protocol.ERROR_CODES, .message for people;
                              .failed_guess is true for a wrong code (counts as a guess)
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from signaling.codes import CodeError
from wire import protocol

logger = logging.getLogger(__name__)

ConnId = int
Role = Literal["operator", "peer"]


class State(enum.Enum):
    WAITING = "waiting"
    CLAIMED = "claimed"
    PAIRED = "paired"
    INTERRUPTED = "interrupted"
    ENDED = "ended"


class PairingError(Exception):
    """A message was refused; ``code`` is sent back to its sender in an ``error``."""

    def __init__(self, code: str, message: str, *, failed_guess: bool = False) -> None:
        super().__init__(message)
        assert code in protocol.ERROR_CODES, code
        self.code = code
        self.message = message
        self.failed_guess = failed_guess


class IssuedCode(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def expires_at(self) -> float: ...


class Codes(Protocol):
    """What the table needs of the code registry (``signaling.codes.CodeRegistry``)."""

    def issue(self, session_id: str, now: float) -> IssuedCode: ...
    def claim(self, code: str, now: float) -> str: ...
    def revoke(self, session_id: str) -> None: ...
    def expire(self, now: float) -> list[str]: ...


#: ``ice_servers(session_id, role, now)``: what one member of a pair gets in ``paired``.
IceServers = Callable[[str, Role, float], tuple[protocol.IceServer, ...]]


def no_ice_servers(session_id: str, role: Role, now: float) -> tuple[protocol.IceServer, ...]:
    """Without TURN settings: no ICE servers at all (never a public STUN server)."""
    return ()


# --------------------------------------------------------------------------- effects


@dataclass(frozen=True)
class Send:
    """Send ``message`` on socket ``conn``."""

    conn: ConnId
    message: Any


@dataclass(frozen=True)
class Close:
    """Close socket ``conn`` (after what was sent before)."""

    conn: ConnId
    code: int = 1000


@dataclass(frozen=True)
class Started:
    """A session was accepted: write its audit row."""

    session_id: str
    operator: str
    mode: str
    host: str
    user: str
    os: str
    started_at: float


@dataclass(frozen=True)
class Granted:
    """The customer has allowed these capabilities so far: add them to the audit row."""

    session_id: str
    capabilities: tuple[str, ...]


@dataclass(frozen=True)
class Ended:
    """A session is over; ``started`` says whether it has an audit row to finish."""

    session_id: str
    reason: str
    ended_at: float
    started: bool


Effect = Send | Close | Started | Granted | Ended


# --------------------------------------------------------------------------- table


@dataclass
class Session:
    session_id: str
    operator: str
    mode: str
    operator_conn: ConnId | None
    created_at: float
    #: The name the customer is shown (display name, else the login).
    shown: str = ""
    state: State = State.WAITING
    peer_conn: ConnId | None = None
    host: str = ""
    user: str = ""
    os: str = ""
    started_at: float | None = None
    offered: bool = False
    #: Each member's secret for ``resume`` (set when paired).
    resume: dict[str, str] = field(default_factory=dict)
    #: When an interrupted session ends unless the missing member is back.
    resume_by: float | None = None

    def set_state(self, state: State) -> None:
        logger.info("session %s: %s -> %s", self.session_id, self.state.value, state.value)
        self.state = state


@dataclass
class Conn:
    conn: ConnId
    role: Role
    #: The operator's name, or the peer's client address.
    name: str
    #: What the customer is shown of this operator (display name); ``name`` when empty.
    shown: str = ""
    greeted: bool = False
    session_id: str | None = None


_RELAYED: dict[Role, frozenset[str]] = {
    "operator": frozenset({"answer", "candidate"}),
    "peer": frozenset({"offer", "candidate"}),
}


class Pairing:
    """All live sessions and the sockets that belong to them."""

    def __init__(
        self,
        codes: Codes,
        *,
        code_ttl: float,
        max_sessions: int = 20_000,
        ice_servers: IceServers = no_ice_servers,
        new_session_id: Callable[[], str] = lambda: secrets.token_urlsafe(16),
        organisation: str | None = None,
        resume_within: float = 60.0,
    ) -> None:
        self._codes = codes
        self._organisation = organisation or None
        self._resume_within = max(0.0, resume_within)
        self._ttl = max(1, round(code_ttl))
        self._max_sessions = max_sessions
        self._ice_servers = ice_servers
        self._new_id = new_session_id
        self._sessions: dict[str, Session] = {}
        self._conns: dict[ConnId, Conn] = {}

    def __len__(self) -> int:
        """Live sessions."""
        return len(self._sessions)

    @property
    def connections(self) -> int:
        return len(self._conns)

    def session(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    # ------------------------------------------------------------------ sockets

    def connect(self, conn: ConnId, role: Role, name: str, shown: str = "") -> None:
        """A socket opened: an operator's (``name`` = operator, ``shown`` = the display name
        customers see) or a peer's (client address)."""
        if conn in self._conns:
            raise ValueError(f"connection {conn} is already known")
        self._conns[conn] = Conn(conn, role, name, shown=shown or name)

    def rename(self, name: str, shown: str) -> None:
        """Operator ``name`` has a new display name: their sockets use it from now on, and so
        do their sessions no customer has joined yet."""
        for c in self._conns.values():
            if c.role != "operator" or c.name != name:
                continue
            c.shown = shown or name
            s = None if c.session_id is None else self._sessions.get(c.session_id)
            if s is not None and s.state is State.WAITING:
                s.shown = c.shown

    def disconnect(self, conn: ConnId, now: float, *, resumable: bool = True) -> list[Effect]:
        """A socket is gone. Before pairing its session ends and the partner is told at once;
        a paired session waits ``resume_within`` for the member to come back, unless the
        socket was closed for breaking the rules (``resumable`` false)."""
        c = self._conns.pop(conn, None)
        if c is None or c.session_id is None:
            return []
        s = self._sessions.get(c.session_id)
        if s is None:
            return []
        reason = "operator_left" if c.role == "operator" else "peer_left"
        paired = s.state in (State.PAIRED, State.INTERRUPTED)
        if not paired or not resumable or self._resume_within <= 0:
            return self._end(s, reason, now)
        self._detach(s, c.role)
        if s.operator_conn is None and s.peer_conn is None:
            logger.info("session %s: both members gone, waiting for them", s.session_id)
        if s.state is State.PAIRED:
            s.set_state(State.INTERRUPTED)
            s.resume_by = now + self._resume_within
        other = s.peer_conn if c.role == "operator" else s.operator_conn
        if other is None:
            return []
        return [Send(other, protocol.Interrupted(resume_within=self._left(s, now)))]

    def _detach(self, s: Session, role: str) -> None:
        if role == "operator":
            s.operator_conn = None
        else:
            s.peer_conn = None

    def _left(self, s: Session, now: float) -> int:
        """Whole seconds an interrupted session still waits."""
        return max(0, min(3600, round((s.resume_by or now) - now)))

    def next_deadline(self) -> float | None:
        """When the earliest interrupted session runs out of time (``None``: none waits)."""
        waits = [s.resume_by for s in self._sessions.values() if s.resume_by is not None]
        return min(waits, default=None)

    def receive(self, conn: ConnId, msg: Any, now: float) -> list[Effect]:
        """One parsed message from ``conn``: what to do, or ``PairingError``."""
        c = self._conns.get(conn)
        if c is None:
            raise ValueError(f"connection {conn} is not known")
        kind = getattr(type(msg), "type", None)
        if not c.greeted:
            if not isinstance(msg, protocol.Hello):
                raise PairingError("unexpected_message", "send hello first")
            if msg.role != c.role:
                raise PairingError(
                    "unexpected_message", f"this endpoint is for the {c.role}, not the {msg.role}"
                )
            c.greeted = True
            return [
                Send(
                    conn,
                    protocol.Welcome(
                        role=c.role,
                        protocol=protocol.PROTOCOL_VERSION,
                        operator=c.name if c.role == "operator" else None,
                    ),
                )
            ]
        allowed = protocol.FROM_OPERATOR if c.role == "operator" else protocol.FROM_PEER
        if kind == "hello":
            raise PairingError("unexpected_message", "hello was already received")
        if kind not in allowed:
            raise PairingError("unexpected_message", f"{kind} is not sent by the {c.role}")
        s = None if c.session_id is None else self._sessions.get(c.session_id)
        if isinstance(msg, protocol.Resume):
            return self._resume(c, s, msg, now)
        if c.role == "operator":
            return self._from_operator(c, s, msg, now)
        return self._from_peer(c, s, msg, now)

    def expire(self, now: float) -> list[Effect]:
        """End every waiting session whose code has run out, and every interrupted one whose
        missing member did not come back in time."""
        effects: list[Effect] = []
        for session_id in self._codes.expire(now):
            s = self._sessions.get(session_id)
            if s is not None and s.state is State.WAITING:
                effects += self._end(s, "expired", now)
        for s in list(self._sessions.values()):
            if s.state is State.INTERRUPTED and s.resume_by is not None and s.resume_by <= now:
                reason = "peer_left" if s.peer_conn is None else "operator_left"
                effects += self._end(s, reason, now)
        return effects

    def shutdown(self, now: float) -> list[Effect]:
        """The server stops: every session ends and every socket is told and closed."""
        effects: list[Effect] = []
        for s in list(self._sessions.values()):
            effects += self._end(s, "server_shutdown", now, notify=False)
        bye = protocol.Bye(reason="server_shutdown")
        for conn in list(self._conns):
            effects += [Send(conn, bye), Close(conn, 1001)]
        return effects

    # ------------------------------------------------------------------ operator side

    def _from_operator(self, c: Conn, s: Session | None, msg: Any, now: float) -> list[Effect]:
        if isinstance(msg, protocol.CreateSession):
            if s is not None:
                raise PairingError(
                    "session_exists", "this connection already has a live session; end it first"
                )
            if len(self._sessions) >= self._max_sessions:
                raise PairingError("server_busy", "the server cannot take more sessions now")
            session_id = self._new_id()
            try:
                issued = self._codes.issue(session_id, now)
            except CodeError as exc:
                raise PairingError(exc.code, exc.message) from None
            s = Session(session_id, c.name, msg.mode, c.conn, created_at=now, shown=c.shown)
            self._sessions[session_id] = s
            c.session_id = session_id
            logger.info("session %s: new -> waiting (operator %s)", session_id, c.name)
            created = protocol.SessionCreated(
                session_id=session_id,
                code=issued.code,
                mode=msg.mode,
                expires_at=issued.expires_at,
                ttl=self._ttl,
            )
            return [Send(c.conn, created)]
        if isinstance(msg, protocol.Bye):
            if s is None:
                raise PairingError("no_session", "there is no session to end")
            if s.state is State.WAITING:
                reason = "cancelled"
            elif msg.reason == "connection_failed" and s.state is State.PAIRED:
                reason = "connection_failed"
            else:
                reason = "operator_ended"
            return self._end(s, reason, now)
        if isinstance(msg, protocol.Accept | protocol.Reject):
            if s is None or s.session_id != msg.session_id:
                raise PairingError("no_session", "this connection has no such session")
            if s.state is not State.CLAIMED:
                raise PairingError(
                    "unexpected_message", f"nobody is waiting to be accepted ({s.state.value})"
                )
            if isinstance(msg, protocol.Reject):
                return self._end(s, "rejected", now)
            return self._pair(s, now)
        return self._relay(c, s, msg)

    def _pair(self, s: Session, now: float) -> list[Effect]:
        assert s.peer_conn is not None and s.operator_conn is not None
        s.set_state(State.PAIRED)
        s.started_at = now
        s.resume = {"operator": secrets.token_urlsafe(24), "peer": secrets.token_urlsafe(24)}
        effects: list[Effect] = []
        members: tuple[tuple[ConnId, Role], ...] = (
            (s.peer_conn, "peer"),
            (s.operator_conn, "operator"),
        )
        for conn, role in members:
            effects.append(
                Send(
                    conn,
                    protocol.Paired(
                        session_id=s.session_id,
                        mode=s.mode,
                        operator=s.shown,
                        host=s.host,
                        user=s.user,
                        os=s.os,
                        ice_servers=self._ice_servers(s.session_id, role, now),
                        organisation=self._organisation,
                        resume=s.resume[role] if self._resume_within > 0 else None,
                        resume_within=round(self._resume_within),
                    ),
                )
            )
        effects.append(
            Started(s.session_id, s.operator, s.mode, s.host, s.user, s.os, started_at=now)
        )
        return effects

    # ------------------------------------------------------------------ peer side

    def _from_peer(self, c: Conn, s: Session | None, msg: Any, now: float) -> list[Effect]:
        if isinstance(msg, protocol.Join):
            if s is not None:
                raise PairingError("unexpected_message", "this connection has already joined")
            try:
                session_id = self._codes.claim(msg.code, now)
            except CodeError as exc:
                raise PairingError(exc.code, exc.message, failed_guess=True) from None
            s = self._sessions.get(session_id)
            if s is None or s.state is not State.WAITING:  # pragma: no cover - kept in step
                raise PairingError("used_code", "this code has already been used")
            s.peer_conn = c.conn
            s.host, s.user, s.os = msg.host, msg.user, msg.os
            c.session_id = session_id
            s.set_state(State.CLAIMED)
            assert s.operator_conn is not None  # a waiting session's operator is there
            return [
                Send(
                    c.conn,
                    protocol.JoinPending(
                        operator=s.shown, mode=s.mode, organisation=self._organisation
                    ),
                ),
                Send(
                    s.operator_conn,
                    protocol.JoinRequest(
                        session_id=session_id,
                        host=msg.host,
                        user=msg.user,
                        os=msg.os,
                        address=c.name[:64],
                    ),
                ),
            ]
        if isinstance(msg, protocol.Bye):
            if s is None:
                return [Send(c.conn, protocol.Bye(reason="peer_ended")), Close(c.conn)]
            failed = msg.reason == "connection_failed" and s.state is State.PAIRED
            return self._end(s, "connection_failed" if failed else "peer_ended", now)
        if isinstance(msg, protocol.Granted):
            if s is None or s.state is not State.PAIRED:
                raise PairingError("no_session", "granted needs a paired session")
            known = tuple(c for c in msg.capabilities if c in protocol.CAPABILITIES)
            return [Granted(s.session_id, known)] if known else []
        return self._relay(c, s, msg)

    # ------------------------------------------------------------------ both

    def _resume(self, c: Conn, s: Session | None, msg: Any, now: float) -> list[Effect]:
        if s is not None:
            raise PairingError("unexpected_message", "this connection already has a session")
        target = self._sessions.get(msg.session_id)
        secret = None if target is None else target.resume.get(c.role)
        if (
            target is None
            or target.state not in (State.PAIRED, State.INTERRUPTED)
            or secret is None
            or not secrets.compare_digest(secret, msg.token)
            or (c.role == "operator" and c.name != target.operator)
        ):
            raise PairingError(
                "no_session", "there is no such session to resume (it may have ended)"
            )
        effects: list[Effect] = []
        old = target.operator_conn if c.role == "operator" else target.peer_conn
        if old is not None and old != c.conn:
            # the old socket is not known to be dead yet: the new one takes its place
            gone = self._conns.get(old)
            if gone is not None:
                gone.session_id = None
            effects.append(Close(old, 1000))
        if c.role == "operator":
            target.operator_conn = c.conn
        else:
            target.peer_conn = c.conn
        c.session_id = target.session_id
        logger.info("session %s: %s is back", target.session_id, c.role)
        if target.operator_conn is None or target.peer_conn is None:
            if target.state is State.PAIRED:  # pragma: no cover - a member is always missing
                target.set_state(State.INTERRUPTED)
            left = self._left(target, now)
            return effects + [Send(c.conn, protocol.Interrupted(resume_within=left))]
        if target.state is State.INTERRUPTED:
            target.set_state(State.PAIRED)
        target.resume_by = None
        target.offered = False  # the fresh connection starts with a new offer
        for conn, role in ((target.peer_conn, "peer"), (target.operator_conn, "operator")):
            servers = self._ice_servers(target.session_id, role, now)  # type: ignore[arg-type]
            effects.append(Send(conn, protocol.Resumed(ice_servers=servers)))
        return effects

    def _relay(self, c: Conn, s: Session | None, msg: Any) -> list[Effect]:
        kind = type(msg).type
        if kind not in _RELAYED[c.role]:  # pragma: no cover - FROM_* tables cover this
            raise PairingError("unexpected_message", f"{kind} is not relayed")
        if s is None:
            raise PairingError("no_session", f"{kind} needs a paired session")
        if s.state is State.INTERRUPTED:
            logger.debug("session %s: %s dropped: the other side is away", s.session_id, kind)
            return []
        if s.state is not State.PAIRED:
            raise PairingError(
                "unexpected_message", f"{kind} is only relayed once paired ({s.state.value})"
            )
        if kind == "answer" and not s.offered:
            raise PairingError("unexpected_message", "answer before any offer")
        if kind == "offer":
            s.offered = True
        target = s.peer_conn if c.role == "operator" else s.operator_conn
        assert target is not None and target != c.conn
        logger.debug("session %s: relay %s from %s", s.session_id, kind, c.role)
        return [Send(target, msg)]

    def _end(self, s: Session, reason: str, now: float, *, notify: bool = True) -> list[Effect]:
        self._codes.revoke(s.session_id)
        self._sessions.pop(s.session_id, None)
        effects: list[Effect] = []
        bye = protocol.Bye(reason=reason)
        for conn in (s.operator_conn, s.peer_conn):
            c = None if conn is None else self._conns.get(conn)
            if c is None or c.session_id != s.session_id:
                continue
            c.session_id = None
            if notify:
                effects.append(Send(c.conn, bye))
                if c.role == "peer":
                    effects.append(Close(c.conn))
        logger.info("session %s: %s -> ended (%s)", s.session_id, s.state.value, reason)
        s.state = State.ENDED
        effects.append(Ended(s.session_id, reason, now, started=s.started_at is not None))
        return effects
