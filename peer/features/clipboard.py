"""Clipboard text both ways, only while the customer allows ``clipboard``."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from wire import protocol

from ..clipboard import XClipboard
from ..feature import Feature
from ..i18n import t

logger = logging.getLogger(__name__)


class ClipboardFeature(Feature):
    capability = "clipboard"
    handles = frozenset({"clipboard"})

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.clipboard: XClipboard | None = None
        self.counts: Counter[str] = Counter()

    def set_allowed(self, allowed: bool) -> bool:
        if allowed and self.clipboard is None:
            loop = self.host.loop
            if loop is None:
                return False

            def changed(text: str) -> None:  # on the clipboard thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._changed, text)

            clipboard = XClipboard(
                self.host.display, changed, max_chars=protocol.MAX_CLIPBOARD_CHARS
            )
            try:
                clipboard.start()
            except Exception as exc:
                logger.warning("clipboard: not available here: %s", exc)
                return False
            self.clipboard = clipboard
        self.allowed = allowed
        if self.clipboard is not None:
            self.clipboard.watch(allowed)
        return True

    def handle(self, msg: Any) -> None:
        if self.clipboard is None:
            self.counts["dropped"] += 1
            return
        self.clipboard.set_text(msg.text)
        self.counts["received"] += 1
        self.host.notice(t("notice.clipboard_received", count=len(msg.text)))

    def refused(self) -> None:
        self.counts["dropped"] += 1

    def _changed(self, text: str) -> None:
        """On the loop: the customer's clipboard holds new text."""
        if not self.allowed:
            self.counts["dropped"] += 1
            return
        text = protocol.clean_text(text)[: protocol.MAX_CLIPBOARD_CHARS]
        self.host.send("control", protocol.Clipboard(text=text))
        self.counts["sent"] += 1
        self.host.notice(t("notice.clipboard_sent", count=len(text)))

    async def close(self) -> None:
        if self.clipboard is not None:
            self.clipboard.close()

    def summary(self) -> str | None:
        c = self.counts
        if not c:
            return None
        return f"clipboard: sent {c['sent']}, received {c['received']}, dropped {c['dropped']}"
