"""A virtual screen (Xvfb) with known content: colour blocks painted by ``painter.py``."""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .netns import NetNS
from .procs import Proc, ProcError, Procs

WIDTH = 1920
HEIGHT = 1080
BACKGROUND = (40, 40, 40)

RGB = tuple[int, int, int]

#: Displays from here on are left to the tests (desktops use :0 up, ``-displayfd`` too).
DISPLAY_BASE = 140

_GRAB = """
import sys, mss
with mss.MSS(display=sys.argv[1]) as sct:
    shot = sct.grab(sct.monitors[0])
    open(sys.argv[2], "wb").write(bytes(shot.bgra))
    print(shot.width, shot.height)
"""


@dataclass(frozen=True)
class Block:
    x: int
    y: int
    w: int
    h: int
    rgb: RGB

    @property
    def centre(self) -> tuple[int, int]:
        return (self.x + self.w // 2, self.y + self.h // 2)


# Six large saturated blocks in a 3 x 2 grid: each survives video compression and scaling.
BLOCKS: tuple[Block, ...] = tuple(
    Block(80 + col * 620, 100 + row * 500, 520, 380, rgb)
    for (row, col), rgb in zip(
        [(r, c) for r in range(2) for c in range(3)],
        [
            (220, 30, 30),
            (30, 190, 40),
            (30, 60, 220),
            (235, 220, 40),
            (200, 40, 200),
            (40, 200, 210),
        ],
        strict=True,
    )
)


@dataclass
class Screen:
    """A running Xvfb display, painted with ``blocks``."""

    display: str
    width: int
    height: int
    xvfb: Proc
    ns: NetNS
    painter: Proc | None = None
    blocks: tuple[Block, ...] = field(default=BLOCKS)

    def env(self) -> dict[str, str]:
        """An environment for X clients of this screen."""
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def grab(self) -> Shot:
        """The whole screen, grabbed with mss inside the namespace (where the display's
        abstract socket is unambiguously this Xvfb)."""
        with tempfile.NamedTemporaryFile(prefix="grab-", suffix=".bgra") as out:
            size = self.ns.python(_GRAB, self.display, out.name)
            width, height = (int(v) for v in size.split())
            return Shot(width, height, Path(out.name).read_bytes())


@dataclass(frozen=True)
class Shot:
    width: int
    height: int
    bgra: bytes

    def pixel(self, x: int, y: int) -> RGB:
        i = (y * self.width + x) * 4
        return (self.bgra[i + 2], self.bgra[i + 1], self.bgra[i])


def _display_in_use(number: int) -> bool:
    if Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists():
        return True
    # A server in the root namespace may listen on the abstract socket only.
    with open("/proc/net/unix") as table:
        return any(
            line.endswith(f" @/tmp/.X11-unix/X{number}") for line in table.read().split("\n")
        )


def start_xvfb(
    procs: Procs, ns: NetNS, width: int = WIDTH, height: int = HEIGHT, timeout: float = 15.0
) -> Screen:
    """Start Xvfb inside ``ns`` on a free display; return once it accepts clients.

    The number is picked here, from a range desktops and ``-displayfd`` users leave alone, so
    that Xvfb takes its lock file (``-displayfd`` skips it): a server inside a namespace cannot
    see the abstract sockets of servers outside, so two could share a number and remove each
    other's socket files.
    """
    first = DISPLAY_BASE + os.getpid() % 100
    for number in (*range(first, DISPLAY_BASE + 200), *range(DISPLAY_BASE, first)):
        if _display_in_use(number):
            continue
        command = [
            "Xvfb",
            f":{number}",
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ]
        xvfb = procs.start(f"xvfb-{number}", ns.argv(command))
        socket_path = f"/tmp/.X11-unix/X{number}"
        deadline = time.monotonic() + timeout
        while xvfb.returncode is None and time.monotonic() < deadline:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(socket_path)
                except OSError:
                    time.sleep(0.05)
                    continue
            return Screen(f":{number}", width, height, xvfb, ns)
        xvfb.stop()
        if "already active" not in xvfb.output():
            raise ProcError(f"Xvfb :{number} did not start; output:\n{xvfb.output()}")
    raise ProcError("no free X display number")


def start_painter(procs: Procs, ns: NetNS, screen: Screen) -> Proc:
    """Cover the screen with the colour blocks; return once they are painted."""
    command = [
        sys.executable,
        str(Path(__file__).with_name("painter.py")),
        screen.display,
        str(screen.width),
        str(screen.height),
        json.dumps(BACKGROUND),
        json.dumps([[b.x, b.y, b.w, b.h, list(b.rgb)] for b in screen.blocks]),
    ]
    painter = procs.start("painter", ns.argv(command), env=screen.env())
    painter.wait_for_line(r"^ready$", timeout=15)
    screen.painter = painter
    return painter
