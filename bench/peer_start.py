"""The customer's one-file program: its size, and how long from start to its window.

    python bench/peer_start.py [--runs 9] [--out DIR]

Builds the program with ``scripts/build_peer.py`` (or reuses the build in DIR when the sources
did not change), then starts it again and again on a private Xvfb, as a double-click would (an
empty environment with a new home folder, bound to a server by the same binding the server
appends) and times it from ``exec`` to the moment X maps its window. The first start reads
the file after the page cache was dropped and unpacks it into the home folder's cache
(``scripts/launcher.c``); the rest are warm starts, as the goal is stated. The baseline,
measured in the same run, is the same window from the Python install in ``.venv``
(``supportlink-peer --server URL``).

Also printed: the size of the file, what takes the room in it (compressed), and the newest
glibc symbol version it needs. Nothing is sent over any network: the window only shows the
server's name until someone types a code.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.xvfb import virtual_display  # noqa: E402
from wire import binding  # noqa: E402

SERVER = "https://support.example.com"
TITLE = "SupportLink"


def build(out: Path) -> Path:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_peer.py"), "--out", str(out), "--reuse"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        sys.exit(f"build failed:\n{done.stderr[-4000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def time_to_window(argv: list[str], env: dict[str, str], display: str) -> float:
    """Seconds from starting ``argv`` until a window titled SupportLink... is mapped."""
    import Xlib.display
    import Xlib.X

    x = Xlib.display.Display(display)
    root = x.screen().root
    root.change_attributes(event_mask=Xlib.X.SubstructureNotifyMask)
    x.sync()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = started + 30
        while time.perf_counter() < deadline:
            if x.pending_events() == 0:
                if proc.poll() is not None:
                    raise RuntimeError(f"{argv[0]} exited: {proc.stderr.read().decode()[-500:]}")
                time.sleep(0.001)
                continue
            event = x.next_event()
            if event.type != Xlib.X.MapNotify:
                continue
            try:
                name = event.window.get_wm_name() or ""
            except Exception:  # the window went away meanwhile
                continue
            if isinstance(name, bytes):
                name = name.decode("utf-8", "replace")
            if name.startswith(TITLE):
                return time.perf_counter() - started
        raise RuntimeError("no window within 30 s")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        x.close()


def measure(argv: list[str], env: dict[str, str], display: str, runs: int) -> list[float]:
    return [time_to_window(argv, env, display) for _ in range(runs)]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def show(label: str, values: list[float]) -> None:
    warm = values[1:]
    print(
        f"{label:<34} first {values[0] * 1000:6.0f} ms   warm: median "
        f"{statistics.median(warm) * 1000:5.0f} ms, p90 {pct(warm, 90) * 1000:5.0f} ms, "
        f"best {min(warm) * 1000:5.0f} ms  ({len(warm)} runs)"
    )


def contents(program: Path) -> None:
    """The largest parts of the packed folder (``launcher.c`` layout), unpacked sizes."""
    import io
    import tarfile

    data = program.read_bytes()
    if not data.endswith(b"SLPAYLD1"):
        return
    size = int.from_bytes(data[-48:-40], "little")
    payload = data[-48 - size : -48]
    by_part: Counter[str] = Counter()
    total = 0
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            part = "/".join(parts[2:4]) if parts[1:2] == ["_internal"] else "/".join(parts[1:2])
            by_part[part] += member.size
            total += member.size
    print(f"unpacked: {total / 1e6:.1f} MB; largest parts:")
    for part, part_size in by_part.most_common(10):
        print(f"  {part_size / 1e6:6.2f} MB  {part}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="starts of each program (9)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "build" / "peer-test-downloads",
        help="build folder (%(default)s)",
    )
    args = parser.parse_args()
    if shutil.which("Xvfb") is None:
        sys.exit("needs Xvfb (scripts/test installs it)")
    built = build(args.out)
    manifest = json.loads((args.out / "manifest.json").read_text())
    (entry,) = [f for f in manifest["files"] if f["file"] == built.name]
    size = built.stat().st_size
    print(f"program: {built.name}, {size:,} bytes ({size / 1e6:.1f} MB; goal <= 40 MB)")
    print(f"needs glibc >= {entry.get('glibc')} (Debian 12 has 2.36)")
    contents(built)
    with tempfile.TemporaryDirectory(prefix="peer-start-") as tmp:
        program = Path(tmp) / "supportlink-peer"
        program.write_bytes(built.read_bytes() + binding.encode(binding.Binding(SERVER)))
        program.chmod(0o755)
        home = Path(tmp) / "home"
        home.mkdir()
        with virtual_display(1280, 800) as display:
            env = {
                "DISPLAY": display,
                "HOME": str(home),
                "PATH": "/usr/bin:/bin",
                "LANG": "C.UTF-8",
            }
            # drop the file from the page cache for the first start, where the kernel lets us
            subprocess.run(["sync"], check=False)
            try:
                Path("/proc/sys/vm/drop_caches").write_text("1\n")
                cold = "after dropping the page cache"
            except OSError:
                cold = "page cache not dropped (not root)"
            one_file = measure([str(program)], env, display, args.runs + 1)
            source_env = dict(env, PATH=f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin")
            source = measure(
                [str(ROOT / ".venv" / "bin" / "supportlink-peer"), "--server", SERVER],
                source_env,
                display,
                args.runs + 1,
            )
    print(f"start to window, first start {cold}:")
    show("one-file program (goal warm <= 1 s)", one_file)
    show("baseline: Python install in .venv", source)
    ratio = statistics.median(one_file[1:]) / statistics.median(source[1:])
    print(f"one-file / installed, warm median: {ratio:.2f}x")
    print(f"load while measuring: {os.getloadavg()[0]:.2f} (2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
