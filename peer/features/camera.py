"""The customer's camera for the operator (``camera``): to show a cable, a device, a paper.

* Nothing is opened before the customer allows it: no device, no transceiver. Allowed, the
  camera's track joins the connection in a stream of its own (``protocol.CAMERA_STREAM``, so
  the console tells it from the screen) by a new offer; taken back, the device is released at
  once and the transceiver goes ``inactive``.
* The customer picks the camera in the window (``--camera SOURCE`` headless: a device such
  as ``/dev/video0``, ``lavfi:testsrc2`` or a video file). How it is doing -- on, none there,
  busy, unplugged -- goes to the operator as ``camera_state`` and to the customer in words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wire import protocol

from ..camera import CameraTrack, list_cameras
from ..feature import Feature, Shown
from ..i18n import t
from ..settings import PeerSettings


class CameraOut(CameraTrack):
    """The camera's track, in the stream the console knows as the camera's."""

    stream_id = protocol.CAMERA_STREAM


class CameraFeature(Feature):
    capability = "camera"

    def __init__(self, host: Any, settings: PeerSettings) -> None:
        super().__init__(host)
        self.source = settings.camera
        self.out = CameraOut(on_state=self._state)
        self.opened = 0  # times a camera was opened, for the summary

    def carries(self, track: Any) -> bool:
        return track is self.out

    def cameras(self) -> list[tuple[str, str]]:
        """What the customer can pick: the cameras found, and ``--camera``'s source."""
        found = list_cameras()
        source = self.source
        if source is not None and all(path != source for path, _ in found):
            if source.startswith("lavfi:"):
                name = t("camera.test_picture")
            else:
                name = Path(source).name or source
            found.insert(0, (source, name))
        return found

    def _name(self, source: str | None) -> str | None:
        for path, name in self.cameras():
            if path == source:
                return name
        return source

    # ------------------------------------------------------------------ consent

    def set_allowed(self, allowed: bool) -> bool:
        if allowed == self.allowed:
            return True
        self.allowed = allowed
        if allowed:
            self.host.add_track(self.out, "sendonly")
            self.host.start(self._open())
            self.host.start(self.host.renegotiate())
            choices = "\n".join(f"{source}\t{name}" for source, name in self.cameras())
            self.host.show(self.capability, Shown("cameras", choices))
        else:
            self.out.close()  # the device is free at once
            if self.host.has_track(self.out):
                self.host.set_direction(self.out, "inactive")
                self.host.start(self.host.renegotiate())
            self.host.show(self.capability, Shown("line", t("camera.ended")))
        return True

    async def _open(self) -> None:
        if self.allowed:
            await self.out.open(self.source)
            if self.allowed and self.out.state == "on":
                self.opened += 1
            elif not self.allowed:  # taken back while it opened
                self.out.close()

    def _state(self, state: str) -> None:
        if not self.allowed and state != "off":
            return
        name = self._name(self.out.source) if state == "on" else None
        self.host.send("control", protocol.CameraState(state=state, name=name))
        words = t(f"camera.state.{state}", operator=self.host.operator, name=name or "")
        self.host.show(self.capability, Shown("line", words))

    def relinked(self) -> None:
        if self.allowed:  # the new control channel starts empty: say how the camera is
            self._state(self.out.state)

    # ------------------------------------------------------------------ the customer's pane

    def from_ui(self, action: str, value: str) -> None:
        if action == "pick":
            self.source = value or None
            if self.allowed:
                self.host.start(self._open())
        elif action == "stop":
            self.host.revoke(self.capability)

    # ------------------------------------------------------------------ the end

    def stop_now(self) -> None:
        self.out.close()

    async def close(self) -> None:
        self.out.close()
        self.out.stop()

    def summary(self) -> str | None:
        if not self.opened:
            return None
        return t("camera.summary", times=self.opened)
