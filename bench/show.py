"""Glass-to-glass latency of "Show my screen", the reverse direction: a change on the operator's
screen (the console's capture in Chromium) -> the same change in the window the customer's peer
shows it in, on the customer's X display; and what the customer's side spends on it.

Everything runs inside a network namespace of this run's own (``rig.py``; removed at the end,
also on failure or timeout): Xvfb 1920x1080, ``supportlink serve``, the customer's headless peer
(``--allow show_screen -v``, nothing else: it captures nothing of its own, so its CPU is the
receiving, decoding and showing alone), headless Chromium with the console.

The operator's "screen" is a 1920x1080 canvas in the page: the init script hands out its
``captureStream(30)`` from ``navigator.mediaDevices.getDisplayMedia`` (a headless browser has
no screen to pick), so "Show my screen…" and everything after it is the console's own path. A
``requestAnimationFrame`` loop paints it and draws the frame counter of ``latency_code.py``
(black/white blocks with a CRC in a grey band at the top) and records
``performance.timeOrigin + performance.now()`` for each value right after drawing it:

  light   a still document; a new counter value every 40-60 ms (random)
  motion  the document with a 160-px box moving 8 px and a new counter value every animation
          frame (60 Hz; the capture takes at most 30 frames/s): 1080p30 that the link carries,
          for the customer's CPU at 1080p30
  heavy   coloured text scrolling over the whole canvas, 6 px per frame, and a new counter
          value every animation frame (``--ramp`` s of it first, for the send rate to grow)

This process grabs the counter's strip of the customer's window (mss, XShm, ``--grab-hz``
times a second, a few hundredths of a ms each) from the X display, decodes it and stamps the
first grab that shows each value with ``time.time()``; the page clock is mapped onto it by the
fastest of 20 round trips (``page_clock_offset``) before and after each phase. Latency of a
value = first seen on the customer's screen - drawn in the page. "shown/s": grabs that show a
new counter value, per second (the frames the customer saw: each frame sent carries a new one).

The window opens at 80 % of the root (1536x864 here), so a 1920x1080 picture is scaled down
by 0.8. The counter is not enlarged: the decoder maps each block through the window's layout
(the picture fitted, centred, black bars, as ``peer/showwindow.py`` lays it out) for the
received size and averages the inner half of each scaled block, which stays clean down to
about a quarter of the size (10-px blocks).

Baseline, same run, same content: right after each phase the customer shrinks the window to
480x270 (a configure request, as a window manager's resize) and the phase runs again. The
stream, Chromium's work, RTP, aiortc's jitter buffer and the VP8 decode stay the same; what the
peer does to show a frame drops to a 480x270 swscale and a 0.5 MB PutImage instead of 1536x864
and 5.3 MB. So the baseline is (close to) receive + decode only, and full - baseline is what
showing the picture at its size costs: the peer's CPU, Xvfb's CPU and the latency. Chromium's
own share of the latency comes from its outbound-rtp statistics (``totalEncodeTime /
framesEncoded``, ``totalPacketSendDelay / packetsSent``); "next" is the median time from a
value's drawing to the drawing of the next value the customer saw: aiortc's jitter buffer hands
a frame to the decoder only when the first packet of the next frame arrives, so it waits about
that long; "rest" = latency - next.

Goals (issue: show my screen), on a 2-core machine: p50 <= 100 ms; the customer's side <= 30 %
of one core at 1080p30 (the peer process; judged on a phase Chromium sent at >= 28 fps).

    sudo .venv/bin/python bench/show.py [--light 15 --motion 15 --heavy 15 --baseline 10]
                                        [--ramp 10] [--json out.json]

Needs root (network namespace), Xvfb and chromium. Exits 0 whether or not the goals are met.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mss
import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH.parent / "tests"))

import latency_code as code  # noqa: E402
from rig import (  # noqa: E402
    CpuSnapshot,
    Rig,
    all_ticks,
    cannot_run,
    comm,
    conditions,
    cpu_percent,
    cpu_snapshot,
    delta,
    descendants,
    end_peer,
    fmt,
    log_since,
    note_other_load,
    page_clock_offset,
    pct,
    print_run_end,
    rig,
)
from xshow import window_id_of, window_of  # noqa: E402

from tests.e2e.browser import secure_origin  # noqa: E402
from tests.e2e.procs import Proc  # noqa: E402

TITLE = "screen — SupportLink"  # "<operator>'s screen — SupportLink"
SCENARIOS = ("light", "motion", "heavy")
BASELINE_SIZE = (480, 270)
SIZE_RE = re.compile(r"show_screen: the operator's picture is (\d+)x(\d+)")
SUMMARY_RE = re.compile(r"operator's screen: (\d+) frames received, (\d+) shown")

# Goals of the issue.
P50_MS = 100.0
CPU_PCT = 30.0
FPS = 30.0

LAYOUT = {
    "width": code.SCREEN_W,
    "height": code.SCREEN_H,
    "bandH": code.BAND_H,
    "bandRgb": code.BAND_RGB,
    "block": code.BLOCK,
    "x0": code.X0,
    "y0": code.Y0,
    "blocks": code.BLOCKS,
    "dataBits": code.DATA_BITS,
    "checkBits": code.CHECK_BITS,
}

#: The operator's screen: the canvas, its painter, getDisplayMedia, and the page's statistics.
INIT_SCRIPT = r"""
(() => {
  const L = __LAYOUT__;
  const crc8 = (v) => {
    let crc = 0;
    for (const byte of [(v >> 8) & 0xff, v & 0xff]) {
      crc ^= byte;
      for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    }
    return crc;
  };
  const bits = (v) => {  // latency_code.bits
    v %= 1 << L.dataBits;
    const out = [1, 0];
    for (let i = L.dataBits - 1; i >= 0; i--) out.push((v >> i) & 1);
    const c = crc8(v);
    for (let i = L.checkBits - 1; i >= 0; i--) out.push((c >> i) & 1);
    return out;
  };
  const hex = (rgb) => "#" + rgb.toString(16).padStart(6, "0");
  const words = ("def class return self await async import from None True False for while if " +
    "elif else frame track encoder bitrate packet screen session offer answer candidate " +
    "consent (x, y) [i] {key: value} = == != += -> # 0x7f 1920 1080 30 fps kbit/s ms").split(" ");
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const line = (width) => {
    let text = " ".repeat(4 * Math.floor(rand() * 5));
    while (text.length < width) text += words[Math.floor(rand() * words.length)] + " ";
    return text.slice(0, width);
  };
  const W = L.width, H = L.height, LINE = 20;
  const canvas = document.createElement("canvas");
  canvas.width = W; canvas.height = H;
  const ctx = canvas.getContext("2d", { alpha: false });
  const doc = document.createElement("canvas");
  doc.width = W; doc.height = H;
  {
    const d = doc.getContext("2d", { alpha: false });
    d.fillStyle = "#f4f4f0"; d.fillRect(0, 0, W, H);
    d.fillStyle = "#202830"; d.font = "16px monospace";
    for (let row = 6; row < 46; row++) d.fillText(line(160), 100, L.bandH + row * LINE);
  }
  const tapeH = LINE * 108;
  const tape = document.createElement("canvas");
  tape.width = W; tape.height = tapeH + H;
  {
    const t = tape.getContext("2d", { alpha: false });
    t.fillStyle = "#101418"; t.fillRect(0, 0, W, tapeH + H);
    t.font = "16px monospace";
    const palette = ["#e0e0e0", "#8fd18f", "#e6c07b", "#61afef", "#c678dd", "#e06c75", "#56b6c2"];
    const lines = [];
    for (let i = 0; i < tapeH / LINE; i++) lines.push([palette[Math.floor(rand() * 7)], line(190)]);
    for (let i = 0; i <= (tapeH + H) / LINE; i++) {
      const [colour, text] = lines[i % lines.length];
      t.fillStyle = colour; t.fillText(text, 8, i * LINE + 15);
    }
  }
  const state = { mode: "still", counter: 0, draws: [], next: 0, scroll: 0, box: 0 };
  const BOX = 160, BOX_Y = 400;
  const drawCode = () => {
    state.counter = (state.counter + 1) % (1 << L.dataBits);
    ctx.fillStyle = hex(L.bandRgb);
    ctx.fillRect(0, 0, L.x0 * 2 + L.blocks * L.block, L.bandH);
    bits(state.counter).forEach((bit, i) => {
      ctx.fillStyle = bit ? "#ffffff" : "#000000";
      ctx.fillRect(L.x0 + i * L.block, L.y0, L.block, L.block);
    });
    state.draws.push([state.counter, performance.timeOrigin + performance.now()]);
  };
  const paintMode = () => {
    ctx.fillStyle = hex(L.bandRgb); ctx.fillRect(0, 0, W, L.bandH);
    if (state.mode === "heavy") {
      ctx.drawImage(tape, 0, state.scroll, W, H - L.bandH, 0, L.bandH, W, H - L.bandH);
    } else {
      ctx.drawImage(doc, 0, L.bandH, W, H - L.bandH, 0, L.bandH, W, H - L.bandH);
    }
  };
  const tick = (now) => {
    requestAnimationFrame(tick);
    if (state.mode === "light" && now >= state.next) {
      drawCode();
      state.next = now + 40 + 20 * Math.random();
    } else if (state.mode === "motion") {
      ctx.drawImage(doc, state.box, BOX_Y, BOX, BOX, state.box, BOX_Y, BOX, BOX);
      state.box = (state.box + 8) % (W - BOX);
      ctx.fillStyle = "#2f6fd0"; ctx.fillRect(state.box, BOX_Y, BOX, BOX);
      drawCode();
    } else if (state.mode === "heavy") {
      state.scroll = (state.scroll + 6) % tapeH;
      ctx.drawImage(tape, 0, state.scroll, W, H - L.bandH, 0, L.bandH, W, H - L.bandH);
      drawCode();
    }
  };
  requestAnimationFrame(tick);
  const pcs = [];
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    const pc = new PC(...args);
    pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = PC.prototype;
  window.RTCPeerConnection.generateCertificate = PC.generateCertificate;
  const KEEP = ["framesEncoded", "framesSent", "totalEncodeTime", "totalPacketSendDelay",
    "packetsSent", "bytesSent", "frameWidth", "frameHeight", "qualityLimitationReason",
    "encoderImplementation", "keyFramesEncoded", "nackCount", "pliCount", "firCount",
    "retransmittedPacketsSent", "targetBitrate", "timestamp", "hugeFramesSent"];
  window.__show = {
    mode(name) { state.mode = name; paintMode(); drawCode(); state.next = 0; },
    take() { const out = state.draws; state.draws = []; return out; },
    drawn() { return state.counter; },
    async stats() {
      const out = {};
      for (const pc of pcs) {
        if (pc.connectionState === "closed") continue;
        const report = await pc.getStats();
        for (const s of report.values()) {
          if (s.type === "outbound-rtp" && s.kind === "video") {
            for (const key of KEEP) if (s[key] !== undefined) out[key] = s[key];
            out.codec = report.get(s.codecId)?.mimeType;
          }
          if (s.type === "media-source" && s.kind === "video") out.sourceFrames = s.frames;
          if (s.type === "remote-inbound-rtp" && s.kind === "video") out.rtt = s.roundTripTime;
          if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
            out.bwe = s.availableOutgoingBitrate;
          }
        }
      }
      return out;
    },
  };
  if (navigator.mediaDevices) {
    navigator.mediaDevices.getDisplayMedia = async () => canvas.captureStream(30);
  }
})();
""".replace("__LAYOUT__", json.dumps(LAYOUT))


# ---------------------------------------------------------------------------- the customer's screen


def picture_box(
    window: tuple[int, int, int, int], frame: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Where the picture is on the screen inside ``window`` (x, y, w, h): fitted with its aspect
    kept when it is larger than the window, else 1:1, centred (``peer/showwindow._layout``)."""
    x, y, win_w, win_h = window
    width, height = frame
    if width > win_w or height > win_h:
        scale = min(win_w / width, win_h / height)
        width = min(win_w, max(1, round(width * scale)))
        height = min(win_h, max(1, round(height * scale)))
    return x + (win_w - width) // 2, y + (win_h - height) // 2, width, height


class Grabber(threading.Thread):
    """Grabs the counter's strip of the customer's window ``hz`` times a second and keeps
    (time.time() after the grab, decoded counter or -1) for every grab."""

    def __init__(self, display: str, hz: float) -> None:
        super().__init__(daemon=True)
        self.display = display
        self.period = 1 / hz
        self.records: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._region: dict[str, int] | None = None
        # the rows of the blocks' inner halves, and each block's first and last + 1 column
        self._blocks: tuple[slice, Any, Any] | None = None
        self.error: str | None = None

    def aim(self, picture: tuple[int, int, int, int]) -> None:
        """Read the counter in the picture at ``picture`` (x, y, w, h on the screen)."""
        px, py, pw, _ = picture
        s = pw / code.SCREEN_W
        left, top = px + int(code.X0 * s), py + int(code.Y0 * s)
        right = px + math.ceil((code.X0 + code.BLOCKS * code.BLOCK) * s)
        bottom = py + math.ceil((code.Y0 + code.BLOCK) * s)
        starts, ends = [], []
        for i in range(code.BLOCKS):
            bx, _, bw, _ = code.block_rect(i)
            x0 = round(px + (bx + bw / 4) * s - left)
            starts.append(x0)
            ends.append(max(x0 + 1, round(px + (bx + 3 * bw / 4) * s - left)))
        y0 = round(py + (code.Y0 + code.BLOCK / 4) * s - top)
        rows = slice(y0, max(y0 + 1, round(py + (code.Y0 + 3 * code.BLOCK / 4) * s - top)))
        with self._lock:
            self._region = {
                "left": left,
                "top": top,
                "width": right - left + 1,
                "height": bottom - top + 1,
            }
            self._blocks = (rows, np.array(starts), np.array(ends))

    def run(self) -> None:
        try:
            with mss.MSS(display=self.display) as grabber:
                due = time.monotonic()
                while not self._halt.is_set():
                    with self._lock:
                        region, blocks = self._region, self._blocks
                    if region is not None and blocks is not None:
                        shot = grabber.grab(region)
                        now = time.time()
                        rows, starts, ends = blocks
                        green = np.frombuffer(shot.raw, dtype=np.uint8).reshape(
                            shot.height, shot.width, 4
                        )[rows, :, 1]
                        sums = np.concatenate(([0.0], np.cumsum(green.mean(axis=0))))
                        levels = (sums[ends] - sums[starts]) / (ends - starts)
                        value = code.decode(levels.tolist())
                        self.records.append((now, -1 if value is None else value))
                    due += self.period
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    else:
                        due = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            self.error = repr(exc)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    def between(self, t0: float, t1: float) -> list[tuple[float, int]]:
        return [r for r in list(self.records) if t0 <= r[0] < t1]

    def first_seen(self) -> dict[int, float]:
        first: dict[int, float] = {}
        for t, value in list(self.records):
            if value >= 0:
                first.setdefault(value, t)
        return first


def wait_for(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


def set_window_size(display: str, size: tuple[int, int]) -> None:
    """What a window manager does when the customer resizes the window; returns once the X
    server has it at that size."""
    import Xlib.display

    box = window_of(display, TITLE)
    xid = window_id_of(display, TITLE)
    if box is None or xid is None:
        raise RuntimeError("the customer's window is gone")
    if box[2:] == size:
        return
    d = Xlib.display.Display(display)
    try:
        d.create_resource_object("window", xid).configure(width=size[0], height=size[1])
        d.sync()
    finally:
        d.close()
    wait_for(
        f"the window at {size[0]}x{size[1]}",
        lambda: (window_of(display, TITLE) or (0, 0, 0, 0))[2:] == size,
        5,
    )


def frame_size(peer: Proc) -> tuple[int, int] | None:
    """The last size the peer logged for the operator's picture."""
    found = SIZE_RE.findall(peer.output())
    return (int(found[-1][0]), int(found[-1][1])) if found else None


# ---------------------------------------------------------------------------- results


@dataclass
class Phase:
    scenario: str
    window: str  # "full" or "baseline"
    seconds: float
    window_size: str = ""
    picture: str = ""  # the picture's size on the screen
    received: str = ""  # the size the peer received
    drawn: int = 0
    seen: int = 0
    latency_ms: list[float] = field(default_factory=list)
    next_ms: list[float] = field(default_factory=list)  # drawn -> next value seen drawn
    beyond_next_ms: list[float] = field(default_factory=list)  # latency - next
    misread: int = 0
    drawn_per_s: float = 0.0
    shown_per_s: float = 0.0
    grabs_per_s: float = 0.0
    undecodable: float = 0.0  # share of grabs
    cpu: dict[str, float] = field(default_factory=dict)
    sent_fps: float = 0.0
    encoded_fps: float = 0.0
    source_fps: float = 0.0
    encode_ms: float = float("nan")
    pacer_ms: float = float("nan")
    kbps: float = 0.0
    sent_size: str = ""
    limitation: str = ""
    encoder: str = ""
    keyframes: float = 0.0
    nacks: float = 0.0
    plis: float = 0.0
    rtt_ms: float = float("nan")
    target_kbps: float = float("nan")  # the encoder's target
    bwe_kbps: float = float("nan")  # Chromium's estimate of what it may send (REMB)
    clock_drift_ms: float = 0.0

    def p(self, q: float) -> float:
        return pct(self.latency_ms, q)


def apply_stats(phase: Phase, before: dict[str, Any], after: dict[str, Any]) -> None:
    seconds = delta(after, before, "timestamp") / 1000
    if seconds > 0:
        phase.kbps = delta(after, before, "bytesSent") * 8 / 1000 / seconds
        phase.sent_fps = delta(after, before, "framesSent") / seconds
        phase.encoded_fps = delta(after, before, "framesEncoded") / seconds
        phase.source_fps = delta(after, before, "sourceFrames") / seconds
    encoded = delta(after, before, "framesEncoded")
    if encoded > 0:
        phase.encode_ms = delta(after, before, "totalEncodeTime") / encoded * 1000
    packets = delta(after, before, "packetsSent")
    if packets > 0:
        phase.pacer_ms = delta(after, before, "totalPacketSendDelay") / packets * 1000
    phase.keyframes = delta(after, before, "keyFramesEncoded")
    phase.nacks = delta(after, before, "nackCount")
    phase.plis = delta(after, before, "pliCount")
    phase.sent_size = f"{after.get('frameWidth', '?')}x{after.get('frameHeight', '?')}"
    phase.limitation = str(after.get("qualityLimitationReason") or "")
    phase.encoder = " ".join(
        str(after.get(key)) for key in ("codec", "encoderImplementation") if after.get(key)
    )
    for key, name in (("targetBitrate", "target_kbps"), ("bwe", "bwe_kbps")):
        if isinstance(after.get(key), int | float):
            setattr(phase, name, float(after[key]) / 1000)
    if isinstance(after.get("rtt"), int | float):
        phase.rtt_ms = float(after["rtt"]) * 1000


def analyse(
    phase: Phase,
    draws: list[list[float]],
    grabs: list[tuple[float, int]],
    first_seen: dict[int, float],
    offset: float,
    t0: float,
    t1: float,
) -> None:
    """Fill ``phase`` from the page's draws (counter, page ms) and the grabs of [t0, t1)."""
    drawn = [(int(c), ms / 1000 - offset) for c, ms in draws]
    drawn = [(c, t) for c, t in drawn if t0 <= t < t1]
    phase.drawn = len(drawn)
    phase.drawn_per_s = len(drawn) / (t1 - t0)
    seen: list[tuple[float, float]] = []  # (drawn, first seen) of the values seen
    for counter, at in drawn:
        when = first_seen.get(counter)
        if when is None:
            continue
        if when < at:
            phase.misread += 1
            continue
        seen.append((at, when))
    phase.seen = len(seen)
    phase.latency_ms = [(w - a) * 1000 for a, w in seen]
    for (a, w), (a_next, _) in zip(seen, seen[1:], strict=False):
        phase.next_ms.append((a_next - a) * 1000)
        phase.beyond_next_ms.append((w - a_next) * 1000)
    if grabs:
        phase.grabs_per_s = len(grabs) / (t1 - t0)
        phase.undecodable = sum(1 for _, v in grabs if v < 0) / len(grabs)
        previous, new = -1, 0
        for _, value in grabs:
            if value >= 0 and value != previous:
                new += 1
                previous = value
        phase.shown_per_s = new / (t1 - t0)


# ---------------------------------------------------------------------------- the run


@dataclass
class Result:
    phases: list[Phase] = field(default_factory=list)
    conditions: dict[str, Any] = field(default_factory=dict)
    received_size: str = ""
    frames_received: int = 0
    frames_shown: int = 0
    showing_seconds: float = 0.0

    def get(self, scenario: str, window: str) -> Phase | None:
        for phase in self.phases:
            if phase.scenario == scenario and phase.window == window:
                return phase
        return None


def measure(
    r: Rig,
    page: Any,
    peer: Proc,
    grabber: Grabber,
    groups: dict[str, list[int]],
    args: argparse.Namespace,
    window: str,
    scenario: str,
    seconds: float,
) -> Phase:
    phase = Phase(scenario, window, seconds)
    page.evaluate("(mode) => window.__show.mode(mode)", scenario)
    time.sleep(args.settle)
    box = window_of(r.screen.display, TITLE)
    size = frame_size(peer)
    if box is None or size is None:
        raise RuntimeError(f"no window or no picture: window {box}, picture {size}")
    picture = picture_box(box, size)
    grabber.aim(picture)
    phase.window_size = f"{box[2]}x{box[3]}"
    phase.picture = f"{picture[2]}x{picture[3]}"
    phase.received = f"{size[0]}x{size[1]}"
    time.sleep(0.3)
    page.evaluate("() => window.__show.take()")
    offset_before = page_clock_offset(page)
    stats_before = page.evaluate("() => window.__show.stats()")
    cpu_before: CpuSnapshot = cpu_snapshot(groups)
    t0 = time.time()
    time.sleep(seconds)
    t1 = time.time()
    cpu_after = cpu_snapshot(groups)
    stats_after = page.evaluate("() => window.__show.stats()")
    time.sleep(1.0)  # values drawn just before t1 are still on their way
    draws = page.evaluate("() => window.__show.take()")
    offset_after = page_clock_offset(page)
    phase.clock_drift_ms = (offset_after - offset_before) * 1000
    phase.cpu = cpu_percent(cpu_before, cpu_after)
    apply_stats(phase, stats_before, stats_after)
    analyse(
        phase,
        draws,
        grabber.between(t0, t1),
        grabber.first_seen(),
        (offset_before + offset_after) / 2,
        t0,
        t1,
    )
    return phase


def run(r: Rig, args: argparse.Namespace, result: Result, log: Any) -> None:
    with r.console(INIT_SCRIPT) as console:
        page = console.page
        peer = console.connect(r.start_peer, allow=("show_screen",), extra_args=["-v"])
        log(f"connected ({console.status()}), peer pid {peer.pid} ({comm(peer.pid)})")
        grabber = Grabber(r.screen.display, args.grab_hz)
        try:
            if not page.evaluate("() => Boolean(window.__show && navigator.mediaDevices)"):
                raise RuntimeError("the page has no capture API (not a secure origin?)")
            page.evaluate("() => window.__show.mode('light')")
            page.get_by_role("button", name="Show my screen…").click()
            peer.wait_for_line(r"^show_screen: You see .* screen in its own window", timeout=30)
            showing_since = time.monotonic()
            size = wait_for("the picture's size in the peer's log", lambda: frame_size(peer), 15)
            box = wait_for("the customer's window", lambda: window_of(r.screen.display, TITLE), 10)
            log(f"showing: picture {size[0]}x{size[1]}, window {box}")
            grabber.start()
            grabber.aim(picture_box(box, size))
            wait_for(
                "a counter value on the customer's screen",
                lambda: any(v >= 0 for _, v in grabber.records[-50:]) or grabber.error,
                15,
            )
            if grabber.error:
                raise RuntimeError(f"grabbing failed: {grabber.error}")
            time.sleep(args.warmup)
            groups = {
                "peer": sorted(descendants(peer.pid)),
                "xvfb": [r.screen.xvfb.pid],
                "browser": [p for p in r.ns.pids() if comm(p).startswith(("chromium", "chrome"))],
                "bench": [os.getpid()],
            }
            full_size = (box[2], box[3])
            for scenario in SCENARIOS:
                if scenario == "heavy" and args.ramp > 0:
                    page.evaluate("() => window.__show.mode('heavy')")
                    log(
                        f"heavy for {args.ramp:.0f} s: Chromium's send rate follows the peer's REMB"
                    )
                    time.sleep(args.ramp)
                seconds = {"light": args.light, "motion": args.motion, "heavy": args.heavy}[
                    scenario
                ]
                phases = [("full", full_size, seconds)]
                if args.baseline > 0:
                    phases.append(("baseline", BASELINE_SIZE, args.baseline))
                for window, size, length in phases:
                    set_window_size(r.screen.display, size)
                    phase = measure(r, page, peer, grabber, groups, args, window, scenario, length)
                    result.phases.append(phase)
                    log(f"{window} {scenario}: {summary_line(phase)}")
            set_window_size(r.screen.display, full_size)
            if grabber.error:
                raise RuntimeError(f"grabbing failed: {grabber.error}")
            page.evaluate("() => window.__show.mode('still')")
            result.showing_seconds = time.monotonic() - showing_since
        finally:
            grabber.stop()
            end_peer(peer)
        output = peer.output()
        summary = SUMMARY_RE.findall(output)
        if summary:
            result.frames_received, result.frames_shown = map(int, summary[-1])
        sizes = sorted({f"{w}x{h}" for w, h in SIZE_RE.findall(output)})
        result.received_size = ", ".join(sizes)


# ---------------------------------------------------------------------------- printing


def summary_line(phase: Phase) -> str:
    return (
        f"p50 {fmt(phase.p(50))} p95 {fmt(phase.p(95))} ms, shown {phase.shown_per_s:.1f}/s,"
        f" sent {phase.sent_fps:.1f} fps, peer {phase.cpu.get('peer', 0):.1f} %,"
        f" Xvfb {phase.cpu.get('xvfb', 0):.1f} %, seen {phase.seen}/{phase.drawn}"
    )


def per_frame(phase: Phase, group: str) -> float:
    """CPU ms of ``group`` per frame Chromium sent (the peer receives and decodes each)."""
    if phase.sent_fps <= 0:
        return float("nan")
    return phase.cpu.get(group, 0.0) * 10 / phase.sent_fps


def print_tables(result: Result) -> None:
    print()
    print(
        f"{'window':<8} {'phase':<6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'shown/s':>7} "
        f"{'sent/s':>6} {'drawn/s':>7} {'seen':>9} {'peer %':>6} {'Xvfb %':>6} "
        f"{'browser %':>9} {'machine':>7}"
    )
    for phase in result.phases:
        seen = f"{phase.seen}/{phase.drawn}"
        print(
            f"{phase.window:<8} {phase.scenario:<6} {fmt(phase.p(50)):>7} {fmt(phase.p(95)):>7} "
            f"{fmt(phase.p(99)):>7} {phase.shown_per_s:>7.1f} {phase.sent_fps:>6.1f} "
            f"{phase.drawn_per_s:>7.1f} {seen:>9} {phase.cpu.get('peer', 0):>6.1f} "
            f"{phase.cpu.get('xvfb', 0):>6.1f} {phase.cpu.get('browser', 0):>9.0f} "
            f"{phase.cpu.get('machine', 0):>6.0f}%"
        )
    print(
        "  p50/p95/p99: first seen on the customer's screen - drawn in the page, per counter"
        " value;\n  shown/s: new pictures on the customer's screen per second; sent/s: frames"
        " Chromium sent;\n  drawn/s: counter values drawn (heavy: every animation frame, the"
        " capture takes <= 30/s);\n  seen: values seen / drawn; peer, Xvfb, browser: % of one"
        " core; machine: busy % of all cores."
    )
    print()
    print("where the time goes (medians, ms) and the rest:")
    print(
        f"{'window':<8} {'phase':<6} {'encode':>6} {'pacer':>5} {'next':>5} {'rest':>5} "
        f"{'kbit/s':>6} {'target':>6} {'bwe':>6} {'kf':>3} {'pli':>3} {'nack':>4} "
        f"{'grab/s':>6} {'bad':>5} "
        f"{'bench%':>6} {'peer ms/f':>9} {'Xvfb ms/f':>9}"
        "  sent / received / window / picture, limitation, encoder"
    )
    for phase in result.phases:
        print(
            f"{phase.window:<8} {phase.scenario:<6} {fmt(phase.encode_ms):>6} "
            f"{fmt(phase.pacer_ms):>5} {fmt(pct(phase.next_ms, 50), 0):>5} "
            f"{fmt(pct(phase.beyond_next_ms, 50), 0):>5} {phase.kbps:>6.0f} "
            f"{fmt(phase.target_kbps, 0):>6} {fmt(phase.bwe_kbps, 0):>6} "
            f"{phase.keyframes:>3.0f} {phase.plis:>3.0f} {phase.nacks:>4.0f} "
            f"{phase.grabs_per_s:>6.0f} {100 * phase.undecodable:>4.1f}% "
            f"{phase.cpu.get('bench', 0):>6.1f} {fmt(per_frame(phase, 'peer')):>9} "
            f"{fmt(per_frame(phase, 'xvfb')):>9}  {phase.sent_size} / {phase.received} / "
            f"{phase.window_size} / {phase.picture}, {phase.limitation or '-'}, {phase.encoder}"
        )
    print(
        "  encode: Chromium's mean encode time per frame; pacer: mean wait of a packet in"
        " Chromium's pacer;\n  next: drawn -> the next value the customer saw was drawn"
        " (aiortc's jitter buffer releases a frame\n  when the next frame's first packet"
        " arrives); rest: latency - next (the next frame's capture,\n  encode and sending, the"
        " decode, our show(), the X server, the grab); bad: grabs not decoded\n  (a window"
        " resize, or a torn picture); bench%: this process (the grabs); ms/f: CPU ms per"
        " frame sent;\n  target: the encoder's target kbit/s; bwe: Chromium's available outgoing"
        " bitrate (from the peer's REMB)."
    )
    if result.frames_received:
        rate = result.frames_received / result.showing_seconds if result.showing_seconds else 0
        print(
            f"peer: received {result.received_size}; {result.frames_received} frames received,"
            f" {result.frames_shown} shown over {result.showing_seconds:.0f} s"
            f" ({rate:.1f} received/s)"
        )


def print_goals(result: Result) -> None:
    print()
    print("goals (the window at its own size):")

    def verdict(ok: bool) -> str:
        return "met   " if ok else "MISSED"

    for scenario in SCENARIOS:
        phase = result.get(scenario, "full")
        if phase is None or not phase.latency_ms:
            continue
        print(
            f"  {verdict(phase.p(50) <= P50_MS)} {scenario} p50 <= {P50_MS:.0f} ms:"
            f" {phase.p(50):.1f} ms (p95 {phase.p(95):.1f}, p99 {phase.p(99):.1f})"
        )
    for scenario in ("motion", "heavy"):
        phase = result.get(scenario, "full")
        if phase is None:
            continue
        peer, xvfb = phase.cpu.get("peer", 0.0), phase.cpu.get("xvfb", 0.0)
        rate = (
            f"{phase.sent_size} at {phase.sent_fps:.1f} fps sent, {phase.shown_per_s:.1f} shown/s"
        )
        at_30 = phase.sent_fps >= FPS - 2
        mark = verdict(peer <= CPU_PCT) if at_30 else "(n/a) "
        print(
            f"  {mark} customer side <= {CPU_PCT:.0f} % of a core at 1080p30 ({scenario}, the"
            f" peer): {peer:.1f} %, with Xvfb {peer + xvfb:.1f} % -- {rate}"
            + ("" if at_30 else " -- not 30 fps, so not judged")
        )
    print("against the baseline (the same stream, the window shrunk to "
          f"{BASELINE_SIZE[0]}x{BASELINE_SIZE[1]}: receive + decode):")  # fmt: skip
    for scenario in SCENARIOS:
        full, base = result.get(scenario, "full"), result.get(scenario, "baseline")
        if full is None or base is None:
            continue
        print(
            f"  {scenario}: showing at {full.picture} adds peer"
            f" {full.cpu.get('peer', 0) - base.cpu.get('peer', 0):+.1f} % of a core"
            f" ({base.cpu.get('peer', 0):.1f} -> {full.cpu.get('peer', 0):.1f}), Xvfb"
            f" {full.cpu.get('xvfb', 0) - base.cpu.get('xvfb', 0):+.1f} %"
            f" ({base.cpu.get('xvfb', 0):.1f} -> {full.cpu.get('xvfb', 0):.1f}),"
            f" p50 {full.p(50) - base.p(50):+.1f} ms ({fmt(base.p(50))} -> {fmt(full.p(50))}),"
            f" shown/s {base.shown_per_s:.1f} -> {full.shown_per_s:.1f}"
        )


# ---------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--light", type=float, default=15, help="light phase seconds (15)")
    parser.add_argument("--motion", type=float, default=15, help="motion phase seconds (15)")
    parser.add_argument("--heavy", type=float, default=15, help="heavy phase seconds (15)")
    parser.add_argument(
        "--baseline",
        type=float,
        default=10,
        help="seconds of each phase with the window shrunk to 480x270 (10; 0: none)",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=10,
        help="seconds of heavy content before the heavy phases, for Chromium's send rate to"
        " grow with the peer's REMB (10)",
    )
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds of light content after it shows (3)"
    )
    parser.add_argument(
        "--settle", type=float, default=2, help="seconds after a switch before measuring (2)"
    )
    parser.add_argument(
        "--grab-hz", type=float, default=250, help="grabs of the customer's window a second"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the process logs (kept on failure anyway)"
    )
    parser.add_argument(
        "--time-limit", type=float, default=240, help="abort the run after this many s (240)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = cannot_run("bench/show.py")
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    planned = args.light + args.motion + args.heavy + 3 * args.baseline + args.ramp
    planned += 6 * (args.settle + 3)
    if planned + 60 > args.time_limit:
        print(
            f"warning: {planned:.0f} s of phases and about 60 s of setup may not fit"
            f" --time-limit {args.time_limit:.0f}",
            file=sys.stderr,
        )
    started = time.monotonic()
    log = log_since(started)
    result = Result(conditions=conditions())
    c = result.conditions
    print(
        f"SupportLink show my screen, operator -> customer, 1920x1080 -- {c['date']},"
        f" {c['cpus']} x {c['cpu']}, load {c['load_before']}, {c['chromium']},"
        f" aiortc {c['aiortc']}, av {c['av']}",
        flush=True,
    )
    load_before = all_ticks()

    def browser_args(server: Any) -> list[str]:
        # the capture API exists only on a secure page; the console is plain http here
        return [secure_origin(server.url)]

    with rig(
        "show", time_limit_s=args.time_limit, keep_logs=args.keep_logs, browser_args=browser_args
    ) as r:
        r.drawer.mode("still")
        run(r, args, result, log)
        note_other_load(result.conditions, r, load_before, started)
    print_tables(result)
    print_goals(result)
    print_run_end(result.conditions, started)
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "conditions": result.conditions,
                    "received_size": result.received_size,
                    "frames_received": result.frames_received,
                    "frames_shown": result.frames_shown,
                    "showing_seconds": result.showing_seconds,
                    "phases": [asdict(p) for p in result.phases],
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
