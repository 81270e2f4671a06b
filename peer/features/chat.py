"""Chat: text both ways from the moment the operator accepts, over the ``chat`` channel.

Everything is text: what arrives is shown as it is (no UI interprets markup in it). What the
customer types is checked here before it leaves (``MAX_CHAT_CHARS`` characters as a person
counts them); a message the operator's console refused comes back as an ``error`` and is
shown as not delivered, in the peer's own words for its code (never the operator's text).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from wire import protocol

from ..feature import Feature, Shown
from ..i18n import t

logger = logging.getLogger(__name__)


def outgoing_text(text: str) -> str:
    """What of the customer's input is sent: no NUL or lone surrogates, no trailing newline."""
    return protocol.clean_text(text).rstrip("\r\n")


class ChatFeature(Feature):
    capability = "chat"
    handles = frozenset({"chat", "error"})

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.counts: Counter[str] = Counter()

    def handle(self, msg: Any) -> None:
        if isinstance(msg, protocol.Chat):
            if protocol.user_length(msg.text) > protocol.MAX_CHAT_CHARS:
                self.counts["refused"] += 1
                self.host.tell(
                    "chat",
                    "too_long",
                    f"a chat message holds at most {protocol.MAX_CHAT_CHARS} characters",
                )  # to the operator's console, which has words of its own for the code
                return
            self.counts["received"] += 1
            self.host.show("chat", Shown("message", msg.text, who=self.host.operator))
        elif isinstance(msg, protocol.Error):
            # in our own words, never the operator's: an error line is not a chat message
            self.counts["not_delivered"] += 1
            why = t(f"error.{msg.code}") if msg.code in protocol.ERROR_CODES else t("chat.refused")
            self.host.show("chat", Shown("line", t("chat.not_delivered", why=why)))

    def from_ui(self, action: str, value: str) -> None:
        if action != "send":
            return
        text = outgoing_text(value)
        if not text.strip():
            return
        length = protocol.user_length(text)
        if length > protocol.MAX_CHAT_CHARS:
            self.host.show(
                "chat",
                Shown("line", t("chat.too_long", length=length, limit=protocol.MAX_CHAT_CHARS)),
            )
            return
        if not self.allowed:
            self.host.show("chat", Shown("line", t("chat.off")))
            return
        if not self.host.send("chat", protocol.Chat(text=text)):
            self.host.show("chat", Shown("line", t("chat.not_connected")))
            return
        self.counts["sent"] += 1
        self.host.show("chat", Shown("message", text, who=t("chat.you"), mine=True))

    def summary(self) -> str | None:
        c = self.counts
        if not c:
            return None
        return f"chat: sent {c['sent']}, received {c['received']}, refused {c['refused']}"
