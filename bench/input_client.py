"""The customer's application for ``bench/input.py``: an X client that stamps each key and
button press with ``time.time()`` the moment it arrives.

    python bench/input_client.py DISPLAY X Y WIDTH HEIGHT

One override-redirect window at that place, raised and given the keyboard focus (there is no
window manager). python-xlib rather than Tk: no toolkit event loop between the socket and the
stamp. Output lines: ``ready``; ``k KEYCODE T`` per KeyPress and ``b BUTTON X Y T`` per
ButtonPress, T being ``time.time()`` right after ``select`` said the X socket was readable (every
event read in that wake-up gets the same stamp). Exits at end of input or on ``quit``.
"""

from __future__ import annotations

import os
import select
import sys
import time

from Xlib import X, display


def main(argv: list[str]) -> int:
    name = argv[0]
    x, y, width, height = (int(v) for v in argv[1:5])
    dpy = display.Display(name)
    screen = dpy.screen()
    window = screen.root.create_window(
        x,
        y,
        width,
        height,
        0,
        screen.root_depth,
        X.InputOutput,
        X.CopyFromParent,
        background_pixel=0x203040,
        override_redirect=True,
        event_mask=X.KeyPressMask | X.ButtonPressMask,
    )
    window.map()
    window.configure(stack_mode=X.Above)
    dpy.sync()
    window.set_input_focus(X.RevertToParent, X.CurrentTime)
    dpy.sync()
    print("ready", flush=True)
    out = sys.stdout
    x_fd = dpy.fileno()
    pending = b""
    while True:
        ready, _, _ = select.select([x_fd, 0], [], [])
        stamp = time.time()
        if x_fd in ready or dpy.pending_events():
            lines = []
            while dpy.pending_events():
                event = dpy.next_event()
                if event.type == X.KeyPress:
                    lines.append(f"k {event.detail} {stamp:.6f}\n")
                elif event.type == X.ButtonPress:
                    lines.append(f"b {event.detail} {event.root_x} {event.root_y} {stamp:.6f}\n")
            if lines:
                out.write("".join(lines))
                out.flush()
        if 0 in ready:
            chunk = os.read(0, 4096)
            if not chunk:
                return 0
            pending += chunk
            if b"quit" in pending:
                return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
