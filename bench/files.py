"""File transfer through the whole product -- the headless peer and the operator console in
Chromium -- beside aiortc's own file-transfer pattern, on an open link and on shaped ones, with
the operator's input latency while a transfer fills the link.

    sudo .venv/bin/python bench/files.py [--mb 50] [--events 60] [--json out.json]

Every host is a network namespace of the run's own, behind a router namespace (removed at the
end, also on failure or timeout)::

    customer 10.77.1.1 (Xvfb, input_client.py, supportlink-peer) --+
                                                                   +-- router -- 10.77.3.1 server
    operator 10.77.2.1 (headless Chromium, the console) -----------+

Links (the router's two veths toward the customer and the operator, both directions):

* **open**: nothing but the veths (what "loopback" means here: two processes on this machine);
* **20 Mbit/s** and **512 kbit/s**: ``tbf`` on both veths (queue up to 400 ms). ``netem`` is
  not available on this kernel, so no delay is added: the round trip is the queue's.

Rows:

* **aiortc example**: aiortc as it comes (``bench/files_aiortc.py``, no ``peer.sctp_tuning``)
  with ``examples/datachannel-filexfer``'s pacing (16 KiB chunks on ``bufferedamountlow`` at
  0), to and from a bare page in the same Chromium (which sends the same way);
* **SupportLink**: the customer's peer (``--accept-files``, ``--allow-file-requests``) and the
  console; operator -> customer: the file picked in the console (``#send-files-input``), timed
  from the peer's "accepting" line to its "received" line (SHA-256 checked); customer ->
  operator: the console asks for the file by its path, timed from the peer's "offered" line to
  its "sent ... delivered" line (the console checked the SHA-256).

While each SupportLink transfer runs, the operator presses keys and clicks in the console
(``bench/input.py``'s probe and X client) and the arrival at the customer's X client is
timed; "idle" rows do the same with no transfer.

Goals (issue: files and folders): >= 40 MB/s on the open link (or the profile of what bounds
it) and >= 2x the aiortc example; >= 85 % of a shaped link; input p95 <= 100 ms while a
transfer fills it. Needs root, Xvfb and chromium. Exits 0 whether or not the goals are met.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
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

import input as input_bench  # noqa: E402  (bench/input.py)
from rig import cannot_run, conditions, end_peer, fmt, log_since, pct, time_limit  # noqa: E402

from tests.e2e.browser import launch  # noqa: E402
from tests.e2e.console import Console  # noqa: E402
from tests.e2e.netns import Routed, remove_stale  # noqa: E402
from tests.e2e.procs import Proc, Procs  # noqa: E402
from tests.e2e.remote_helpers import picture_point  # noqa: E402
from tests.e2e.screen import start_xvfb  # noqa: E402
from tests.e2e.services import Server, child_env, start_peer, start_server  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SERVER_IP = "10.77.3.1"
GOAL_OPEN_MBPS = 40.0
GOAL_RATIO = 2.0
GOAL_SHARE = 0.85
GOAL_INPUT_P95_MS = 100.0


@dataclass(frozen=True)
class Link:
    name: str
    bits_per_s: int | None  # None: not shaped

    def bytes_for(self, seconds: float, cap: int) -> int:
        if self.bits_per_s is None:
            return cap
        return min(cap, int(self.bits_per_s / 8 * seconds))


LINKS = (Link("open", None), Link("20 Mbit/s", 20_000_000), Link("512 kbit/s", 512_000))


@dataclass
class Row:
    link: str
    pipeline: str
    direction: str
    megabytes: float
    seconds: float = float("nan")
    input_ms: list[float] = field(default_factory=list)
    input_sent: int = 0
    note: str = ""

    @property
    def mb_per_s(self) -> float:
        return self.megabytes / self.seconds if self.seconds > 0 else float("nan")


# ---------------------------------------------------------------------------- the network


def shape(net: Routed, link: Link) -> None:
    for host in ("customer", "operator"):
        dev = net.router_links[host]
        subprocess.run(
            net.router.argv(["tc", "qdisc", "del", "dev", dev, "root"]),
            capture_output=True,
            check=False,
        )
        if link.bits_per_s is None:
            continue
        rate = link.bits_per_s
        burst = max(3200, rate // 8 // 250)  # 4 ms of the link
        net.router.run(
            ["tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", f"{rate}bit",
             "burst", str(burst), "latency", "400ms"]
        )  # fmt: skip


# ---------------------------------------------------------------------------- the peer's words


class Stamped:
    """The peer's stdout lines with the time each was first seen here."""

    def __init__(self, proc: Proc) -> None:
        self.proc = proc
        self.lines: list[tuple[float, str]] = []
        self._stop = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        seen = 0
        while not self._stop.is_set():
            lines = self.proc.lines
            while seen < len(lines):
                self.lines.append((time.monotonic(), lines[seen]))
                seen += 1
            time.sleep(0.005)

    def wait(self, pattern: str, after: float, timeout: float) -> float:
        """When a line matching ``pattern`` came, after ``after``."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            for at, line in list(self.lines):
                if at >= after and rx.search(line):
                    return at
            time.sleep(0.01)
        raise TimeoutError(f"the peer never said /{pattern}/; last: {self.proc.lines[-5:]}")

    def close(self) -> None:
        self._stop.set()


# ---------------------------------------------------------------------------- the baseline

_BASELINE_PAGE = """async ([mode, total, offer]) => {
    const pc = new RTCPeerConnection();
    window.__pc = pc;
    window.__got = 0;
    pc.ondatachannel = (event) => {
        const channel = event.channel;
        channel.binaryType = "arraybuffer";
        if (mode === "receive") {
            channel.onmessage = (e) => { window.__got += e.data.byteLength; };
        } else {
            const data = new Uint8Array(16384);
            let sent = 0;
            const sendData = () => {
                const low = channel.bufferedAmountLowThreshold;
                while (channel.bufferedAmount <= low && sent < total) {
                    channel.send(data); sent += data.length;
                }
            };
            channel.onbufferedamountlow = sendData;
            channel.onopen = sendData;
            if (channel.readyState === "open") sendData();
        }
    };
    await pc.setRemoteDescription({type: "offer", sdp: offer});
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((resolve) => {
        if (pc.iceGatheringState === "complete") resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
    });
    return pc.localDescription.sdp;
}"""


def baseline(browser: Browser, net: Routed, procs: Procs, direction: str, total: int) -> float:
    """Seconds for ``total`` bytes with stock aiortc and the example's pacing."""
    page = browser.new_page()
    mode = "send" if direction == "to operator" else "receive"
    proc = subprocess.Popen(
        net.hosts["customer"].argv([sys.executable, str(BENCH / "files_aiortc.py")]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps({"mode": mode, "bytes": total}) + "\n")
        proc.stdin.flush()
        offer = json.loads(proc.stdout.readline())["offer"]
        page_mode = "receive" if mode == "send" else "send"
        answer = page.evaluate(_BASELINE_PAGE, [page_mode, total, offer])
        proc.stdin.write(json.dumps({"answer": answer}) + "\n")
        proc.stdin.flush()
        if mode == "send":
            page.wait_for_function(f"window.__got >= {total}", timeout=600_000, polling=20)
            proc.stdin.write("{}\n")
            proc.stdin.flush()
        seconds = float(json.loads(proc.stdout.readline())["seconds"])
        proc.wait(15)
        return seconds
    finally:
        if proc.poll() is None:
            proc.kill()
        page.close()


# ---------------------------------------------------------------------------- SupportLink


def input_during(
    console: Console, receiver: Any, keycode: dict[str, int], events: int, name: str, log: Any
) -> tuple[list[float], int]:
    phase = input_bench.Phase(name, "still", "console")
    input_bench.console_phase(console, receiver, keycode, phase, events, log)
    return phase.all_ms(), sum(phase.sent.values())


def ours(
    console: Console,
    stamped: Stamped,
    receiver: Any,
    keycode: dict[str, int],
    link: Link,
    data: dict[str, Path],
    inbox: Path,
    args: argparse.Namespace,
    log: Any,
) -> list[Row]:
    rows: list[Row] = []
    page = console.page
    # idle: input latency on this link with nothing else moving
    idle = Row(link.name, "SupportLink", "no transfer", 0.0)
    idle.input_ms, idle.input_sent = input_during(
        console, receiver, keycode, args.events // 2, f"{link.name} idle", log
    )
    rows.append(idle)

    # operator -> customer: the file picked in the console
    source = data["to customer"]
    size = source.stat().st_size
    row = Row(link.name, "SupportLink", "to customer", size / 1e6)
    begin = time.monotonic()
    page.locator("#send-files-input").set_input_files(str(source))
    started = stamped.wait(rf"files: accepting {source.name}", begin, 30)
    time.sleep(min(2.0, size / 1e6 / 20 + 0.5))
    row.input_ms, row.input_sent = input_during(
        console, receiver, keycode, args.events, f"{link.name} to customer", log
    )
    ended = stamped.wait(rf"files: received: {re.escape(source.name)} \(.*checked\)", started, 900)
    if ended < time.monotonic() - 0.5 and row.input_ms:
        row.note = "(the transfer ended during the input events)"
    row.seconds = ended - started
    got = inbox / source.name
    if hashlib.sha256(got.read_bytes()).digest() != hashlib.sha256(source.read_bytes()).digest():
        row.note = "SHA-256 differs"
    got.unlink()
    rows.append(row)
    log(f"{link.name}: to customer {row.mb_per_s:.2f} MB/s")

    # customer -> operator: asked for by its path
    source = data["to operator"]
    size = source.stat().st_size
    row = Row(link.name, "SupportLink", "to operator", size / 1e6)
    begin = time.monotonic()
    page.locator("#files-ask-path").fill(str(source))
    page.locator("#files-ask-button").click()
    started = stamped.wait(rf"files: offered to the operator: {source.name}", begin, 30)
    spy = None
    if args.profile is not None and link.bits_per_s is None:
        spy = input_bench.start_profile(stamped.proc.pid, 6, args.profile, False)
    time.sleep(min(2.0, size / 1e6 / 20 + 0.5))
    row.input_ms, row.input_sent = input_during(
        console, receiver, keycode, args.events, f"{link.name} to operator", log
    )
    ended = stamped.wait(rf"files: sent {re.escape(source.name)}: 1 of 1", started, 900)
    row.seconds = ended - started
    if spy is not None:
        spy.wait(30)
    if ended < time.monotonic() - 0.5 and row.input_ms:
        row.note = "(the transfer ended during the input events)"
    rows.append(row)
    log(f"{link.name}: to operator {row.mb_per_s:.2f} MB/s")
    return rows


# ---------------------------------------------------------------------------- printing


def print_rows(rows: list[Row], base: dict[str, float]) -> None:
    print()
    print(
        f"{'link':<11} {'pipeline':<15} {'direction':<12} {'MB':>6} {'MB/s':>7} {'x aiortc':>8}"
        f" {'link %':>6} {'input n':>8} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}"
    )
    for row in rows:
        rate = row.mb_per_s
        ratio = "-"
        if row.pipeline == "SupportLink" and row.direction in base and row.link == "open":
            ratio = fmt(rate / base[row.direction], 2)
        link = next(lk for lk in LINKS if lk.name == row.link)
        share = "-"
        if link.bits_per_s and row.megabytes:
            share = f"{rate * 8e6 / link.bits_per_s * 100:.0f}"
        values = row.input_ms
        n = f"{len(values)}/{row.input_sent}" if row.input_sent else "-"
        print(
            f"{row.link:<11} {row.pipeline:<15} {row.direction:<12} {row.megabytes:>6.1f}"
            f" {fmt(rate, 2) if row.megabytes else '-':>7} {ratio:>8} {share:>6} {n:>8}"
            f" {fmt(pct(values, 50), 1):>7} {fmt(pct(values, 95), 1):>7}"
            f" {fmt(max(values), 1) if values else '-':>7} {row.note}"
        )


def print_goals(rows: list[Row], base: dict[str, float]) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print()
    for row in rows:
        if row.pipeline != "SupportLink" or not row.megabytes:
            continue
        link = next(lk for lk in LINKS if lk.name == row.link)
        if link.bits_per_s is None:
            ratio = row.mb_per_s / base.get(row.direction, float("nan"))
            print(
                f"goal {row.direction}, open link: >= {GOAL_OPEN_MBPS:.0f} MB/s"
                f" ({verdict(row.mb_per_s >= GOAL_OPEN_MBPS)}), >= {GOAL_RATIO:.0f}x aiortc"
                f" ({fmt(ratio, 2)}x: {verdict(ratio >= GOAL_RATIO)})"
            )
        else:
            share = row.mb_per_s * 8e6 / link.bits_per_s
            p95 = pct(row.input_ms, 95)
            input_ok = verdict(p95 <= GOAL_INPUT_P95_MS)
            print(
                f"goal {row.direction}, {row.link}: >= {GOAL_SHARE:.0%} of the link"
                f" ({share:.0%}: {verdict(share >= GOAL_SHARE)}), input p95 <="
                f" {GOAL_INPUT_P95_MS:.0f} ms ({fmt(p95, 1)} ms: {input_ok})"
            )


# ---------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=50, help="file size on the open link")
    parser.add_argument(
        "--seconds", type=float, default=12.0, help="transfer length on shaped links, at full rate"
    )
    parser.add_argument("--events", type=int, default=60, help="input events per transfer")
    parser.add_argument("--time-limit", type=float, default=900.0)
    parser.add_argument(
        "--links", default=",".join(lk.name for lk in LINKS), help="which links, comma-separated"
    )
    parser.add_argument("--peer-args", default="", help="more options for supportlink-peer")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the peer for 6 s of the open link's customer -> operator transfer (.svg: a"
        " flame graph, else raw stacks)",
    )
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = cannot_run("bench/files.py")
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    started = time.monotonic()
    log = log_since(started)
    c = conditions()
    print(
        f"SupportLink file transfer -- {c['date']}, {c['cpus']} x {c['cpu']}, load"
        f" {c['load_before']}, {c['chromium']}, aiortc {c['aiortc']}"
    )
    from playwright.sync_api import sync_playwright

    remove_stale()
    work = Path(tempfile_dir())
    procs = Procs(work)
    net = Routed.create({"customer": 1, "operator": 1, "server": 1}, upstream="server")
    rows: list[Row] = []
    base: dict[str, float] = {}
    receiver = None
    try:
        with time_limit(args.time_limit):
            customer = net.hosts["customer"]
            screen = start_xvfb(procs, customer, 1920, 1080)
            receiver = input_bench.Receiver(customer, screen, work / "input-client.log")
            server = start_server(procs, net.hosts["server"], work / "server-data", host=SERVER_IP)
            outbox, inbox = work / "outbox", work / "inbox"
            outbox.mkdir()
            inbox.mkdir()
            with sync_playwright() as playwright:
                browser = launch(playwright, net.hosts["operator"], work / "chromium")
                try:
                    total = args.mb * 1_000_000
                    for direction in ("to operator", "to customer"):
                        seconds = baseline(browser, net, procs, direction, total)
                        base[direction] = total / 1e6 / seconds
                        rows.append(Row("open", "aiortc example", direction, total / 1e6, seconds))
                        log(f"aiortc example {direction}: {base[direction]:.2f} MB/s")
                    import Xlib.display

                    xd = Xlib.display.Display(screen.display)
                    keycode = {k: xd.keysym_to_keycode(ord(k)) for k in input_bench.KEYS}
                    xd.close()
                    for link in LINKS:
                        if link.name not in args.links.split(","):
                            continue
                        shape(net, link)
                        size = link.bytes_for(args.seconds, total)
                        files = {}
                        for direction in ("to customer", "to operator"):
                            path = outbox / f"{direction.replace(' ', '-')}-{size}.bin"
                            if not path.exists():
                                path.write_bytes(os.urandom(size))
                            files[direction] = path
                        rows += session(browser, procs, customer, screen, server, receiver,
                                        keycode, link, files, inbox, args, log, outbox)  # fmt: skip
                    shape(net, LINKS[0])
                finally:
                    browser.close()
    finally:
        if receiver is not None:
            receiver.close()
        procs.stop_all()
        net.destroy()
        print(f"logs: {work}", file=sys.stderr)
    print_rows(rows, base)
    print_goals(rows, base)
    print(f"\nrun took {time.monotonic() - started:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps({"conditions": c, "rows": [asdict(r) for r in rows]}))
    return 0


def session(
    browser: Browser,
    procs: Procs,
    customer: Any,
    screen: Any,
    server: Server,
    receiver: Any,
    keycode: dict[str, int],
    link: Link,
    files: dict[str, Path],
    inbox: Path,
    args: argparse.Namespace,
    log: Any,
    outbox: Path,
) -> list[Row]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.add_init_script(input_bench._PROBE)
    page: Page = context.new_page()
    console = Console(page, server)
    peer = console.connect(
        lambda code, **kw: start_peer(procs, customer, screen, server, code, **kw),
        allow=("view", "control", "files"),
        extra_args=(
            "--accept-files",
            str(inbox),
            "--allow-file-requests",
            str(outbox),
            *args.peer_args.split(),
        ),  # fmt: skip
        timeout=60,
    )
    stamped = Stamped(peer)
    try:
        input_bench.take_control(page)
        page.mouse.click(*picture_point(console, *input_bench.CLIENT_CENTRE))
        return ours(console, stamped, receiver, keycode, link, files, inbox, args, log)
    finally:
        stamped.close()
        end_peer(peer)
        context.close()


def tempfile_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="sl-files-")


if __name__ == "__main__":
    sys.exit(main())
