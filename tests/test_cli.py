"""The ``supportlink`` command: operators, audit, turn-config, and ``serve`` as a real process."""

from __future__ import annotations

import asyncio
import datetime
import io
import ipaddress
import json
import os
import signal
import socket
import ssl
import sys
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from signaling import cli
from signaling.passwords import verify_password
from signaling.store import Store


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("SUPPORTLINK_"):
            monkeypatch.delenv(name)
    return tmp_path / "data"


def run(argv: list[str], stdin: str = "") -> int:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return cli.main(argv)
    finally:
        sys.stdin = old


def test_operator_commands(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--data-dir", str(data)]
    assert run(["operator", "add", "alice", *d], "first password\n") == 0
    with Store(data) as store:
        stored = store.password_hash("alice")
    assert stored is not None and verify_password("first password", stored)
    assert "first password" not in stored
    assert run(["operator", "add", "alice", *d], "another one\n") == 2
    assert "already exists" in capsys.readouterr().err
    assert run(["operator", "add", "bob", *d], "short\n") == 2
    assert "at least 8" in capsys.readouterr().err
    assert run(["operator", "add", "bob", *d], "") == 2
    assert "no password" in capsys.readouterr().err
    assert run(["operator", "add", "bad name!", *d], "long enough\n") == 2
    assert "operator name" in capsys.readouterr().err
    assert run(["operator", "add", "bob", *d], "bob's password\r\n") == 0
    capsys.readouterr()
    assert run(["operator", "list", *d]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("alice") and out.splitlines()[1].startswith("bob")
    assert run(["operator", "passwd", "alice", *d], "second password\n") == 0
    with Store(data) as store:
        stored = store.password_hash("alice")
        assert stored is not None and verify_password("second password", stored)
        bob = store.password_hash("bob")
        assert bob is not None and verify_password("bob's password", bob)
    assert run(["operator", "passwd", "carol", *d], "whatever123\n") == 2
    assert run(["operator", "remove", "bob", *d]) == 0
    assert run(["operator", "remove", "bob", *d]) == 2
    assert "no operator is named 'bob'" in capsys.readouterr().err


def test_data_dir_from_environment(
    data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SUPPORTLINK_DATA_DIR", str(data))
    assert run(["operator", "add", "alice"], "first password\n") == 0
    assert (data / "supportlink.sqlite3").exists()
    monkeypatch.delenv("SUPPORTLINK_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert cli.default_data_dir(os.environ) == tmp_path / "xdg" / "supportlink"
    assert cli.default_data_dir({"HOME": "/h"}) == Path.home() / ".local/share/supportlink"


def test_usage_errors(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([]) == 2
    assert run(["frobnicate"]) == 2
    assert run(["operator"]) == 2
    assert run(["--help"]) == 0
    assert "serve" in capsys.readouterr().out
    assert run(["serve", "--data-dir", str(data), "--code-ttl", "0"]) == 2
    assert "code_ttl" in capsys.readouterr().err
    assert run(["serve", "--data-dir", str(data), "--trusted-proxy", "10.0.0.1/8"]) == 2
    assert "10.0.0.1/8" in capsys.readouterr().err
    assert run(["serve", "--data-dir", str(data), "--turn-url", "turn:x.example:3478"]) == 2
    assert "secret" in capsys.readouterr().err
    assert run(["serve", "--data-dir", str(data), "--tls-cert", "/nonexistent"]) == 2
    assert "TLS" in capsys.readouterr().err


def test_audit(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["audit", "--data-dir", str(data)]) == 0
    assert "no sessions" in capsys.readouterr().out
    with Store(data) as store:
        store.session_started(
            "sid-1", operator="alice", mode="screen", host="desk\x1b[2J", user="bob",
            os="Linux", started_at=1_700_000_000.0,
        )  # fmt: skip
        store.session_granted("sid-1", ["control", "view"])
        store.session_ended("sid-1", 1_700_003_723.0, "peer_ended")
        store.session_started(
            "sid-2", operator="alice", mode="call", host="pc", user="eve", os="Win",
            started_at=1_700_010_000.0,
        )  # fmt: skip
    assert run(["audit", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "end reason" in lines[0]
    assert "running" in lines[1] and "eve" in lines[1]
    assert "1:02:03" in lines[2] and "peer_ended" in lines[2] and "2023-11-14" in lines[2]
    assert "\x1b" not in out and "desk?[2J" in out
    assert run(["audit", "--json", "--limit", "1", "--data-dir", str(data)]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["session_id"] == "sid-2" and record["ended_at"] is None
    assert run(["audit", "--json", "--data-dir", str(data)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[1]["duration"] == 3723.0 and records[1]["end_reason"] == "peer_ended"
    assert set(records[1]) == {
        "session_id", "operator", "mode", "host", "user", "os", "started_at", "ended_at",
        "end_reason", "duration", "capabilities",
    }  # fmt: skip


def test_turn_config(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "turns:turn.example.com:443?transport=tcp"
    assert run(["turn-config", "--turn-url", url]) == 2
    assert "secret" in capsys.readouterr().err
    assert run(["turn-config", "--turn-secret", "0123456789abcdef0123"]) == 2
    assert "realm" in capsys.readouterr().err
    monkeypatch.setenv("SUPPORTLINK_TURN_SECRET", "0123456789abcdef0123")
    assert run(["turn-config", "--turn-url", url, "--listening-ip", "192.0.2.10"]) == 0
    out = capsys.readouterr().out
    assert "static-auth-secret=0123456789abcdef0123" in out
    assert "realm=turn.example.com" in out and "use-auth-secret" in out
    assert "listening-ip=192.0.2.10" in out
    secret_file = data.parent / "secret"
    secret_file.write_text("fedcba9876543210fedcba\n")
    assert (
        run(["turn-config", "--realm", "relay.example.org", "--turn-secret-file", str(secret_file)])
        == 0
    )
    out = capsys.readouterr().out
    assert "static-auth-secret=fedcba9876543210fedcba" in out and "relay.example.org" in out
    assert run(["turn-config", "--realm", "r.example", "--cert", "/c.pem"]) == 2


# --------------------------------------------------------------------------- serve


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def serve(data: Path, port: int, *extra: str) -> tuple[asyncio.subprocess.Process, list[str]]:
    """Start ``supportlink serve``; its stdout lines up to the console URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORTLINK_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "signaling.cli", "serve", "--port", str(port),
        "--data-dir", str(data), *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("SupportLink console:"):
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line, f"serve exited early: {lines}"
        lines.append(line.decode().rstrip("\n"))
    return proc, lines


async def stop(proc: asyncio.subprocess.Process) -> int:
    proc.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(proc.wait(), 20)


async def test_serve_first_start(data: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, lines = await serve(data, port)
    try:
        assert lines[-1] == f"SupportLink console: {base}/"
        (first,) = [line for line in lines if "password:" in line]
        password = first.rsplit(" ", 1)[1]
        assert len(password) >= 16
        assert any("operator passwd admin" in line for line in lines)
        # unsafe: accept cookies from an IP address host, as browsers do
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200 and (await resp.json())["status"] == "ok"
            login = {"username": "admin", "password": password}
            async with http.post(f"{base}/api/login", json=login) as resp:
                assert resp.status == 200
            async with http.get(f"{base}/api/me") as resp:
                assert (await resp.json())["operator"] == "admin"
            ws = await http.ws_connect(f"ws://127.0.0.1:{port}/ws/operator")
            await ws.send_json({"type": "hello", "role": "operator", "protocol": 1})
            assert (await ws.receive_json(timeout=5))["type"] == "welcome"
            assert await stop(proc) == 0
            msg = await ws.receive_json(timeout=5)
            assert msg == {"type": "bye", "reason": "server_shutdown"}
            await ws.close()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    # the second start has an operator already: no new password is printed
    proc, lines = await serve(data, port)
    try:
        assert not [line for line in lines if "password" in line]
    finally:
        assert await stop(proc) == 0


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_serve_tls(data: Path, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    proc, lines = await serve(data, port, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert lines[-1] == f"SupportLink console: https://127.0.0.1:{port}/"
        password = [line for line in lines if "password:" in line][0].rsplit(" ", 1)[1]
        context = ssl.create_default_context(cafile=str(cert))
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            login = {"username": "admin", "password": password}
            url = f"https://127.0.0.1:{port}/api/login"
            async with http.post(url, json=login, ssl=context) as resp:
                assert resp.status == 200
                assert resp.cookies["supportlink_session"]["secure"] is True
                assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        assert await stop(proc) == 0
