"""Glass-to-glass latency: a change on the customer's screen -> the frame shown in the console.

Everything runs inside a network namespace of this run's own (removed at the end, also on
failure or timeout): Xvfb 1920x1080, ``supportlink serve``, the customer peer, headless
Chromium with the operator console (logged in and accepting through its UI).

An X client of the benchmark (``latency_screen.py``) draws a frame counter as a row of
black/white blocks with a CRC (``latency_code.py``) and records the monotonic time each value
reached the X server. In the page, ``requestVideoFrameCallback`` reads the counter out of
every presented frame (``latency_probe.js``); the page clock is mapped to the same monotonic
clock by the lowest-round-trip of several ``performance.now()`` samples. Latency of a counter
value = its first expected display time in the page - the time it was drawn.

Scenarios (each pipeline, in this order):
  still   nothing changes for --idle s: sender CPU and kbit/s
  light   counter every 40-75 ms at random phase + 10 typed characters/s (small dirty area)
  heavy   full-screen text scrolling at 60 Hz with a new counter value every frame

Pipelines, through the same server, console and browser:
  tuned   ``supportlink-peer`` as shipped (screen capture track and screen encoders)
  naive   ``naive_peer.py``: aiortc's stock VP8 (500 kbit/s) and a from_ndarray capture

Goals (issue: first session), on a 2-core machine: light p50 <= 30 ms and p95 <= 60 ms;
heavy >= 30 fps; still <= 3 % of a core and ~0 kbit/s; latency >= 1.5x better than naive.

    sudo .venv/bin/python bench/latency.py [--light 20 --heavy 20 --idle 10] [--json out.json]

Needs root (network namespace), Xvfb and chromium. Exits 0 whether or not the goals are met.
"""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import latency_code as code  # noqa: E402
from rig import (  # noqa: E402
    Rig,
    all_ticks,
    cannot_run,
    comm,
    conditions,
    cpu_percent,
    cpu_snapshot,
    delta,
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

PIPELINES = ("tuned", "naive")
SCENARIOS = ("still", "light", "heavy")
LAYOUT = {
    "screenWidth": code.SCREEN_W,
    "block": code.BLOCK,
    "x0": code.X0,
    "y0": code.Y0,
    "blocks": code.BLOCKS,
    "dataBits": code.DATA_BITS,
    "checkBits": code.CHECK_BITS,
}

# Goals of the issue.
LIGHT_P50_MS = 30.0
LIGHT_P95_MS = 60.0
HEAVY_FPS = 30.0
STILL_CPU_PCT = 3.0
STILL_KBPS = 5.0  # "about zero": RTCP and a once-a-second refresh of an unchanged frame
SPEEDUP = 1.5


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

    def p(self, q: float) -> float:
        return pct(self.latency_ms, q)


@dataclass
class Run:
    phases: list[Phase] = field(default_factory=list)
    conditions: dict[str, Any] = field(default_factory=dict)

    def get(self, scenario: str, pipeline: str) -> Phase | None:
        for phase in self.phases:
            if phase.scenario == scenario and phase.pipeline == pipeline:
                return phase
        return None


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
        if seen[3] >= 0:
            received = seen[3] / 1000 - offset
            phase.to_receive_ms.append((received - drawn) * 1000)
            phase.receive_to_display_ms.append(seen[1] - seen[3])
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
    probe: str


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


def run_pipeline(setup: Setup, pipeline: str, run: Run, log: Any) -> None:
    args, r = setup.args, setup.rig
    with r.console(setup.probe) as console:
        page = console.page
        r.drawer.mode("light")
        peer = console.connect(functools.partial(start_pipeline_peer, setup, pipeline))
        wait_for_picture(page)
        if not page.evaluate("(layout) => window.__latency.start(layout)", LAYOUT):
            raise RuntimeError("the page has no requestVideoFrameCallback")
        log(f"{pipeline}: connected ({console.status()}), peer pid {peer.pid} ({comm(peer.pid)})")
        time.sleep(args.warmup)
        groups = {
            "sender": [peer.pid],
            "xvfb": [r.screen.xvfb.pid],
            "screen client": [r.drawer.pid],
            "browser": [p for p in r.ns.pids() if comm(p).startswith(("chromium", "chrome"))],
        }
        for scenario in args.scenarios:
            seconds = {"still": args.idle, "light": args.light, "heavy": args.heavy}[scenario]
            phase = Phase(scenario, pipeline, seconds)
            r.drawer.mode(scenario)
            time.sleep(args.settle + (1.0 if scenario == "still" else 0.0))
            page.evaluate("() => window.__latency.take()")
            offset_before, rtt_before = clock_offset(page)
            stats_before = page_stats(page)
            cpu_before = cpu_snapshot(groups)
            t0 = time.monotonic()
            time.sleep(seconds)
            t1 = time.monotonic()
            cpu_after = cpu_snapshot(groups)
            stats_after = page_stats(page)
            time.sleep(0.7)  # values drawn just before t1 are still on their way
            records = page.evaluate("() => window.__latency.take()")
            offset_after, rtt_after = clock_offset(page)
            offset = (offset_before + offset_after) / 2
            phase.clock_rtt_ms = max(rtt_before, rtt_after) * 1000
            phase.clock_drift_ms = (offset_after - offset_before) * 1000
            phase.cpu = cpu_percent(cpu_before, cpu_after)
            apply_stats(phase, stats_before, stats_after)
            analyse(phase, r.drawer.between(t0, t1), records, offset, t0, t1)
            run.phases.append(phase)
            log(f"{pipeline} {scenario}: {summary_line(phase)}")
        r.drawer.mode("still")
        end_peer(peer)


# ---------------------------------------------------------------------------- printing


def summary_line(phase: Phase) -> str:
    return (
        f"p50 {fmt(phase.p(50))} p95 {fmt(phase.p(95))} ms, {phase.fps:.1f} fps, "
        f"sender {phase.cpu.get('sender', 0):.1f} %, {phase.kbps:.0f} kbit/s, "
        f"shown {phase.shown}/{phase.drawn}"
    )


def print_tables(run: Run) -> None:
    print()
    print(
        f"{'scenario':<8} {'pipeline':<8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'fps':>5} {'new/s':>6} {'shown':>11} {'lost':>5} {'sender %':>9} {'kbit/s':>7}"
    )
    for phase in run.phases:
        shown = f"{phase.shown}/{phase.drawn}" if phase.drawn else "-"
        lost = phase.dropped + phase.packets_lost
        print(
            f"{phase.scenario:<8} {phase.pipeline:<8} {fmt(phase.p(50)):>7} "
            f"{fmt(phase.p(95)):>7} {fmt(phase.p(99)):>7} {phase.fps:>5.1f} "
            f"{phase.new_fps:>6.1f} {shown:>11} {lost:>5.0f} "
            f"{phase.cpu.get('sender', 0):>9.1f} {phase.kbps:>7.0f}"
        )
    print(
        "  p50/p95/p99: presented - drawn, first presentation of each counter value;"
        " fps: frames presented/s;\n  new/s: presented frames with a new counter value;"
        " shown: counter values presented / drawn (heavy draws at 60 Hz);\n"
        "  lost: browser framesDropped + packetsLost; sender %: the peer process, % of one core."
    )
    print()
    print("where the time goes (medians, ms), and the rest of the machine (% of one core):")
    print(
        f"{'scenario':<8} {'pipeline':<8} {'draw>recv':>9} {'recv>disp':>9} {'jbuf':>5} "
        f"{'decode':>6} {'kf':>3} {'nack':>4} {'pli':>4} {'bad':>4} {'drawn/s':>7} "
        f"{'Xvfb':>5} {'client':>6} {'browser':>7} {'machine':>7}  decoder"
    )
    for phase in run.phases:
        print(
            f"{phase.scenario:<8} {phase.pipeline:<8} "
            f"{fmt(pct(phase.to_receive_ms, 50)):>9} "
            f"{fmt(pct(phase.receive_to_display_ms, 50)):>9} {fmt(phase.jitter_buffer_ms):>5} "
            f"{fmt(phase.decode_ms):>6} {phase.keyframes:>3.0f} {phase.nacks:>4.0f} "
            f"{phase.plis:>4.0f} {phase.undecodable + phase.misread:>4} "
            f"{phase.drawn_per_s:>7.1f} {phase.cpu.get('xvfb', 0):>5.0f} "
            f"{phase.cpu.get('screen client', 0):>6.0f} {phase.cpu.get('browser', 0):>7.0f} "
            f"{phase.cpu.get('machine', 0):>6.0f}%  {phase.decoder} {phase.size}"
        )
    print(
        "  draw>recv: drawn -> frame received by the browser (capture wait, grab, encode, send);"
        "\n  recv>disp: received -> expected display (jitter buffer, decode, render);"
        " jbuf/decode: getStats means;\n  kf: keyframes decoded; bad: undecodable or misread"
        " counters; machine: busy % of all cores."
    )


def print_goals(run: Run) -> None:
    print()
    print("goals (tuned pipeline):")

    def verdict(ok: bool) -> str:
        return "met   " if ok else "MISSED"

    light, heavy, still = run.get("light", "tuned"), run.get("heavy", "tuned"), None
    still = run.get("still", "tuned")
    if light is not None and light.latency_ms:
        print(
            f"  {verdict(light.p(50) <= LIGHT_P50_MS)} light p50 <= {LIGHT_P50_MS:.0f} ms:"
            f" {light.p(50):.1f} ms"
        )
        print(
            f"  {verdict(light.p(95) <= LIGHT_P95_MS)} light p95 <= {LIGHT_P95_MS:.0f} ms:"
            f" {light.p(95):.1f} ms"
        )
    if heavy is not None:
        print(
            f"  {verdict(heavy.fps >= HEAVY_FPS)} heavy >= {HEAVY_FPS:.0f} fps at 1080p:"
            f" {heavy.fps:.1f} fps presented ({heavy.new_fps:.1f} with a new counter value)"
        )
    if still is not None:
        sender = still.cpu.get("sender", 0.0)
        print(
            f"  {verdict(sender <= STILL_CPU_PCT)} still <= {STILL_CPU_PCT:.0f} % of a core:"
            f" {sender:.1f} %"
        )
        print(
            f"  {verdict(still.kbps <= STILL_KBPS)} still ~0 kbit/s (<= {STILL_KBPS:.0f}):"
            f" {still.kbps:.1f} kbit/s"
        )
    for scenario in ("light", "heavy"):
        tuned, naive = run.get(scenario, "tuned"), run.get(scenario, "naive")
        if tuned is None or naive is None or not tuned.latency_ms or not naive.latency_ms:
            continue
        for q in (50, 95):
            speedup = naive.p(q) / tuned.p(q)
            judged = scenario == "light"
            mark = verdict(speedup >= SPEEDUP) if judged else "(info)"
            print(
                f"  {mark} {scenario} p{q} >= {SPEEDUP}x better than naive: {speedup:.2f}x"
                f" ({naive.p(q):.1f} -> {tuned.p(q):.1f} ms)"
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
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the process logs (kept on failure anyway)"
    )
    parser.add_argument(
        "--time-limit", type=float, default=600, help="abort the run after this many s (600)"
    )
    args = parser.parse_args(argv)
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.pipelines = [p for p in args.pipelines.split(",") if p]
    for name in args.scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    for name in args.pipelines:
        if name not in PIPELINES:
            parser.error(f"unknown pipeline {name!r}; choose from {', '.join(PIPELINES)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = cannot_run("bench/latency.py")
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
    with rig("latency", time_limit_s=args.time_limit, keep_logs=args.keep_logs) as r:
        setup = Setup(r, args, (BENCH / "latency_probe.js").read_text())
        for pipeline in args.pipelines:
            run_pipeline(setup, pipeline, run, log)
        note_other_load(run.conditions, r, load_before, started)
    print_tables(run)
    print_goals(run)
    print_run_end(run.conditions, started)
    if args.json is not None:
        args.json.write_text(
            json.dumps({"conditions": run.conditions, "phases": [asdict(p) for p in run.phases]})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
