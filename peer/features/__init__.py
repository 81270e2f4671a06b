"""The peer's features, one module per capability of ``protocol.CAPABILITY_TABLE``.

``make_features`` builds those this peer can carry out in a session of the given mode; adding
a capability means a row in the table, a module here and one line below.
"""

from __future__ import annotations

from collections.abc import Callable

from ..capture import ScreenTrack
from ..feature import Feature, FeatureHost
from ..remote import InjectorLike
from ..settings import PeerSettings
from .annotate import AnnotateFeature
from .camera import CameraFeature
from .chat import ChatFeature
from .clipboard import ClipboardFeature
from .control import ControlFeature
from .files import FilesFeature
from .show import ShowCameraFeature, ShowScreenFeature
from .view import ViewFeature
from .voice import VoiceFeature


def make_features(
    host: FeatureHost,
    settings: PeerSettings,
    mode: str,
    *,
    track: ScreenTrack,
    injector: Callable[[], InjectorLike],
) -> list[Feature]:
    """The features of one session, in table order (``track``: the screen, gated)."""
    control = ControlFeature(host, injector)
    features: list[Feature] = [
        ViewFeature(host, settings, track, control.remote),
        control,
        ClipboardFeature(host),
        VoiceFeature(host, settings),
        AnnotateFeature(host, control.remote),
        CameraFeature(host, settings),
        ShowScreenFeature(host, settings.show_operator_screen),
        ShowCameraFeature(host, settings.show_operator_camera),
        ChatFeature(host),
    ]
    # file transfer asks the customer in the window; headless, only with a folder to accept
    # into, paths to send or folders to answer requests from
    if (
        not settings.headless
        or settings.accept_files is not None
        or settings.send
        or settings.allow_file_requests
    ):
        features.insert(3, FilesFeature(host, settings))
    return [f for f in features if mode in f.spec().modes]
