"""A small X client for the end-to-end tests: an override-redirect window covering the screen,
painted with solid colour blocks at known rectangles, so what the operator sees can be checked
pixel by pixel.

    python painter.py DISPLAY WIDTH HEIGHT BACKGROUND_JSON BLOCKS_JSON

BACKGROUND_JSON is ``[r, g, b]``; BLOCKS_JSON a list of ``[x, y, w, h, [r, g, b]]``. Prints
``ready`` once painted, repaints on every Expose, exits on SIGTERM.
"""

from __future__ import annotations

import json
import sys

from Xlib import X, display


def pixel(rgb: list[int]) -> int:
    r, g, b = rgb
    return (r << 16) | (g << 8) | b  # a 24-bit TrueColor visual (Xvfb's default at depth 24)


def main(argv: list[str]) -> int:
    name, width, height, background, blocks = (
        argv[0],
        int(argv[1]),
        int(argv[2]),
        json.loads(argv[3]),
        json.loads(argv[4]),
    )
    dpy = display.Display(name)
    screen = dpy.screen()
    window = screen.root.create_window(
        0,
        0,
        width,
        height,
        0,
        screen.root_depth,
        X.InputOutput,
        X.CopyFromParent,
        background_pixel=pixel(background),
        override_redirect=True,
        event_mask=X.ExposureMask,
    )
    gc = window.create_gc(foreground=pixel(background))

    def paint() -> None:
        gc.change(foreground=pixel(background))
        window.fill_rectangle(gc, 0, 0, width, height)
        for x, y, w, h, rgb in blocks:
            gc.change(foreground=pixel(rgb))
            window.fill_rectangle(gc, x, y, w, h)
        dpy.sync()

    window.map()
    window.configure(stack_mode=X.Above)
    paint()
    print("ready", flush=True)
    while True:
        event = dpy.next_event()
        if event.type == X.Expose and event.count == 0:
            paint()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
