"""The customer's screen for ``bench/latency.py``: an X client that draws a frame counter and
light or heavy content, and reports when each counter value reached the X server.

    python bench/latency_screen.py DISPLAY [SEED]

One override-redirect window covers the screen. Commands, one per line on stdin:

    still   draw nothing more (what is on the screen stays)
    light   a document; the counter changes every 40-75 ms (random phase) and a line of
            text is typed at 10 characters a second
    heavy   text scrolling over the whole screen, 6 px per frame at 60 Hz, with a new
            counter value every frame
    snap N DIR
            from now on, for every counter value that is a multiple of N, write the luma of
            ``latency_code.TEXT_REGION`` as drawn with that value to DIR/VALUE.y (typing waits
            while such a value is up, so the region stays as written for the whole value)
    quit    exit (so does end of input)

Output lines: ``ready`` once mapped; ``mode NAME T`` when a mode starts;
``d COUNTER T`` for each counter value, T being ``time.monotonic()`` right after the X
server answered a round trip that followed the drawing (so the pixels were on the screen).
The counter band is painted with one CopyArea from a pixmap, so a screen grab never sees half
a counter.
"""

from __future__ import annotations

import math
import os
import random
import select
import sys
import time
from pathlib import Path
from typing import Any

from latency_code import (
    BAND_H,
    BAND_RGB,
    BLACK,
    BLOCK,
    BLOCKS,
    MODULO,
    TEXT_REGION,
    WHITE,
    X0,
    Y0,
    bits,
    luma,
)
from Xlib import X, display

TICK = 1 / 60
SCROLL_PX = 6
LINE_H = 20
TYPE_INTERVAL = 0.1
CODE_INTERVAL = (0.040, 0.075)
DOC_BG = 0xF4F4F0
DOC_FG = 0x202830
TERM_BG = 0x101418
PALETTE = (0xE0E0E0, 0x8FD18F, 0xE6C07B, 0x61AFEF, 0xC678DD, 0xE06C75, 0x56B6C2)
WORDS = (
    "def class return self await async import from None True False for while if elif else "
    "frame track encoder bitrate packet screen session offer answer candidate consent "
    "(x, y) [i] {key: value} = == != += -> # 0x7f 1920 1080 30 fps kbit/s ms"
).split()
TYPED = "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. "


class Screen:
    def __init__(self, name: str, seed: int) -> None:
        self.dpy = display.Display(name)
        scr = self.dpy.screen()
        self.w, self.h = scr.width_in_pixels, scr.height_in_pixels
        self.depth = scr.root_depth
        self.rng = random.Random(seed)
        self.window = scr.root.create_window(
            0,
            0,
            self.w,
            self.h,
            0,
            self.depth,
            X.InputOutput,
            X.CopyFromParent,
            background_pixel=BAND_RGB,
            override_redirect=True,
            event_mask=X.ExposureMask,
        )
        fonts = self.dpy.list_fonts("10x20", 1)
        self.font = self.dpy.open_font(fonts[0] if fonts else "fixed")
        self.gc = self.window.create_gc(
            foreground=DOC_FG, background=DOC_BG, font=self.font, graphics_exposures=False
        )
        self.counter = 0
        self.mode = "still"
        self.scroll_y = 0
        self.typed = 0
        self.code = self.window.create_pixmap(X0 * 2 + BLOCKS * BLOCK, BAND_H, self.depth)
        self.doc = self._document()
        self.tape_h = LINE_H * 108
        self.tape = self._tape()
        self.snap_every = 0
        self.snap_dir: Path | None = None

    # ---------------------------------------------------------------- content

    def _fill(self, drawable: Any, rgb: int, x: int, y: int, w: int, h: int) -> None:
        self.gc.change(foreground=rgb)
        drawable.fill_rectangle(self.gc, x, y, w, h)

    def _line(self, rng: random.Random, width: int) -> str:
        text = " " * (4 * rng.randint(0, 4))
        while len(text) < width:
            text += rng.choice(WORDS) + " "
        return text[:width]

    def _document(self) -> Any:
        doc = self.window.create_pixmap(self.w, self.h, self.depth)
        self._fill(doc, DOC_BG, 0, 0, self.w, self.h)
        rng = random.Random(7)
        self.gc.change(foreground=DOC_FG, background=DOC_BG)
        for row in range(6, 26):
            doc.image_text(self.gc, 100, BAND_H + row * LINE_H, self._line(rng, 160))
        return doc

    def _tape(self) -> Any:
        """Lines of coloured text, ``tape_h`` tall plus one screen that repeats its top."""
        tape = self.window.create_pixmap(self.w, self.tape_h + self.h, self.depth)
        self._fill(tape, TERM_BG, 0, 0, self.w, self.tape_h + self.h)
        rng = random.Random(11)
        lines = [(rng.choice(PALETTE), self._line(rng, 190)) for _ in range(self.tape_h // LINE_H)]
        for i in range((self.tape_h + self.h) // LINE_H + 1):
            rgb, text = lines[i % len(lines)]
            self.gc.change(foreground=rgb, background=TERM_BG)
            tape.image_text(self.gc, 8, i * LINE_H + 15, text)
        return tape

    def paint_mode(self) -> None:
        """The whole screen for the current mode (after a switch or an Expose)."""
        self._fill(self.window, BAND_RGB, 0, 0, self.w, BAND_H)
        if self.mode == "heavy":
            self._scroll()
        else:
            self.window.copy_area(self.gc, self.doc, 0, BAND_H, self.w, self.h - BAND_H, 0, BAND_H)
            self.typed = 0
        self.draw_code(advance=False)

    def _scroll(self) -> None:
        self.window.copy_area(
            self.gc, self.tape, 0, self.scroll_y, self.w, self.h - BAND_H, 0, BAND_H
        )

    def draw_code(self, advance: bool = True) -> float:
        if advance:
            self.counter += 1
        self._fill(self.code, BAND_RGB, 0, 0, X0 * 2 + BLOCKS * BLOCK, BAND_H)
        by_colour: dict[int, list[tuple[int, int, int, int]]] = {WHITE: [], BLACK: []}
        for i, bit in enumerate(bits(self.counter)):
            by_colour[WHITE if bit else BLACK].append((X0 + i * BLOCK, Y0, BLOCK, BLOCK))
        for rgb, rects in by_colour.items():
            self.gc.change(foreground=rgb)
            self.code.poly_fill_rectangle(self.gc, rects)
        self.window.copy_area(self.gc, self.code, 0, 0, X0 * 2 + BLOCKS * BLOCK, BAND_H, 0, 0)
        self.dpy.sync()
        return time.monotonic()

    @property
    def holding_text(self) -> bool:
        """The counter value up is sampled: the text region must stay as it was drawn."""
        return self.snap_every > 0 and self.counter % self.snap_every == 0

    def snapshot(self) -> None:
        """The text region as drawn with the current counter value, if it is sampled."""
        if not self.holding_text or self.snap_dir is None:
            return
        x, y, w, h = TEXT_REGION
        image = self.window.get_image(x, y, w, h, X.ZPixmap, 0xFFFFFFFF)
        data = image.data if isinstance(image.data, bytes) else image.data.encode("latin-1")
        (self.snap_dir / f"{self.counter % MODULO}.y").write_bytes(luma(data, w, h))

    def type_char(self) -> None:
        per_line = 150
        column = self.typed % per_line
        if column == 0:
            self._fill(self.window, DOC_BG, 100, BAND_H + 28 * LINE_H, per_line * 10 + 20, 26)
        self.gc.change(foreground=DOC_FG, background=DOC_BG)
        char = TYPED[self.typed % len(TYPED)]
        self.window.image_text(self.gc, 100 + column * 10, BAND_H + 29 * LINE_H, char)
        self.dpy.flush()
        self.typed += 1

    def heavy_step(self) -> float:
        self.scroll_y = (self.scroll_y + SCROLL_PX) % self.tape_h
        self._scroll()
        return self.draw_code()


def main(argv: list[str]) -> int:
    screen = Screen(argv[0], int(argv[1]) if len(argv) > 1 else 1)
    screen.window.map()
    screen.window.configure(stack_mode=X.Above)
    screen.paint_mode()
    print("ready", flush=True)
    pending = b""
    next_code = next_type = next_tick = math.inf
    x_fd = screen.dpy.fileno()
    while True:
        now = time.monotonic()
        due = min(next_code, next_type, next_tick)
        timeout = 0.0 if screen.dpy.pending_events() else max(0.0, due - now)
        ready, _, _ = select.select([0, x_fd], [], [], None if due == math.inf else timeout)
        if 0 in ready:
            chunk = os.read(0, 4096)
            if not chunk:
                return 0
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                command = line.decode().strip()
                if command == "quit":
                    return 0
                if command.startswith("snap "):
                    _, every, directory = command.split(" ", 2)
                    screen.snap_every, screen.snap_dir = int(every), Path(directory)
                    print(f"snap {every}", flush=True)
                    continue
                if command not in ("still", "light", "heavy"):
                    print(f"error unknown command {command!r}", flush=True)
                    continue
                screen.mode = command
                next_code = next_type = next_tick = math.inf
                if command != "still":
                    screen.paint_mode()
                now = time.monotonic()
                if command == "light":
                    next_code = now + screen.rng.uniform(*CODE_INTERVAL)
                    next_type = now + TYPE_INTERVAL
                elif command == "heavy":
                    next_tick = now + TICK
                print(f"mode {command} {now:.6f}", flush=True)
        while screen.dpy.pending_events():
            event = screen.dpy.next_event()
            if event.type == X.Expose and event.count == 0:
                screen.paint_mode()
        now = time.monotonic()
        if now >= next_code:
            drawn = screen.draw_code()
            print(f"d {screen.counter} {drawn:.6f}", flush=True)
            screen.snapshot()
            next_code = drawn + screen.rng.uniform(*CODE_INTERVAL)
        if now >= next_type and not screen.holding_text:
            screen.type_char()
            next_type = max(next_type + TYPE_INTERVAL, now)
        if now >= next_tick:
            drawn = screen.heavy_step()
            print(f"d {screen.counter} {drawn:.6f}", flush=True)
            screen.snapshot()
            next_tick += TICK
            if next_tick < drawn:  # fell behind: keep the rate, drop the backlog
                next_tick = drawn + TICK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
