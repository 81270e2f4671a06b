"""File transfer through the whole peer, both ways, against aiortc's own file-transfer pattern,
in one process, on loopback.

    python bench/files.py [--mb 50]

Three runs in the same process and the same event loop, the same random file each time:

* **baseline**: aiortc's ``examples/datachannel-filexfer`` pattern -- two bare
  ``RTCPeerConnection``\\ s, one data channel, 16 KiB chunks sent whenever ``bufferedAmount``
  falls to ``bufferedAmountLowThreshold`` (0, the example's), the receiver only counting.
* **peer -> operator**: the real signaling server (in process), the real ``PeerSession`` with
  ``--send FILE`` (headless), the operator's side played by aiortc (the tests'
  ``LoopbackOperator``) accepting and collecting the chunks; timed from the answer to the
  ``file_end`` (the SHA-256 of the whole file is checked on arrival, and its time counts).
* **operator -> peer**: the same session with ``--accept-files DIR``; the operator sends
  64 KiB frames paced on ``bufferedAmount`` (1 MiB high water), the peer writes the partial
  file, checks the SHA-256 and renames it; timed from ``file_start`` to ``file_result``.

Prints MB/s for each and the ratio to the baseline. Loopback only: host candidates are
limited to 127.0.0.1 (``tests/loopback_ice.py``). Shaped links and input latency during a
transfer are not measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
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
from peer.files import frames  # noqa: E402
from peer.session import PeerSession  # noqa: E402
from peer.settings import PeerSettings  # noqa: E402
from signaling.app import create_app  # noqa: E402
from wire import protocol as p  # noqa: E402


class Quiet(HeadlessUI):
    def _line(self, text: str) -> None:
        pass


async def wait(predicate: Any, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.002)


async def baseline(data: bytes) -> float:
    """aiortc's datachannel-filexfer: 16 KiB chunks on bufferedamountlow (threshold 0)."""
    a = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    b = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    received = 0

    def on_channel(channel: Any) -> None:
        def on_message(message: bytes) -> None:
            nonlocal received
            received += len(message)

        channel.on("message", on_message)

    b.on("datachannel", on_channel)
    channel = a.createDataChannel("filexfer")
    offset = 0

    def send_data() -> None:
        nonlocal offset
        while channel.bufferedAmount <= channel.bufferedAmountLowThreshold and offset < len(data):
            channel.send(data[offset : offset + 16384])
            offset += 16384

    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    await wait(lambda: channel.readyState == "open", 10)
    channel.on("bufferedamountlow", send_data)
    started = time.perf_counter()
    send_data()
    await wait(lambda: received >= len(data), 600)
    seconds = time.perf_counter() - started
    await a.close()
    await b.close()
    return len(data) / seconds / 1e6


async def session(tmp: Path, **settings: Any) -> tuple[Any, ...]:
    add_operator(tmp / "data", "alice", OPERATOR_PASSWORD)
    runner = web.AppRunner(create_app(server_settings(tmp)))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    http = ClientSession()
    ep = Endpoint(http, f"http://127.0.0.1:{port}/")
    sig = await ep.operator(await ep.login("alice", OPERATOR_PASSWORD))
    created = await sig.create("call")
    peer = PeerSession(
        PeerSettings(
            server=ep.base,
            code=created.code,
            headless=True,
            allow=frozenset({"files"}),
            **settings,
        ),
        Quiet(),
    )
    run = asyncio.ensure_future(peer.run(created.code))
    op = LoopbackOperator(sig)
    await op.accept()
    await wait(lambda: op.channels.get("control") is not None, 10)
    await wait(lambda: op.channels["control"].readyState == "open", 10)
    op.send("control", p.ConsentRequest(capability="files"))
    await wait(lambda: "files" in op.channels and op.channels["files"].readyState == "open", 10)
    return runner, http, sig, peer, run, op


async def finish(runner: Any, http: Any, sig: Any, peer: Any, run: Any, op: Any) -> None:
    peer.disconnect()
    await asyncio.wait_for(run, 10)
    await op.close()
    await sig.close()
    await http.close()
    await runner.cleanup()


def files_of(op: LoopbackOperator, cls: type[Any]) -> list[Any]:
    return [m for m in op.received["files"] if isinstance(m, cls)]


async def peer_to_operator(data: bytes, tmp: Path) -> float:
    source = tmp / "sent.bin"
    source.write_bytes(data)
    parts = await session(tmp, send=(source,))
    op = parts[-1]
    await wait(lambda: bool(files_of(op, p.FileOffer)), 30)
    offer = files_of(op, p.FileOffer)[0]
    digest = hashlib.sha256()
    got = 0

    channel = op.channels["files"]

    def count(message: Any) -> None:
        nonlocal got
        if isinstance(message, bytes):
            chunk = frames.decode(message)
            digest.update(chunk.data)
            got += len(chunk.data)

    channel.on("message", count)
    started = time.perf_counter()
    op.send("files", p.FileAnswer(transfer=offer.transfer, accept=True, skip=(), resume=()))
    await wait(lambda: bool(files_of(op, p.FileEnd)), 600)
    seconds = time.perf_counter() - started
    assert got == len(data) and files_of(op, p.FileEnd)[0].sha256 == digest.hexdigest()
    await finish(*parts)
    return len(data) / seconds / 1e6


async def operator_to_peer(data: bytes, tmp: Path) -> float:
    inbox = tmp / "inbox"
    inbox.mkdir()
    parts = await session(tmp, accept_files=inbox)
    op = parts[-1]
    op.send(
        "files",
        p.FileOffer(
            transfer=1,
            name="x.bin",
            from_folder="",
            count=1,
            total=len(data),
            entries=(p.FileEntry(path="x.bin", size=len(data)),),
            more=False,
        ),
    )
    await wait(lambda: bool(files_of(op, p.FileAnswer)), 30)
    channel = op.channels["files"]
    chunk = frames.chunk_size(None)
    started = time.perf_counter()
    op.send("files", p.FileStart(transfer=1, index=0, offset=0))
    for offset in range(0, len(data), chunk):
        channel.send(frames.encode(1, 0, offset, data[offset : offset + chunk]))
        if channel.bufferedAmount > 1 << 20:
            await wait(lambda: channel.bufferedAmount <= 256 << 10, 60)
    op.send("files", p.FileEnd(transfer=1, index=0, sha256=hashlib.sha256(data).hexdigest()))
    await wait(lambda: bool(files_of(op, p.FileResult)), 600)
    seconds = time.perf_counter() - started
    assert files_of(op, p.FileResult)[0].ok and (inbox / "x.bin").stat().st_size == len(data)
    await finish(*parts)
    return len(data) / seconds / 1e6


async def main(mb: int) -> None:
    data = os.urandom(mb * 1_000_000)
    rows = [("aiortc filexfer pattern", await baseline(data))]
    with tempfile.TemporaryDirectory() as one:
        rows.append(("peer -> operator", await peer_to_operator(data, Path(one))))
    with tempfile.TemporaryDirectory() as two:
        rows.append(("operator -> peer", await operator_to_peer(data, Path(two))))
    print(f"files: {mb} MB of random data, one process, loopback")
    print(f"{'pipeline':<26} {'MB/s':>8} {'x baseline':>11}")
    base = rows[0][1]
    for name, rate in rows:
        print(f"{name:<26} {rate:>8.1f} {rate / base:>11.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=50)
    args = parser.parse_args()
    with loopback_only():
        asyncio.run(main(args.mb))
