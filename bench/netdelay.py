"""Delay packets by a fixed time and lose some at random, in user space: the ``netem`` this
kernel lacks.

    python bench/netdelay.py DEVICE [DEVICE ...]

Run inside a network namespace: makes one TUN device per name (no address, so nothing
gathers it as a candidate) and hands every packet routed out of a device back into the same
device, as received there, after the delay: the routing table sends a packet out, the kernel
delivers it locally once it comes back in. A packet lost here is lost silently, as on a
real link (an nftables drop on output would fail the sender's call instead). The devices live
as long as this process.

Prints ``ready`` once the devices exist. Commands on stdin, one a line, each echoed when in
force: ``delay MS`` (for packets read from then on; 0 at the start), ``loss PCT`` (random,
0 at the start), ``stats`` (prints ``stats PACKETS MAX_LATE_MS``:
packets handed back, and how late the latest was against its due time, since the last
``stats``). Exits at end of input or on SIGTERM.
"""

from __future__ import annotations

import collections
import fcntl
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main(argv: list[str]) -> int:
    fds = [open_tun(name) for name in argv]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    delay = 0.0
    loss = 0.0
    held: collections.deque[tuple[float, int, bytes]] = collections.deque()
    packets = 0
    max_late = 0.0
    while True:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
        ready, _, _ = select.select([*fds, 0], [], [], timeout)
        for fd in fds:
            if fd not in ready:
                continue
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if loss and random.random() < loss:
                    continue
                held.append((time.monotonic() + delay, fd, packet))
        if 0 in ready:
            line = sys.stdin.readline()
            if not line:
                return 0
            words = line.split()
            if words[:1] == ["delay"]:
                delay = float(words[1]) / 1000
                print(f"delay {words[1]}", flush=True)
            elif words[:1] == ["loss"]:
                loss = float(words[1]) / 100
                print(f"loss {words[1]}", flush=True)
            elif words[:1] == ["stats"]:
                print(f"stats {packets} {max_late * 1000:.2f}", flush=True)
                packets, max_late = 0, 0.0
        now = time.monotonic()
        while held and held[0][0] <= now:
            due, fd, packet = held.popleft()
            try:
                os.write(fd, packet)
            except OSError as error:  # the kernel refused it: as lost on the way
                print(f"write: {error}", file=sys.stderr, flush=True)
            packets += 1
            max_late = max(max_late, now - due)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
