"""Peer settings and command-line parsing."""

from __future__ import annotations

import pytest

from peer.cli import EXIT_USAGE, main, parse_settings
from peer.settings import (
    PeerSettings,
    SettingsError,
    normalize_code,
    parse_capabilities,
    signaling_url,
)


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
    assert settings.codec == "vp8" and settings.fps == 30


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
