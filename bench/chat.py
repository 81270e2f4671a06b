"""Chat through the whole peer against a bare aiortc data channel, in one process, on loopback.

    python bench/chat.py [--messages 10000] [--size 60]

Two runs in the same process and the same event loop:

* **supportlink**: the real signaling server (in process), the real ``PeerSession`` (headless
  UI, counting instead of printing) and the operator's side played by aiortc (the tests'
  ``LoopbackOperator``): a burst of chat messages from the operator to the customer, then one
  at a time (each sent when the previous one was shown) for delivery latency.
* **baseline**: two bare ``RTCPeerConnection``s with one ordered, reliable data channel, the
  same messages, received by a callback that only counts.

Prints messages/s for the burst, p50/p95/p99 latency one at a time, and the process's RSS
before and after (the peer keeps nothing per message). Loopback only: host candidates are
limited to 127.0.0.1 (``tests/loopback_ice.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from aiohttp import ClientSession, web  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection  # noqa: E402
from conftest import OPERATOR_PASSWORD, LoopbackOperator  # noqa: E402
from loopback_ice import loopback_only  # noqa: E402
from sigclient import Endpoint, add_operator, server_settings  # noqa: E402

from peer.cli import HeadlessUI  # noqa: E402
from peer.feature import Shown  # noqa: E402
from peer.session import PeerSession  # noqa: E402
from peer.settings import PeerSettings  # noqa: E402
from signaling.app import create_app  # noqa: E402
from wire import protocol as p  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Counting(HeadlessUI):
    """The headless UI, counting chat messages instead of printing lines."""

    def __init__(self) -> None:
        super().__init__()
        self.shown = 0
        self.event = asyncio.Event()

    def _line(self, text: str) -> None:
        pass

    def show(self, capability: str, shown: Shown) -> None:
        self.shown += 1
        self.event.set()


async def wait(predicate: Any, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def supportlink(messages: list[str]) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        add_operator(Path(tmp) / "data", "alice", OPERATOR_PASSWORD)
        runner = web.AppRunner(create_app(server_settings(Path(tmp))))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        http = ClientSession()
        ep = Endpoint(http, f"http://127.0.0.1:{port}/")
        try:
            sig = await ep.operator(await ep.login("alice", OPERATOR_PASSWORD))
            created = await sig.create("call")
            ui = Counting()
            settings = PeerSettings(server=ep.base, code=created.code, headless=True)
            session = PeerSession(settings, ui)
            run = asyncio.ensure_future(session.run(created.code))
            op = LoopbackOperator(sig)
            await op.accept()
            await wait(lambda: op.channels.get("chat") is not None, 10)
            await wait(lambda: op.channels["chat"].readyState == "open", 10)
            frames = [p.serialize(p.Chat(text=m)) for m in messages]
            started = time.perf_counter()
            for frame in frames:
                op.channels["chat"].send(frame)
            await wait(lambda: ui.shown == len(frames), 120)
            rate = len(frames) / (time.perf_counter() - started)
            latencies = []
            for frame in frames[:300]:
                ui.event.clear()
                sent = time.perf_counter()
                op.channels["chat"].send(frame)
                await asyncio.wait_for(ui.event.wait(), 10)
                latencies.append((time.perf_counter() - sent) * 1000)
            session.disconnect()
            await asyncio.wait_for(run, 10)
            await op.close()
            await sig.close()
            return rate, latencies
        finally:
            await http.close()
            await runner.cleanup()


async def baseline(messages: list[str]) -> tuple[float, list[float]]:
    a = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    b = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    received = 0
    event = asyncio.Event()

    def on_channel(channel: Any) -> None:
        def on_message(_data: Any) -> None:
            nonlocal received
            received += 1
            event.set()

        channel.on("message", on_message)

    b.on("datachannel", on_channel)
    channel = a.createDataChannel("chat", ordered=True)
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    await wait(lambda: channel.readyState == "open", 10)
    frames = [p.serialize(p.Chat(text=m)) for m in messages]
    started = time.perf_counter()
    for frame in frames:
        channel.send(frame)
    await wait(lambda: received == len(frames), 120)
    rate = len(frames) / (time.perf_counter() - started)
    latencies = []
    for frame in frames[:300]:
        event.clear()
        sent = time.perf_counter()
        channel.send(frame)
        await asyncio.wait_for(event.wait(), 10)
        latencies.append((time.perf_counter() - sent) * 1000)
    await a.close()
    await b.close()
    return rate, latencies


async def main(count: int, size: int) -> None:
    messages = [f"{i:06d} " + "x" * max(0, size - 7) for i in range(count)]
    before = rss_mb()
    rows = [("baseline", *await baseline(messages))]
    rows.append(("supportlink", *await supportlink(messages)))
    after = rss_mb()
    print(f"chat: {count} messages of {size} characters, one process, loopback")
    print(f"{'pipeline':<12} {'burst msg/s':>12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, rate, lat in rows:
        print(
            f"{name:<12} {rate:>12.0f} {statistics.median(lat):>8.2f} {pct(lat, 95):>8.2f} "
            f"{pct(lat, 99):>8.2f}"
        )
    base, ours = rows[0][1], rows[1][1]
    print(f"supportlink / baseline burst rate: {ours / base:.2f}")
    print(f"peak RSS: {before:.0f} MB before, {after:.0f} MB after both runs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=60, help="characters per message")
    args = parser.parse_args()
    with loopback_only():
        asyncio.run(main(args.messages, args.size))
