"""What the end-to-end benchmarks (``latency.py``, ``input.py``) share: the rig they run on and
what they measure with.

    with rig("latency", time_limit_s=600) as r:     # netns, Xvfb, screen client, server, Chromium
        with r.console(init_script) as console:      # a fresh browser context, a Console on it
            peer = console.connect(r.start_peer, allow=("view",))
            ...
            end_peer(peer)

Everything runs inside a network namespace of the run's own, removed at the end (also on
failure or timeout); the logs are kept on failure. Also here: ``Drawer`` (the screen client
``latency_screen.py``), CPU use per process group from /proc (``cpu_snapshot`` /
``cpu_percent``, ``other_load``), percentiles (``pct``, ``fmt``), ``conditions()`` of the
machine and ``time_limit``.

The scripts put the repository root on ``sys.path`` before importing this module.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import latency_code as code

from tests.e2e.browser import chromium
from tests.e2e.console import Console
from tests.e2e.netns import NetNS, remove_stale
from tests.e2e.procs import Proc, Procs
from tests.e2e.screen import Screen, start_xvfb
from tests.e2e.services import Server, child_env, start_peer, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

BENCH = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchTimeout(Exception):
    """The whole run took longer than --time-limit."""


def cannot_run(script: str) -> str | None:
    """Why ``script`` cannot run here (root, tools), or None."""
    if os.geteuid() != 0:
        return f"{script} needs root (it makes a network namespace)"
    missing = [t for t in ("ip", "Xvfb", "chromium") if shutil.which(t) is None]
    if missing:
        return f"{script} needs {', '.join(missing)}"
    return None


def log_since(started: float) -> Callable[[str], None]:
    """A progress logger stamping each line with the seconds since ``started``."""

    def log(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)

    return log


# ---------------------------------------------------------------------------- X clients


class BenchClient:
    """A Python script of the benchmark's own, run inside the namespace on the rig's screen,
    talking on its stdin/stdout; stderr goes to ``log_path``."""

    def __init__(
        self, ns: NetNS, screen: Screen, script_args: Sequence[str], log_path: Path
    ) -> None:
        self._log = log_path.open("w")
        self.popen = subprocess.Popen(
            ns.argv([sys.executable, *script_args]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=child_env(DISPLAY=screen.display),
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def close(self) -> None:
        try:
            if self.popen.poll() is None and self.popen.stdin is not None:
                self.popen.stdin.write("quit\n")
                self.popen.stdin.close()
            self.popen.wait(3)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(3)
        self._log.close()


class Drawer(BenchClient):
    """``latency_screen.py`` inside the namespace; collects the (counter, time) it reports."""

    def __init__(self, ns: NetNS, screen: Screen, log_path: Path, seed: int) -> None:
        script = [str(BENCH / "latency_screen.py"), screen.display, str(seed)]
        super().__init__(ns, screen, script, log_path)
        self.draws: list[tuple[int, float]] = []
        self._events: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._wait_event("ready", 15)

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            parts = line.split()
            with self._cond:
                if parts and parts[0] == "d":
                    self.draws.append((int(parts[1]) % code.MODULO, float(parts[2])))
                else:
                    self._events.append(line.strip())
                    self._log.write(line)
                    self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _wait_event(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, event in enumerate(self._events):
                    if event.startswith(prefix):
                        del self._events[: i + 1]
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self.popen.poll() is not None:
                    raise RuntimeError(f"screen client did not say {prefix!r}: {self._events}")
                self._cond.wait(min(left, 0.2))

    def mode(self, name: str) -> float:
        assert self.popen.stdin is not None
        self.popen.stdin.write(name + "\n")
        self.popen.stdin.flush()
        return float(self._wait_event(f"mode {name}", 10).split()[2])

    def between(self, t0: float, t1: float) -> list[tuple[int, float]]:
        with self._cond:
            return [(c, t) for c, t in self.draws if t0 <= t < t1]


# ---------------------------------------------------------------------------- the rig


@dataclass
class Rig:
    work: Path
    ns: NetNS
    procs: Procs
    screen: Screen
    server: Server
    drawer: Drawer
    browser: Browser

    def start_peer(self, session_code: str, **options: Any) -> Proc:
        """``supportlink-peer`` on the rig's screen (options as ``services.start_peer``)."""
        return start_peer(self.procs, self.ns, self.screen, self.server, session_code, **options)

    def start(self, name: str, command: Sequence[str]) -> Proc:
        """Any command inside the namespace, on the rig's screen."""
        return self.procs.start(
            name, self.ns.argv(list(command)), env=child_env(DISPLAY=self.screen.display)
        )

    @contextmanager
    def console(self, init_script: str, *, bypass_csp: bool = False) -> Iterator[Console]:
        """The operator console in a fresh browser context running ``init_script`` first
        (``bypass_csp``: the script may load code of its own, such as an audio worklet)."""
        context = self.browser.new_context(
            viewport={"width": 1280, "height": 800}, bypass_csp=bypass_csp
        )
        context.add_init_script(init_script)
        try:
            yield Console(context.new_page(), self.server)
        finally:
            context.close()


@contextmanager
def rig(
    name: str,
    *,
    time_limit_s: float,
    keep_logs: bool = False,
    browser_args: Callable[[Server], list[str]] | None = None,
) -> Iterator[Rig]:
    """Xvfb 1920x1080 with the screen client, ``supportlink serve`` and headless Chromium in a
    new network namespace; all of it stopped and removed at the end. The whole ``with`` block
    is aborted with ``BenchTimeout`` after ``time_limit_s``. ``browser_args``: more Chromium
    flags, given the server (a fake microphone's file, an origin to treat as secure)."""
    remove_stale()
    work = Path(tempfile.mkdtemp(prefix=f"sl-{name}-"))
    procs = Procs(work)
    ns = NetNS.create()
    drawer: Drawer | None = None
    failed = True
    try:
        with time_limit(time_limit_s):
            screen = start_xvfb(procs, ns)
            drawer = Drawer(ns, screen, work / "screen-client.log", seed=1)
            server = start_server(procs, ns, work / "server-data")
            extra = browser_args(server) if browser_args is not None else None
            with chromium(ns, work / "chromium", extra) as browser:
                yield Rig(work, ns, procs, screen, server, drawer, browser)
        failed = False
    finally:
        if drawer is not None:
            drawer.close()
        procs.stop_all()
        ns.destroy()
        if failed or keep_logs:
            print(f"logs: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def end_peer(peer: Proc) -> None:
    """SIGTERM, as a customer closing it; killed if it has not exited within 15 s."""
    peer.signal(signal.SIGTERM)
    try:
        peer.wait_exit(15)
    except AssertionError:
        peer.stop()


def wait_for_picture(page: Page) -> None:
    """Until the console's video has a size (a first frame arrived)."""
    page.wait_for_function(
        "() => { const v = document.querySelector('video#remote-video');"
        " return v && v.videoWidth > 0 }",
        timeout=20_000,
    )


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expired(signum: int, frame: Any) -> None:
        raise BenchTimeout(f"the run took longer than {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------- CPU


def cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime, all threads


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def all_ticks() -> dict[int, int]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ticks = cpu_ticks(int(entry.name))
            if ticks is not None:
                out[int(entry.name)] = ticks
    return out


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def other_load(
    before: dict[int, int], after: dict[int, int], ours: set[int], seconds: float
) -> list[str]:
    """What else used more than 5 % of a core during the run (other people's work; processes
    that ended before the run did are not seen)."""
    lines = []
    for pid, ticks in after.items():
        if pid in ours:
            continue
        percent = 100.0 * (ticks - before.get(pid, 0)) / CLK_TCK / seconds
        if percent >= 5:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (FileNotFoundError, ProcessLookupError):
                cmd = comm(pid)
            lines.append(f"{percent:5.0f} %  pid {pid}: {cmd.strip()[:70]}")
    return sorted(lines, reverse=True)


def note_other_load(
    conditions: dict[str, Any], r: Rig, before: dict[int, int], started: float
) -> None:
    """At the end of a run, still inside ``rig()``: what else the machine did meanwhile."""
    ours = descendants(os.getpid()) | set(r.ns.pids())
    conditions["other_load"] = other_load(before, all_ticks(), ours, time.monotonic() - started)


def print_run_end(conditions: dict[str, Any], started: float) -> None:
    """How long the run took, the load average around it and what else ran (``conditions``
    gets ``load_after`` and ``seconds`` too)."""
    conditions["load_after"] = [round(v, 2) for v in os.getloadavg()]
    conditions["seconds"] = round(time.monotonic() - started, 1)
    print(
        f"\nrun took {conditions['seconds']} s; load average before"
        f" {conditions['load_before']}, after {conditions['load_after']}"
    )
    print("other processes over 5 % of a core during the run (not this benchmark's):")
    for line in conditions.get("other_load") or ["(none)"]:
        print(f"  {line}")


@dataclass
class CpuSnapshot:
    at: float
    ticks: dict[str, dict[int, int]]
    machine: tuple[int, int]


def cpu_snapshot(groups: dict[str, list[int]]) -> CpuSnapshot:
    ticks: dict[str, dict[int, int]] = {}
    for name, pids in groups.items():
        ticks[name] = {}
        for pid in pids:
            value = cpu_ticks(pid)
            if value is not None:
                ticks[name][pid] = value
    return CpuSnapshot(time.monotonic(), ticks, machine_ticks())


def cpu_percent(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """% of one core per group over the interval, and the machine's busy % of all cores."""
    seconds = after.at - before.at
    out: dict[str, float] = {}
    for name, ticks in after.ticks.items():
        used = sum(t - before.ticks.get(name, {}).get(pid, t) for pid, t in ticks.items())
        out[name] = 100.0 * used / CLK_TCK / seconds
    busy = after.machine[0] - before.machine[0]
    total = after.machine[1] - before.machine[1]
    out["machine"] = 100.0 * busy / total if total else 0.0
    return out


# ---------------------------------------------------------------------------- results


def page_clock_offset(page: Page, samples: int = 20) -> float:
    """The page's epoch clock (``performance.timeOrigin + performance.now()``) minus
    ``time.time()``, in s, from the fastest of ``samples`` round trips."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time()
        page_ms = float(page.evaluate("() => performance.timeOrigin + performance.now()"))
        after = time.time()
        if best is None or after - before < best[1]:
            best = (page_ms / 1000 - (before + after) / 2, after - before)
    assert best is not None
    return best[0]


def delta(after: dict[str, Any], before: dict[str, Any], key: str) -> float:
    """How much a counter of two statistics samples (getStats) grew; 0 if either lacks it."""
    a, b = after.get(key), before.get(key)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a - b)
    return 0.0


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # NaN -> "-"


def conditions() -> dict[str, Any]:
    load = os.getloadavg()
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    try:
        chromium = subprocess.run(
            ["chromium", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        chromium = "?"
    import aiortc
    import av

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpus": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "load_before": [round(v, 2) for v in load],
        "chromium": chromium,
        "aiortc": aiortc.__version__,
        "av": av.__version__,
        "python": platform.python_version(),
    }
