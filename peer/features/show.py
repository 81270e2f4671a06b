"""The operator shows the customer their screen (``show_screen``) or their camera
(``show_camera``): receive-only on the customer's side, nothing of the customer's is captured.

* Nothing is received before the customer allows it: no transceiver exists for it. Allowed, a
  ``recvonly`` video transceiver joins the connection (a new offer naming its m-line, so the
  console knows where to send); taken back, it goes ``inactive`` (another offer) and the
  window closes.
* The picture is shown in a window of its own (``peer.showwindow``: scaled to fit, 1:1 when
  there is room, resizable), drawn on a thread of its own so that the event loop goes on
  reading the network meanwhile. The customer closing it takes the capability back, which the
  operator learns from ``consent_state``.
* Frames are read all the time, so aiortc's receiving side never backs up, but shown only
  while allowed; handing one to the window's thread is all the event loop does, and a frame
  not drawn yet gives way to a newer one there (latest wins).
* ``--show-operator-screen FILE`` / ``--show-operator-camera FILE`` also write the newest
  picture to a PNG file (at most ``SAVE_EVERY`` s apart), for scripts and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import av
import mss.tools
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from ..connection import Receiving
from ..feature import Feature, Shown
from ..i18n import t
from ..showwindow import ShowWindow, ShowWindowError, WindowThread

logger = logging.getLogger(__name__)

#: Seconds between two pictures written to ``--show-operator-screen``'s file.
SAVE_EVERY = 0.5
#: The customer's words of each such feature: ``<capability>.<word>`` in the catalogues.
WORDS = ("unavailable", "waiting", "showing", "ended", "title", "summary", "pane_title", "close")


class ShowFeature(Feature):
    """What the operator shows: one window, one receiving transceiver."""

    def __init__(self, host: Any, save_to: Path | None) -> None:
        super().__init__(host)
        self.slot = Receiving("video")
        self.save_to = save_to
        self.window: WindowThread | None = None
        self.frames = 0  # frames received from the operator
        self.skipped = 0  # handed over but never drawn (a newer one came first)
        self.saved = 0
        self._reader: asyncio.Task[None] | None = None
        self._saving = False
        self._saved_at = 0.0
        self._size: tuple[int, int] | None = None

    def carries(self, track: MediaStreamTrack) -> bool:
        return track is self.slot

    # ------------------------------------------------------------------ consent

    def set_allowed(self, allowed: bool) -> bool:
        if allowed == self.allowed:
            return True
        if allowed:
            if not self._open_window() and self.save_to is None:
                self.host.notice(t(f"{self.capability}.unavailable"))
                return False
            self.allowed = True
            self.host.add_track(self.slot, "recvonly")
            self.host.start(self.host.renegotiate())
            self.host.show(
                self.capability,
                Shown("line", t(f"{self.capability}.waiting", operator=self.host.operator)),
            )
            return True
        self.allowed = False
        self._close_window()
        if self.host.has_track(self.slot):
            self.host.set_direction(self.slot, "inactive")
            self.host.start(self.host.renegotiate())
        self.host.show(self.capability, Shown("line", t(f"{self.capability}.ended")))
        return True

    def from_ui(self, action: str, value: str) -> None:
        if action == "close":
            self.host.revoke(self.capability)

    # ------------------------------------------------------------------ the window

    def _open_window(self) -> bool:
        if self.window is not None:
            return True
        loop = self.host.loop

        def closed() -> None:  # on the window's thread
            if loop is not None:
                loop.call_soon_threadsafe(self._closed_by_customer)

        try:
            window = ShowWindow(
                self.host.display,
                t(f"{self.capability}.title", operator=self.host.operator),
                closed,
            )
        except ShowWindowError as exc:
            logger.warning("%s: no window on this display: %s", self.capability, exc)
            return False
        self.window = WindowThread(window)
        self._size = None
        return True

    def _close_window(self) -> None:
        window, self.window = self.window, None
        if window is not None:
            window.close()
            self.skipped += window.replaced  # a newer frame came before it was drawn

    def _closed_by_customer(self) -> None:
        """The window's close button: the customer does not want to see it any more."""
        if self.allowed:
            self.host.revoke(self.capability)

    # ------------------------------------------------------------------ the picture

    def remote_track(self, track: MediaStreamTrack) -> None:
        if self._reader is not None:
            self._reader.cancel()
        self._reader = asyncio.ensure_future(self._read(track))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                self.frames += 1
                if self.allowed and isinstance(frame, av.VideoFrame):
                    self._show(frame)

    def _show(self, frame: av.VideoFrame) -> None:
        size = (frame.width, frame.height)
        if size != self._size:
            if self._size is None:
                self.host.show(
                    self.capability,
                    Shown("line", t(f"{self.capability}.showing", operator=self.host.operator)),
                )
            logger.info("%s: the operator's picture is %dx%d", self.capability, *size)
            self._size = size
        if self.window is not None:
            self.window.put(frame)  # drawn on the window's own thread
        if self.save_to is not None and not self._saving:
            now = time.monotonic()
            if now - self._saved_at >= SAVE_EVERY:
                self._saving = True
                self._saved_at = now
                rgb = frame.to_ndarray(format="rgb24")
                self.host.start(self._save(rgb.tobytes(), size))

    async def _save(self, rgb: bytes, size: tuple[int, int]) -> None:
        assert self.save_to is not None
        path = self.save_to
        try:
            await asyncio.get_running_loop().run_in_executor(None, _write_png, rgb, size, path)
            self.saved += 1
        except OSError as exc:
            logger.warning("%s: cannot write %s: %s", self.capability, path, exc)
        finally:
            self._saving = False

    # ------------------------------------------------------------------ the end

    def relinked(self) -> None:
        if self._reader is not None:  # the fresh connection brings a track of its own
            self._reader.cancel()
            self._reader = None

    def stop_now(self) -> None:
        self._close_window()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        self._close_window()

    def summary(self) -> str | None:
        if not self.frames:
            return None
        return t(f"{self.capability}.summary", frames=self.frames, shown=self.frames - self.skipped)


class ShowScreenFeature(ShowFeature):
    capability = "show_screen"


class ShowCameraFeature(ShowFeature):
    capability = "show_camera"


def _write_png(rgb: bytes, size: tuple[int, int], path: Path) -> None:
    """Write the picture whole or not at all: a reader never sees half a file."""
    temp = path.with_name(f".{path.name}.part")
    mss.tools.to_png(rgb, size, output=str(temp))
    os.replace(temp, path)
