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
        assert s.schema_version == 1
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / DATABASE_NAME).stat().st_mode) == 0o600
    with Store(data) as s:  # reopening migrates nothing
        assert s.schema_version == 1
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
