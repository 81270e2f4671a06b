"""SQLite storage: schema, operators, web sessions, audit."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from signaling.store import (
    DATABASE_NAME,
    OperatorExists,
    Store,
    StoreError,
    UnknownOperator,
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "data")
    yield s  # type: ignore[misc]
    s.close()


def test_creates_private_data_dir_and_schema(tmp_path: Path) -> None:
    data = tmp_path / "a" / "b"
    with Store(data) as s:
        assert s.schema_version == 2
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / DATABASE_NAME).stat().st_mode) == 0o600
    with Store(data) as s:  # reopening migrates nothing
        assert s.schema_version == 2
    db = sqlite3.connect(data / DATABASE_NAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"operators", "web_sessions", "sessions"} <= tables
    db.close()


def test_refuses_newer_schema(tmp_path: Path) -> None:
    with Store(tmp_path) as s:
        s._db.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path)


def test_data_dir_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        Store(tmp_path / "file")


def test_operators(store: Store) -> None:
    assert store.operator_count() == 0
    store.add_operator("alice", "hash-a", 10.0)
    store.add_operator("bob", "hash-b", 11.0)
    with pytest.raises(OperatorExists):
        store.add_operator("alice", "x", 12.0)
    assert [o.name for o in store.list_operators()] == ["alice", "bob"]
    assert store.list_operators()[0].created_at == 10.0
    assert store.password_hash("alice") == "hash-a"
    assert store.password_hash("carol") is None
    store.set_password("alice", "hash-a2")
    assert store.password_hash("alice") == "hash-a2"
    with pytest.raises(UnknownOperator):
        store.set_password("carol", "x")
    store.remove_operator("bob")
    with pytest.raises(UnknownOperator, match="carol"):
        store.remove_operator("carol")
    assert store.operator_count() == 1


def test_web_sessions(store: Store) -> None:
    store.add_operator("alice", "h", 0.0)
    store.add_web_session("t1", "alice", expires_at=100.0)
    store.add_web_session("t2", "alice", expires_at=200.0)
    assert store.web_session_operator("t1", now=50.0) == "alice"
    assert store.web_session_operator("t1", now=100.0) is None  # expired
    assert store.web_session_operator("nope", now=0.0) is None
    assert store.purge_web_sessions(now=150.0) == 1
    store.delete_web_session("t2")
    assert store.web_session_operator("t2", now=0.0) is None


def test_password_change_and_removal_log_out(store: Store) -> None:
    store.add_operator("alice", "h", 0.0)
    store.add_web_session("t1", "alice", expires_at=100.0)
    store.set_password("alice", "h2")
    assert store.web_session_operator("t1", now=0.0) is None
    store.add_web_session("t2", "alice", expires_at=100.0)
    store.remove_operator("alice")
    assert store.web_session_operator("t2", now=0.0) is None


def test_audit(store: Store) -> None:
    store.session_started(
        "sid-1", operator="alice", mode="screen", host="pc", user="u", os="Linux", started_at=10.0
    )
    store.session_started(
        "sid-2", operator="alice", mode="call", host="pc2", user="v", os="Win", started_at=20.0
    )
    store.session_ended("sid-1", 70.0, "peer_ended")
    store.session_ended("sid-1", 99.0, "operator_left")  # first end wins
    rows = store.list_sessions(10)
    assert [r.session_id for r in rows] == ["sid-2", "sid-1"]
    assert rows[1].end_reason == "peer_ended" and rows[1].duration == 60.0
    assert rows[0].ended_at is None and rows[0].duration is None
    assert len(store.list_sessions(1)) == 1
    assert store.close_open_sessions(100.0, "server_restart") == 1
    assert store.list_sessions(1)[0].end_reason == "server_restart"


def test_display_names(store: Store) -> None:
    store.add_operator("alice", "hash-a", 10.0)
    assert store.display_name("alice") == "" and store.display_name("nobody") == ""
    store.set_display_name("alice", "Alice Smith")
    assert store.display_name("alice") == "Alice Smith"
    assert store.list_operators()[0].display_name == "Alice Smith"
    with pytest.raises(UnknownOperator):
        store.set_display_name("nobody", "X")


def test_granted_capabilities_add_up_in_table_order(store: Store) -> None:
    for sid, who in (("sid-1", "alice"), ("sid-2", "carol")):
        store.session_started(
            sid, operator=who, mode="screen", host="pc", user="u", os="Linux", started_at=1.0
        )
    store.session_granted("sid-1", ["chat", "view"])
    store.session_granted("sid-1", ["control", "view"])
    store.session_granted("sid-1", ["clipboard"])
    store.session_granted("no-such-session", ["view"])  # nothing to add to, nothing made
    (alice,) = store.list_sessions(10, operator="alice")
    assert alice.capabilities == ("view", "control", "clipboard", "chat")
    assert alice.as_json()["capabilities"] == ["view", "control", "clipboard", "chat"]
    (carol,) = store.list_sessions(10, operator="carol")
    assert carol.capabilities == ()
    assert len(store.list_sessions(10)) == 2


def test_a_first_schema_database_is_migrated_keeping_everything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    db = sqlite3.connect(data / DATABASE_NAME)
    db.executescript(
        """
        CREATE TABLE operators (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
            created_at REAL NOT NULL);
        CREATE TABLE web_sessions (token_sha256 TEXT PRIMARY KEY, operator TEXT NOT NULL
            REFERENCES operators(name) ON DELETE CASCADE, expires_at REAL NOT NULL);
        CREATE TABLE sessions (session_id TEXT PRIMARY KEY, operator TEXT NOT NULL,
            mode TEXT NOT NULL, host TEXT NOT NULL, user TEXT NOT NULL, os TEXT NOT NULL,
            started_at REAL NOT NULL, ended_at REAL, end_reason TEXT);
        INSERT INTO operators VALUES ('alice', 'hash-a', 5.0);
        INSERT INTO sessions VALUES ('sid-0', 'alice', 'screen', 'pc', 'u', 'Linux', 1.0, 2.0,
            'peer_ended');
        PRAGMA user_version = 1;
        """
    )
    db.close()
    (data / DATABASE_NAME).chmod(0o600)
    with Store(data) as store:
        assert store.schema_version == 2
        assert store.password_hash("alice") == "hash-a" and store.display_name("alice") == ""
        (row,) = store.list_sessions(10)
        assert (row.session_id, row.end_reason, row.capabilities) == ("sid-0", "peer_ended", ())
