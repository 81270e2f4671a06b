"""Signaling server benchmark: waiting sessions, pairing and relay, beside a bare WebSocket echo.

Runs a real ``supportlink serve`` on loopback as a child process and drives it from this
process with real WebSocket clients speaking ``wire.protocol``. In the same run, a bare
aiohttp WebSocket echo server (also a child process) is measured the same way, as the floor
that any server written with aiohttp stands on.

Prints:
  * RSS per waiting session (an operator socket with a live code), and per idle echo socket;
  * pairing latency (peer ``join`` -> peer ``paired``, the operator accepting on receipt);
  * relay latency p50/p99 with N active pairs each sending at a steady rate (peer
    ``candidate`` -> operator receives it),
    and the same message echoed by the bare echo server;
  * relayed messages per second when every pair sends at once (bursts).

Goals (issue: foundation): 10,000 waiting sessions in under 250 MB RSS; relay p99 under 20 ms
at 1,000 active pairs.

Usage: python bench/signaling.py [--waiting 10000] [--pairs 1000] [--rounds 5]
Traffic goes only to 127.0.0.1; every child process is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wire import protocol as p  # noqa: E402

HOST = "127.0.0.1"
ECHO_SERVER = r"""
import sys
from aiohttp import web

async def ws(request):
    sock = web.WebSocketResponse(heartbeat=15)
    await sock.prepare(request)
    async for msg in sock:
        await sock.send_str(msg.data)
    return sock

app = web.Application()
app.router.add_get("/ws", ws)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No collection in this (load-generating) process while it times things: its own pauses
    would be counted as the server's latency."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def percentiles(label: str, p50: float, p99: float) -> str:
    return f"  {label:<16} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as r:
                    if r.status < 500:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


@contextlib.asynccontextmanager
async def supportlink_server(
    data_dir: Path, password: str
) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    exe = Path(sys.executable).parent / "supportlink"
    subprocess.run(
        [str(exe), "operator", "add", "bench", "--data-dir", str(data_dir)],
        input=f"{password}\n".encode(),
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", HOST, "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://{HOST}:{port}"
        await wait_http(f"{base}/healthz", proc)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.asynccontextmanager
async def echo_server() -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", ECHO_SERVER, str(port)])
    try:
        base = f"http://{HOST}:{port}"
        await wait_http(f"{base}/ws", proc)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(10)


async def recv(ws: aiohttp.ClientWebSocketResponse, timeout: float = 30.0) -> object:
    msg = await ws.receive(timeout)
    if msg.type != aiohttp.WSMsgType.TEXT:
        raise RuntimeError(f"socket closed: {msg.type}")
    return p.parse(msg.data)


async def expect(ws: aiohttp.ClientWebSocketResponse, cls: type) -> object:
    while True:
        m = await recv(ws)
        if isinstance(m, cls):
            return m
        if isinstance(m, p.Error):
            raise RuntimeError(f"server error {m.code}: {m.message}")


async def operator_socket(
    http: aiohttp.ClientSession, base: str
) -> tuple[aiohttp.ClientWebSocketResponse, p.SessionCreated]:
    ws = await http.ws_connect(f"{base.replace('http', 'ws', 1)}/ws/operator", origin=base)
    await ws.send_str(p.serialize(p.Hello(role="operator", protocol=1, agent="bench")))
    await expect(ws, p.Welcome)
    await ws.send_str(p.serialize(p.CreateSession(mode="screen")))
    created = await expect(ws, p.SessionCreated)
    assert isinstance(created, p.SessionCreated)
    return ws, created


async def gather_bounded(coros: Sequence[object], limit: int = 200) -> list[object]:
    sem = asyncio.Semaphore(limit)

    async def run(c: object) -> object:
        async with sem:
            return await c  # type: ignore[misc]

    return list(await asyncio.gather(*(run(c) for c in coros)))


async def bench_waiting(base: str, pid: int, password: str, n: int) -> dict[str, float]:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        async with http.post(
            f"{base}/api/login",
            json={"username": "bench", "password": password},
            headers={"Origin": base},
        ) as r:
            r.raise_for_status()
        before = rss_mb(pid)
        t0 = time.perf_counter()
        socks = await gather_bounded([operator_socket(http, base) for _ in range(n)])
        elapsed = time.perf_counter() - t0
        await asyncio.sleep(1.0)
        after = rss_mb(pid)
        codes = {created.code for _, created in socks}  # type: ignore[attr-defined]
        assert len(codes) == n, "codes must be unique among live sessions"
        for ws, _ in socks:  # type: ignore[misc]
            await ws.close()
    return {
        "rss_before_mb": before,
        "rss_after_mb": after,
        "kb_per_session": (after - before) * 1024 / n,
        "create_per_s": n / elapsed,
    }


async def bench_echo_idle(base: str, pid: int, n: int) -> dict[str, float]:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        before = rss_mb(pid)

        async def connect() -> aiohttp.ClientWebSocketResponse:
            ws = await http.ws_connect(f"{base.replace('http', 'ws', 1)}/ws")
            await ws.send_str("x")
            await ws.receive(30)
            return ws

        socks = await gather_bounded([connect() for _ in range(n)])
        await asyncio.sleep(1.0)
        after = rss_mb(pid)
        for ws in socks:
            await ws.close()  # type: ignore[attr-defined]
    return {
        "rss_before_mb": before,
        "rss_after_mb": after,
        "kb_per_socket": (after - before) * 1024 / n,
    }


class Pair:
    def __init__(self, op: aiohttp.ClientWebSocketResponse, peer: aiohttp.ClientWebSocketResponse):
        self.op = op
        self.peer = peer


async def make_pair(http: aiohttp.ClientSession, base: str) -> tuple[Pair, float]:
    op, created = await operator_socket(http, base)
    peer = await http.ws_connect(f"{base.replace('http', 'ws', 1)}/ws/peer")
    await peer.send_str(p.serialize(p.Hello(role="peer", protocol=1, agent="bench")))
    await expect(peer, p.Welcome)
    t0 = time.perf_counter()
    await peer.send_str(
        p.serialize(p.Join(code=created.code, host="bench-host", user="bench", os="Linux"))
    )
    req = await expect(op, p.JoinRequest)
    assert isinstance(req, p.JoinRequest)
    await op.send_str(p.serialize(p.Accept(session_id=req.session_id)))
    await expect(peer, p.Paired)
    pairing = time.perf_counter() - t0
    await expect(op, p.Paired)
    return Pair(op, peer), pairing


CANDIDATE = p.serialize(
    p.Candidate(
        candidate="candidate:1 1 udp 2130706431 10.1.2.3 50000 typ host",
        sdp_mid="0",
        sdp_mline_index=0,
    )
)


async def steady_load(
    senders: Sequence[aiohttp.ClientWebSocketResponse],
    receivers: Sequence[aiohttp.ClientWebSocketResponse],
    rate: float,
    seconds: float,
) -> list[float]:
    """Each sender sends one message every 1/rate s (random phase) for ``seconds``; the
    latency is taken when the matching receiver has it (the echo server: sender == receiver)."""

    async def one(
        tx: aiohttp.ClientWebSocketResponse, rx: aiohttp.ClientWebSocketResponse
    ) -> list[float]:
        out: list[float] = []
        await asyncio.sleep(random.random() / rate)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            await tx.send_str(CANDIDATE)
            msg = await rx.receive(30)
            assert msg.type == aiohttp.WSMsgType.TEXT and '"candidate"' in msg.data
            out.append(time.perf_counter() - t0)
            await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - t0)))
        return out

    results = await asyncio.gather(
        *(one(tx, rx) for tx, rx in zip(senders, receivers, strict=True))
    )
    return [x for r in results for x in r]


async def burst(
    senders: Sequence[aiohttp.ClientWebSocketResponse],
    receivers: Sequence[aiohttp.ClientWebSocketResponse],
    rounds: int,
) -> float:
    """Every sender sends at once, ``rounds`` times; messages per second through the server."""

    async def one(tx: aiohttp.ClientWebSocketResponse, rx: aiohttp.ClientWebSocketResponse) -> None:
        await tx.send_str(CANDIDATE)
        msg = await rx.receive(30)
        assert msg.type == aiohttp.WSMsgType.TEXT

    t0 = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(one(tx, rx) for tx, rx in zip(senders, receivers, strict=True)))
    return rounds * len(senders) / (time.perf_counter() - t0)


async def bench_pairs(
    base: str, pid: int, password: str, n: int, rounds: int, rate: float, seconds: float
) -> dict[str, float]:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        async with http.post(
            f"{base}/api/login",
            json={"username": "bench", "password": password},
            headers={"Origin": base},
        ) as r:
            r.raise_for_status()
        made = await gather_bounded([make_pair(http, base) for _ in range(n)], limit=50)
        pairs = [pair for pair, _ in made]  # type: ignore[misc]
        pairing = [lat for _, lat in made]  # type: ignore[misc]
        peers = [x.peer for x in pairs]
        ops = [x.op for x in pairs]
        with quiet_gc():
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            relay = await steady_load(peers, ops, rate, seconds)
            cpu = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0)
            throughput = await burst(peers, ops, rounds)
        for pair in pairs:
            await pair.peer.send_str(p.serialize(p.Bye(reason="peer_ended")))
        for pair in pairs:
            await pair.peer.close()
            await pair.op.close()
    return {
        "pairing_p50_ms": pct(pairing, 50) * 1000,
        "pairing_p99_ms": pct(pairing, 99) * 1000,
        "relay_p50_ms": pct(relay, 50) * 1000,
        "relay_p99_ms": pct(relay, 99) * 1000,
        "relay_msgs_per_s": throughput,
        "server_cpu": cpu,
    }


async def bench_echo_active(
    base: str, pid: int, n: int, rounds: int, rate: float, seconds: float
) -> dict[str, float]:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        socks = await gather_bounded(
            [http.ws_connect(f"{base.replace('http', 'ws', 1)}/ws") for _ in range(n)]
        )
        with quiet_gc():
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            lat = await steady_load(socks, socks, rate, seconds)  # type: ignore[arg-type]
            cpu = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0)
            throughput = await burst(socks, socks, rounds)  # type: ignore[arg-type]
        for ws in socks:
            await ws.close()  # type: ignore[attr-defined]
    return {
        "echo_p50_ms": pct(lat, 50) * 1000,
        "echo_p99_ms": pct(lat, 99) * 1000,
        "echo_msgs_per_s": throughput,
        "server_cpu": cpu,
    }


async def main_async(args: argparse.Namespace) -> int:
    raise_fd_limit()
    password = "bench-" + os.urandom(8).hex()
    data_dir = Path(tempfile.mkdtemp(prefix="supportlink-bench-"))
    try:
        async with echo_server() as (ebase, eproc):
            echo_idle = await bench_echo_idle(ebase, eproc.pid, args.waiting)
            echo_active = await bench_echo_active(
                ebase, eproc.pid, args.pairs, args.rounds, args.rate, args.seconds
            )
        async with supportlink_server(data_dir, password) as (base, proc):
            waiting = await bench_waiting(base, proc.pid, password, args.waiting)
            await asyncio.sleep(1.0)
            active = await bench_pairs(
                base, proc.pid, password, args.pairs, args.rounds, args.rate, args.seconds
            )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    ok_mem = waiting["rss_after_mb"] < 250
    ok_p99 = active["relay_p99_ms"] < 20
    print(
        f"SupportLink signaling benchmark ({args.waiting} waiting, {args.pairs} pairs, "
        f"{args.rounds} rounds; 127.0.0.1; {os.cpu_count()} cores)"
    )
    print()
    print("waiting sessions (operator socket + live code)")
    print(
        f"  server RSS       {waiting['rss_before_mb']:8.1f} MB -> {waiting['rss_after_mb']:.1f} MB"
        f"   goal < 250 MB: {'met' if ok_mem else 'MISSED'}"
    )
    print(
        f"  per session      {waiting['kb_per_session']:8.1f} KB"
        f"   (bare echo socket: {echo_idle['kb_per_socket']:.1f} KB)"
    )
    print(f"  created          {waiting['create_per_s']:8.0f} sessions/s")
    print()
    print(f"active pairs ({args.pairs}; steady {args.rate:g} msgs/s each for {args.seconds:g} s)")
    print(percentiles("pairing", active["pairing_p50_ms"], active["pairing_p99_ms"]))
    print(
        percentiles("relay", active["relay_p50_ms"], active["relay_p99_ms"])
        + f"   goal p99 < 20 ms: {'met' if ok_p99 else 'MISSED'}"
    )
    print(percentiles("bare echo", echo_active["echo_p50_ms"], echo_active["echo_p99_ms"]))
    print(
        f"  server CPU       {active['server_cpu'] * 100:6.1f} % of a core"
        f"   (bare echo: {echo_active['server_cpu'] * 100:.1f} %)"
    )
    print(
        f"  burst relayed    {active['relay_msgs_per_s']:8.0f} msgs/s"
        f"   (bare echo: {echo_active['echo_msgs_per_s']:.0f} msgs/s)"
    )
    return 0 if ok_mem and ok_p99 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=10_000, help="waiting sessions to hold")
    parser.add_argument("--pairs", type=int, default=1_000, help="active pairs for relay")
    parser.add_argument("--rounds", type=int, default=5, help="bursts across all pairs")
    parser.add_argument("--rate", type=float, default=2.0, help="messages/s per pair, steady load")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the steady load")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
