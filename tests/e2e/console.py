"""The operator console as a person uses it: its visible words and a few fixed hooks only.

Hooks: the login inputs labelled "Username"/"Password" and button "Log in"; buttons "New
session", "Accept"/"Reject" (in ``#join-request``), "Request screen view", "End session",
"Log out"; ``#session-code``, ``#status``, ``video#remote-video``, ``#verification-code``,
``#consent``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .procs import Proc
from .screen import RGB, Block

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .services import Server

# Draws the current video frame on a canvas and reads pixels at fractions of its size.
_SAMPLE = """(points) => {
    const video = document.querySelector("video#remote-video");
    if (!video || !video.videoWidth || !video.videoHeight) return null;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const ctx = canvas.getContext("2d", {willReadFrequently: true});
    ctx.drawImage(video, 0, 0);
    const pixels = points.map(([fx, fy]) => {
        const x = Math.min(canvas.width - 1, Math.round(fx * canvas.width));
        const y = Math.min(canvas.height - 1, Math.round(fy * canvas.height));
        return Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
    });
    return {width: video.videoWidth, height: video.videoHeight, pixels};
}"""

_FRAMES = """() => {
    const video = document.querySelector("video#remote-video");
    if (!video) return null;
    const quality = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    return {
        width: video.videoWidth,
        height: video.videoHeight,
        frames: quality ? quality.totalVideoFrames : -1,
        hasStream: Boolean(video.srcObject),
    };
}"""

# The middle pixel of the customer's camera in the console (its <video> drawn into a canvas):
# [width, height, r, g, b], or null before the first frame.
_CAMERA_PIXEL = """() => {
  const v = document.querySelector("#camera-video");
  if (!v || !v.videoWidth) return null;
  const c = document.createElement("canvas");
  c.width = v.videoWidth; c.height = v.videoHeight;
  const ctx = c.getContext("2d");
  ctx.drawImage(v, 0, 0);
  const d = ctx.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
  return [c.width, c.height, d[0], d[1], d[2]];
}"""
#: The customer's test camera (``--camera``) and the colour it shows, as RGB.
TEST_CAMERA = "lavfi:color=c=0x2060e0:size=640x480:rate=15"
TEST_CAMERA_RGB = (32, 96, 224)

CODE_RE = re.compile(r"^\d{4} \d{4}$")
VERIFICATION_RE = re.compile(r"^\d{3} \d{3}$")
#: ``#status`` once the session is connected, either way.
CONNECTED = r"^Connected \((direct|relay)\)"

#: Starts the customer's peer: ``start_peer(code, **options) -> Proc`` (the ``start_peer``
#: fixture, or ``services.start_peer`` with its first arguments bound).
StartPeer = Callable[..., Proc]


@dataclass(frozen=True)
class VideoSample:
    width: int
    height: int
    pixels: list[RGB]


#: The peak frequency and level of what the page hears from the customer (the voice panel's
#: ``<audio>``), over ``ms``, through a Web Audio ``AnalyserNode``.
_HEAR = """async (ms) => {
  const audio = document.getElementById("voice-audio");
  const stream = audio && audio.srcObject;
  if (!stream || stream.getAudioTracks().length === 0) return null;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  ctx.createMediaStreamSource(stream).connect(analyser);
  await new Promise((r) => setTimeout(r, ms));
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let best = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  await ctx.close();
  return {freq: best * ctx.sampleRate / analyser.fftSize, db: bins[best]};
}"""


class Console:
    def __init__(self, page: Page, server: Server) -> None:
        self.page = page
        self.server = server
        #: The code of the last session made with "New session" ("1234 5678").
        self.session_code: str | None = None

    def log_in(self, timeout: float = 15) -> None:
        from playwright.sync_api import expect

        page = self.page
        page.goto(self.server.url + "/", timeout=timeout * 1000)
        page.get_by_label("Username").fill(self.server.operator, timeout=timeout * 1000)
        page.get_by_label("Password").fill(self.server.password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="New session")).to_be_visible(timeout=timeout * 1000)

    def new_session(self, timeout: float = 10) -> str:
        """Click "New session"; return the code shown ("1234 5678")."""
        from playwright.sync_api import expect

        self.page.get_by_role("button", name="New session").click()
        code = self.page.locator("#session-code")
        expect(code).to_have_text(CODE_RE, timeout=timeout * 1000)
        self.session_code = code.inner_text().strip()
        return self.session_code

    def connect(
        self,
        start_peer: StartPeer,
        *,
        status: str = CONNECTED,
        timeout: float = 30,
        **peer_options: Any,
    ) -> Proc:
        """A session as an operator starts one: log in, click "New session", start the
        customer's peer with the code read off the page (``start_peer(code, **peer_options)``),
        click "Accept", and wait up to ``timeout`` s until ``#status`` matches the regex
        ``status``. Returns the peer."""
        self.log_in()
        peer = start_peer(self.new_session(), **peer_options)
        self.accept()
        self.wait_status(status, timeout=timeout)
        return peer

    def join_request(self) -> Any:
        return self.page.locator("#join-request")

    def accept(self, timeout: float = 20) -> None:
        from playwright.sync_api import expect

        panel = self.join_request()
        expect(panel).to_be_visible(timeout=timeout * 1000)
        panel.get_by_role("button", name="Accept").click()

    def reject(self, timeout: float = 20) -> None:
        from playwright.sync_api import expect

        panel = self.join_request()
        expect(panel).to_be_visible(timeout=timeout * 1000)
        panel.get_by_role("button", name="Reject").click()

    def status(self) -> str:
        return self.page.locator("#status").inner_text().strip()

    def wait_status(self, pattern: str, timeout: float = 20) -> str:
        """Wait until ``#status`` matches the regex ``pattern``; return its text."""
        from playwright.sync_api import expect

        status = self.page.locator("#status")
        expect(status).to_have_text(re.compile(pattern), timeout=timeout * 1000)
        return status.inner_text().strip()

    def verification_code(self, timeout: float = 10) -> str:
        from playwright.sync_api import expect

        code = self.page.locator("#verification-code")
        expect(code).to_have_text(VERIFICATION_RE, timeout=timeout * 1000)
        return code.inner_text().strip()

    def consent_text(self) -> str:
        return self.page.locator("#consent").inner_text().strip()

    def video_state(self) -> dict[str, Any]:
        state = self.page.evaluate(_FRAMES)
        assert state is not None, "no video#remote-video on the page"
        return dict(state)

    def sample(self, points: Sequence[tuple[float, float]]) -> VideoSample | None:
        """Pixels of the current video frame at fractions (x, y) of its size, or None."""
        result = self.page.evaluate(_SAMPLE, [list(p) for p in points])
        if result is None:
            return None
        pixels = [(int(p[0]), int(p[1]), int(p[2])) for p in result["pixels"]]
        return VideoSample(int(result["width"]), int(result["height"]), pixels)

    def wait_for_blocks(
        self,
        blocks: Sequence[Block],
        screen_size: tuple[int, int],
        *,
        tolerance: int = 40,
        timeout: float = 20,
    ) -> VideoSample:
        """Wait until the video shows every block's colour at its centre (each channel within
        ``tolerance``); return the matching sample. Raises AssertionError with the last one."""
        width, height = screen_size
        points = [(b.centre[0] / width, b.centre[1] / height) for b in blocks]
        deadline = time.monotonic() + timeout
        last: VideoSample | None = None
        while True:
            last = self.sample(points)
            if last is not None and all(
                close(got, block.rgb, tolerance)
                for got, block in zip(last.pixels, blocks, strict=True)
            ):
                return last
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"video does not show the blocks after {timeout} s: "
                    f"want {[b.rgb for b in blocks]}, got {last}"
                )
            time.sleep(0.2)

    def hear(self, ms: int = 1000) -> dict[str, Any] | None:
        """The loudest frequency (Hz) and its level (dB) in the customer's voice as the page
        plays it, over ``ms``; None while there is no voice."""
        result = self.page.evaluate(_HEAR, ms)
        return None if result is None else dict(result)

    def wait_to_hear(self, freq: float, timeout: float = 20) -> dict[str, Any]:
        """Wait until the customer's voice is loudest at ``freq`` (within 30 Hz)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.hear()
            if last is not None and abs(last["freq"] - freq) < 30 and last["db"] > -70:
                return last
            time.sleep(0.3)
        raise AssertionError(f"the operator does not hear {freq} Hz: {last}")


def close(got: RGB, want: RGB, tolerance: int) -> bool:
    return all(abs(g - w) <= tolerance for g, w in zip(got, want, strict=True))
