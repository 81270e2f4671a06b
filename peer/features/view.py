"""Screen view: the capture gate, monitors and the one-application limit (``View``). In a
call the screen track joins the connection (a new offer) only once the customer allows it."""

from __future__ import annotations

import logging
from typing import Any

from wire import protocol

from .. import encoder
from ..capture import ScreenTrack
from ..feature import Feature
from ..i18n import t
from ..rate_control import LinkReport
from ..remote import RemoteControl
from ..settings import PeerSettings
from ..view import View

logger = logging.getLogger(__name__)


class ViewFeature(Feature):
    capability = "view"
    handles = frozenset({"select_monitor", "limit_request", "whole_screen_request", "view_report"})

    def __init__(
        self, host: Any, settings: PeerSettings, track: ScreenTrack, remote: RemoteControl
    ) -> None:
        super().__init__(host)
        self.settings = settings
        self.track = track
        self.view = View(
            track,
            remote,
            display=host.display,
            send=lambda msg: host.send("control", msg),
            notice=host.notice,
            on_mode=host.view_mode,
        )
        self.reports = 0  # view_report messages received
        if settings.window is not None:  # before any grab: never the whole screen
            self.view.limit_to_title(settings.window)

    def set_allowed(self, allowed: bool) -> bool:
        self.allowed = allowed
        if allowed:
            self.track.open_gate()
            self.host.start(self.view.start())
            if not self.host.has_track(self.track):  # a call: the screen joins it now
                self.host.add_track(self.track)
                self.host.start(self.host.renegotiate())
        else:
            self.track.close_gate()
            self.view.pause()
        return True

    def handle(self, msg: Any) -> None:
        if isinstance(msg, protocol.ViewReport):
            # the console's own measure of the picture steers the screen's rate
            if not self.reports:
                logger.info("the console reports the picture's delay: the screen's rate follows")
            self.reports += 1
            encoder.link_report(LinkReport(msg.queue_ms, msg.loss, msg.kbps, msg.fps))
        elif isinstance(msg, protocol.SelectMonitor):
            if not self.view.select_monitor(msg.index):
                self.host.refuse(msg.type)
        elif isinstance(msg, protocol.LimitRequest):
            if self.settings.headless:
                if self.settings.window is None:
                    self.host.notice(t("notice.no_window_picker_headless"))
                else:
                    logger.info("limit_request: already limited by --window")
            else:
                self.offer_window_choice()
        elif isinstance(msg, protocol.WholeScreenRequest):
            view = self.view
            if view.window is None and view.wanted is None:
                self.host.send("control", protocol.WholeScreenReply(allowed=True))  # it is
            elif self.settings.headless:
                # started with --window by a script: nobody is there to be asked
                self.host.notice(t("notice.no_whole_screen_headless"))
                self.host.send("control", protocol.WholeScreenReply(allowed=False))
            else:
                self.host.ask_whole_screen()

    def relinked(self) -> None:
        if self.allowed:
            self.view.tell_again()

    def offer_window_choice(self) -> None:
        try:
            windows = self.view.windows()
        except Exception as exc:  # no X display
            logger.warning("window list: %s", exc)
            windows = []
        self.host.pick_window(windows)

    def stop_now(self) -> None:
        self.track.close_gate()  # capture stops before anything else happens

    async def close(self) -> None:
        self.track.close_gate()
        await self.view.close()
