"""SupportLink's own processes and coturn, each started inside the test's network namespace."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .netns import PREFIX_LEN, NetNS
from .procs import Proc, Procs
from .screen import Screen
from .tlsca import CertSet, make_ca

SERVER_PORT = 8080
OPERATOR = "operator1"
OPERATOR_PASSWORD = "correct horse battery staple"

# Polls a URL from inside the namespace until it answers 200; no proxy, whatever the environment.
_WAIT_HTTP = """
import sys, time, urllib.request
url, timeout = sys.argv[1], float(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.monotonic() + timeout
while True:
    try:
        with opener.open(url, timeout=2) as answer:
            print(answer.read().decode())
            break
    except Exception as error:
        if time.monotonic() > deadline:
            sys.exit(f"{url} did not answer within {timeout} s: {error}")
        time.sleep(0.1)
"""


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment without proxies or a display, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and k not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def tool(name: str) -> str:
    """A console script of this install (next to the running interpreter), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (pip install -e .)")
    return found


def wait_http(ns: NetNS, url: str, timeout: float = 20, *, ca_cert: Path | None = None) -> str:
    """GET ``url`` from inside ``ns`` until it answers; return the body. ``ca_cert``: the CA
    an ``https://`` server's certificate is checked against."""
    env = child_env(SSL_CERT_FILE=str(ca_cert)) if ca_cert is not None else None
    return ns.python(_WAIT_HTTP, url, str(timeout), timeout=timeout + 10, env=env)


@dataclass
class Server:
    url: str  # as seen from inside the namespace
    data_dir: Path
    operator: str
    password: str
    proc: Proc
    #: The CA of the server's TLS certificate (``https://`` only): clients trust it.
    ca_cert: Path | None = None


def start_server(
    procs: Procs,
    ns: NetNS,
    data_dir: Path,
    *,
    port: int = SERVER_PORT,
    extra_args: Sequence[str] = (),
    host: str | None = None,
    tls: CertSet | None = None,
) -> Server:
    """Add an operator, then run ``supportlink serve`` on ``host`` (default: the namespace's
    first address); over HTTPS with ``tls``'s certificate when given."""
    host = host or ns.addr_a
    data_dir.mkdir(parents=True, exist_ok=True)
    add = procs.start(
        "operator-add",
        [tool("supportlink"), "operator", "add", OPERATOR, "--data-dir", str(data_dir)],
        env=child_env(),
        stdin_text=f"{OPERATOR_PASSWORD}\n{OPERATOR_PASSWORD}\n",
    )
    code = add.wait_exit(30)
    if code != 0:
        raise AssertionError(f"supportlink operator add exited {code}:\n{add.output()}")
    command = [
        tool("supportlink"),
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    if tls is not None:
        command += ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    command += list(extra_args)
    proc = procs.start("server", ns.argv(command), env=child_env())
    if tls is None:
        url = f"http://{host}:{port}"
    else:
        url = f"https://{host}" if port == 443 else f"https://{host}:{port}"
    ca_cert = tls.ca_cert if tls is not None else None
    try:
        wait_http(ns, f"{url}/healthz", ca_cert=ca_cert)
    except AssertionError as error:
        raise AssertionError(f"{error}\nserver output:\n{proc.output()}") from None
    return Server(url, data_dir, OPERATOR, OPERATOR_PASSWORD, proc, ca_cert)


def start_peer(
    procs: Procs,
    ns: NetNS,
    screen: Screen,
    server: Server,
    code: str,
    *,
    allow: Sequence[str] = ("view",),
    extra_args: Sequence[str] = (),
    name: str = "peer",
    env: Mapping[str, str] | None = None,
) -> Proc:
    """Run the headless ``supportlink-peer`` on ``screen``, joining with ``code`` (``env``:
    more environment, such as the sound server to use). With an
    ``https://`` server the peer trusts the server's CA (``SSL_CERT_FILE``), for the signaling
    WebSocket and for TURN over TLS alike. Its standard input stays open, as a terminal's
    would: ``Proc.write_line`` types a chat message."""
    command = [tool("supportlink-peer"), "--server", server.url, "--code", code]
    if allow:
        command += ["--allow", ",".join(allow)]
    command += list(extra_args)
    environ = child_env(DISPLAY=screen.display, LANG="C.UTF-8")  # English unless --lang says
    for name_ in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        environ.pop(name_, None)
    if server.ca_cert is not None:
        environ["SSL_CERT_FILE"] = str(server.ca_cert)
    environ.update(env or {})
    return procs.start(name, ns.argv(command), env=environ, stdin_open=True)


@dataclass
class Coturn:
    host: str
    port: int  # plain TURN, UDP and TCP
    tls_port: int  # TURN over TLS
    secret: str
    realm: str
    certs: CertSet
    proc: Proc

    def credentials(self, user: str, ttl: int = 3600) -> tuple[str, str]:
        """TURN REST credentials: ``("<expiry>:<user>", base64(HMAC-SHA1(secret, username)))``."""
        username = f"{int(time.time()) + ttl}:{user}"
        digest = hmac.new(self.secret.encode(), username.encode(), hashlib.sha1).digest()
        return username, base64.b64encode(digest).decode()

    def urls(self) -> list[str]:
        return [
            f"turn:{self.host}:{self.port}?transport=udp",
            f"turn:{self.host}:{self.port}?transport=tcp",
            f"turns:{self.host}:{self.tls_port}?transport=tcp",
        ]


_WAIT_TCP = """
import socket, sys, time
host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout
while True:
    try:
        socket.create_connection((host, port), timeout=1).close()
        break
    except OSError as error:
        if time.monotonic() > deadline:
            sys.exit(f"{host}:{port} not listening within {timeout} s: {error}")
        time.sleep(0.05)
"""


def render_coturn_config(
    ns: NetNS,
    certs: CertSet,
    secret: str,
    realm: str,
    port: int,
    tls_port: int,
    *,
    host: str | None = None,
    peer_network: str | None = None,
) -> str:
    """The product's own coturn configuration (``turn.coturn``) for ``host`` (default: the
    namespace's first address), relaying to ``peer_network`` (default: the host's /24)."""
    host = host or ns.addr_a
    try:
        from turn.coturn import CoturnConfig, render
    except ImportError as error:
        import pytest

        pytest.skip(f"turn.coturn is not importable: {error}")

    config = CoturnConfig(
        realm=realm,
        secret=secret,
        listening_ips=(host,),
        port=port,
        tls_port=tls_port,
        tls_cert=str(certs.cert),
        tls_key=str(certs.key),
        # The relay refuses private peers; the test's own network is the exception.
        allowed_peer_ips=(
            peer_network or str(ipaddress.ip_network(f"{host}/{PREFIX_LEN}", strict=False)),
        ),
    )
    return str(render(config))


def start_coturn(
    procs: Procs,
    ns: NetNS,
    directory: Path,
    *,
    host: str | None = None,
    certs: CertSet | None = None,
    peer_network: str | None = None,
) -> Coturn:
    """Run ``turnserver`` on ``host`` (default: the namespace's first address) with the
    product's configuration: TURN on 3478 (UDP, TCP), TURN over TLS on 443 with ``certs``
    (default: a certificate of a fresh test CA), relaying to ``peer_network`` (default: the
    host's /24)."""
    host = host or ns.addr_a
    directory.mkdir(parents=True, exist_ok=True)
    certs = certs or make_ca(directory, host)
    secret = base64.b64encode(os.urandom(24)).decode()
    realm = "supportlink.test"
    conf = directory / "turnserver.conf"
    conf.write_text(
        render_coturn_config(
            ns, certs, secret, realm, 3478, 443, host=host, peer_network=peer_network
        )
    )
    command = ["turnserver", "-c", str(conf)]
    proc = procs.start("coturn", ns.argv(command), env=child_env())
    try:
        ns.python(_WAIT_TCP, host, "3478", "15", timeout=25)
        ns.python(_WAIT_TCP, host, "443", "15", timeout=25)
    except AssertionError as error:
        raise AssertionError(f"{error}\ncoturn output:\n{proc.output()}") from None
    return Coturn(host, 3478, 443, secret, realm, certs, proc)


_ALLOCATE = """
import asyncio, sys, aioice
host, port, username, password, transport, tls = sys.argv[1:7]
async def main():
    connection = aioice.Connection(
        ice_controlling=True, components=1, turn_server=(host, int(port)),
        turn_username=username, turn_password=password, turn_transport=transport,
        turn_ssl=tls == "tls",
    )
    await asyncio.wait_for(connection.gather_candidates(), 10)
    for candidate in connection.local_candidates:
        print(candidate.type, candidate.host, candidate.port)
    await connection.close()
asyncio.run(main())
"""


def turn_allocate(
    ns: NetNS,
    turn: Coturn,
    *,
    transport: str = "udp",
    tls: bool = False,
    username: str | None = None,
    password: str | None = None,
) -> list[tuple[str, str, int]]:
    """Gather ICE candidates with aioice inside ``ns`` through ``turn``; (type, host, port) each.

    The test CA is trusted through ``SSL_CERT_FILE`` (aioice fails silently otherwise)."""
    if username is None or password is None:
        username, password = turn.credentials("probe")
    port = turn.tls_port if tls else turn.port
    command = [sys.executable, "-c", _ALLOCATE, turn.host, str(port), username, password]
    command += [transport, "tls" if tls else "plain"]
    done = subprocess.run(
        ns.argv(command),
        capture_output=True,
        text=True,
        timeout=30,
        env=child_env(SSL_CERT_FILE=str(turn.certs.ca_cert)),
    )
    if done.returncode != 0:
        raise AssertionError(f"aioice gathering failed:\n{done.stdout}{done.stderr}")
    found = []
    for line in done.stdout.splitlines():
        kind, host, port_text = line.split()
        found.append((kind, host, int(port_text)))
    return found
