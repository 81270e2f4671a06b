"""Watches pixels of the customer's screen for ``bench/annotate.py`` (inside its namespace).

    python bench/annotate_watch.py DISPLAY

Commands on stdin, one per line: ``on X Y R G B`` waits until the 5x5 pixels around (X, Y) are
all exactly colour (R, G, B) and answers ``hit T``; ``off X Y R G B`` waits until none is and
answers ``gone T``; T is ``time.time()`` of the first grab that saw it. Each wait gives up after
5 s (``timeout``). The screen is read with mss (XGetImage of 5x5 pixels: ~0.1 ms), as fast as
it goes.
"""

from __future__ import annotations

import sys
import time

import mss


def main() -> None:
    with mss.MSS(display=sys.argv[1]) as grabber:
        print("ready", flush=True)
        for line in sys.stdin:
            parts = line.split()
            if not parts or parts[0] == "quit":
                break
            want_on = parts[0] == "on"
            x, y, r, g, b = map(int, parts[1:6])
            box = {"left": x - 2, "top": y - 2, "width": 5, "height": 5}
            colour = bytes((r, g, b))
            deadline = time.time() + 5
            while True:
                shot = grabber.grab(box)
                now = time.time()
                rgb = shot.rgb
                hits = sum(rgb[i : i + 3] == colour for i in range(0, len(rgb), 3))
                if (want_on and hits == 25) or (not want_on and hits == 0):
                    print(("hit " if want_on else "gone ") + repr(now), flush=True)
                    break
                if now > deadline:
                    print("timeout", flush=True)
                    break


if __name__ == "__main__":
    main()
