"""A real virtual X display for tests, and a way to paint known colours on it.

``Xvfb`` picks a free display number itself (``-displayfd``) and reports it once it accepts
connections, so nothing here guesses numbers or polls sockets. ``-nolisten tcp`` keeps it to a
local Unix socket. ``-noreset``: without it Xvfb resets itself whenever its last client leaves,
and a client connecting during that reset fails.

    with virtual_display(1280, 720) as display:      # ":N"
        with ColourBlocks(display, [Block(0, 0, 100, 100, "#ff0000")]) as blocks:
            ...
            blocks.recolour(0, "#00ff00")

``ColourBlocks`` runs a tiny Tk program in a child process (so the test's event loop and Tk
never share a thread): one override-redirect window per block, solid colour, at exactly the
given place; commands on its stdin recolour or move a block and it answers ``ok`` once the
X server has drawn the change.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


class XvfbError(RuntimeError):
    """Xvfb did not start or a painter did not answer."""


@contextmanager
def virtual_display(width: int = 1280, height: int = 720, timeout: float = 10.0) -> Iterator[str]:
    """Start ``Xvfb`` on a free display; yield its name (``":N"``); kill it afterwards."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=(write_fd,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        number = _read_display_number(read_fd, proc, timeout)
        yield f":{number}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _read_display_number(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> int:
    import select

    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise XvfbError(f"Xvfb did not report a display within {timeout} s")
        chunk = os.read(fd, 64)
        if not chunk:
            raise XvfbError(f"Xvfb exited early with status {proc.wait()}")
        data += chunk
    return int(data.strip())


@dataclass(frozen=True)
class Block:
    x: int
    y: int
    width: int
    height: int
    colour: str  # "#rrggbb"


_PAINTER = textwrap.dedent(
    """
    import sys, tkinter as tk
    root = tk.Tk()
    root.withdraw()
    wins = []
    def place(win, x, y, w, h, colour):
        win.geometry(f"{w}x{h}+{x}+{y}")
        win.configure(background=colour)
    for line in sys.argv[1:]:
        x, y, w, h, colour = line.split(",")
        win = tk.Toplevel(root, borderwidth=0, highlightthickness=0)
        win.overrideredirect(True)
        place(win, int(x), int(y), int(w), int(h), colour)
        wins.append(win)
    root.update()
    for win in wins:  # later blocks on top, as listed
        win.lift()
    def settle():
        root.update()  # also XSync: the server has every request drawn when this returns
        root.after(30)
        root.update()
        print("ok", flush=True)
    def command():
        line = sys.stdin.readline()
        if not line:
            root.destroy()
            return
        parts = line.split()
        if parts[0] == "colour":
            wins[int(parts[1])].configure(background=parts[2])
        elif parts[0] == "move":
            i, x, y = map(int, parts[1:4])
            wins[i].geometry(f"+{x}+{y}")
        settle()
    root.tk.createfilehandler(sys.stdin, tk.READABLE, lambda *_: command())
    settle()
    root.mainloop()
    """
)


class ColourBlocks:
    """Solid colour blocks at known places on ``display``, painted by a child Tk process."""

    def __init__(self, display: str, blocks: Sequence[Block], timeout: float = 10.0) -> None:
        self.display = display
        self.blocks = list(blocks)
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> ColourBlocks:
        args = [f"{b.x},{b.y},{b.width},{b.height},{b.colour}" for b in self.blocks]
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _PAINTER, *args],
            env={**os.environ, "DISPLAY": self.display},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._wait_ok()
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def recolour(self, index: int, colour: str) -> None:
        self._command(f"colour {index} {colour}")

    def move(self, index: int, x: int, y: int) -> None:
        self._command(f"move {index} {x} {y}")

    def _command(self, line: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        self._wait_ok()

    def _wait_ok(self) -> None:
        import select

        assert self._proc is not None and self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], self.timeout)
        if not ready:
            raise XvfbError("the colour painter did not answer")
        line = self._proc.stdout.readline()
        if line.strip() != "ok":
            raise XvfbError(f"the colour painter failed (exit {self._proc.poll()})")


def hex_to_bgr(colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` as a (b, g, r) tuple, the byte order of an X screen grab."""
    value = int(colour.lstrip("#"), 16)
    return (value & 0xFF, (value >> 8) & 0xFF, value >> 16)
