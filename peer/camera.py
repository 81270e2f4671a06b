"""The customer's camera as one video track for the whole session (``CameraTrack``).

* A source is a V4L2 device (``/dev/videoN``), a test graph (``lavfi:testsrc2``) or a video
  file (played in a loop). It is read by aiortc's ``MediaPlayer`` (PyAV in a thread of its
  own); opening one blocks, so it happens off the event loop.
* The track stays on the connection while sources come and go: with no camera open it sends
  nothing (no black frames) and ``recv`` waits until one is. Its clock (90 kHz, wall time) runs
  on across openings, so the operator's decoder sees one steady stream.
* Device trouble is a state, never an exception: "no_camera", "busy", "failed" when opening;
  "lost" when a camera is unplugged, ends or stops delivering for ``STALL_S``. Every change
  goes to ``on_state`` (on the event loop's thread). A lost device is released at once; a later
  ``open()`` resumes.
* ``close()`` releases the device at once, so the camera's light goes out when the customer
  says stop.
"""

from __future__ import annotations

import asyncio
import errno
import fractions
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import av
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

logger = logging.getLogger(__name__)

#: Where Linux lists its video devices.
SYSFS_ROOT = Path("/sys/class/video4linux")
#: What a camera is asked for; the driver picks the nearest it can do.
V4L2_OPTIONS = {"video_size": "1280x720", "framerate": "30"}
LAVFI_PREFIX = "lavfi:"
#: The RTP clock of video.
CLOCK_RATE = 90_000
TIME_BASE = fractions.Fraction(1, CLOCK_RATE)
#: A camera that gives no picture for this long (seconds) is "lost".
STALL_S = 5.0
#: How long ``close()`` waits for a camera's reader to let go (seconds); only a hung driver
#: takes longer, and then the device is released in the background when it does.
RELEASE_WAIT_S = 1.0

STATES = ("off", "on", "no_camera", "busy", "lost", "failed")
_NOT_THERE = {errno.ENOENT, errno.ENODEV, errno.ENXIO}


def list_cameras(root: Path = SYSFS_ROOT) -> list[tuple[str, str]]:
    """The cameras as ``(source, name)``, in device order; ``[]`` when there are none.

    A camera driver may add further nodes for one camera (metadata, a second stream); only the
    first node of each (``index`` 0) captures the picture."""
    found: list[tuple[int, str, str]] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = re.fullmatch(r"video(\d+)", entry.name)
        if match is None:
            continue
        index = _read_line(entry / "index")
        if index is not None and index != "0":
            continue
        name = _read_line(entry / "name") or entry.name
        found.append((int(match.group(1)), f"/dev/{entry.name}", name))
    return [(source, name) for _, source, name in sorted(found)]


def _read_line(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def player_args(source: str) -> tuple[str, str | None, dict[str, str]]:
    """How ``source`` opens: ``(file, format, options)`` for ``MediaPlayer``."""
    if source.startswith(LAVFI_PREFIX):
        return source[len(LAVFI_PREFIX) :], "lavfi", {}
    if _is_device(source):
        return source, "v4l2", dict(V4L2_OPTIONS)
    return source, None, {}


def _is_device(source: str) -> bool:
    return source.startswith(("/dev/video", "/dev/v4l/"))


def error_state(exc: BaseException) -> str:
    """The state an opening failure leaves: "no_camera", "busy" or "failed"."""
    code = getattr(exc, "errno", None)
    if code in _NOT_THERE:
        return "no_camera"
    if code == errno.EBUSY or "Device or resource busy" in str(exc):
        return "busy"
    return "failed"


def _open_player(source: str) -> MediaPlayer:
    """Open ``source`` (blocks: runs in the executor); it ends where the source ends."""
    file, format, options = player_args(source)
    player = MediaPlayer(file, format=format, options=options)
    if player.video is None:
        _release(player, wait=None)
        raise ValueError(f"{source!r} has no video")
    return player


def _stop_player(player: MediaPlayer) -> None:
    """Stop the reader thread and close the container (``MediaPlayer`` does both when its
    last started track stops)."""
    for track in (player.video, player.audio):
        if track is not None:
            track.stop()


def _release(player: MediaPlayer, wait: float | None = RELEASE_WAIT_S) -> None:
    """Let go of the device, waiting at most ``wait`` seconds for it (``None``: here, however
    long it takes; 0: in the background)."""
    if wait is None:
        _stop_player(player)
        return
    closer = threading.Thread(target=_stop_player, args=(player,), name="camera-close")
    closer.daemon = True
    closer.start()
    closer.join(wait)
    if wait and closer.is_alive():
        logger.warning("camera: the device is slow to close; it is released when it lets go")


async def _start_player(source: str) -> MediaPlayer:
    """``_open_player`` off the event loop; a player that arrives after its caller was
    cancelled is released, not leaked."""
    future = asyncio.get_running_loop().run_in_executor(None, _open_player, source)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(_release_late)
        raise


def _release_late(future: asyncio.Future[MediaPlayer]) -> None:
    if not future.cancelled() and future.exception() is None:
        _release(future.result(), wait=None)


class CameraTrack(MediaStreamTrack):
    """The camera the operator sees. States: "off", "on", "no_camera", "busy", "lost",
    "failed" (``state``; changes go to ``on_state``).

    ``await open(source)`` opens a camera (``None``: the first found) in place of the one
    open; ``close()`` releases it. ``loop``: a file that ends starts again (a camera that
    ends is "lost" whatever ``loop`` says, and so is a test graph made to end, such as
    ``lavfi:color=...:duration=2``: a camera unplugged on cue)."""

    kind = "video"

    def __init__(
        self,
        on_state: Callable[[str], None],
        *,
        loop: bool = True,
        sysfs_root: Path = SYSFS_ROOT,
    ) -> None:
        super().__init__()
        self._on_state = on_state
        self._loop_sources = loop
        self._sysfs_root = sysfs_root
        self.state = "off"
        self.source: str | None = None
        self._generation = 0  # one per opening or closing: late results of older ones go
        self._player: MediaPlayer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._latest: av.VideoFrame | None = None  # the newest picture not yet sent
        self._fresh = asyncio.Event()
        self._start: float | None = None
        self._pts = -1
        self.frames = 0  # pictures sent
        self.dropped = 0  # pictures replaced by a newer one before they could be sent

    # ------------------------------------------------------------------ the device

    async def open(self, source: str | None = None) -> None:
        """Open ``source`` (``None``: the first of ``list_cameras()``), closing the camera
        open before. Never raises for device trouble: the outcome is ``state``."""
        if self.readyState != "live":  # the track has ended: nothing to show it on
            return
        self._release_device()
        generation = self._generation
        if source is None:
            cameras = list_cameras(self._sysfs_root)
            if not cameras:
                self.source = None
                logger.info("camera: none found")
                self._set_state("no_camera")
                return
            source = cameras[0][0]
        self.source = source
        try:
            player = await _start_player(source)
        except Exception as exc:
            if generation != self._generation:
                return
            state = error_state(exc)
            if state == "failed":
                logger.warning("camera %s failed to open: %s", source, exc)
            else:
                logger.info("camera %s: %s", source, exc)
            self._set_state(state)
            return
        if generation != self._generation:  # closed or reopened meanwhile
            _release(player)
            return
        self._player = player
        self._reader = asyncio.get_running_loop().create_task(self._read(source, generation))
        self._set_state("on")

    def close(self) -> None:
        """Release the camera now; the track stays, sending nothing until ``open()``."""
        self._release_device()
        self._set_state("off")

    def stop(self) -> None:
        """The track's end: the camera closes and ``recv`` ends."""
        self.close()
        super().stop()
        self._fresh.set()

    def _release_device(self) -> None:
        self._generation += 1
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
        player, self._player = self._player, None
        if player is not None:
            _release(player)
        self._latest = None

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        logger.info("camera: %s -> %s", self.state, state)
        self.state = state
        self._on_state(state)

    async def _read(self, source: str, generation: int) -> None:
        """Take the camera's pictures as they come, keeping only the newest for ``recv``, until
        the source ends (a file or graph starts again when looping) or the track closes."""
        device = _is_device(source)
        announced = False
        reason = "it ended"
        try:
            while (player := self._player) is not None:
                track = player.video
                assert track is not None  # _open_player saw to it
                got = 0
                while True:
                    try:
                        data = await asyncio.wait_for(track.recv(), STALL_S if device else None)
                    except MediaStreamError:  # the player's thread ended: it has let go
                        break
                    except TimeoutError:
                        reason = f"no picture for {STALL_S:.0f} s"
                        break
                    frame = cast(av.VideoFrame, data)
                    if not announced:
                        announced = True
                        logger.info("camera %s opened: %dx%d", source, frame.width, frame.height)
                    got += 1
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest = frame
                    self._fresh.set()
                self._player = None
                _release(player, wait=0.0)
                if (
                    self._loop_sources
                    and got
                    and not device
                    and not source.startswith(LAVFI_PREFIX)
                ):
                    try:
                        self._player = await _start_player(source)
                    except Exception as exc:
                        reason = f"it could not start again: {exc}"
        except Exception:
            logger.exception("camera %s: reading failed", source)
            reason = "reading failed"
        if generation != self._generation:
            return
        logger.warning("camera %s lost: %s", source, reason)
        self._reader = None
        self._release_device()
        self._set_state("lost")

    # ------------------------------------------------------------------ the track

    async def recv(self) -> av.VideoFrame:
        """The camera's next picture, stamped on a 90 kHz clock; waits while none is open."""
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            frame = self._latest
            if frame is not None:
                break
            self._fresh.clear()
            await self._fresh.wait()
        self._latest = None
        now = time.monotonic()
        if self._start is None:
            self._start = now
        self._pts = max(round((now - self._start) * CLOCK_RATE), self._pts + 1)
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self.frames += 1
        return frame
