"""The customer peer with a naive screen pipeline: the baseline of ``bench/latency.py``.

Runs the real ``supportlink-peer`` (same signaling, consent, connection and control channel)
with three swaps, made here and nowhere in the product:

* aiortc's stock encoders (VP8 at 500 kbit/s, clamped to 250 kbit/s .. 1.5 Mbit/s, camera
  settings), i.e. the screen encoders are not installed;
* a capture track written the way aiortc's examples do it: a new frame every 1/30 s paced by
  ``VideoStreamTrack.next_timestamp``, each grab copied into a fresh array and wrapped with
  ``VideoFrame.from_ndarray`` (BGRA; the encoder converts it to yuv420p), no change detection;
* no playout-delay header extension (``peer/playout_delay.py``): the browser keeps its jitter
  buffer, as it does for aiortc as it comes.

    python bench/naive_peer.py --server URL --code CODE --allow view   (supportlink-peer's options)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peer.playout_delay  # noqa: E402
import peer.session  # noqa: E402
from peer.capture import ScreenTrack  # noqa: E402
from peer.cli import main  # noqa: E402
from peer.encoder import EncoderTuning  # noqa: E402


class NaiveScreenTrack(ScreenTrack):
    """Every 1/30 s a full grab, copied and handed to the encoder as BGRA; same consent gate."""

    async def recv(self) -> av.VideoFrame:
        loop = asyncio.get_running_loop()
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if not self._gate.is_set():
                await self._gate.wait()
                continue
            pts, time_base = await VideoStreamTrack.next_timestamp(self)  # type: ignore[arg-type]
            generation = self._generation
            try:
                frame = await loop.run_in_executor(self._executor, self._grab_ndarray)
            except RuntimeError:  # executor shut down by stop()
                raise MediaStreamError from None
            if generation != self._generation or not self._gate.is_set():
                self.stats.discarded += 1
                continue
            self.stats.frames += 1
            frame.pts = pts
            frame.time_base = time_base
            return frame

    def _grab_ndarray(self) -> av.VideoFrame:
        grabber = self._open_grabber()
        shot = grabber.grab(grabber.monitors[self.monitor])
        self.stats.grabs += 1
        pixels: np.ndarray[Any, Any] = np.array(shot)  # a fresh H x W x 4 BGRA copy
        return av.VideoFrame.from_ndarray(pixels, format="bgra")


def _keep_aiortc_encoders(tuning: EncoderTuning) -> None:
    del tuning


def _no_playout_delay() -> bool:
    return False  # the browser keeps its jitter buffer, as with aiortc as it comes


peer.session.install = _keep_aiortc_encoders  # type: ignore[attr-defined]
peer.playout_delay.install = _no_playout_delay
peer.session.ScreenTrack = NaiveScreenTrack  # type: ignore[attr-defined]

if __name__ == "__main__":
    sys.exit(main())
