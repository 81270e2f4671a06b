"""A network namespace of the test's own: ``lo`` up and one veth pair whose both ends stay inside
it, so Chromium and aiortc get host candidates on the veth addresses and nothing can leave.

    ns = NetNS.create()
    ns.run(["ip", "addr"])          # a command inside the namespace, waited for
    ns.argv(["Xvfb", ...])          # the argv that runs a command inside it (for Popen)
    ns.destroy()                    # kills every process inside, removes the namespace
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path

PREFIX = "sl-e2e-"
ADDR_A = "10.77.1.1"  # the servers' address (signaling, TURN)
ADDR_B = "10.77.1.2"
PREFIX_LEN = 24

_serial = count()

_NO_IPV6 = (
    "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && "
    "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"
)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10)


@dataclass(frozen=True)
class NetNS:
    name: str
    addr_a: str = ADDR_A
    addr_b: str = ADDR_B

    @classmethod
    def create(cls) -> NetNS:
        """Make a fresh namespace named after this process (so stale ones can be found)."""
        ns = cls(f"{PREFIX}{os.getpid()}-{next(_serial)}")
        _ip("netns", "add", ns.name)
        try:
            n = ["-n", ns.name]
            # No IPv6: its link-local addresses would appear a second or two after the links
            # come up, and Chromium fails loads in flight on such a change (ERR_NETWORK_CHANGED).
            subprocess.run(
                ns.argv(["sh", "-c", _NO_IPV6]), check=True, capture_output=True, timeout=10
            )
            _ip(*n, "link", "set", "lo", "up")
            _ip(*n, "link", "add", "sl-a", "type", "veth", "peer", "name", "sl-b")
            _ip(*n, "addr", "add", f"{ns.addr_a}/{PREFIX_LEN}", "dev", "sl-a")
            _ip(*n, "addr", "add", f"{ns.addr_b}/{PREFIX_LEN}", "dev", "sl-b")
            _ip(*n, "link", "set", "sl-a", "up")
            _ip(*n, "link", "set", "sl-b", "up")
            _ip(*n, "route", "add", "default", "via", ns.addr_b, "dev", "sl-a")
            # Name lookups inside fail at once (nothing answers on the namespace's loopback)
            # instead of waiting for a resolver that cannot be reached.
            ns.etc_dir.mkdir(parents=True, exist_ok=True)
            (ns.etc_dir / "resolv.conf").write_text(
                "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
            )
        except BaseException:
            ns.destroy()
            raise
        return ns

    @property
    def etc_dir(self) -> Path:
        """Files here replace those of /etc for processes started with ``ip netns exec``."""
        return Path("/etc/netns") / self.name

    def argv(self, command: Sequence[str]) -> list[str]:
        """The argv that runs ``command`` inside the namespace."""
        return ["ip", "netns", "exec", self.name, *command]

    def run(
        self, command: Sequence[str], *, timeout: float = 20, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(command), capture_output=True, text=True, timeout=timeout, check=check
        )

    def python(self, code: str, *args: str, timeout: float = 20) -> str:
        """Run Python code (this interpreter) inside the namespace; return its stdout."""
        done = self.run([sys.executable, "-c", code, *args], timeout=timeout, check=False)
        if done.returncode != 0:
            raise AssertionError(
                f"python in {self.name} exited {done.returncode}:\n{done.stdout}{done.stderr}"
            )
        return done.stdout

    def pids(self) -> list[int]:
        done = subprocess.run(
            ["ip", "netns", "pids", self.name], capture_output=True, text=True, timeout=10
        )
        return [int(p) for p in done.stdout.split()]

    def destroy(self) -> None:
        """Kill every process inside (TERM, then KILL), then delete the namespace."""
        kill_all(self.pids())
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True, timeout=10)
        shutil.rmtree(self.etc_dir, ignore_errors=True)


def kill_all(pids: list[int], grace: float = 3.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if _alive(p)]
            time.sleep(0.05)
        if not pids:
            return


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def remove_stale() -> list[str]:
    """Delete namespaces left by test runs whose process is gone (a crash, a SIGKILL)."""
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    removed = []
    for line in done.stdout.splitlines():
        name = line.split(" ", 1)[0]
        if not name.startswith(PREFIX):
            continue
        try:
            owner = int(name[len(PREFIX) :].split("-", 1)[0])
        except ValueError:
            continue
        if owner == os.getpid() or _alive(owner):
            continue
        NetNS(name).destroy()
        removed.append(name)
    return removed
