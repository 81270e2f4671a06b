"""Each end-to-end fixture on its own, checked against something that could fail."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .netns import NetNS, Routed
from .procs import Procs
from .screen import BACKGROUND, Screen
from .services import Coturn, turn_allocate, wait_http

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_netns_is_closed(netns: NetNS) -> None:
    addrs = netns.run(["ip", "-o", "-4", "addr"]).stdout
    assert f"inet {netns.addr_a}/24" in addrs and f"inet {netns.addr_b}/24" in addrs
    links = netns.run(["ip", "-o", "link"]).stdout
    names = sorted(re.findall(r"^\d+: ([^:@]+)", links, re.M))
    assert names == ["lo", "sl-a", "sl-b"]
    assert "inet6" not in netns.run(["ip", "-o", "addr"]).stdout
    route = netns.run(["ip", "route", "show", "default"]).stdout
    assert f"via {netns.addr_b}" in route
    # Both ends of the pair are inside: no address outside the namespace is reachable.
    probe = netns.python(
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.connect(('192.0.2.1', 9))\n"  # TEST-NET-1: nothing sent, only a route looked up
        "print(s.getsockname()[0])\n"
    )
    assert probe.strip() in (netns.addr_a, netns.addr_b)


_ROUTE_TO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 9))  # nothing is sent: only a route is looked up
print(s.getsockname()[0])
"""

_ECHO_ONCE = """
import socket, sys
with socket.create_server((sys.argv[1], int(sys.argv[2]))) as server:
    print("listening", flush=True)
    conn, (peer, _) = server.accept()
    conn.sendall(peer.encode())
    conn.close()
"""

_CONNECT = """
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as conn:
    print(conn.recv(100).decode())
"""


def test_routed_hosts_meet_only_through_the_router(routed: Routed, routed_procs: Procs) -> None:
    customer, operator, server = (routed.hosts[h] for h in ("customer", "operator", "server"))
    assert server.addrs == ("10.77.3.1", "10.77.3.2")
    for ns in routed.namespaces:
        assert "inet6" not in ns.run(["ip", "-o", "addr"]).stdout, ns
    for ns in routed.hosts.values():
        links = ns.run(["ip", "-o", "link"]).stdout
        assert sorted(re.findall(r"^\d+: ([^:@]+)", links, re.M)) == ["lo", "sl-a"], links
        assert f"via {ns.addr_b}" in ns.run(["ip", "route", "show", "default"]).stdout
        # An outside address leaves (if it could) through the host's own link to the router.
        assert ns.python(_ROUTE_TO, "192.0.2.1").strip() == ns.addr_a
    assert "via 10.77.3.1" in routed.router.run(["ip", "route", "show", "default"]).stdout
    # A connection from the customer to the server's second address crosses the router.
    command = [sys.executable, "-c", _ECHO_ONCE, server.addrs[1], "4443"]
    listener = routed_procs.start("echo", server.argv(command))
    listener.wait_for_line("^listening$", timeout=10)
    assert customer.python(_CONNECT, server.addrs[1], "4443").strip() == customer.addr_a
    assert listener.wait_exit(10) == 0
    assert operator.python(_ROUTE_TO, customer.addr_a).strip() == operator.addr_a


def test_xvfb_shows_the_colour_blocks(xvfb: Screen) -> None:
    shot = xvfb.grab()
    assert (shot.width, shot.height) == (1920, 1080)
    for block in xvfb.blocks:
        assert shot.pixel(*block.centre) == block.rgb, block
        assert shot.pixel(block.x + 2, block.y + 2) == block.rgb, block
        assert shot.pixel(block.x + block.w - 1, block.y + block.h - 1) == block.rgb, block
        assert shot.pixel(block.x + block.w, block.y + block.h) == BACKGROUND, block
    assert shot.pixel(10, 10) == BACKGROUND
    assert shot.pixel(xvfb.width - 10, xvfb.height - 10) == BACKGROUND


_GATHER = """async () => {
    const pc = new RTCPeerConnection({iceServers: []});
    pc.createDataChannel("probe");
    const candidates = [];
    const done = new Promise((resolve) => {
        pc.onicecandidate = (e) => e.candidate ? candidates.push(e.candidate.candidate) : resolve();
    });
    await pc.setLocalDescription(await pc.createOffer());
    await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
    const sdp = pc.localDescription.sdp;
    pc.close();
    return {candidates, sdp, title: document.title};
}"""


def test_chromium_in_netns_sees_only_namespace_addresses(
    netns: NetNS, procs: Procs, browser: Browser, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>inside the namespace</title>")
    command = [sys.executable, "-m", "http.server", "--bind", netns.addr_a]
    command += ["--directory", str(site), "8000"]
    procs.start("http", netns.argv(command))
    wait_http(netns, f"http://{netns.addr_a}:8000/")
    page = browser.new_page()
    page.goto(f"http://{netns.addr_a}:8000/", timeout=15_000)
    result = page.evaluate(_GATHER)
    assert result["title"] == "inside the namespace"
    assert result["candidates"], result
    addresses = {c.split()[4] for c in result["candidates"]}
    assert addresses and all(a.startswith("10.77.1.") for a in addresses), result
    in_sdp = set(re.findall(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) ", result["sdp"]))
    assert in_sdp <= {netns.addr_a, netns.addr_b}, result["sdp"]


def test_coturn_relays_with_rest_credentials(netns: NetNS, coturn: Coturn) -> None:
    for transport, tls in (("udp", False), ("tcp", False), ("tcp", True)):
        found = turn_allocate(netns, coturn, transport=transport, tls=tls)
        relays = [host for kind, host, _ in found if kind == "relay"]
        assert relays == [coturn.host], (transport, tls, found)
        assert {host for _, host, _ in found} <= {netns.addr_a, netns.addr_b}, found
    username, _ = coturn.credentials("probe")
    found = turn_allocate(netns, coturn, username=username, password="d3JvbmcgcGFzc3dvcmQ=")
    assert [kind for kind, _, _ in found if kind == "relay"] == [], found
