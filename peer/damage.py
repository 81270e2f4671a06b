"""Wake the screen capture when the X server says something was drawn (X DAMAGE extension).

Polling the screen for changes costs a grab and a comparison per poll and adds, on average,
half a poll interval to every change before it is even seen. With DAMAGE the X server tells us
as soon as anything is drawn anywhere on the screen (a damage object on the root window covers
every window below it), so the capture grabs right after a change and not at all while the
screen is still.

``DamageWatch`` runs one thread with an X connection of its own (opened by ``start()``, only
after the customer allowed screen viewing, like the grabber, and closed by that thread). It
calls ``on_damage`` (from that thread) once per burst of drawing: with
``DamageReportNonEmpty`` the server sends one event and stays quiet until the damage is
subtracted, which the thread does right away.
``start()`` returns False when the display has no DAMAGE extension; the capture then polls.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

#: How often the watch thread looks whether it should stop, in seconds.
_STOP_CHECK = 0.2


class DamageWatch:
    def __init__(self, on_damage: Callable[[], None], display: str | None = None) -> None:
        self._on_damage = on_damage
        self._display_name = display
        self._display: Any = None
        self._damage: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> bool:
        """Connect and start watching; False (and nothing running) without DAMAGE."""
        from Xlib import X
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError
        from Xlib.ext import damage

        try:
            d = xdisplay.Display(self._display_name)
        except (DisplayError, OSError) as exc:
            logger.info("screen changes: no X connection for DAMAGE (%s); polling", exc)
            return False
        try:
            if not d.has_extension("DAMAGE"):
                logger.info("screen changes: the X server has no DAMAGE extension; polling")
                d.close()
                return False
            d.damage_query_version()  # required before any other DAMAGE request
            self._damage = d.screen().root.damage_create(damage.DamageReportNonEmpty)
            d.sync()
        except Exception as exc:
            logger.info("screen changes: DAMAGE refused (%s); polling", exc)
            d.close()
            return False
        self._display = d
        self._notify_type = d.extension_event.DamageNotify
        self._none = X.NONE
        self._thread = threading.Thread(target=self._run, name="screen-damage", daemon=True)
        self._thread.start()
        logger.debug("screen changes: watching with DAMAGE")
        return True

    def _run(self) -> None:
        d = self._display
        try:
            while not self._stopping.is_set():
                readable, _, _ = select.select([d], [], [], _STOP_CHECK)
                if not readable and not d.pending_events():
                    continue
                for _ in range(max(1, d.pending_events())):
                    event = d.next_event()
                    if event.type == self._notify_type:
                        d.damage_subtract(self._damage, self._none, self._none)
                        d.flush()
                        self._on_damage()
        except Exception as exc:  # the X server went away
            logger.warning("screen changes: DAMAGE watch ended: %s", exc)
            self._on_damage()  # let the capture notice (``running`` is false) and poll
        finally:
            try:
                d.close()
            except Exception as exc:  # pragma: no cover - already broken connection
                logger.debug("closing the DAMAGE connection: %s", exc)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self, wait: float = 0.0) -> None:
        """Stop watching (idempotent). The thread closes its X connection within
        ``_STOP_CHECK`` seconds; ``wait`` > 0 waits that long for it (never on the event loop)."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        self._display = None
        if wait > 0 and thread is not None and thread is not threading.current_thread():
            thread.join(timeout=wait)
