"""The customer's windows with what the operator shows, as a test sees them on the X display:
find one by its title, check the colour blocks it shows, close it the way a window manager's
close button does."""

from __future__ import annotations

from collections.abc import Sequence

import mss
import numpy as np

RGB = tuple[int, int, int]


def _find(display: str, title_part: str) -> tuple[int, tuple[int, int, int, int] | None] | None:
    """The top-level window whose name holds ``title_part`` (a viewable one first): its id,
    and its geometry (x, y, width, height) if it is viewable; None without such a window."""
    import Xlib.display
    from Xlib import X

    d = Xlib.display.Display(display)
    try:
        utf8 = d.intern_atom("_NET_WM_NAME")
        hidden: int | None = None
        for w in d.screen().root.query_tree().children:
            name = w.get_full_property(utf8, 0)
            text = name.value.decode() if name is not None else str(w.get_wm_name() or "")
            if title_part not in text:
                continue
            if w.get_attributes().map_state == X.IsViewable:
                g = w.get_geometry()
                return int(w.id), (g.x, g.y, g.width, g.height)
            hidden = int(w.id) if hidden is None else hidden
        return None if hidden is None else (hidden, None)
    finally:
        d.close()


def window_of(display: str, title_part: str) -> tuple[int, int, int, int] | None:
    """Geometry (x, y, width, height) of the viewable top-level window whose name holds
    ``title_part``, or None."""
    found = _find(display, title_part)
    return None if found is None else found[1]


def window_id_of(display: str, title_part: str) -> int | None:
    """The id of the top-level window whose name holds ``title_part``, or None."""
    found = _find(display, title_part)
    return None if found is None else found[0]


def shows_blocks(display: str, box: tuple[int, int, int, int], colours: Sequence[RGB]) -> bool:
    """Whether the window at ``box`` shows ``colours`` as equal blocks left to right (at the
    blocks' centres on its middle row, each channel within 40), wherever the picture sits in
    it (its aspect kept, bars around it)."""
    x, y, w, h = box
    with mss.MSS(display=display) as grabber:
        shot = grabber.grab({"left": x, "top": y, "width": w, "height": h})
    img = np.frombuffer(shot.rgb, dtype=np.uint8).reshape(shot.height, shot.width, 3)
    row = img[h // 2].astype(int)
    lit = np.nonzero(row.sum(axis=1) > 60)[0]
    if len(lit) < 2 * len(colours):
        return False
    left, right = int(lit[0]), int(lit[-1])
    span = right - left + 1
    n = len(colours)
    return all(
        np.abs(row[left + (2 * i + 1) * span // (2 * n)] - np.array(c)).max() <= 40
        for i, c in enumerate(colours)
    )


def close_window(display: str, xid: int) -> None:
    """What a window manager's close button does: WM_DELETE_WINDOW to the window."""
    import Xlib.display
    from Xlib import X
    from Xlib.protocol import event

    d = Xlib.display.Display(display)
    try:
        target = d.create_resource_object("window", xid)
        protocols = d.intern_atom("WM_PROTOCOLS")
        delete = d.intern_atom("WM_DELETE_WINDOW")
        msg = event.ClientMessage(
            window=target, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
        )
        target.send_event(msg, event_mask=X.NoEventMask)
        d.sync()
    finally:
        d.close()
