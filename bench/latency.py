"""Glass-to-glass latency: a change on the customer's screen -> the frame shown to the operator.

Everything runs inside a network namespace of this run's own (removed at the end, also on
failure or timeout): Xvfb 1920x1080, ``supportlink serve``, the customer's side of each
pipeline, headless Chromium.

An X client of the benchmark (``latency_screen.py``) draws a frame counter as a row of
black/white blocks with a CRC (``latency_code.py``) and records the monotonic time each value
reached the X server. In the page the counter is read out of every presented frame with the
same reader (``latency_reader.js``); the page clock is mapped to the same monotonic clock by the
lowest-round-trip of several ``performance.now()`` samples (over Playwright's pipe, not the
network). Latency of a counter value = its first display time in the page - the time it was
drawn.

Scenarios (each pipeline, in this order):
  still   nothing changes for --idle s: sender CPU and kbit/s
  light   counter every 40-75 ms at random phase + 10 typed characters/s (small dirty area)
  heavy   full-screen text scrolling at 60 Hz with a new counter value every frame

Pipelines (each connects afresh under each link and runs every scenario), on the same screen
and browser, default order tuned, novnc, naive:
  tuned   ``supportlink-peer`` as shipped (screen capture track and screen encoders), through
          the server and the console; the counter is read at requestVideoFrameCallback
          (``latency_probe.js``), display time = expectedDisplayTime
  novnc   x11vnc + websockify + noVNC (``novnc.py``: x11vnc's options and why), noVNC's RFB
          drawing into a canvas at 1:1 in a page of its own (``latency_novnc.html``); the
          counter is read from the canvas at each animation frame after noVNC flipped an update
          onto it (``latency_novnc.js``), display time = that animation frame's time; kbit/s =
          WebSocket message bytes the page received; sender = x11vnc, relay = websockify
  naive   ``naive_peer.py``: aiortc's stock VP8 (500 kbit/s) and a from_ndarray capture,
          through the server and the console

Links (--links, each runs every pipeline; ``rig.Shaper``): the path between the browser and the
customer's processes, told apart by a cgroup; per direction a TUN device with a tbf (rate,
400 ms queue) and ``netdelay.py`` handing packets back after half the RTT or losing them at
random (this kernel has no netem); the RTT is measured over UDP before the pipelines run.
  open    no shaping
  512k    512 kbit/s each way, +60 ms RTT
  2m      2 Mbit/s each way, +40 ms RTT
  loss2   2 % random loss each way, no rate limit, no added delay
The signaling server's port and 127/8 (x11vnc <-> websockify) are not shaped.

Figures per row (link x scenario x pipeline): latency p50/p95/p99, presented fps, counter values
shown, sender and relay CPU, kbit/s; where the time goes (drawn -> received -> displayed);
stale-frame build-up (p95 of the values drawn in the first and in the last 10 s, phases of
20 s or more); text PSNR: every 15th counter value the screen client keeps the luma of a text
region as drawn (XGetImage), the page copies the same region out of the first frame showing
that value, median PSNR per row. A pipeline that shows no picture within 20 s (30 s on a shaped
link) gets rows without figures and a note.

Goals (issue: first session), on a 2-core machine, open link: light p50 <= 30 ms and p95 <= 60
ms; heavy >= 30 fps; still <= 3 % of a core and ~0 kbit/s; on every link: ahead of noVNC and of
naive aiortc on every row, >= 1.5x on latency (p50 and p95).

    sudo .venv/bin/python bench/latency.py [--light 20 --heavy 20 --idle 10] [--links open,512k]
        [--pipelines tuned,novnc,naive] [--json out.json]

Needs root (network namespace), Xvfb and chromium; the novnc pipeline x11vnc, websockify and
novnc; shaped links the cgroup v2 hierarchy, nft, tc and /dev/net/tun. Exits 0 whether or not
the goals are met.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import latency_code as code  # noqa: E402
import novnc  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from rig import (  # noqa: E402
    LINKS,
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
    pct,
    print_run_end,
    rig,
    wait_for_picture,
)

from tests.e2e.procs import Proc  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

PIPELINES = ("tuned", "novnc", "naive")
SCENARIOS = ("still", "light", "heavy")
LAYOUT = {
    "screenWidth": code.SCREEN_W,
    "block": code.BLOCK,
    "x0": code.X0,
    "y0": code.Y0,
    "blocks": code.BLOCKS,
    "dataBits": code.DATA_BITS,
    "checkBits": code.CHECK_BITS,
    "sampleEvery": code.SAMPLE_EVERY,
    "region": dict(zip("xywh", code.TEXT_REGION, strict=True)),
}
BUILD_UP_S = 10.0  # p95 of the first and of the last this many seconds of a phase ...
BUILD_UP_MIN_S = 20.0  # ... of one this long at least

# Goals of the issue.
LIGHT_P50_MS = 30.0
LIGHT_P95_MS = 60.0
HEAVY_FPS = 30.0
STILL_CPU_PCT = 3.0
STILL_KBPS = 5.0  # "about zero": RTCP and a once-a-second refresh of an unchanged frame
SPEEDUP = 1.5
BASELINE_NAMES = {"novnc": "noVNC", "naive": "naive aiortc"}


# ---------------------------------------------------------------------------- the page


def clock_offset(page: Page, samples: int = 15) -> tuple[float, float]:
    """(page clock - monotonic clock, round trip) in seconds, from the fastest round trip."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.monotonic()
        page_ms = float(page.evaluate("() => performance.now()"))
        after = time.monotonic()
        rtt = after - before
        if best is None or rtt < best[1]:
            best = (page_ms / 1000 - (before + after) / 2, rtt)
    assert best is not None
    return best


def page_stats(page: Page) -> dict[str, Any]:
    stats = page.evaluate("() => window.__latency.stats()")
    return dict(stats) if stats else {}


# ---------------------------------------------------------------------------- results


@dataclass
class Phase:
    scenario: str
    pipeline: str
    seconds: float
    link: str = "open"
    drawn: int = 0  # counter values drawn in the window
    shown: int = 0  # of which presented at least once
    latency_ms: list[float] = field(default_factory=list)
    to_receive_ms: list[float] = field(default_factory=list)  # drawn -> RTP frame received
    receive_to_display_ms: list[float] = field(default_factory=list)
    fps: float = 0.0  # frames presented per second
    new_fps: float = 0.0  # frames presented with a new counter value per second
    undecodable: int = 0
    misread: int = 0  # decoded values that were presented before being drawn
    cpu: dict[str, float] = field(default_factory=dict)
    kbps: float = 0.0
    dropped: float = 0.0  # browser framesDropped
    packets_lost: float = 0.0
    jitter_buffer_ms: float = float("nan")  # mean jitterBufferDelay per emitted frame
    decode_ms: float = float("nan")
    keyframes: float = 0.0
    nacks: float = 0.0
    plis: float = 0.0
    freezes: float = 0.0
    clock_rtt_ms: float = 0.0
    clock_drift_ms: float = 0.0
    drawn_per_s: float = 0.0
    decoder: str = ""
    size: str = ""
    lead_ms: float = float("nan")  # median expected display time - callback time
    note: str = ""  # why a row has no figures
    p95_first_ms: float = float("nan")  # p95 of values drawn in the first BUILD_UP_S
    p95_last_ms: float = float("nan")  # ... and in the last BUILD_UP_S
    psnr_db: list[float] = field(default_factory=list)  # text region, per sampled value

    def p(self, q: float) -> float:
        return pct(self.latency_ms, q)


@dataclass
class Run:
    phases: list[Phase] = field(default_factory=list)
    conditions: dict[str, Any] = field(default_factory=dict)

    def get(self, scenario: str, pipeline: str, link: str = "open") -> Phase | None:
        for phase in self.phases:
            if (phase.scenario, phase.pipeline, phase.link) == (scenario, pipeline, link):
                return phase
        return None

    def links(self) -> list[str]:
        return list(dict.fromkeys(phase.link for phase in self.phases))


def analyse(
    phase: Phase,
    draws: list[tuple[int, float]],
    records: list[list[Any]],
    offset: float,
    t0: float,
    t1: float,
) -> None:
    """Fill ``phase`` from the drawn values and the page's frame records."""
    first: dict[int, list[Any]] = {}
    shown_in_window: list[list[Any]] = []
    for record in records:
        display = record[1] / 1000 - offset
        if t0 <= display < t1:
            shown_in_window.append(record)
        if record[0] < 0:
            if t0 <= display < t1:
                phase.undecodable += 1
            continue
        first.setdefault(int(record[0]), record)
    drawn_at = dict(draws)
    phase.drawn = len(draws)
    first_ms: list[float] = []
    last_ms: list[float] = []
    phase.drawn_per_s = len(draws) / (t1 - t0)
    for counter, drawn in draws:
        seen = first.get(counter)
        if seen is None:
            continue
        latency = seen[1] / 1000 - offset - drawn
        if latency < 0:
            phase.misread += 1
            continue
        phase.shown += 1
        phase.latency_ms.append(latency * 1000)
        if drawn < t0 + BUILD_UP_S:
            first_ms.append(latency * 1000)
        if drawn >= t1 - BUILD_UP_S:
            last_ms.append(latency * 1000)
        if seen[3] >= 0:
            received = seen[3] / 1000 - offset
            phase.to_receive_ms.append((received - drawn) * 1000)
            phase.receive_to_display_ms.append(seen[1] - seen[3])
    if t1 - t0 >= BUILD_UP_MIN_S:
        phase.p95_first_ms, phase.p95_last_ms = pct(first_ms, 95), pct(last_ms, 95)
    if len(shown_in_window) >= 2:
        frames = shown_in_window[-1][5] - shown_in_window[0][5]
        span = (shown_in_window[-1][1] - shown_in_window[0][1]) / 1000
        phase.fps = frames / span if span > 0 else 0.0
    previous = None
    new = 0
    for record in shown_in_window:
        if record[0] >= 0 and record[0] != previous and record[0] in drawn_at:
            new += 1
        previous = record[0] if record[0] >= 0 else previous
    phase.new_fps = new / (t1 - t0)
    if shown_in_window:
        phase.size = f"{shown_in_window[-1][6]}x{shown_in_window[-1][7]}"
        phase.lead_ms = pct([r[1] - r[4] for r in shown_in_window], 50)


def text_psnr(
    phase: Phase, draws: list[tuple[int, float]], samples: list[list[Any]], drawn_dir: Path
) -> None:
    """PSNR of the text region as presented against as drawn, for the sampled counter values
    drawn in the phase."""
    in_phase = {counter for counter, _ in draws}
    for counter, luma64 in samples:
        drawn = drawn_dir / f"{counter}.y"
        if counter not in in_phase or not drawn.exists():
            continue
        shown = base64.b64decode(luma64)
        expected = drawn.read_bytes()
        if len(shown) == len(expected):
            phase.psnr_db.append(code.psnr(shown, expected))


def apply_stats(phase: Phase, before: dict[str, Any], after: dict[str, Any]) -> None:
    seconds = delta(after, before, "timestamp") / 1000
    if seconds > 0:
        phase.kbps = delta(after, before, "bytesReceived") * 8 / 1000 / seconds
    phase.dropped = delta(after, before, "framesDropped")
    phase.packets_lost = delta(after, before, "packetsLost")
    phase.keyframes = delta(after, before, "keyFramesDecoded")
    phase.nacks = delta(after, before, "nackCount")
    phase.plis = delta(after, before, "pliCount")
    phase.freezes = delta(after, before, "freezeCount")
    emitted = delta(after, before, "jitterBufferEmittedCount")
    if emitted > 0:
        phase.jitter_buffer_ms = delta(after, before, "jitterBufferDelay") / emitted * 1000
    decoded = delta(after, before, "framesDecoded")
    if decoded > 0:
        phase.decode_ms = delta(after, before, "totalDecodeTime") / decoded * 1000
    phase.decoder = str(after.get("decoderImplementation") or "")


# ---------------------------------------------------------------------------- one pipeline


@dataclass
class Setup:
    rig: Rig
    args: argparse.Namespace
    probe: list[str]  # init scripts of the console page
    novnc_probe: list[str]  # init scripts of the noVNC page
    first_picture_s: float = 20.0  # from connecting: else the pipeline gets rows of no figures
    tail_s: float = 0.7  # after a phase: for values drawn just before its end to arrive
    drawn_dir: Path = Path()  # the text region as drawn, per sampled counter value


class NoPicture(Exception):
    """A pipeline connected but showed no picture in time (a thin link, a stuck encoder)."""


@dataclass
class Running:
    """A connected pipeline: the page showing the customer's screen, reading the counter."""

    page: Page
    groups: dict[str, list[int]]  # CPU groups; "sender" is the pipeline's sending process


def start_pipeline_peer(setup: Setup, pipeline: str, session_code: str) -> Proc:
    args, r = setup.args, setup.rig
    if pipeline == "tuned" and not args.peer_command:
        return r.start_peer(session_code, extra_args=shlex.split(args.peer_args))
    if pipeline == "tuned":
        command = [*shlex.split(args.peer_command), "--server", r.server.url]
        command += ["--code", session_code, "--allow", "view", *shlex.split(args.peer_args)]
        return r.start("peer", command)
    command = [
        sys.executable,
        str(BENCH / "naive_peer.py"),
        "--server",
        r.server.url,
        "--code",
        session_code,
        "--allow",
        "view",
    ]
    return r.start("peer-naive", command)


def browser_pids(r: Rig) -> list[int]:
    return [p for p in r.ns.pids() if comm(p).startswith(("chromium", "chrome"))]


@contextmanager
def webrtc_pipeline(setup: Setup, pipeline: str, log: Any) -> Iterator[Running]:
    """The console, through the server, with our peer or the naive one."""
    r = setup.rig
    with r.console("\n".join(setup.probe)) as console:
        page = console.page
        peer = console.connect(functools.partial(start_pipeline_peer, setup, pipeline))
        try:
            try:
                wait_for_picture(page, setup.first_picture_s)
            except PlaywrightTimeout:
                raise NoPicture(
                    f"no picture {setup.first_picture_s:.0f} s after connecting"
                ) from None
            if not page.evaluate("(layout) => window.__latency.start(layout)", LAYOUT):
                raise RuntimeError("the page has no requestVideoFrameCallback")
            log(f"{pipeline}: connected ({console.status()}), peer {peer.pid} ({comm(peer.pid)})")
            groups = {
                "sender": [peer.pid],
                "xvfb": [r.screen.xvfb.pid],
                "screen client": [r.drawer.pid],
                "browser": browser_pids(r),
            }
            yield Running(page, groups)
        finally:
            r.drawer.mode("still")
            end_peer(peer)


@contextmanager
def novnc_pipeline(setup: Setup, log: Any) -> Iterator[Running]:
    """x11vnc + websockify + noVNC's RFB on a canvas of a page of its own."""
    r = setup.rig
    vnc = novnc.start(r)
    try:
        with r.page(setup.novnc_probe) as page, (r.work / "novnc-page.log").open("w") as out:
            page.on("console", lambda message: print(message.type, message.text, file=out))
            page.on("pageerror", lambda error: print("pageerror", error, file=out))
            page.goto(vnc.url)
            try:
                page.wait_for_function(
                    "() => window.__latency.connected()", timeout=setup.first_picture_s * 1000
                )
            except PlaywrightTimeout:
                raise NoPicture(
                    f"no picture {setup.first_picture_s:.0f} s after connecting"
                ) from None
            if not page.evaluate("(layout) => window.__latency.start(layout)", LAYOUT):
                raise RuntimeError("noVNC has no canvas")
            log(f"novnc: connected, x11vnc {vnc.x11vnc.pid}, websockify {vnc.websockify.pid}")
            groups = {
                "sender": [vnc.x11vnc.pid],
                "relay": sorted(descendants(vnc.websockify.pid)),
                "xvfb": [r.screen.xvfb.pid],
                "screen client": [r.drawer.pid],
                "browser": browser_pids(r),
            }
            yield Running(page, groups)
    finally:
        r.drawer.mode("still")
        novnc.stop(vnc)


def run_pipeline(setup: Setup, pipeline: str, link: str, run: Run, log: Any) -> None:
    args, r = setup.args, setup.rig
    r.drawer.mode("light")
    if pipeline == "novnc":
        connected = novnc_pipeline(setup, log)
    else:
        connected = webrtc_pipeline(setup, pipeline, log)
    try:
        measure(setup, connected, pipeline, link, run, log)
    except NoPicture as error:
        log(f"{link} {pipeline}: {error}")
        for scenario in args.scenarios:
            seconds = {"still": args.idle, "light": args.light, "heavy": args.heavy}[scenario]
            run.phases.append(Phase(scenario, pipeline, seconds, link, note=str(error)))


def measure(
    setup: Setup,
    connected: AbstractContextManager[Running],
    pipeline: str,
    link: str,
    run: Run,
    log: Any,
) -> None:
    args, r = setup.args, setup.rig
    with connected as running:
        page = running.page
        time.sleep(args.warmup)
        for scenario in args.scenarios:
            seconds = {"still": args.idle, "light": args.light, "heavy": args.heavy}[scenario]
            phase = Phase(scenario, pipeline, seconds, link)
            r.drawer.mode(scenario)
            time.sleep(args.settle + (1.0 if scenario == "still" else 0.0))
            page.evaluate("() => window.__latency.take()")
            page.evaluate("() => window.__latency.takeSamples()")
            offset_before, rtt_before = clock_offset(page)
            stats_before = page_stats(page)
            cpu_before = cpu_snapshot(running.groups)
            t0 = time.monotonic()
            time.sleep(seconds)
            t1 = time.monotonic()
            cpu_after = cpu_snapshot(running.groups)
            stats_after = page_stats(page)
            time.sleep(setup.tail_s)  # values drawn just before t1 are still on their way
            records = page.evaluate("() => window.__latency.take()")
            samples = page.evaluate("() => window.__latency.takeSamples()")
            offset_after, rtt_after = clock_offset(page)
            offset = (offset_before + offset_after) / 2
            phase.clock_rtt_ms = max(rtt_before, rtt_after) * 1000
            phase.clock_drift_ms = (offset_after - offset_before) * 1000
            phase.cpu = cpu_percent(cpu_before, cpu_after)
            apply_stats(phase, stats_before, stats_after)
            draws = r.drawer.between(t0, t1)
            analyse(phase, draws, records, offset, t0, t1)
            text_psnr(phase, draws, samples, setup.drawn_dir)
            run.phases.append(phase)
            log(f"{link} {pipeline} {scenario}: {summary_line(phase)}")


# ---------------------------------------------------------------------------- printing


def summary_line(phase: Phase) -> str:
    return (
        f"p50 {fmt(phase.p(50))} p95 {fmt(phase.p(95))} ms, {phase.fps:.1f} fps, "
        f"sender {phase.cpu.get('sender', 0):.1f} %, {phase.kbps:.0f} kbit/s, "
        f"shown {phase.shown}/{phase.drawn}"
    )


def relay(phase: Phase) -> str:
    return f"{phase.cpu['relay']:.1f}" if "relay" in phase.cpu else "-"


def print_links(run: Run) -> None:
    print()
    print("links (browser <-> customer's side, in the namespace):")
    for name, shaped in run.conditions.get("links", {}).items():
        print(f"  {name:<6} {shaped}")
    if any(LINKS[name].shaped for name in run.conditions.get("links", {})):
        print(
            "  shaped: packets of the customer's processes (peer, x11vnc, websockify) one way,"
            " all others between\n  namespace addresses (the browser's) the other; not the"
            " signaling server's port, not 127/8 (x11vnc <->\n  websockify), not Playwright's"
            " control of the page (a pipe): the clock offset and getStats are unaffected."
        )


def print_tables(run: Run) -> None:
    print()
    print(
        f"{'link':<6} {'scenario':<8} {'pipeline':<8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'fps':>5} {'new/s':>6} {'shown':>9} {'lost':>5} {'sender %':>8} {'relay %':>7} "
        f"{'kbit/s':>7}"
    )
    for phase in run.phases:
        shown = f"{phase.shown}/{phase.drawn}" if phase.drawn else "-"
        lost = phase.dropped + phase.packets_lost
        print(
            f"{phase.link:<6} {phase.scenario:<8} {phase.pipeline:<8} {fmt(phase.p(50)):>7} "
            f"{fmt(phase.p(95)):>7} {fmt(phase.p(99)):>7} {phase.fps:>5.1f} "
            f"{phase.new_fps:>6.1f} {shown:>9} {lost:>5.0f} "
            f"{phase.cpu.get('sender', 0):>8.1f} {relay(phase):>7} {phase.kbps:>7.0f}"
        )
    print(
        "  p50/p95/p99: presented - drawn, first presentation of each counter value;"
        " fps: frames presented/s;\n  new/s: presented frames with a new counter value;"
        " shown: counter values presented / drawn (heavy draws at 60 Hz);\n"
        "  lost: browser framesDropped + packetsLost (WebRTC only);"
        " sender %: the peer process, or x11vnc, % of one core;\n"
        "  relay %: websockify (noVNC only: its processes, bridging x11vnc's TCP to the"
        " WebSocket);\n"
        "  kbit/s: WebRTC: getStats bytesReceived (RTP payload); noVNC: bytes of the WebSocket"
        " messages the page received\n  (RFB payload); neither counts UDP/TCP/IP headers.\n"
        "  noVNC: a presented frame is an animation frame after one or more noVNC flips"
        " (a FramebufferUpdate finished\n  and copied to the canvas); its counter is read from"
        " the canvas at that animation frame's time, the video's\n  at requestVideoFrameCallback"
        " (expectedDisplayTime; median expectedDisplayTime - callback time in the JSON"
        " as lead_ms)."
    )
    for phase in run.phases:
        if phase.note:
            print(f"  {phase.link} {phase.scenario} {phase.pipeline}: {phase.note}")
    print()
    print("where the time goes (medians, ms), and the rest of the machine (% of one core):")
    print(
        f"{'link':<6} {'scenario':<8} {'pipeline':<8} {'draw>recv':>9} {'recv>disp':>9} "
        f"{'jbuf':>5} {'decode':>6} {'kf':>3} {'nack':>4} {'pli':>4} {'bad':>4} {'drawn/s':>7} "
        f"{'Xvfb':>5} {'client':>6} {'browser':>7} {'machine':>7}  decoder"
    )
    for phase in run.phases:
        print(
            f"{phase.link:<6} {phase.scenario:<8} {phase.pipeline:<8} "
            f"{fmt(pct(phase.to_receive_ms, 50)):>9} "
            f"{fmt(pct(phase.receive_to_display_ms, 50)):>9} {fmt(phase.jitter_buffer_ms):>5} "
            f"{fmt(phase.decode_ms):>6} {phase.keyframes:>3.0f} {phase.nacks:>4.0f} "
            f"{phase.plis:>4.0f} {phase.undecodable + phase.misread:>4} "
            f"{phase.drawn_per_s:>7.1f} {phase.cpu.get('xvfb', 0):>5.0f} "
            f"{phase.cpu.get('screen client', 0):>6.0f} {phase.cpu.get('browser', 0):>7.0f} "
            f"{phase.cpu.get('machine', 0):>6.0f}%  {phase.decoder} {phase.size}"
        )
    print(
        "  draw>recv: drawn -> frame received by the browser (WebRTC: capture wait, grab, encode,"
        " send; noVNC: poll,\n  encode, send, up to the WebSocket message that completed the"
        " update); recv>disp: received -> display\n  (WebRTC: jitter buffer, decode, render;"
        " noVNC: decode, flip, wait for the animation frame); jbuf/decode:\n  getStats means;"
        " kf: keyframes decoded; bad: undecodable (torn or smeared) or misread counters;\n"
        "  machine: busy % of all cores."
    )


def print_build_up(run: Run) -> None:
    print()
    print("stale frames building up, and the text as the operator sees it:")
    print(
        f"{'link':<6} {'scenario':<8} {'pipeline':<8} {'p95 first':>9} {'p95 last':>9} "
        f"{'PSNR dB':>8} {'min dB':>7} {'samples':>7}"
    )
    for phase in run.phases:
        if phase.scenario == "still":
            continue
        print(
            f"{phase.link:<6} {phase.scenario:<8} {phase.pipeline:<8} "
            f"{fmt(phase.p95_first_ms):>9} {fmt(phase.p95_last_ms):>9} "
            f"{fmt(pct(phase.psnr_db, 50)):>8} "
            f"{fmt(min(phase.psnr_db) if phase.psnr_db else float('nan')):>7} "
            f"{len(phase.psnr_db):>7}"
        )
    x, y, w, h = code.TEXT_REGION
    print(
        f"  p95 first/last: p95 latency of the values drawn in the first and in the last"
        f" {BUILD_UP_S:.0f} s of the phase (phases of\n  {BUILD_UP_MIN_S:.0f} s or more, else"
        f" '-'); a last well above the first: frames queue up (the link or the encoder falls"
        f" behind).\n  PSNR: luma (BT.601) of the text region {w}x{h} at ({x}, {y}) in the"
        f" first presented frame of every {code.SAMPLE_EVERY}th counter\n  value, against the"
        " region as the screen client drew it with that value (XGetImage), at screen"
        " resolution\n  (a smaller video is scaled up by the browser); median and minimum over"
        " the samples; 99: identical."
    )


def print_goals(run: Run) -> None:
    print()
    print("goals (tuned pipeline):")

    def verdict(ok: bool) -> str:
        return "met   " if ok else "MISSED"

    for link in run.links():
        at = "" if link == "open" else f" ({link})"
        light, heavy = run.get("light", "tuned", link), run.get("heavy", "tuned", link)
        still = run.get("still", "tuned", link)
        if light is not None and light.latency_ms and link == "open":
            print(
                f"  {verdict(light.p(50) <= LIGHT_P50_MS)} light p50 <= {LIGHT_P50_MS:.0f} ms:"
                f" {light.p(50):.1f} ms"
            )
            print(
                f"  {verdict(light.p(95) <= LIGHT_P95_MS)} light p95 <= {LIGHT_P95_MS:.0f} ms:"
                f" {light.p(95):.1f} ms"
            )
        if heavy is not None and link == "open":
            print(
                f"  {verdict(heavy.fps >= HEAVY_FPS)} heavy >= {HEAVY_FPS:.0f} fps at 1080p:"
                f" {heavy.fps:.1f} fps presented ({heavy.new_fps:.1f} with a new counter value)"
            )
        if still is not None and link == "open":
            sender = still.cpu.get("sender", 0.0)
            print(
                f"  {verdict(sender <= STILL_CPU_PCT)} still <= {STILL_CPU_PCT:.0f} % of a core:"
                f" {sender:.1f} %"
            )
            print(
                f"  {verdict(still.kbps <= STILL_KBPS)} still ~0 kbit/s (<= {STILL_KBPS:.0f}):"
                f" {still.kbps:.1f} kbit/s"
            )
        for baseline in ("novnc", "naive"):
            name = BASELINE_NAMES[baseline]
            for scenario in ("light", "heavy"):
                tuned, other = run.get(scenario, "tuned", link), run.get(scenario, baseline, link)
                if tuned is None or other is None:
                    continue
                if not tuned.latency_ms:
                    why = tuned.note or "no counter value shown"
                    print(f"  MISSED {scenario}{at} vs {name}: tuned has no figures ({why})")
                    continue
                if not other.latency_ms:
                    why = other.note or "no counter value shown"
                    print(f"  met    {scenario}{at} vs {name}: {name} has no figures ({why})")
                    continue
                speedups = [other.p(q) / tuned.p(q) for q in (50, 95)]
                ahead = (
                    tuned.shown / max(1, tuned.drawn) >= other.shown / max(1, other.drawn) - 0.01
                )
                if scenario == "heavy":
                    ahead = ahead and tuned.fps >= other.fps
                print(
                    f"  {verdict(min(speedups) >= SPEEDUP and ahead)} {scenario}{at}:"
                    f" >= {SPEEDUP}x faster than {name} and ahead:"
                    f" p50 {speedups[0]:.2f}x ({other.p(50):.1f} -> {tuned.p(50):.1f} ms),"
                    f" p95 {speedups[1]:.2f}x ({other.p(95):.1f} -> {tuned.p(95):.1f} ms),"
                    f" fps {other.fps:.1f} -> {tuned.fps:.1f},"
                    f" shown {other.shown} -> {tuned.shown}"
                )
            tuned, other = run.get("still", "tuned", link), run.get("still", baseline, link)
            if tuned is not None and other is not None and (tuned.note or other.note):
                print(
                    f"  {verdict(not tuned.note)} still{at} vs {name}: no figures"
                    f" ({'tuned' if tuned.note else name}: {tuned.note or other.note})"
                )
            elif tuned is not None and other is not None:
                cpu = (other.cpu.get("sender", 0.0), tuned.cpu.get("sender", 0.0))
                ok = cpu[1] <= max(cpu[0], STILL_CPU_PCT) and tuned.kbps <= max(
                    other.kbps, STILL_KBPS
                )
                print(
                    f"  {verdict(ok)} still{at}: no more than {name} (or the goal):"
                    f" sender {cpu[0]:.1f} -> {cpu[1]:.1f} %,"
                    f" {other.kbps:.1f} -> {tuned.kbps:.1f} kbit/s"
                )
    print(
        "  ahead: at least the baseline's share of counter values shown (-1 point), and in heavy"
        " its presented fps;\n  still: sender CPU and kbit/s no more than the baseline's, or"
        " within the still goals."
    )


# ---------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--light", type=float, default=20, help="light phase seconds (20)")
    parser.add_argument("--heavy", type=float, default=20, help="heavy phase seconds (20)")
    parser.add_argument("--idle", type=float, default=10, help="still phase seconds (10)")
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds of light content after connecting (3)"
    )
    parser.add_argument(
        "--settle", type=float, default=2, help="seconds after a switch before measuring (2)"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, in order ({','.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--pipelines",
        default=",".join(PIPELINES),
        help=f"comma-separated, in order ({','.join(PIPELINES)})",
    )
    parser.add_argument(
        "--peer-args",
        default="",
        metavar="ARGS",
        help="extra supportlink-peer options for the tuned pipeline, e.g. '--fps 60'",
    )
    parser.add_argument(
        "--peer-command",
        default="",
        metavar="CMD",
        help="run CMD instead of supportlink-peer for the tuned pipeline (same options follow;"
        " to measure a change to the peer before it lands)",
    )
    parser.add_argument(
        "--links",
        default="open",
        help=f"comma-separated network profiles, in order (open; of {','.join(LINKS)})",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the process logs (kept on failure anyway)"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=0,
        help="abort the run after this many s (0: 1.5 x the planned time + 2 min)",
    )
    args = parser.parse_args(argv)
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.pipelines = [p for p in args.pipelines.split(",") if p]
    args.links = [name for name in args.links.split(",") if name]
    for name in args.links:
        if name not in LINKS:
            parser.error(f"unknown link {name!r}; choose from {', '.join(LINKS)}")
    for name in args.scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    for name in args.pipelines:
        if name not in PIPELINES:
            parser.error(f"unknown pipeline {name!r}; choose from {', '.join(PIPELINES)}")
    return args


def planned_s(args: argparse.Namespace) -> float:
    """About how long the run takes if every pipeline connects at the last moment."""
    seconds = {"still": args.idle + 1, "light": args.light, "heavy": args.heavy}
    per_phase = sum(seconds[s] + args.settle + 4 for s in args.scenarios)
    return float(len(args.links) * len(args.pipelines) * (35 + args.warmup + per_phase))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not args.time_limit:
        args.time_limit = 1.5 * planned_s(args) + 120
    problem = cannot_run("bench/latency.py")
    if problem is None and "novnc" in args.pipelines and novnc.missing() is not None:
        problem = f"the novnc pipeline needs {novnc.missing()} (or leave it out: --pipelines)"
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    started = time.monotonic()
    log = log_since(started)
    run = Run(conditions=conditions())
    c = run.conditions
    print(
        f"SupportLink glass-to-glass latency, 1920x1080 -- {c['date']}, {c['cpus']} x {c['cpu']},"
        f" load {c['load_before']}, {c['chromium']}, aiortc {c['aiortc']}, av {c['av']}"
    )
    load_before = all_ticks()
    shaping = any(LINKS[name].shaped for name in args.links)
    run.conditions["links"] = {}
    with rig(
        "latency", time_limit_s=args.time_limit, keep_logs=args.keep_logs, shaping=shaping
    ) as r:
        reader = (BENCH / "latency_reader.js").read_text()
        setup = Setup(
            r,
            args,
            [reader, (BENCH / "latency_probe.js").read_text()],
            [reader, (BENCH / "latency_novnc.js").read_text()],
        )
        setup.drawn_dir = r.work / "text-drawn"
        r.drawer.snapshots(code.SAMPLE_EVERY, setup.drawn_dir)
        for name in args.links:
            if r.shaper is not None:
                shaped = r.shaper.apply(LINKS[name])
            else:
                shaped = LINKS[name].describe()
            run.conditions["links"][name] = shaped
            setup.first_picture_s = 30.0 if LINKS[name].shaped else 20.0
            setup.tail_s = 2.5 if LINKS[name].shaped else 0.7
            log(f"link {name}: {shaped}")
            for pipeline in args.pipelines:
                run_pipeline(setup, pipeline, name, run, log)
        if r.shaper is not None:
            r.shaper.clear()
        note_other_load(run.conditions, r, load_before, started)
    print_links(run)
    print_tables(run)
    print_build_up(run)
    print_goals(run)
    print_run_end(run.conditions, started)
    if args.json is not None:
        args.json.write_text(
            json.dumps({"conditions": run.conditions, "phases": [asdict(p) for p in run.phases]})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
