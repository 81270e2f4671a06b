"""SQLite storage in the data directory: operators, web sessions, the session audit.

One ``Store`` owns one connection (WAL journal). Only what the audit promises is kept about a
support session: who ran it, what the customer's peer reported, when it started and ended, why
it ended, and the names of the capabilities the customer allowed -- never the code, never
content. Web sessions are kept by the SHA-256 of their
token only. Password hashing happens elsewhere (``signaling.passwords``); the store keeps the
hash text it is given.

Errors::

    StoreError(Exception)
     +-- OperatorExists(StoreError, ValueError)
     +-- UnknownOperator(StoreError, KeyError)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wire.protocol import CAPABILITIES

logger = logging.getLogger(__name__)

DATABASE_NAME = "supportlink.sqlite3"

#: Schema steps; ``PRAGMA user_version`` is the number of steps applied.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE operators (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE web_sessions (
        token_sha256 TEXT PRIMARY KEY,
        operator TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
        expires_at REAL NOT NULL
    );
    CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        operator TEXT NOT NULL,
        mode TEXT NOT NULL,
        host TEXT NOT NULL,
        user TEXT NOT NULL,
        os TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        end_reason TEXT
    );
    CREATE INDEX sessions_started ON sessions(started_at);
    """,
    """
    ALTER TABLE operators ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN capabilities TEXT NOT NULL DEFAULT '';
    CREATE INDEX sessions_operator ON sessions(operator, started_at);
    """,
)


def _capability_order(name: str) -> tuple[int, str]:
    """Capability names in the table's order; names it no longer has last."""
    try:
        return (CAPABILITIES.index(name), name)
    except ValueError:
        return (len(CAPABILITIES), name)


class StoreError(Exception):
    """Storage refused an operation."""


class OperatorExists(StoreError, ValueError):
    """An operator of that name already exists."""


class UnknownOperator(StoreError, KeyError):
    """No operator has that name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown operator"


@dataclass(frozen=True)
class OperatorInfo:
    name: str
    created_at: float
    display_name: str = ""


@dataclass(frozen=True)
class SessionRecord:
    """One audit row: a support session from ``paired`` to its end."""

    session_id: str
    operator: str
    mode: str
    host: str
    user: str
    os: str
    started_at: float
    ended_at: float | None
    end_reason: str | None
    #: Capability names the customer allowed at some moment of the session, in table order.
    capabilities: tuple[str, ...] = ()

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or ``None`` while the session runs."""
        return None if self.ended_at is None else max(0.0, self.ended_at - self.started_at)

    def as_json(self) -> dict[str, Any]:
        """The record as ``supportlink audit --json`` and ``GET /api/sessions`` give it."""
        return {
            "session_id": self.session_id,
            "operator": self.operator,
            "mode": self.mode,
            "host": self.host,
            "user": self.user,
            "os": self.os,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "end_reason": self.end_reason,
            "duration": self.duration,
            "capabilities": list(self.capabilities),
        }


def ensure_data_dir(path: Path) -> Path:
    """Create the data directory (mode 0700) if it is missing; return it."""
    path = Path(path)
    if not path.exists():
        path.mkdir(mode=0o700, parents=True)
        logger.info("data directory %s created", path)
    elif not path.is_dir():
        raise StoreError(f"data directory {str(path)!r} is not a directory")
    return path


class Store:
    """The server's SQLite database; use as a context manager or call ``close()``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = ensure_data_dir(Path(data_dir)) / DATABASE_NAME
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > len(_MIGRATIONS):
            raise StoreError(
                f"database {str(self.path)!r} has schema {version}, newer than this server "
                f"({len(_MIGRATIONS)})"
            )
        for step in range(version, len(_MIGRATIONS)):
            with self._transaction() as db:
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {step + 1}")
            logger.info("database schema %d -> %d", step, step + 1)

    @property
    def schema_version(self) -> int:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        return int(version)

    # ------------------------------------------------------------------ operators

    def add_operator(self, name: str, password_hash: str, now: float) -> None:
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO operators(name, password_hash, created_at) VALUES (?, ?, ?)",
                    (name, password_hash, now),
                )
        except sqlite3.IntegrityError:
            raise OperatorExists(f"operator {name!r} already exists") from None
        logger.info("operator %s added", name)

    def set_password(self, name: str, password_hash: str) -> None:
        """Replace an operator's password hash and log out all of their web sessions."""
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE operators SET password_hash = ? WHERE name = ?", (password_hash, name)
            )
            if cur.rowcount == 0:
                raise UnknownOperator(f"no operator is named {name!r}")
            db.execute("DELETE FROM web_sessions WHERE operator = ?", (name,))
        logger.info("operator %s password changed", name)

    def remove_operator(self, name: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE operator = ?", (name,))
            cur = db.execute("DELETE FROM operators WHERE name = ?", (name,))
            if cur.rowcount == 0:
                raise UnknownOperator(f"no operator is named {name!r}")
        logger.info("operator %s removed", name)

    def password_hash(self, name: str) -> str | None:
        row = self._db.execute(
            "SELECT password_hash FROM operators WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else str(row[0])

    def list_operators(self) -> list[OperatorInfo]:
        rows = self._db.execute(
            "SELECT name, created_at, display_name FROM operators ORDER BY name"
        )
        return [OperatorInfo(str(n), float(created), str(shown)) for n, created, shown in rows]

    def display_name(self, name: str) -> str:
        """The name customers are shown for operator ``name`` ("" when not set)."""
        row = self._db.execute(
            "SELECT display_name FROM operators WHERE name = ?", (name,)
        ).fetchone()
        return "" if row is None else str(row[0])

    def set_display_name(self, name: str, display_name: str) -> None:
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE operators SET display_name = ? WHERE name = ?", (display_name, name)
            )
            if cur.rowcount == 0:
                raise UnknownOperator(f"no operator is named {name!r}")
        logger.info("operator %s display name changed", name)

    def operator_count(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM operators").fetchone()
        return int(count)

    # ------------------------------------------------------------------ web sessions

    def add_web_session(self, token_sha256: str, operator: str, expires_at: float) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO web_sessions(token_sha256, operator, expires_at) VALUES (?, ?, ?)",
                (token_sha256, operator, expires_at),
            )

    def web_session_operator(self, token_sha256: str, now: float) -> str | None:
        """The operator logged in with this token, or ``None`` if it is unknown or expired."""
        row = self._db.execute(
            "SELECT operator FROM web_sessions WHERE token_sha256 = ? AND expires_at > ?",
            (token_sha256, now),
        ).fetchone()
        return None if row is None else str(row[0])

    def delete_web_session(self, token_sha256: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE token_sha256 = ?", (token_sha256,))

    def purge_web_sessions(self, now: float) -> int:
        """Delete expired web sessions; return how many went."""
        with self._transaction() as db:
            cur = db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (now,))
            return cur.rowcount

    # ------------------------------------------------------------------ audit

    def session_started(
        self,
        session_id: str,
        *,
        operator: str,
        mode: str,
        host: str,
        user: str,
        os: str,
        started_at: float,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sessions(session_id, operator, mode, host, user, os, started_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, operator, mode, host, user, os, started_at),
            )

    def session_ended(self, session_id: str, ended_at: float, reason: str) -> None:
        """Record the end of a started session (the first end recorded wins)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE sessions SET ended_at = ?, end_reason = ?"
                " WHERE session_id = ? AND ended_at IS NULL",
                (ended_at, reason, session_id),
            )

    def session_granted(self, session_id: str, capabilities: Iterable[str]) -> None:
        """Add capability names to what the session's customer allowed (kept in the capability
        table's order)."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT capabilities FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
            if row is None:
                return
            known = set(filter(None, str(row[0]).split(",")))
            merged = known | set(capabilities)
            if merged != known:
                db.execute(
                    "UPDATE sessions SET capabilities = ? WHERE session_id = ?",
                    (",".join(sorted(merged, key=_capability_order)), session_id),
                )

    def close_open_sessions(self, ended_at: float, reason: str) -> int:
        """End every session still open (after a crash, at start-up); return how many."""
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL",
                (ended_at, reason),
            )
            return cur.rowcount

    def list_sessions(self, limit: int = 100, operator: str | None = None) -> list[SessionRecord]:
        """The most recent sessions first (only ``operator``'s when given)."""
        where, args = ("WHERE operator = ?", (operator,)) if operator is not None else ("", ())
        rows = self._db.execute(
            "SELECT session_id, operator, mode, host, user, os, started_at, ended_at, end_reason,"
            f" capabilities FROM sessions {where} ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (*args, max(0, limit)),
        )
        out = []
        for *fields, capabilities in rows:
            out.append(SessionRecord(*fields))
            if capabilities:
                names = tuple(filter(None, str(capabilities).split(",")))
                out[-1] = dataclasses.replace(out[-1], capabilities=names)
        return out
