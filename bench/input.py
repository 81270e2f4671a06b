"""Input latency: the operator's key or click in the console -> the event at the customer's X
client, with the screen idle and while heavy 1080p content streams.

Everything runs inside a network namespace of this run's own (removed at the end, also on
failure or timeout): Xvfb 1920x1080, ``supportlink serve``, the customer peer with control
allowed, headless Chromium with the operator console (logged in, accepting, taking control
through its UI). Two X clients of the benchmark's own:

* ``latency_screen.py`` (``rig.Drawer``, as in ``bench/latency.py``) covers the screen: a still
  document, or text scrolling over the whole screen at 60 Hz (``heavy``) so the peer encodes
  1080p flat out;
* ``input_client.py``, a small python-xlib window on top with the keyboard focus, stamps each
  KeyPress and ButtonPress with ``time.time()`` when it reaches the client.

In the page a capture-phase listener (added before the console's own) stamps each keydown and
pointerdown with ``performance.timeOrigin + performance.now()``; the page clock is mapped onto
``time.time()`` by the lowest-round-trip of several samples before and after each phase.
Playwright's ``keyboard.press`` and ``mouse.click`` make the events (trusted, through CDP), one
every 40-80 ms at random, keys and clicks alternating. Latency = arrival at the X client - the
page's stamp: the console's handler, the data channel, the peer (SCTP, parsing, the input core,
the injection thread, XTEST) and the X server.

With ``--links`` (``rig.LINKS``: open, 512k, 2m, loss2) the console phases run once per network
profile, shaped between the browser and the peer as in ``bench/latency.py`` (``rig.Shaper``),
on the same session: the profile changes between phases.

For comparison, in the same run: the bare injection (``peer.inject.Injector.perform`` called
here, no browser and no network), stamped just before the call, idle and heavy.

Goal (issue: remote control): while streaming, p50 <= 5 ms and p99 <= 20 ms.

    sudo .venv/bin/python bench/input.py [--events 200] [--links open,512k] [--json out.json]
    sudo .venv/bin/python bench/input.py --profile heavy.svg [--profile-gil]   # needs py-spy

``--profile`` samples the peer with py-spy (not pausing it) during the heavy console phase;
with ``--profile-gil`` only threads holding the GIL are sampled, which shows who makes the
event loop and the injection thread wait.

Needs root (network namespace), Xvfb and chromium. Exits 0 whether or not the goal is met.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from rig import (  # noqa: E402
    LINKS,
    BenchClient,
    cannot_run,
    comm,
    conditions,
    cpu_percent,
    cpu_snapshot,
    end_peer,
    fmt,
    log_since,
    pct,
    rig,
    wait_for_picture,
)

from tests.e2e.console import Console  # noqa: E402
from tests.e2e.netns import NetNS  # noqa: E402
from tests.e2e.remote_helpers import picture_point  # noqa: E402
from tests.e2e.screen import Screen  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

GOAL_P50_MS = 5.0
GOAL_P99_MS = 20.0
#: The receiving window on the 1920x1080 screen: small, so the heavy content fills the rest.
CLIENT = (1500, 40, 360, 200)
#: Its centre, as fractions of the screen.
CLIENT_CENTRE = ((CLIENT[0] + CLIENT[2] / 2) / 1920, (CLIENT[1] + CLIENT[3] / 2) / 1080)
KEYS = "asdfghjklqwertyuiopzxcvbnm"

# Stamps the operator's input events before the console sees them.
_PROBE = """(() => {
    const events = [];
    const origin = performance.timeOrigin;
    const record = (kind, what, e) =>
        events.push([kind, String(what), origin + performance.now(), origin + e.timeStamp]);
    window.addEventListener("keydown", (e) => record("k", e.key, e), {capture: true});
    window.addEventListener("pointerdown", (e) => record("b", e.button, e), {capture: true});
    window.__inputProbe = {
        take: () => events.splice(0),
        now: () => origin + performance.now(),
        frames: () => {
            const v = document.querySelector("video#remote-video");
            return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames
                : -1;
        },
    };
})();"""

# ---------------------------------------------------------------------------- the X client


class Receiver(BenchClient):
    """``input_client.py`` inside the namespace; collects what it stamps."""

    def __init__(self, ns: NetNS, screen: Screen, log_path: Path) -> None:
        script = [str(BENCH / "input_client.py"), screen.display, *map(str, CLIENT)]
        super().__init__(ns, screen, script, log_path)
        self.keys: list[tuple[int, float]] = []  # (keycode, arrival)
        self.buttons: list[tuple[int, float]] = []  # (button, arrival)
        self._ready = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(15):
            raise RuntimeError("input_client.py did not start")

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            parts = line.split()
            with self._lock:
                if parts[:1] == ["k"]:
                    self.keys.append((int(parts[1]), float(parts[2])))
                elif parts[:1] == ["b"]:
                    self.buttons.append((int(parts[1]), float(parts[4])))
                elif parts[:1] == ["ready"]:
                    self._ready.set()

    def take(self) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        with self._lock:
            keys, self.keys = self.keys, []
            buttons, self.buttons = self.buttons, []
        return keys, buttons


# ---------------------------------------------------------------------------- results


@dataclass
class Phase:
    name: str  # "console idle", "console heavy", "bare idle", "bare heavy"
    screen: str
    path: str
    sent: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)  # "key", "click"
    queued_ms: list[float] = field(default_factory=list)  # event timeStamp -> our listener
    fps: float = float("nan")
    cpu: dict[str, float] = field(default_factory=dict)
    clock_rtt_ms: float = float("nan")
    clock_drift_ms: float = float("nan")
    link: str = "open"  # network profile of the console path (rig.LINKS)

    def all_ms(self) -> list[float]:
        return [v for values in self.latency_ms.values() for v in values]


def match(
    sent: list[tuple[int, float]], arrived: list[tuple[int, float]], window: float = 2.0
) -> list[float]:
    """Latencies (ms) pairing each sent (what, t) with the next arrival of the same ``what``
    after it, in order; a sent event with no arrival within ``window`` s is lost."""
    out: list[float] = []
    j = 0
    for what, t in sent:
        k = j
        while k < len(arrived) and not (arrived[k][0] == what and arrived[k][1] >= t - 0.002):
            if arrived[k][1] > t + window:
                break
            k += 1
        if k < len(arrived) and arrived[k][0] == what and arrived[k][1] - t <= window:
            out.append((arrived[k][1] - t) * 1000)
            j = k + 1
    return out


# ---------------------------------------------------------------------------- the page


def clock_offset(page: Page, samples: int = 20) -> tuple[float, float]:
    """(page epoch clock - time.time(), round trip), both in s, from the fastest round trip."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time()
        page_ms = float(page.evaluate("() => window.__inputProbe.now()"))
        after = time.time()
        if best is None or after - before < best[1]:
            best = (page_ms / 1000 - (before + after) / 2, after - before)
    assert best is not None
    return best


def console_phase(
    console: Console,
    receiver: Receiver,
    keycode: dict[str, int],
    phase: Phase,
    events: int,
    log: Any,
) -> None:
    rng = random.Random(7)
    page = console.page
    px, py = picture_point(console, *CLIENT_CENTRE)
    page.evaluate("() => window.__inputProbe.take()")
    receiver.take()
    offset_before, rtt_before = clock_offset(page)
    frames_before, t0 = int(page.evaluate("() => window.__inputProbe.frames()")), time.time()
    for i in range(events):
        if i % 2 == 0:
            page.keyboard.press(KEYS[(i // 2) % len(KEYS)])
        else:
            page.mouse.click(px + rng.uniform(-20, 20), py + rng.uniform(-10, 10))
        time.sleep(rng.uniform(0.040, 0.080))
    frames_after, t1 = int(page.evaluate("() => window.__inputProbe.frames()")), time.time()
    time.sleep(0.5)  # the last ones are on their way
    offset_after, rtt_after = clock_offset(page)
    offset = (offset_before + offset_after) / 2
    phase.clock_rtt_ms = max(rtt_before, rtt_after) * 1000
    phase.clock_drift_ms = (offset_after - offset_before) * 1000
    phase.fps = (frames_after - frames_before) / (t1 - t0)
    records = page.evaluate("() => window.__inputProbe.take()")
    keys, buttons = receiver.take()
    sent_keys = [(keycode[r[1]], r[2] / 1000 - offset) for r in records if r[0] == "k"]
    sent_clicks = [(1, r[2] / 1000 - offset) for r in records if r[0] == "b" and r[1] == "0"]
    phase.queued_ms = [r[2] - r[3] for r in records]
    phase.sent = {"key": len(sent_keys), "click": len(sent_clicks)}
    phase.latency_ms = {"key": match(sent_keys, keys), "click": match(sent_clicks, buttons)}
    log(f"{phase.name}: {summary(phase)}")


def bare_phase(receiver: Receiver, phase: Phase, events: int, log: Any) -> None:
    """peer.inject.Injector driven from here: the cost of XTEST and the X server alone."""
    from peer import keys as peer_keys
    from peer.inject import Injector
    from peer.remote_input import Button, KeyAction, MoveTo

    rng = random.Random(11)
    x, y = CLIENT[0] + CLIENT[2] // 2, CLIENT[1] + CLIENT[3] // 2
    with Injector() as injector:
        injector.perform([MoveTo(x, y)])
        receiver.take()
        sent_keys: list[tuple[int, float]] = []
        sent_clicks: list[tuple[int, float]] = []
        keymap = injector._keymap  # which keycode a key goes down on, as the injector sees
        for i in range(events):
            if i % 2 == 0:
                sym = peer_keys.char_keysym(KEYS[(i // 2) % len(KEYS)])
                assert sym is not None
                code = keymap.lookup(sym, shift=False, level3=False)
                assert code is not None
                t = time.time()
                injector.perform([KeyAction(sym, True)])
                sent_keys.append((code, t))
                injector.perform([KeyAction(sym, False)])
            else:
                t = time.time()
                injector.perform([MoveTo(x, y), Button("left", True)])
                sent_clicks.append((1, t))
                injector.perform([Button("left", False)])
            time.sleep(rng.uniform(0.010, 0.030))
        time.sleep(0.3)
    keys, buttons = receiver.take()
    phase.sent = {"key": len(sent_keys), "click": len(sent_clicks)}
    phase.latency_ms = {"key": match(sent_keys, keys), "click": match(sent_clicks, buttons)}
    log(f"{phase.name}: {summary(phase)}")


# ---------------------------------------------------------------------------- printing


def summary(phase: Phase) -> str:
    values = phase.all_ms()
    got = sum(len(v) for v in phase.latency_ms.values())
    return (
        f"p50 {fmt(pct(values, 50), 2)} p95 {fmt(pct(values, 95), 2)}"
        f" p99 {fmt(pct(values, 99), 2)} ms, arrived {got}/{sum(phase.sent.values())}"
    )


def print_table(phases: list[Phase]) -> None:
    print()
    print(
        f"{'link':<6} {'path':<8} {'screen':<7} {'event':<6} {'n':>9} {'min ms':>7} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'video fps':>9} {'peer %':>7} "
        f"{'machine %':>9}"
    )
    for phase in phases:
        for kind in ("key", "click", "all"):
            values = phase.all_ms() if kind == "all" else phase.latency_ms.get(kind, [])
            sent = sum(phase.sent.values()) if kind == "all" else phase.sent.get(kind, 0)
            n = f"{len(values)}/{sent}"
            extra = ""
            if kind == "all":
                fps = fmt(phase.fps) if phase.path == "console" else "-"
                peer = fmt(phase.cpu["peer"], 0) if "peer" in phase.cpu else "-"
                machine = fmt(phase.cpu["machine"], 0) if "machine" in phase.cpu else "-"
                extra = f" {fps:>9} {peer:>7} {machine:>9}"
            link = phase.link if phase.path == "console" else "-"
            print(
                f"{link:<6} {phase.path:<8} {phase.screen:<7} {kind:<6} {n:>9} "
                f"{fmt(pct(values, 0), 2):>7} "
                f"{fmt(pct(values, 50), 2):>7} "
                f"{fmt(pct(values, 95), 2):>7} {fmt(pct(values, 99), 2):>7} "
                f"{fmt(max(values) if values else float('nan'), 2):>7}{extra}"
            )
    print(
        "  console: page keydown/pointerdown listener -> KeyPress/ButtonPress at the X client"
        " (console, data channel,\n  peer, XTEST, X server); bare: Injector.perform() called"
        " here -> the X client (XTEST, X server).\n  n: arrived/sent; video fps: frames the"
        " console presented; peer %: the peer process, % of one core."
    )
    console = [p for p in phases if p.path == "console"]
    if console:
        queued = [v for p in console for v in p.queued_ms]
        rtt = max(p.clock_rtt_ms for p in console)
        drift = max(abs(p.clock_drift_ms) for p in console)
        print(
            f"  page clock mapped to time.time() within +-{rtt / 2:.2f} ms (round trip"
            f" {rtt:.2f} ms, drift over a phase <= {drift:.2f} ms); Chromium's own input"
            f" queue before the listener: p50 {fmt(pct(queued, 50), 2)} ms (not counted)."
        )


def print_goals(phases: list[Phase]) -> None:
    print()
    print("goal (console path while streaming heavy 1080p):")
    heavy = next(
        (p for p in phases if (p.path, p.screen, p.link) == ("console", "heavy", "open")), None
    )
    if heavy is None or not heavy.all_ms():
        print("  (no heavy console phase on the open link)")
        return
    values = heavy.all_ms()

    def verdict(ok: bool) -> str:
        return "met   " if ok else "MISSED"

    p50, p99 = pct(values, 50), pct(values, 99)
    print(f"  {verdict(p50 <= GOAL_P50_MS)} p50 <= {GOAL_P50_MS:.0f} ms: {p50:.2f} ms")
    print(f"  {verdict(p99 <= GOAL_P99_MS)} p99 <= {GOAL_P99_MS:.0f} ms: {p99:.2f} ms")
    lost = sum(heavy.sent.values()) - len(values)
    print(f"  {verdict(lost == 0)} nothing lost: {lost} of {sum(heavy.sent.values())}")


# ---------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--events", type=int, default=200, help="events per console phase, keys and clicks (200)"
    )
    parser.add_argument(
        "--bare-events", type=int, default=200, help="events per bare injection phase (200)"
    )
    parser.add_argument(
        "--settle", type=float, default=3, help="seconds after switching the screen (3)"
    )
    parser.add_argument(
        "--peer-args",
        default="",
        metavar="ARGS",
        help="extra supportlink-peer options, e.g. '--codec h264'",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="SVG",
        help="record the peer with py-spy (if installed) during the heavy console phase",
    )
    parser.add_argument(
        "--profile-gil",
        action="store_true",
        help="with --profile: only samples of threads holding the GIL (who makes others wait)",
    )
    parser.add_argument(
        "--links",
        default="open",
        help="comma-separated network profiles for the console phases, in order"
        f" (open; of {','.join(LINKS)}; rig.Shaper)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument(
        "--time-limit", type=float, default=300, help="abort the run after this many s (300)"
    )
    args = parser.parse_args(argv)
    args.links = [name for name in args.links.split(",") if name]
    for name in args.links:
        if name not in LINKS:
            parser.error(f"unknown link {name!r}; choose from {', '.join(LINKS)}")
    return args


def start_profile(pid: int, seconds: float, out: Path, gil: bool) -> subprocess.Popen[bytes] | None:
    """py-spy on the peer, without pausing it (``--nonblocking``: the figures stay honest)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("py-spy is not installed (pip install py-spy): no profile", file=sys.stderr)
        return None
    command = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds) + 1)]
    command += ["--threads", "--nonblocking", "--rate", "250", "--output", str(out)]
    if gil:
        command.append("--gil")
    if out.suffix != ".svg":
        command += ["--format", "raw"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = cannot_run("bench/input.py")
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    started = time.monotonic()
    log = log_since(started)
    run_conditions = conditions()
    c = run_conditions
    print(
        f"SupportLink input latency, console -> X client, 1920x1080 -- {c['date']}, {c['cpus']} x"
        f" {c['cpu']}, load {c['load_before']}, {c['chromium']}, aiortc {c['aiortc']}"
    )
    phases: list[Phase] = []
    shaping = any(LINKS[name].shaped for name in args.links)
    with rig("input", time_limit_s=args.time_limit, shaping=shaping) as r:
        receiver = Receiver(r.ns, r.screen, r.work / "input-client.log")
        try:
            os.environ["DISPLAY"] = r.screen.display  # for the bare injector, in this process
            import Xlib.display

            xd = Xlib.display.Display(r.screen.display)
            keycode = {k: xd.keysym_to_keycode(ord(k)) for k in KEYS}
            xd.close()
            with r.console(_PROBE) as console:
                page = console.page
                peer = console.connect(
                    r.start_peer,
                    allow=("view", "control"),
                    extra_args=shlex.split(args.peer_args),
                )
                take_control(page)
                log(f"connected ({console.status()}), peer pid {peer.pid} ({comm(peer.pid)})")
                # a first click gives the picture the keyboard
                page.mouse.click(*picture_point(console, *CLIENT_CENTRE))
                groups = {"peer": [peer.pid]}
                for link in args.links:
                    if r.shaper is not None:
                        r.drawer.mode("still")  # the link's queue drains before it is probed
                        time.sleep(args.settle)
                        shaped = r.shaper.apply(LINKS[link])
                        log(f"link {link}: {shaped}")
                        run_conditions.setdefault("links", {})[link] = shaped
                    for screen_mode in ("still", "heavy"):
                        label = "idle" if screen_mode == "still" else "heavy"
                        r.drawer.mode(screen_mode)
                        time.sleep(args.settle)
                        # the bare injection does not cross the network: once, on the first
                        paths = ("console", "bare") if link == args.links[0] else ("console",)
                        for path in paths:
                            phase = Phase(f"{path} {label}", label, path, link=link)
                            spy = None
                            if args.profile and path == "console" and label == "heavy":
                                spy = start_profile(
                                    peer.pid, args.events * 0.075, args.profile, args.profile_gil
                                )
                            before = cpu_snapshot(groups)
                            if path == "console":
                                console_phase(console, receiver, keycode, phase, args.events, log)
                            else:
                                bare_phase(receiver, phase, args.bare_events, log)
                            phase.cpu = cpu_percent(before, cpu_snapshot(groups))
                            if spy is not None:
                                spy.wait(30)
                            phases.append(phase)
                r.drawer.mode("still")
                end_peer(peer)
                for line in peer.lines:
                    if line.startswith("input:"):
                        log(f"peer says {line}")
        finally:
            receiver.close()
    run_conditions["load_after"] = [round(v, 2) for v in os.getloadavg()]
    run_conditions["seconds"] = round(time.monotonic() - started, 1)
    for link, shaped in run_conditions.get("links", {}).items():
        print(f"link {link}: {shaped}")
    print_table(phases)
    print_goals(phases)
    print(
        f"\nrun took {run_conditions['seconds']} s; load average before"
        f" {run_conditions['load_before']}, after {run_conditions['load_after']};"
        f" peer options: {args.peer_args or '(defaults)'}"
    )
    if args.json is not None:
        args.json.write_text(
            json.dumps({"conditions": run_conditions, "phases": [asdict(p) for p in phases]})
        )
    return 0


def take_control(page: Page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#control-state")).to_contain_text("You have control", timeout=15_000)
    expect(page.locator("#log")).to_contain_text("input channel open", timeout=10_000)
    wait_for_picture(page)


if __name__ == "__main__":
    sys.exit(main())
