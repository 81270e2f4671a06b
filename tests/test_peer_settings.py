"""Peer settings and command-line parsing."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from peer.cli import EXIT_USAGE, StartProblem, main, own_binding, parse_settings, prune_unpacked
from peer.settings import (
    PeerSettings,
    SettingsError,
    normalize_code,
    parse_capabilities,
    signaling_url,
)
from wire import binding


@pytest.mark.parametrize(
    ("server", "ws"),
    [
        ("https://support.example.com", "wss://support.example.com/ws/peer"),
        ("http://127.0.0.1:8080/", "ws://127.0.0.1:8080/ws/peer"),
        ("HTTPS://h.example/base/", "wss://h.example/base/ws/peer"),
    ],
)
def test_signaling_url(server: str, ws: str) -> None:
    assert signaling_url(server) == ws
    assert PeerSettings(server=server).ws_url == ws


@pytest.mark.parametrize("bad", ["ftp://h", "support.example.com", "https://", "https://h/?a=1"])
def test_bad_server_urls(bad: str) -> None:
    with pytest.raises(SettingsError, match="server URL"):
        signaling_url(bad)


def test_codes_as_people_type_them() -> None:
    assert normalize_code(" 1234 5678 ") == "12345678"
    assert normalize_code("1234-5678") == "12345678"
    for bad in ["1234567", "123456789", "1234567a", ""]:
        with pytest.raises(SettingsError, match="8 digits"):
            normalize_code(bad)


def test_capabilities() -> None:
    assert parse_capabilities("view, control,,") == {"view", "control"}
    assert parse_capabilities("") == frozenset()
    with pytest.raises(SettingsError, match="'mouse'"):
        parse_capabilities("view,mouse")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("code", "123", "code"),
        ("monitor", -1, "monitor"),
        ("fps", 0, "fps"),
        ("fps", 100, "fps"),
        ("codec", "av1", "codec"),
        ("bitrate", 10, "bitrate"),
        ("x264_preset", "placebo", "preset"),
        ("allow", frozenset({"root"}), "capability"),
    ],
)
def test_settings_validation_names_the_bad_value(field: str, value: object, words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        PeerSettings(server="https://h.example", **{field: value})  # type: ignore[arg-type]


def test_encoder_tuning_follows_the_bitrate() -> None:
    tuning = PeerSettings(server="https://h", bitrate=800_000).encoder_tuning()
    assert tuning.max_bitrate == 800_000 and tuning.start_bitrate == 800_000
    assert tuning.clamp(10_000_000) == 800_000 and tuning.clamp(1) == tuning.min_bitrate


def test_headless_arguments() -> None:
    settings, verbose = parse_settings(
        ["--server", "https://h.example", "--code", "1234 5678", "--allow", "view,control"], {}
    )
    assert settings.code == "12345678" and settings.headless
    assert settings.allow == {"view", "control"} and verbose == 0
    assert settings.codec == "vp8" and settings.fps == 60


def test_server_from_the_environment_and_display_decides_the_mode() -> None:
    env = {"SUPPORTLINK_SERVER": "https://env.example", "DISPLAY": ":9"}
    settings, _ = parse_settings(["--codec", "h264", "--fps", "10", "-v"], env)
    assert settings.server == "https://env.example" and not settings.headless
    assert settings.codec == "h264" and settings.fps == 10
    settings, _ = parse_settings(["--server", "https://flag.example", "--code", "12345678"], env)
    assert settings.server == "https://flag.example" and settings.headless


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--code", "12345678"], "no server"),
        (["--server", "https://h", "--code", "12345678", "--allow", "view,mouse"], "'mouse'"),
        (["--server", "https://h", "--code", "1234"], "8 digits"),
        (["--server", "https://h"], "--code"),  # no display, no code
        (["--server", "gopher://h", "--code", "12345678"], "server URL"),
    ],
)
def test_usage_errors(
    argv: list[str],
    words: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("SUPPORTLINK_SERVER", raising=False)
    assert main(argv) == EXIT_USAGE
    assert words in capsys.readouterr().err


def test_help_explains_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for words in ["--server", "--code", "--allow", "view, control", "exit status", "--codec"]:
        assert words in out


def test_unreachable_server_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status = main(["--server", f"http://127.0.0.1:{port}", "--code", "12345678"])
    assert status == 3
    out = capsys.readouterr().out
    assert "ended: cannot reach the server" in out


# --------------------------------------------------------------------------- downloaded programs

BOUND = binding.Binding("https://support.example.com", "87654321", 2_000_000_000)


def test_a_downloaded_program_needs_no_arguments() -> None:
    """Double-clicked: the server and code come from the download; the window opens (not
    headless) and joins at once."""
    settings, _ = parse_settings([], {"DISPLAY": ":9"}, BOUND, now=1_000)
    assert settings.server == "https://support.example.com" and settings.code == "87654321"
    assert not settings.headless and settings.code_from_download
    # headless with the download's code: only what --allow says is granted
    settings, _ = parse_settings(["--headless", "--allow", "view"], {}, BOUND, now=1_000)
    assert settings.headless and settings.code == "87654321" and settings.allow == {"view"}


def test_the_command_line_overrides_the_download() -> None:
    settings, _ = parse_settings(["--server", "https://other.example"], {"DISPLAY": ":9"}, BOUND)
    assert settings.server == "https://other.example" and settings.code is None
    settings, _ = parse_settings(["--code", "11112222"], {}, BOUND, now=1_000)
    assert settings.code == "11112222" and not settings.code_from_download


def test_a_download_whose_code_expired_says_so() -> None:
    with pytest.raises(StartProblem, match=r"expired.*support\.example\.com/join"):
        parse_settings([], {"DISPLAY": ":9"}, BOUND, now=2_000_000_000)
    # bound to a server only: the customer types the code
    settings, _ = parse_settings([], {"DISPLAY": ":9"}, binding.Binding("https://s.example"))
    assert settings.server == "https://s.example" and settings.code is None


def test_a_damaged_download_is_not_used(tmp_path: Path) -> None:
    program = tmp_path / "supportlink-peer"
    tail = binding.encode(binding.Binding("https://support.example.com"))
    program.write_bytes(b"ELF" + tail.replace(b"support", b"supp0rt"))
    with pytest.raises(StartProblem, match="damaged"):
        parse_settings(["--binding-from", str(program)], {"DISPLAY": ":9"})
    with pytest.raises(StartProblem, match="damaged"):
        own_binding(str(program), frozen=True)
    assert own_binding(str(program), frozen=False) is None  # run from source: no binding
    # unpacked by the launcher: the binding is in the downloaded file the launcher names
    unpacked = tmp_path / "cache" / "supportlink-peer"
    unpacked.parent.mkdir()
    unpacked.write_bytes(b"ELF, unpacked")
    with pytest.raises(StartProblem, match="damaged"):
        own_binding(str(unpacked), frozen=True, environ={"SUPPORTLINK_PROGRAM": str(program)})
    assert own_binding(str(unpacked), frozen=True, environ={}) is None
    program.write_bytes(b"ELF" + tail)
    assert own_binding(str(program), frozen=True) == binding.Binding("https://support.example.com")


def test_a_one_file_program_without_a_binding_explains_itself(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    program = tmp_path / "supportlink-peer"
    program.write_bytes(b"ELF and no binding")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(program))
    with pytest.raises(StartProblem, match="does not know which support server"):
        parse_settings([], {"DISPLAY": ":9"})
    assert main(["--headless"]) == EXIT_USAGE
    assert "does not know which support server" in capsys.readouterr().err


def test_unpacked_copies_of_other_builds_are_removed_after_a_day(tmp_path: Path) -> None:
    cache = tmp_path / "supportlink"
    mine, old, recent = ("a" * 32, "b" * 32, "c" * 32)
    for key in (mine, old, recent):
        (cache / key / "supportlink-peer").mkdir(parents=True)
        (cache / key / "supportlink-peer" / "supportlink-peer").write_text("x")
    os.utime(cache / old, (0, 0))
    program = cache / mine / "supportlink-peer" / "supportlink-peer"
    removed = prune_unpacked(program, now=time.time())
    assert removed == [cache / old]
    assert sorted(p.name for p in cache.iterdir()) == [mine, recent]
    # a program not unpacked by the launcher touches nothing around it
    assert prune_unpacked(tmp_path / "bin" / "supportlink-peer", now=time.time() + 1e9) == []
