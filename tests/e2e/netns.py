"""A network namespace of the test's own: ``lo`` up and one veth pair whose both ends stay inside
it, so Chromium and aiortc get host candidates on the veth addresses and nothing can leave.

    ns = NetNS.create()
    ns.run(["ip", "addr"])          # a command inside the namespace, waited for
    ns.argv(["Xvfb", ...])          # the argv that runs a command inside it (for Popen)
    ns.destroy()                    # kills every process inside, removes the namespace

Several hosts behind a router, every one a namespace of the test's own (nothing touches the
machine's own interfaces: each veth pair is made inside the router with its other end placed
straight into the host's namespace)::

    net = Routed.create({"customer": 1, "operator": 1, "server": 2}, upstream="server")
    net.hosts["server"].addrs      # ("10.77.3.1", "10.77.3.2"); the router is 10.77.3.254
    net.router.run(["nft", "-f", "-"], input=RULES)
    net.destroy()
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")


@dataclass(frozen=True)
class NetNS:
    """One namespace. ``addr_a`` is its own (first) address, ``addr_b`` its default gateway."""

    name: str
    addr_a: str = ADDR_A
    addr_b: str = ADDR_B
    #: Every address of this host (``addr_a`` first); empty: ``(addr_a,)``.
    extra_addrs: tuple[str, ...] = field(default=())

    @property
    def addrs(self) -> tuple[str, ...]:
        return (self.addr_a, *self.extra_addrs)

    @classmethod
    def create(cls) -> NetNS:
        """Make a fresh namespace named after this process (so stale ones can be found)."""
        ns = cls(_fresh_name())
        _ip("netns", "add", ns.name)
        try:
            ns._prepare()
            n = ["-n", ns.name]
            _ip(*n, "link", "add", "sl-a", "type", "veth", "peer", "name", "sl-b")
            _ip(*n, "addr", "add", f"{ns.addr_a}/{PREFIX_LEN}", "dev", "sl-a")
            _ip(*n, "addr", "add", f"{ns.addr_b}/{PREFIX_LEN}", "dev", "sl-b")
            _ip(*n, "link", "set", "sl-a", "up")
            _ip(*n, "link", "set", "sl-b", "up")
            _ip(*n, "route", "add", "default", "via", ns.addr_b, "dev", "sl-a")
        except BaseException:
            ns.destroy()
            raise
        return ns

    def _prepare(self) -> None:
        """IPv6 off, ``lo`` up, a resolver that answers nothing; before any link is added."""
        # No IPv6: its link-local addresses would appear a second or two after the links
        # come up, and Chromium fails loads in flight on such a change (ERR_NETWORK_CHANGED).
        subprocess.run(
            self.argv(["sh", "-c", _NO_IPV6]), check=True, capture_output=True, timeout=10
        )
        _ip("-n", self.name, "link", "set", "lo", "up")
        # Name lookups inside fail at once (nothing answers on the namespace's loopback)
        # instead of waiting for a resolver that cannot be reached.
        self.etc_dir.mkdir(parents=True, exist_ok=True)
        (self.etc_dir / "resolv.conf").write_text(
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
        )

    @property
    def etc_dir(self) -> Path:
        """Files here replace those of /etc for processes started with ``ip netns exec``."""
        return Path("/etc/netns") / self.name

    def argv(self, command: Sequence[str]) -> list[str]:
        """The argv that runs ``command`` inside the namespace."""
        return ["ip", "netns", "exec", self.name, *command]

    def run(
        self,
        command: Sequence[str],
        *,
        timeout: float = 20,
        check: bool = True,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.argv(command),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            env=None if env is None else dict(env),
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} in {self.name} exited {done.returncode}:\n"
                f"{done.stdout}{done.stderr}"
            )
        return done

    def python(
        self, code: str, *args: str, timeout: float = 20, env: Mapping[str, str] | None = None
    ) -> str:
        """Run Python code (this interpreter) inside the namespace; return its stdout."""
        done = self.run([sys.executable, "-c", code, *args], timeout=timeout, check=False, env=env)
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


def _fresh_name(role: str = "") -> str:
    """A namespace name that starts with this process's id (so stale ones can be found)."""
    return f"{PREFIX}{os.getpid()}-{next(_serial)}{'-' + role if role else ''}"


#: Hosts of a ``Routed`` topology: host number i (from 1) sits on 10.77.i.0/24.
ROUTED_NET = "10.77.{}.0"
ROUTER_HOST = 254  # the router's address on every host's network: 10.77.i.254


@dataclass
class Routed:
    """A router namespace and one namespace per host, each host on its own /24 behind the
    router, joined to it by one veth pair (``sl-a`` in the host, ``r-<host>`` in the router).

    Every host's default route goes to the router; the router forwards between the hosts and
    sends whatever else to the ``upstream`` host (which does not forward), so nothing can
    leave the topology. No filtering until rules are loaded into ``router``.
    """

    router: NetNS
    hosts: dict[str, NetNS]
    #: The router's interface toward each host.
    router_links: dict[str, str]

    @classmethod
    def create(cls, hosts: Mapping[str, int], *, upstream: str) -> Routed:
        """``hosts``: name -> how many addresses (10.77.i.1, 10.77.i.2, ...)."""
        if upstream not in hosts:
            raise ValueError(f"upstream {upstream!r} is not one of the hosts")
        router = NetNS(_fresh_name("router"), addr_a="", addr_b="")
        net = cls(router, {}, {})
        made: list[NetNS] = []
        try:
            _ip("netns", "add", router.name)
            made.append(router)
            router._prepare()
            router.run(["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"])
            for number, (host, count_) in enumerate(hosts.items(), start=1):
                if not 1 <= count_ < ROUTER_HOST:
                    raise ValueError(f"{host}: {count_} addresses")
                base = ROUTED_NET.format(number).rsplit(".", 1)[0]
                addrs = tuple(f"{base}.{i}" for i in range(1, count_ + 1))
                gateway = f"{base}.{ROUTER_HOST}"
                ns = NetNS(
                    _fresh_name(host), addr_a=addrs[0], addr_b=gateway, extra_addrs=addrs[1:]
                )
                _ip("netns", "add", ns.name)
                made.append(ns)
                ns._prepare()
                link = f"r-{host}"[:15]
                # Both ends are born inside test namespaces: the router's, and the host's.
                _ip(
                    "-n", router.name, "link", "add", link, "type", "veth",
                    "peer", "name", "sl-a", "netns", ns.name,
                )  # fmt: skip
                _ip("-n", router.name, "addr", "add", f"{gateway}/{PREFIX_LEN}", "dev", link)
                _ip("-n", router.name, "link", "set", link, "up")
                for addr in addrs:
                    _ip("-n", ns.name, "addr", "add", f"{addr}/{PREFIX_LEN}", "dev", "sl-a")
                _ip("-n", ns.name, "link", "set", "sl-a", "up")
                _ip("-n", ns.name, "route", "add", "default", "via", gateway, "dev", "sl-a")
                net.hosts[host] = ns
                net.router_links[host] = link
            up = net.hosts[upstream]
            _ip("-n", router.name, "route", "add", "default", "via", up.addr_a)
        except BaseException:
            for ns in reversed(made):
                ns.destroy()
            raise
        return net

    @property
    def namespaces(self) -> list[NetNS]:
        return [*self.hosts.values(), self.router]

    def destroy(self) -> None:
        """Kill every process in every namespace of the topology, then remove them all."""
        for ns in self.namespaces:
            ns.destroy()


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
