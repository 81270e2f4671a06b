"""What the end-to-end benchmarks (``latency.py``, ``input.py``) share: the rig they run on and
what they measure with.

    with rig("latency", time_limit_s=600) as r:     # netns, Xvfb, screen client, server, Chromium
        with r.console(init_script) as console:      # a fresh browser context, a Console on it
            peer = console.connect(r.start_peer, allow=("view",))
            ...
            end_peer(peer)

Everything runs inside a network namespace of the run's own, removed at the end (also on
failure or timeout); the logs are kept on failure. Also here: ``Drawer`` (the screen client
``latency_screen.py``), network profiles between the browser and the customer's side
(``LINKS``, ``Shaper``: ``rig(..., shaping=True)`` then ``r.shaper.apply(LINKS["512k"])``), CPU
use per process group from /proc (``cpu_snapshot`` / ``cpu_percent``, ``other_load``),
percentiles (``pct``, ``fmt``), ``conditions()`` of the machine and ``time_limit``.

The scripts put the repository root on ``sys.path`` before importing this module.
"""

from __future__ import annotations

import json
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

    def snapshots(self, every: int, directory: Path) -> None:
        """From now on keep the text region of every ``every``-th counter value in
        ``directory`` (``latency_screen.py``'s ``snap``)."""
        directory.mkdir(parents=True, exist_ok=True)
        assert self.popen.stdin is not None
        self.popen.stdin.write(f"snap {every} {directory}\n")
        self.popen.stdin.flush()
        self._wait_event("snap", 10)

    def between(self, t0: float, t1: float) -> list[tuple[int, float]]:
        with self._cond:
            return [(c, t) for c, t in self.draws if t0 <= t < t1]


# ---------------------------------------------------------------------------- links


@dataclass(frozen=True)
class Link:
    """A network profile for the path between the operator's browser and the customer's side."""

    name: str
    kbit_s: int | None = None  # each direction; None: not limited
    rtt_ms: float = 0.0  # added round trip, half in each direction
    loss_pct: float = 0.0  # random loss in each direction

    def __post_init__(self) -> None:
        if self.kbit_s is not None and self.kbit_s <= 0:
            raise ValueError(f"{self.name}: rate {self.kbit_s} kbit/s")
        if self.rtt_ms < 0 or not 0 <= self.loss_pct < 100:
            raise ValueError(f"{self.name}: rtt {self.rtt_ms} ms, loss {self.loss_pct} %")

    @property
    def shaped(self) -> bool:
        return self.kbit_s is not None or self.rtt_ms > 0 or self.loss_pct > 0

    def describe(self) -> str:
        if not self.shaped:
            return "no shaping"
        parts = []
        if self.kbit_s is not None:
            parts.append(f"{self.kbit_s} kbit/s each way (tbf, {QUEUE_MS} ms queue)")
        if self.rtt_ms:
            parts.append(f"+{self.rtt_ms:.0f} ms RTT")
        if self.loss_pct:
            parts.append(f"{self.loss_pct:g} % random loss each way")
        return ", ".join(parts)


LINKS = {
    link.name: link
    for link in (
        Link("open"),
        Link("512k", kbit_s=512, rtt_ms=60),
        Link("2m", kbit_s=2000, rtt_ms=40),
        Link("loss2", loss_pct=2),
    )
}
QUEUE_MS = 400  # tbf queue, as bench/voice.py and bench/files.py: a home router's buffer
LINK_MTU = 1500  # lo in a namespace with a Shaper gets a real link's MTU

_RTT_PROBE = """
import os, socket, sys, time
customer, home, host, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def join(procs):
    with open(procs, "w") as f:
        f.write(str(os.getpid()))
join(customer)  # the echo socket is the customer's, so its replies take the customer's way
echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
echo.bind((host, 0))
join(home)
ping = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ping.bind((host, 0))
echo.settimeout(0.5)
ping.settimeout(0.5)
rtts, lost = [], 0
for i in range(count):
    sent = time.monotonic()
    ping.sendto(b"%d" % i, echo.getsockname())
    try:
        data, peer = echo.recvfrom(64)
        echo.sendto(data, peer)
        while True:
            if ping.recv(64) == b"%d" % i:
                break
        rtts.append((time.monotonic() - sent) * 1000)
    except socket.timeout:
        lost += 1
rtts.sort()
print(len(rtts), lost, rtts[len(rtts) // 2] if rtts else -1, rtts[0] if rtts else -1)
"""


def cgroup2_mount() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted (under /sys/fs/cgroup), or None."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2" and fields[1].startswith("/sys/fs/cgroup"):
            return Path(fields[1])
    return None


@dataclass(frozen=True)
class CustomerNS(NetNS):
    """The rig's namespace, but whatever is started through ``argv`` first joins the
    customer's cgroup (before ``ip netns exec``, which hides /sys/fs/cgroup), so every socket
    it opens is the customer's for the shaping rules."""

    cgroup_procs: str = ""

    def argv(self, command: Sequence[str]) -> list[str]:
        inner = super().argv(command)
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', self.cgroup_procs, *inner]


class Shaper:
    """Shapes the path between the customer's processes and the browser in the rig's namespace.

    Everything in the namespace talks over ``lo``, so directions are told apart by who sent a
    packet: processes started through ``Rig.start`` / ``Rig.start_peer`` run in a cgroup of
    their own (``CustomerNS``), and nftables (``socket cgroupv2``) takes their packets as going
    "down" (toward the operator), all other packets between namespace addresses as "up" (the
    browser is the only other thing talking there; so do the customer's few packets of no
    full socket, a TCP SYN-ACK or RST). Not shaped: loopback 127/8 (x11vnc <-> websockify),
    the signaling server's port (both ways), and Playwright's control of the page (a pipe,
    not the network).

    Per direction (this kernel has no netem): a firewall mark and a routing rule ahead of the
    local table send the packet out of a TUN device of its own (``sl-down`` / ``sl-up``, with
    a tbf of the rate and a ``QUEUE_MS`` queue) to ``netdelay.py``, which loses it at random
    or hands it back into the device after half the RTT, whence the kernel delivers it. ``lo``
    has a real link's MTU (1500) for the whole run.
    """

    DEVICES = {"down": ("sl-down", 1), "up": ("sl-up", 2)}  # direction: (TUN device, fwmark)

    def __init__(self, ns: NetNS, procs: Procs, server_port: int) -> None:
        mount = cgroup2_mount()
        if mount is None:
            raise RuntimeError("shaping needs the cgroup v2 hierarchy under /sys/fs/cgroup")
        for stale in mount.glob("sl-bench-*-customer"):  # left by runs that were killed
            owner = stale.name.split("-")[2]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                stale.rmdir()
        self.ns, self.server_port = ns, server_port
        self.cgroup = mount / f"sl-bench-{os.getpid()}-customer"
        self.cgroup.mkdir(exist_ok=True)
        own = Path("/proc/self/cgroup").read_text().split("0::", 1)[1].split()[0]
        self.home = mount / own.lstrip("/")  # where this process, and so the browser, is
        self.nft_path = str(self.cgroup.relative_to("/sys/fs/cgroup"))
        self.link = LINKS["open"]
        # The devices and routes stay for the whole run (made before the browser starts, so
        # it sees no interface come and go); what a profile changes is the rules and queues.
        devices = [device for device, _ in self.DEVICES.values()]
        self.delay = procs.start(
            "netdelay",
            ns.argv([sys.executable, str(BENCH / "netdelay.py"), *devices]),
            stdin_open=True,
        )
        self.delay.wait_for_line("^ready", timeout=10)
        setup = [
            f"ip link set lo mtu {LINK_MTU}",
            "echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter",
        ]
        for device, mark in self.DEVICES.values():
            setup += [
                f"ip link set {device} mtu {LINK_MTU} up",
                f"echo 0 > /proc/sys/net/ipv4/conf/{device}/rp_filter",
                f"echo 1 > /proc/sys/net/ipv4/conf/{device}/accept_local",
                f"ip route add default dev {device} table {100 + mark}",
                f"ip rule add pref {10 + mark} fwmark {mark} lookup {100 + mark}",
            ]
        setup += ["ip rule add pref 100 lookup local", "ip rule del pref 0"]
        ns.run(["sh", "-ec", "\n".join(setup)])

    def customer_ns(self) -> CustomerNS:
        ns = self.ns
        procs = str(self.cgroup / "cgroup.procs")
        return CustomerNS(ns.name, ns.addr_a, ns.addr_b, ns.extra_addrs, cgroup_procs=procs)

    def _nsenter(self, command: Sequence[str], **options: Any) -> subprocess.CompletedProcess[str]:
        # nsenter, not ``ip netns exec``: /sys/fs/cgroup stays visible (nft resolves the
        # cgroup's path, the RTT probe joins cgroups).
        return subprocess.run(
            ["nsenter", f"--net=/run/netns/{self.ns.name}", *command],
            capture_output=True,
            text=True,
            **options,
        )

    def apply(self, link: Link) -> str:
        """Shape for ``link`` (after clearing the previous one); what was measured."""
        self.clear()
        self.link = link
        if not link.shaped:
            return link.describe()
        if link.kbit_s is not None:
            rate = link.kbit_s * 1000
            burst = max(3200, rate // 8 // 250)  # 4 ms of the link, at least two packets
            for device, _ in self.DEVICES.values():
                self.ns.run(
                    ["tc", "qdisc", "replace", "dev", device, "root", "tbf", "rate",
                     f"{rate}bit", "burst", str(burst), "latency", f"{QUEUE_MS}ms"]
                )  # fmt: skip
        self._netdelay("delay", link.rtt_ms / 2)
        self._netdelay("loss", link.loss_pct)

        def direction(name: str) -> str:
            rules = ["counter", f"meta mark set {self.DEVICES[name][1]}"]
            return f"  chain {name} {{\n" + "".join(f"    {r}\n" for r in rules) + "  }\n"

        rules = (
            "table ip sl_shape {\n"
            "  chain out {\n"
            "    type route hook output priority mangle; policy accept;\n"
            "    ip daddr 127.0.0.0/8 accept\n"
            f"    tcp sport {self.server_port} accept\n"
            f"    tcp dport {self.server_port} accept\n"
            f'    socket cgroupv2 level 1 "{self.nft_path}" goto down\n'
            "    goto up\n"
            "  }\n" + direction("down") + direction("up") + "}\n"
        )
        done = self._nsenter(["nft", "-f", "-"], input=rules, timeout=10)
        if done.returncode != 0:
            raise RuntimeError(f"nft exited {done.returncode}: {done.stderr.strip()}\n{rules}")
        return f"{link.describe()}; {self.probe()}"

    def probe(self) -> str:
        """Round trips of small UDP datagrams between a customer's and a browser's socket."""
        count = 200 if self.link.loss_pct else 20
        done = self._nsenter(
            [sys.executable, "-c", _RTT_PROBE, str(self.cgroup / "cgroup.procs"),
             str(self.home / "cgroup.procs"), self.ns.addr_a, str(count)],
            timeout=count * 1.5 + 10,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"RTT probe failed: {done.stderr.strip()}")
        _, lost, median, least = done.stdout.split()
        return (
            f"measured over UDP: RTT median {float(median):.1f} ms (min {float(least):.1f}),"
            f" {lost}/{count} round trips lost"
        )

    def packets(self) -> dict[str, int]:
        """Packets that took each direction since ``apply``."""
        done = self._nsenter(["nft", "-j", "list", "table", "ip", "sl_shape"], timeout=10)
        out: dict[str, int] = {}
        if done.returncode != 0:
            return out
        for item in json.loads(done.stdout).get("nftables", []):
            rule = item.get("rule")
            for expr in (rule or {}).get("expr", []):
                if "counter" in expr:
                    out[rule["chain"]] = int(expr["counter"]["packets"])
        return out

    def clear(self) -> None:
        """No shaping (also when a rule or qdisc is missing)."""
        self._nsenter(["nft", "delete", "table", "ip", "sl_shape"], timeout=10)
        for device, _ in self.DEVICES.values():
            self._nsenter(["tc", "qdisc", "del", "dev", device, "root"], timeout=10)
        if self.delay.returncode is None:
            self._netdelay("delay", 0)
            self._netdelay("loss", 0)
        self.link = LINKS["open"]

    def _netdelay(self, command: str, value: float) -> None:
        start = len(self.delay.lines)
        self.delay.write_line(f"{command} {value:g}")
        self.delay.wait_for_line(f"^{command} ", timeout=5, start=start)

    def close(self) -> None:
        """Stop the delay, remove the cgroup (its processes, if any are left, go home first);
        the devices, rules and routes go with the namespace."""
        self.delay.stop()
        try:
            for pid in (self.cgroup / "cgroup.procs").read_text().split():
                try:
                    (self.home / "cgroup.procs").write_text(pid)
                except OSError:
                    pass
            self.cgroup.rmdir()
        except OSError as error:
            print(f"could not remove {self.cgroup}: {error}", file=sys.stderr)


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
    #: Set with ``rig(shaping=True)``: ``shaper.apply(LINKS[name])`` shapes the path between
    #: what ``start`` / ``start_peer`` run (the customer's side) and the browser.
    shaper: Shaper | None = None

    @property
    def customer_ns(self) -> NetNS:
        """The namespace as the customer's processes are started in it."""
        return self.shaper.customer_ns() if self.shaper is not None else self.ns

    def start_peer(self, session_code: str, **options: Any) -> Proc:
        """``supportlink-peer`` on the rig's screen (options as ``services.start_peer``)."""
        return start_peer(
            self.procs, self.customer_ns, self.screen, self.server, session_code, **options
        )

    def start(self, name: str, command: Sequence[str]) -> Proc:
        """Any command of the customer's side inside the namespace, on the rig's screen."""
        return self.procs.start(
            name, self.customer_ns.argv(list(command)), env=child_env(DISPLAY=self.screen.display)
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
    def page(self, init_scripts: Sequence[str]) -> Iterator[Page]:
        """A blank page in a fresh browser context of the rig's Chromium, running
        ``init_scripts`` (in order) first on every document it loads."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 800})
        for script in init_scripts:
            context.add_init_script(script)
        try:
            yield context.new_page()
        finally:
            context.close()


@contextmanager
def rig(
    name: str,
    *,
    time_limit_s: float,
    keep_logs: bool = False,
    browser_args: Callable[[Server], list[str]] | None = None,
    shaping: bool = False,
) -> Iterator[Rig]:
    """Xvfb 1920x1080 with the screen client, ``supportlink serve`` and headless Chromium in a
    new network namespace; all of it stopped and removed at the end. The whole ``with`` block
    is aborted with ``BenchTimeout`` after ``time_limit_s``. ``browser_args``: more Chromium
    flags, given the server (a fake microphone's file, an origin to treat as secure).
    ``shaping``: give the rig a ``Shaper`` (qdiscs, rules and its cgroup go at the end)."""
    remove_stale()
    work = Path(tempfile.mkdtemp(prefix=f"sl-{name}-"))
    procs = Procs(work)
    ns = NetNS.create()
    drawer: Drawer | None = None
    shaper: Shaper | None = None
    failed = True
    try:
        with time_limit(time_limit_s):
            screen = start_xvfb(procs, ns)
            drawer = Drawer(ns, screen, work / "screen-client.log", seed=1)
            server = start_server(procs, ns, work / "server-data")
            if shaping:
                port = int(server.url.rsplit(":", 1)[1])
                shaper = Shaper(ns, procs, port)
            extra = browser_args(server) if browser_args is not None else None
            with chromium(ns, work / "chromium", extra) as browser:
                yield Rig(work, ns, procs, screen, server, drawer, browser, shaper)
        failed = False
    finally:
        if drawer is not None:
            drawer.close()
        if shaper is not None:
            shaper.clear()
        procs.stop_all()
        ns.destroy()
        if shaper is not None:
            shaper.close()
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


def wait_for_picture(page: Page, timeout_s: float = 20) -> None:
    """Until the console's video has a size (a first frame arrived)."""
    page.wait_for_function(
        "() => { const v = document.querySelector('video#remote-video');"
        " return v && v.videoWidth > 0 }",
        timeout=timeout_s * 1000,
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
