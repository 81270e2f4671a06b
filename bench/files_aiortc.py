"""The baseline of ``bench/files.py``: aiortc as it comes (no ``peer.sctp_tuning``), sending or
receiving a file with aiortc's own ``examples/datachannel-filexfer`` pattern -- 16 KiB chunks
sent whenever ``bufferedAmount`` is down to ``bufferedAmountLowThreshold`` (0) -- to or from a
browser page. Runs inside the benchmark's customer namespace and talks JSON lines:

    stdin:  {"mode": "send"|"receive", "bytes": N}  then  {"answer": SDP}
    stdout: {"offer": SDP}  ...  {"seconds": S}      (receive: from the first byte to the last)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

CHUNK = 16384


def say(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


async def read_line() -> dict[str, Any]:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    value: dict[str, Any] = json.loads(line)
    return value


async def main() -> None:
    job = await read_line()
    total = int(job["bytes"])
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    channel = pc.createDataChannel("filexfer")
    opened = asyncio.Event()
    channel.on("open", opened.set)
    await pc.setLocalDescription(await pc.createOffer())
    say({"offer": pc.localDescription.sdp})
    answer = await read_line()
    await pc.setRemoteDescription(RTCSessionDescription(answer["answer"], "answer"))
    await asyncio.wait_for(opened.wait(), 20)
    if job["mode"] == "send":
        data = os.urandom(CHUNK)
        sent = 0

        def send_data() -> None:
            nonlocal sent
            while channel.bufferedAmount <= channel.bufferedAmountLowThreshold and sent < total:
                channel.send(data)
                sent += CHUNK

        channel.on("bufferedamountlow", send_data)
        started = time.perf_counter()
        send_data()
        await read_line()  # the page has it all
        say({"seconds": time.perf_counter() - started})
    else:
        got = 0
        first = 0.0
        done = asyncio.Event()

        def on_message(message: bytes | str) -> None:
            nonlocal got, first
            if not first:
                first = time.perf_counter()
            got += len(message)
            if got >= total:
                done.set()

        channel.on("message", on_message)
        await asyncio.wait_for(done.wait(), 600)
        say({"seconds": time.perf_counter() - first})
    await pc.close()


if __name__ == "__main__":
    asyncio.run(main())
