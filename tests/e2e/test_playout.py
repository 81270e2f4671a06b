"""The playout-delay header extension with the real Chromium: the peer offers it on the screen's
m-line and the console's answer keeps it, so Chromium applies it to the customer's frames (how
much that takes off the jitter buffer is measured by ``bench/latency.py``: a benchmark, not a
timed test). The page's RTCPeerConnection is watched by an init script of the test's own (the
console exposes none)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from peer.playout_delay import URI

from .console import Console, StartPeer
from .remote_helpers import wait_until
from .screen import Screen
from .services import Server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Every connection the page makes, kept for the test to read its descriptions and statistics.
_WATCH = """
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
"""

_VIDEO_IN = """async () => {
  const pc = window.__pcs[window.__pcs.length - 1];
  if (!pc || !pc.localDescription) return null;
  let stats = null;
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") stats = s;
  });
  return {answer: pc.localDescription.sdp, offer: pc.remoteDescription?.sdp ?? "",
          target: stats?.jitterBufferTargetDelay ?? null, delay: stats?.jitterBufferDelay ?? null,
          emitted: stats?.jitterBufferEmittedCount ?? 0};
}"""


@pytest.fixture
def watched(browser: Browser, server: Server) -> Iterator[Console]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    context.add_init_script(_WATCH)
    try:
        yield Console(context.new_page(), server)
    finally:
        context.close()


def video_section(sdp: str) -> str:
    return next((s for s in re.split(r"\r?\nm=", sdp) if s.startswith("video")), "")


def test_the_browser_keeps_the_playout_delay_extension_for_the_screen(
    watched: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    console = watched
    peer = console.connect(start_peer, extra_args=["-v"])
    console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height))
    got: dict[str, Any] | None = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        got = console.page.evaluate(_VIDEO_IN)
        if got and got["emitted"] >= 10:
            break
        time.sleep(0.3)
    assert got is not None and got["emitted"] >= 10, got
    per_frame = {k: got[k] / got["emitted"] for k in ("target", "delay") if got[k] is not None}
    assert re.search(rf"a=extmap:(\d+) {re.escape(URI)}", video_section(got["offer"])), per_frame
    assert re.search(rf"a=extmap:(\d+) {re.escape(URI)}", video_section(got["answer"])), (
        "the browser's answer dropped the playout-delay extension"
    )
    # the console measures the picture and reports it back for the peer's rate control
    wait_until(
        peer.output,
        lambda out: "the screen's rate follows" in out,
        "a view_report from the console reaching the peer",
    )
