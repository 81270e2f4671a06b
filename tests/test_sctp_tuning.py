"""``peer.sctp_tuning``: aiortc's SCTP with delayed SACKs, cheaper reassembly and bookkeeping,
and bigger socket buffers -- checked on real aiortc connections on loopback: every message
arrives whole, once and in order (also with packets lost on the way), half as many SACKs go
back, a lone message is still acknowledged, and the patches follow the aiortc they were
written for."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aioice.ice
import aiortc
import pytest
from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc import rtcsctptransport as sctp
from loopback_ice import loopback_only

from peer import sctp_tuning


@pytest.fixture
def tuned() -> Any:
    was = sctp_tuning.installed()
    assert sctp_tuning.install()
    yield
    if not was:
        sctp_tuning.uninstall()


@asynccontextmanager
async def pair(
    label: str = "files", **options: Any
) -> AsyncIterator[tuple[RTCPeerConnection, RTCDataChannel, asyncio.Queue[RTCDataChannel]]]:
    with loopback_only():
        a = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        b = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        channel = a.createDataChannel(label, **options)
        remote: asyncio.Queue[RTCDataChannel] = asyncio.Queue()
        b.on("datachannel", remote.put_nowait)
        await a.setLocalDescription(await a.createOffer())
        await b.setRemoteDescription(RTCSessionDescription(a.localDescription.sdp, "offer"))
        await b.setLocalDescription(await b.createAnswer())
        await a.setRemoteDescription(RTCSessionDescription(b.localDescription.sdp, "answer"))
        opened = asyncio.Event()
        channel.on("open", opened.set)
        async with asyncio.timeout(10):
            await opened.wait()
        try:
            yield a, channel, remote
        finally:
            await a.close()
            await b.close()


def count_sent_chunks(pc: RTCPeerConnection) -> dict[str, int]:
    """Count the SCTP chunks ``pc`` sends, by kind, from now on."""
    assert pc.sctp is not None
    return count_chunks_sent_by(pc.sctp)


def count_chunks_sent_by(transport: sctp.RTCSctpTransport) -> dict[str, int]:
    counts = {"data": 0, "sack": 0}
    send_chunk = transport._send_chunk

    async def counting(chunk: Any) -> None:
        if isinstance(chunk, sctp.DataChunk):
            counts["data"] += 1
        elif isinstance(chunk, sctp.SackChunk):
            counts["sack"] += 1
        await send_chunk(chunk)

    transport._send_chunk = counting  # type: ignore[method-assign]
    return counts


def drop_every(n: int) -> Callable[[], None]:
    """Lose every n-th datagram after the handshake on every aioice connection (the network
    below SCTP losing packets); returns the function that stops losing them."""
    original = aioice.ice.Connection.sendto
    sent = 0

    async def lossy(self: aioice.ice.Connection, data: bytes, component: int) -> None:
        nonlocal sent
        sent += 1
        if sent % n == 0 and data and 20 <= data[0] <= 63 and len(data) > 600:
            return  # a DTLS record carrying SCTP data: lost on the way
        await original(self, data, component)

    aioice.ice.Connection.sendto = lossy  # type: ignore[method-assign]

    def restore() -> None:
        aioice.ice.Connection.sendto = original  # type: ignore[method-assign]

    return restore


async def exchange(
    channel: RTCDataChannel, remote: asyncio.Queue[RTCDataChannel], messages: list[bytes]
) -> list[bytes]:
    far = await asyncio.wait_for(remote.get(), 10)
    got: list[bytes] = []
    done = asyncio.Event()

    def on_message(m: bytes | str) -> None:
        got.append(m if isinstance(m, bytes) else m.encode())
        if len(got) == len(messages):
            done.set()

    far.on("message", on_message)
    for m in messages:
        while channel.bufferedAmount > 1 << 20:
            await asyncio.sleep(0.005)
        channel.send(m)
    async with asyncio.timeout(60):
        await done.wait()
    return got


def test_the_patches_follow_the_installed_aiortc() -> None:
    # an aiortc upgrade changes the code these patches replace: read them again against it
    assert aiortc.__version__ in sctp_tuning.SUPPORTED


async def test_every_message_arrives_whole_once_and_in_order(tuned: None) -> None:
    rng = random.Random(7)
    sizes = [1, 1171, 1172, 1173, 16_384, 65_536, 262_144] + [
        rng.randint(1, 70_000) for _ in range(150)
    ]
    messages = [os.urandom(n) for n in sizes]
    async with pair() as (a, channel, remote):
        counts = count_sent_chunks(a)
        got = await exchange(channel, remote, messages)
    assert [hashlib.sha256(m).digest() for m in got] == [
        hashlib.sha256(m).digest() for m in messages
    ]
    assert counts["data"] > 1000


async def test_lost_packets_are_resent_and_nothing_is_lost_or_reordered(tuned: None) -> None:
    messages = [os.urandom(random.Random(i).randint(1, 40_000)) for i in range(300)]
    restore = drop_every(37)
    try:
        async with pair() as (_, channel, remote):
            got = await exchange(channel, remote, messages)
    finally:
        restore()
    assert got == messages


async def test_unordered_partially_reliable_messages_still_arrive_complete(tuned: None) -> None:
    messages = [os.urandom(n) for n in (10, 5_000, 30_000, 120_000, 7)]
    async with pair(ordered=False) as (_, channel, remote):
        got = await exchange(channel, remote, messages)
    assert sorted(got) == sorted(messages)


async def test_half_as_many_sacks_go_back_for_a_bulk_transfer(tuned: None) -> None:
    async with pair() as (a, channel, remote):
        far = await asyncio.wait_for(remote.get(), 10)
        back = count_chunks_sent_by(far.transport)  # the receiving side's association
        sent = count_sent_chunks(a)
        got = 0
        done = asyncio.Event()

        def on_message(m: bytes | str) -> None:
            nonlocal got
            got += 1
            if got == 200:
                done.set()

        far.on("message", on_message)
        payload = os.urandom(64 * 1024)
        for _ in range(200):
            while channel.bufferedAmount > 1 << 20:
                await asyncio.sleep(0.005)
            channel.send(payload)
        async with asyncio.timeout(60):
            await done.wait()
    assert sent["data"] >= 200 * 56
    assert back["sack"] <= 0.6 * sent["data"], (back, sent)


async def test_a_lone_message_is_acknowledged_after_the_delay(tuned: None) -> None:
    async with pair("chat") as (a, channel, remote):
        far = await asyncio.wait_for(remote.get(), 10)
        arrived = asyncio.Event()
        far.on("message", lambda _m: arrived.set())
        channel.send(b"hello")
        async with asyncio.timeout(5):
            await arrived.wait()
        transport = a.sctp
        assert transport is not None
        async with asyncio.timeout(1):
            while transport._sent_queue:
                await asyncio.sleep(0.005)
        assert channel.bufferedAmount == 0


async def test_socket_buffers_are_asked_for(tuned: None) -> None:
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
    wanted = min(sctp_tuning.SOCKET_BUFFER, rmem_max)
    async with pair() as (a, _channel, _remote):
        ice = a.sctp.transport.transport  # SCTP -> DTLS -> ICE
        sizes = [
            p.transport.get_extra_info("socket").getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            for p in ice._connection._protocols
        ]
    assert sizes and all(size >= wanted for size in sizes), sizes


def test_uninstall_puts_aiortc_back() -> None:
    was = sctp_tuning.installed()
    sctp_tuning.install()
    assert sctp.RTCSctpTransport._transmit is sctp_tuning._transmit
    sctp_tuning.uninstall()
    assert sctp.RTCSctpTransport._transmit is not sctp_tuning._transmit
    assert aioice.ice.StunProtocol.connection_made is not sctp_tuning._connection_made
    if was:
        sctp_tuning.install()
