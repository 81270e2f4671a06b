"""Remote control: the ``input`` channel to the X server, and the hotkey that takes it back.

Input frames reach ``RemoteControl`` unparsed: its ``InputCore`` parses, checks consent
itself (nothing is injected while ``control`` is not allowed) and counts every drop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..feature import Feature
from ..hotkey import GlobalHotkey, HotkeyError
from ..i18n import t
from ..remote import InjectorLike, RemoteControl

logger = logging.getLogger(__name__)


class ControlFeature(Feature):
    capability = "control"
    reads_raw = frozenset({"input"})

    def __init__(self, host: Any, injector: Callable[[], InjectorLike]) -> None:
        super().__init__(host)
        self.remote = RemoteControl(injector)
        self.hotkey: GlobalHotkey | None = None

    def start(self) -> None:
        """Paired: watch for the hotkey that takes control back."""
        loop = self.host.loop
        if loop is None:
            return

        def pressed() -> None:  # on the hotkey thread
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._hotkey_pressed)

        hotkey = GlobalHotkey(self.host.display, pressed)
        try:
            hotkey.start()
        except HotkeyError as exc:
            logger.warning("hotkey %s: %s", hotkey.label, exc)
            return
        self.hotkey = hotkey
        self.host.hotkey(hotkey.label)

    def _hotkey_pressed(self) -> None:
        if self.remote.allowed:
            logger.info("control: taken back with the hotkey")
            self.host.revoke("control")

    def set_allowed(self, allowed: bool) -> bool:
        was = self.remote.allowed
        if allowed:
            if not self.remote.allow(True):
                return False
            # the hotkey is shown by the UI (the window keeps a line for it while allowed)
        else:
            self.remote.allow(False)
            if was:
                self.host.notice(t("notice.control_revoked"))
        self.allowed = allowed
        return True

    def frame(self, label: str, data: str | bytes) -> None:
        self.remote.handle_text(data)

    def link_lost(self) -> None:
        self.remote.release()  # nobody can send the key-ups now

    def stop_now(self) -> None:
        """The customer disconnects: every key and button held is let go at once."""
        self.remote.allow(False)

    async def close(self) -> None:
        self.remote.allow(False)
        await self.remote.close()
        if self.hotkey is not None:
            self.hotkey.close()

    def summary(self) -> str | None:
        return f"input: {self.remote.summary()}"
