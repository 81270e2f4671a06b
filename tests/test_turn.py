"""TURN REST credentials and the coturn configuration, checked against a real coturn.

The pure tests need nothing. The adapter tests start ``/usr/bin/turnserver`` as a child
process on 127.0.0.1 with a rendered configuration and allocate with aioice's TURN client;
all traffic stays on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint

from turn.coturn import DENIED_PEER_RANGES, CoturnConfig, render
from turn.credentials import ice_servers, rest_credentials
from wire import protocol

SECRET = "9f2c4e7a1b3d5f60-test-secret"
TURNSERVER = "/usr/bin/turnserver"

# --------------------------------------------------------------------------- credentials


def test_rest_credentials_known_vector() -> None:
    username, password = rest_credentials("north", "sess-0001-peer", now=1_700_000_000.9, ttl=600)
    assert username == "1700000600:sess-0001-peer"
    expected = hmac.new(b"north", b"1700000600:sess-0001-peer", hashlib.sha1).digest()
    assert password == base64.b64encode(expected).decode()
    assert password == "1KMUIlykkodgID5JextRHwR5X40="


def test_rest_credentials_depend_on_every_input() -> None:
    base = rest_credentials(SECRET, "u", 1000.0, 60)
    assert rest_credentials("other", "u", 1000.0, 60)[1] != base[1]
    assert rest_credentials(SECRET, "v", 1000.0, 60) != base
    assert rest_credentials(SECRET, "u", 1001.0, 60) != base
    assert rest_credentials(SECRET, "u", 1000.0, 61) != base


@pytest.mark.parametrize(
    "secret, user, now, ttl",
    [
        ("", "u", 0.0, 60),
        (SECRET, "", 0.0, 60),
        (SECRET, "a\nb", 0.0, 60),
        (SECRET, "u", 0.0, 0),
        (SECRET, "u", 0.0, -5),
        (SECRET, "u", 0.0, 1.5),
        (SECRET, "u", float("nan"), 60),
    ],
)
def test_rest_credentials_refuse_bad_input(secret: str, user: str, now: float, ttl: Any) -> None:
    with pytest.raises(ValueError):
        rest_credentials(secret, user, now, ttl)


def test_ice_servers_empty_without_urls() -> None:
    assert ice_servers([], SECRET, "u", 0.0, 60) == ()
    assert ice_servers((), None, "u", 0.0, 60) == ()


def test_ice_servers_one_entry_with_all_urls_and_credentials() -> None:
    urls = ["turn:turn.example.com:3478", "turns:turn.example.com:443?transport=tcp"]
    (server,) = ice_servers(urls, SECRET, "sess-1-peer", 5000.0, 300)
    assert server.urls == tuple(urls)
    assert (server.username, server.credential) == rest_credentials(
        SECRET, "sess-1-peer", 5000.0, 300
    )
    # it travels in ``paired`` unchanged
    paired = protocol.Paired(
        session_id="sess-0001",
        mode="screen",
        operator="a",
        host="h",
        user="u",
        os="o",
        ice_servers=(server,),
    )
    assert protocol.parse(protocol.serialize(paired)) == paired


def test_ice_servers_stun_only_without_secret() -> None:
    (server,) = ice_servers(["stun:stun.example.com:3478"], None, "u", 0.0, 60)
    assert server.username is None and server.credential is None
    with pytest.raises(ValueError, match="needs a TURN secret"):
        ice_servers(["stun:s.example", "turn:t.example"], None, "u", 0.0, 60)


def test_ice_servers_refuse_bad_urls() -> None:
    with pytest.raises(ValueError):
        ice_servers(["https://turn.example.com"], SECRET, "u", 0.0, 60)
    with pytest.raises(ValueError):
        ice_servers("turn:t.example", SECRET, "u", 0.0, 60)


# --------------------------------------------------------------------------- coturn config


def _cfg(**kw: Any) -> CoturnConfig:
    base: dict[str, Any] = {"realm": "turn.example.com", "secret": SECRET}
    base.update(kw)
    return CoturnConfig(**base)


def _directives(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln and not ln.startswith("#")]


def test_render_defaults() -> None:
    lines = _directives(render(_cfg()))
    for needed in (
        "use-auth-secret",
        f"static-auth-secret={SECRET}",
        "realm=turn.example.com",
        "no-cli",
        "fingerprint",
        "no-multicast-peers",
        "no-tls",
        "listening-port=3478",
        "min-port=49152",
        "max-port=65535",
        "user-quota=12",
        "total-quota=1200",
        "log-file=stdout",
    ):
        assert needed in lines
    assert lines.count("use-auth-secret") == 1
    assert "allow-loopback-peers" not in lines
    assert not any(ln.startswith("listening-ip=") for ln in lines)
    denied = {ln.split("=", 1)[1] for ln in lines if ln.startswith("denied-peer-ip=")}
    assert denied == set(DENIED_PEER_RANGES)
    for private in ("10.0.0.0-10.255.255.255", "127.0.0.0-127.255.255.255", "::1-::1"):
        assert private in denied
    assert any(ln.startswith("stale-nonce=") for ln in lines)


def test_render_tls() -> None:
    lines = _directives(
        render(_cfg(tls_cert="/etc/supportlink/turn.pem", tls_key="/etc/supportlink/turn.key"))
    )
    assert "tls-listening-port=443" in lines
    assert "cert=/etc/supportlink/turn.pem" in lines
    assert "pkey=/etc/supportlink/turn.key" in lines
    assert "no-tlsv1" in lines and "no-tlsv1_1" in lines
    assert "no-tls" not in lines


def test_render_addresses() -> None:
    lines = _directives(
        render(
            _cfg(
                listening_ips=("192.0.2.10", "2001:db8::10"),
                relay_ips=("192.0.2.10",),
                external_ip="203.0.113.5/192.0.2.10",
                allowed_peer_ips=("10.77.0.0/16",),
            )
        )
    )
    assert "listening-ip=192.0.2.10" in lines
    assert "listening-ip=2001:db8::10" in lines
    assert "relay-ip=192.0.2.10" in lines
    assert "external-ip=203.0.113.5/192.0.2.10" in lines
    assert "allowed-peer-ip=10.77.0.0-10.77.255.255" in lines


def test_render_loopback_peers_opens_loopback_only() -> None:
    lines = _directives(render(_cfg(allow_loopback_peers=True)))
    assert "allow-loopback-peers" in lines
    denied = {ln.split("=", 1)[1] for ln in lines if ln.startswith("denied-peer-ip=")}
    assert "127.0.0.0-127.255.255.255" not in denied
    assert "::1-::1" not in denied
    assert "10.0.0.0-10.255.255.255" in denied
    assert "192.168.0.0-192.168.255.255" in denied


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"realm": ""}, "realm"),
        ({"realm": "turn.example.com\nno-auth"}, "realm"),
        ({"secret": ""}, "secret"),
        ({"secret": "abc\nno-auth"}, "secret"),
        ({"secret": "has space"}, "secret"),
        ({"listening_ips": ("127.0.0.1\nno-auth",)}, "listening_ips"),
        ({"listening_ips": ("localhost",)}, "listening_ips"),
        ({"listening_ips": "127.0.0.1"}, "listening_ips"),
        ({"relay_ips": ("10.0.0.999",)}, "relay_ips"),
        ({"external_ip": "203.0.113.5/10.0.0.1/1.2.3.4"}, "external_ip"),
        ({"external_ip": "turn.example.com"}, "external_ip"),
        ({"allowed_peer_ips": ("10.77.0.1/16",)}, "allowed_peer_ips"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"port": True}, "port"),
        ({"min_port": 50000, "max_port": 40000}, "min_port"),
        ({"tls_cert": "/etc/cert.pem"}, "tls_key"),
        ({"tls_cert": "/c.pem\r", "tls_key": "/k.pem"}, "tls_cert"),
        ({"log_file": "/var/log/turn.log\u2028no-auth"}, "log_file"),
        ({"log_file": " "}, "log_file"),
        ({"user_quota": -1}, "user_quota"),
        ({"stale_nonce": 0}, "stale_nonce"),
    ],
)
def test_config_refuses_bad_values(kw: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        _cfg(**kw)


# --------------------------------------------------------------------------- real coturn

needs_turnserver = pytest.mark.skipif(
    not os.access(TURNSERVER, os.X_OK), reason=f"coturn is not installed ({TURNSERVER} missing)"
)


def _free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port on 127.0.0.1")


def _answers_stun(port: int) -> bool:
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        s.sendto(bytes(request), ("127.0.0.1", port))
        try:
            data = s.recv(2048)
        except OSError:
            return False
    return stun.parse_message(data).transaction_id == request.transaction_id


@contextmanager
def running_coturn(tmp: Path, *, allow_loopback_peers: bool = True) -> Iterator[int]:
    """Start coturn on 127.0.0.1 with a rendered config; yield its port; always stop it."""
    port = _free_port()
    cfg = CoturnConfig(
        realm="supportlink.test",
        secret=SECRET,
        listening_ips=("127.0.0.1",),
        relay_ips=("127.0.0.1",),
        port=port,
        allow_loopback_peers=allow_loopback_peers,
        log_file=str(tmp / "turn.log"),
        pid_file=str(tmp / "turn.pid"),
        db_file=str(tmp / "turndb"),
    )
    conf = tmp / "turnserver.conf"
    conf.write_text(render(cfg))
    with open(tmp / "stdout.txt", "wb") as out:
        proc = subprocess.Popen(
            [TURNSERVER, "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 10.0
        while not _answers_stun(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (tmp / "turn.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"coturn did not start (exit {proc.returncode}):\n{log}")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class Recorder(asyncio.DatagramProtocol):
    """Records what the TURN transport delivers and reports."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue()
        self.errors: asyncio.Queue[Exception] = asyncio.Queue()
        self.closed = asyncio.Event()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.received.put_nowait((data, addr))

    def error_received(self, exc: Exception) -> None:
        self.errors.put_nowait(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


@asynccontextmanager
async def allocation(port: int, username: str, password: str) -> AsyncIterator[Any]:
    transport, recorder = await create_turn_endpoint(
        Recorder, ("127.0.0.1", port), username, password, lifetime=60
    )
    try:
        yield transport, recorder
    finally:
        transport.close()
        await asyncio.wait_for(recorder.closed.wait(), 5)


@asynccontextmanager
async def udp_listener() -> AsyncIterator[tuple[tuple[str, int], Recorder]]:
    loop = asyncio.get_running_loop()
    transport, recorder = await loop.create_datagram_endpoint(Recorder, local_addr=("127.0.0.1", 0))
    try:
        yield transport.get_extra_info("sockname"), recorder
    finally:
        transport.close()


async def _first(wanted: Awaitable[Any], failure: Awaitable[Exception]) -> Any:
    """What ``wanted`` gives, or the exception ``failure`` reports first, raised."""
    tasks = [asyncio.ensure_future(wanted), asyncio.ensure_future(failure)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
    if tasks[0] in done:
        return tasks[0].result()
    raise tasks[1].result()


def _error_code(exc: BaseException) -> int | None:
    if isinstance(exc, stun.TransactionFailed):
        code: int | None = exc.response.error_code
        return code
    return None


@needs_turnserver
async def test_real_coturn_relays_with_rest_credentials(tmp_path: Path) -> None:
    with running_coturn(tmp_path) as port:
        username, password = rest_credentials(SECRET, "sess-0001-peer", time.time(), 600)
        async with asyncio.timeout(20):
            async with allocation(port, username, password) as (transport, recorder):
                async with udp_listener() as (peer_addr, peer):
                    relayed = transport.get_extra_info("sockname")
                    assert relayed[0] == "127.0.0.1"
                    assert 49152 <= relayed[1] <= 65535
                    # data really goes through the relay to a loopback peer
                    transport.sendto(b"through the relay", peer_addr)
                    data, source = await _first(peer.received.get(), recorder.errors.get())
                    assert data == b"through the relay"
                    assert tuple(source) == tuple(relayed)


@needs_turnserver
async def test_real_coturn_refuses_a_wrong_secret(tmp_path: Path) -> None:
    with running_coturn(tmp_path) as port:
        username, password = rest_credentials("not-the-secret", "sess-0001-peer", time.time(), 600)
        async with asyncio.timeout(20):
            with pytest.raises(stun.TransactionFailed) as info:
                async with allocation(port, username, password):
                    pass
        assert _error_code(info.value) == 401


@needs_turnserver
async def test_real_coturn_refuses_expired_credentials(tmp_path: Path) -> None:
    with running_coturn(tmp_path) as port:
        username, password = rest_credentials(SECRET, "sess-0001-peer", time.time() - 3600, 60)
        async with asyncio.timeout(20):
            with pytest.raises(stun.TransactionFailed) as info:
                async with allocation(port, username, password):
                    pass
        assert _error_code(info.value) == 401


@needs_turnserver
async def test_real_coturn_denies_loopback_peers_by_default(tmp_path: Path) -> None:
    with running_coturn(tmp_path, allow_loopback_peers=False) as port:
        username, password = rest_credentials(SECRET, "sess-0001-peer", time.time(), 600)
        async with asyncio.timeout(20):
            async with allocation(port, username, password) as (transport, recorder):
                async with udp_listener() as (peer_addr, peer):
                    transport.sendto(b"must not arrive", peer_addr)
                    exc = await recorder.errors.get()
                    assert _error_code(exc) == 403
                    await asyncio.sleep(0.2)
                    assert peer.received.empty()
