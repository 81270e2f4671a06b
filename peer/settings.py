"""The peer's settings: one frozen value built in ``cli.main`` and passed down.

Nothing here reads the environment; ``cli`` supplies ``SUPPORTLINK_SERVER`` as the default of
``--server``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from wire import protocol

from .i18n import t
from .tuning import CODECS, X264_PRESETS, EncoderTuning

_CODE_RE = re.compile(r"[0-9]{8}")


class SettingsError(ValueError):
    """A setting has a value the peer cannot use; the message names it."""


def normalize_code(text: str) -> str:
    """A session code as people type it ("1234 5678", "1234-5678") reduced to its 8 digits.

    Raises ``SettingsError`` unless exactly 8 digits remain.
    """
    digits = re.sub(r"[\s-]", "", text)
    if not _CODE_RE.fullmatch(digits):
        raise SettingsError(t("settings.code_digits"))
    return digits


def parse_capabilities(text: str) -> frozenset[str]:
    """``"view,control"`` as a set of capability names; unknown names raise ``SettingsError``."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in protocol.CAPABILITIES]
    if unknown:
        raise SettingsError(
            f"unknown capability {unknown[0]!r}; choose from {', '.join(protocol.CAPABILITIES)}"
        )
    return frozenset(names)


def signaling_url(server: str) -> str:
    """The peer WebSocket URL of a server: ``https://h/base`` -> ``wss://h/base/ws/peer``."""
    parts = urlsplit(server.strip())
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise SettingsError(
            f"server URL {server!r} must look like https://support.example.com "
            "(http:// only on a trusted network)"
        )
    if parts.query or parts.fragment:
        raise SettingsError(f"server URL {server!r} must not carry a query or fragment")
    path = parts.path.rstrip("/") + "/ws/peer"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


#: What an arriving file does where a file of its name already is.
EXISTING_POLICIES = ("keep_both", "replace", "skip")


@dataclass(frozen=True)
class PeerSettings:
    """Everything the peer is told at start.

    ``allow`` pre-grants capabilities (no question asked); ``code`` set means no code entry.
    ``monitor`` counts as people do (1 = the first; on the wire monitors are numbered from 0).
    ``window`` limits the session from the start to the first window whose title contains it
    (case-insensitive). ``lang`` is the language of every word the customer reads.
    ``fps`` is the capture ceiling; ``bitrate`` the highest video bitrate (bit/s) the encoder
    may use, REMB from the operator's side lowers it.
    """

    server: str
    code: str | None = None
    allow: frozenset[str] = frozenset()
    headless: bool = True
    monitor: int = 1
    fps: float = 60.0
    codec: str = "vp8"
    bitrate: int = 8_000_000
    x264_preset: str = "veryfast"
    idle_refresh: float = 1.0
    window: str | None = None
    lang: str = "en"
    #: The code came with the downloaded program (not typed): once refused, it is not asked for
    #: again -- such a download is for one session.
    code_from_download: bool = False
    #: Headless: accept files the operator sends into this folder without asking.
    accept_files: Path | None = None
    #: Headless: offer these files and folders to the operator once file transfer is allowed.
    send: tuple[Path, ...] = ()
    #: What an arriving file does where a file of its name is: keep_both, replace or skip.
    existing: str = "keep_both"
    #: Headless: send a file or folder the operator asks for when it lies inside one of these
    #: folders (links resolved); every other request is declined.
    allow_file_requests: tuple[Path, ...] = ()
    #: The microphone and the speakers for voice: a device number or part of its name
    #: (``None``: the system's default).
    audio_in: str | None = None
    audio_out: str | None = None
    #: The camera for ``camera``: ``/dev/videoN``, ``lavfi:GRAPH`` (a test source) or a video
    #: file (``None``: the first camera found).
    camera: str | None = None
    #: Headless: also write the newest picture of the operator's screen / camera to this PNG.
    show_operator_screen: Path | None = None
    show_operator_camera: Path | None = None
    ws_url: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ws_url", signaling_url(self.server))
        if self.code is not None and not _CODE_RE.fullmatch(self.code):
            raise SettingsError(f"code {self.code!r} is not 8 digits")
        unknown = sorted(self.allow - set(protocol.CAPABILITIES))
        if unknown:
            raise SettingsError(f"unknown capability {unknown[0]!r} in allow")
        if not 1 <= self.monitor <= 32:
            raise SettingsError(f"monitor {self.monitor} is outside 1..32")
        if self.window is not None and not 1 <= len(self.window) <= 256:
            raise SettingsError("a window title to look for is 1 to 256 characters")
        if not 0.5 <= self.fps <= 60:
            raise SettingsError(f"fps {self.fps} is outside 0.5..60")
        if self.codec not in CODECS:
            raise SettingsError(f"codec {self.codec!r} is not one of {', '.join(CODECS)}")
        if not 200_000 <= self.bitrate <= 20_000_000:
            raise SettingsError(f"bitrate {self.bitrate} is outside 200000..20000000 bit/s")
        if self.x264_preset not in X264_PRESETS:
            raise SettingsError(
                f"x264 preset {self.x264_preset!r} is not one of {', '.join(X264_PRESETS)}"
            )
        if self.existing not in EXISTING_POLICIES:
            raise SettingsError(
                f"existing {self.existing!r} is not one of {', '.join(EXISTING_POLICIES)}"
            )
        if self.accept_files is not None and not self.accept_files.is_dir():
            raise SettingsError(f"{str(self.accept_files)!r} is not a folder to accept files into")
        for path in self.send:
            if not path.exists():
                raise SettingsError(f"{str(path)!r} does not exist: nothing to send")
        for path in self.allow_file_requests:
            if not path.is_dir():
                raise SettingsError(f"{str(path)!r} is not a folder to send requested files from")
        for device in (self.audio_in, self.audio_out):
            if device is not None and not 1 <= len(device) <= 256:
                raise SettingsError("an audio device is named by 1 to 256 characters")
        if self.camera is not None and not 1 <= len(self.camera) <= 1024:
            raise SettingsError("a camera source is 1 to 1024 characters")
        for png in (self.show_operator_screen, self.show_operator_camera):
            if png is not None and not png.parent.is_dir():
                raise SettingsError(f"{str(png.parent)!r} is not a folder to write pictures into")
        if not 0.1 <= self.idle_refresh <= 10:
            raise SettingsError(f"idle refresh {self.idle_refresh} s is outside 0.1..10")

    def encoder_tuning(self) -> EncoderTuning:
        return EncoderTuning(
            max_bitrate=self.bitrate,
            start_bitrate=min(self.bitrate, 1_200_000),
            min_bitrate=min(150_000, self.bitrate),
            x264_preset=self.x264_preset,
        )
