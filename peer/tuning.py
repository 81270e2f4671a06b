"""The video encoder's settings as plain values: what the command line and ``PeerSettings``
check without loading the codecs (``peer.encoder`` uses them)."""

from __future__ import annotations

from dataclasses import dataclass

CODECS = ("vp8", "h264")
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
)


@dataclass(frozen=True)
class EncoderTuning:
    """Bitrate range (bit/s) and x264 speed for the screen track."""

    max_bitrate: int = 8_000_000
    start_bitrate: int = 1_200_000
    min_bitrate: int = 150_000
    x264_preset: str = "veryfast"

    def __post_init__(self) -> None:
        if not 50_000 <= self.min_bitrate <= self.start_bitrate <= self.max_bitrate <= 50_000_000:
            raise ValueError(
                "bitrates must satisfy 50000 <= min <= start <= max <= 50000000, got "
                f"min={self.min_bitrate} start={self.start_bitrate} max={self.max_bitrate}"
            )
        if self.x264_preset not in X264_PRESETS:
            raise ValueError(
                f"x264 preset {self.x264_preset!r} is not one of {', '.join(X264_PRESETS)}"
            )

    def clamp(self, bitrate: int) -> int:
        return max(self.min_bitrate, min(bitrate, self.max_bitrate))
