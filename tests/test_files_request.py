"""peer.files.request: what a path the operator asks for names, before anyone is asked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from peer.files.request import (
    REQUEST_REASONS,
    Found,
    Refused,
    RequestGate,
    expand,
    find,
    inside,
    shown,
)
from wire import protocol

HOME = Path("/home/bob")


def test_expand_takes_home_and_absolute_paths_as_written() -> None:
    assert expand("~", HOME) == HOME
    assert expand("~/", HOME) == HOME
    assert expand("~/Documents/report.pdf", HOME) == HOME / "Documents" / "report.pdf"
    assert expand("/var/log/syslog", HOME) == Path("/var/log/syslog")
    assert expand("/var//log/./syslog", HOME) == Path("/var/log/syslog")


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("Documents/report.pdf", "relative"),
        ("~bob/x", "relative"),
        ("/home/bob/../alice/.ssh/id_ed25519", "dot_dot"),
        ("~/../alice", "dot_dot"),
        ("/tmp/a\nb", "control"),
        ("/tmp/\u202egpj.exe", "control"),
        ("/tmp/\x85x", "control"),
    ],
)
def test_expand_refuses_without_looking_at_the_disk(typed: str, reason: str) -> None:
    assert expand(typed, HOME) == Refused("refused", reason)


def test_inside_compares_as_written() -> None:
    roots = (Path("/srv/share"), Path("/home/bob/out"))
    assert inside(Path("/srv/share"), roots)
    assert inside(Path("/srv/share/a/b.txt"), roots)
    assert not inside(Path("/srv/shared/a"), roots)  # a name that starts the same is not in it
    assert not inside(Path("/srv"), roots)
    assert not inside(Path("/etc/shadow"), roots)
    assert not inside(Path("/etc/shadow"), ())


def test_find_a_file_a_folder_and_links_to_them(tmp_path: Path) -> None:
    (tmp_path / "report.log").write_text("x")
    (tmp_path / "logs").mkdir()
    (tmp_path / "to-report").symlink_to(tmp_path / "report.log")
    (tmp_path / "to-logs").symlink_to("logs")
    real = Path(os.path.realpath(tmp_path))
    assert find(tmp_path / "report.log") == Found(real / "report.log", False, tmp_path != real)
    assert find(tmp_path / "logs") == Found(real / "logs", True, tmp_path != real)
    assert find(tmp_path / "to-report") == Found(real / "report.log", False, True)
    assert find(tmp_path / "to-logs") == Found(real / "logs", True, True)


def test_find_refuses_special_files_and_says_when_nothing_is_there(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "to-fifo").symlink_to(tmp_path / "fifo")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert find(tmp_path / "fifo") == Refused("refused", "special_file")
    assert find(tmp_path / "to-fifo") == Refused("refused", "special_file")
    assert find(Path("/dev/null")) == Refused("refused", "special_file")
    assert find(tmp_path / "missing") == Refused("not_found", "missing")
    assert find(tmp_path / "fifo" / "below") == Refused("not_found", "missing")
    assert find(tmp_path / "dangling") == Refused("not_found", "broken_link")
    assert find(tmp_path / "loop") == Refused("not_found", "broken_link")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_find_refuses_what_this_account_cannot_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    closed = tmp_path / "closed"
    closed.mkdir()
    (closed / "inner.txt").write_text("x")
    closed.chmod(0)
    try:
        assert find(secret) == Refused("refused", "unreadable")
        assert find(closed) == Refused("refused", "unreadable")
        assert find(closed / "inner.txt") == Refused("refused", "unreadable")
    finally:
        closed.chmod(0o700)


def test_a_path_is_shown_with_what_would_hide_text_spelled_out() -> None:
    assert shown(Path("/home/bob/レポート.pdf")) == "/home/bob/レポート.pdf"
    assert shown("/tmp/\u202egpj.exe\nx") == "/tmp/\\u202egpj.exe\\u000ax"


def test_every_refusal_names_a_known_result_and_reason() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        Refused("refused", "nope")
    assert set(REQUEST_REASONS) >= {"missing", "special_file", "outside_allowed", "customer"}
    assert {"sending", "declined", "not_found", "refused", "not_allowed", "busy"} == set(
        protocol.FILE_REQUEST_RESULTS
    )


def test_the_gate_lets_a_few_requests_a_minute_through() -> None:
    gate = RequestGate(3)
    assert [gate.admit(t) for t in (0.0, 1.0, 2.0, 3.0, 59.9)] == [True, True, True, False, False]
    assert gate.admit(60.0)  # the first one is a minute old
    assert not gate.admit(60.5)
    assert gate.admit(62.0)
    with pytest.raises(ValueError):
        RequestGate(0)


def test_allow_file_requests_is_repeatable_and_takes_folders_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from peer.cli import parse_settings

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    base = ["--server", "http://127.0.0.1:9", "--code", "12345678", "--allow", "files"]
    settings, _ = parse_settings(
        [*base, "--allow-file-requests", str(a), "--allow-file-requests", str(b)], {}
    )
    assert settings.allow_file_requests == (a, b) and settings.headless
    assert parse_settings(base, {})[0].allow_file_requests == ()
    (tmp_path / "file.txt").write_text("x")
    for bad in (tmp_path / "missing", tmp_path / "file.txt"):
        with pytest.raises(SystemExit):
            parse_settings([*base, "--allow-file-requests", str(bad)], {})
        assert "is not a folder to send requested files from" in capsys.readouterr().err
