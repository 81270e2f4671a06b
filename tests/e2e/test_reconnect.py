"""A short network drop on the customer's side does not end the session; a long one ends it
cleanly on both sides. Real server, real headless peer on Xvfb, Chromium, a real router.

Topology (``routed`` in conftest.py, every host its own network namespace)::

    customer 10.77.1.1 --+
    (peer, Xvfb)         +-- router (nft) --- 10.77.3.1:8080  supportlink serve
    operator 10.77.2.1 --+
    (Chromium)

The drop: the router forwards nothing to or from the customer's network for a while, as when
a customer's Wi-Fi goes away; then the rule is taken out. The server pings every second
(``--heartbeat 1``), so it notices the customer's socket is gone within about two seconds.

Short drop (8 s, ``--resume-within 60``): the console says the customer's connection was lost
and that it waits, then shows the customer's screen again without a new code -- the same
verification code, the same consent -- and the peer says it is connected again. Long drop
(12 s, ``--resume-within 3``): the console ends the session ("the customer's connection was
lost") and the peer, once its network is back, ends too, with words, and exits.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from .browser import chromium
from .console import Console
from .netns import NetNS, Routed
from .procs import Proc, Procs
from .screen import Screen, start_painter, start_xvfb
from .services import Server, start_peer, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

SERVER_IP = "10.77.3.1"

CUT = """
table inet sl_cut {{
    chain forward {{
        type filter hook forward priority filter; policy accept;
        iifname "{customer}" counter drop
        oifname "{customer}" counter drop
    }}
}}
"""


class Link:
    """The customer's network, as the router lets it through."""

    def __init__(self, routed: Routed) -> None:
        self.routed = routed

    def cut(self) -> None:
        rules = CUT.format(customer=self.routed.router_links["customer"])
        self.routed.router.run(["nft", "-f", "-"], input=rules)

    def heal(self) -> None:
        self.routed.router.run(["nft", "delete", "table", "inet", "sl_cut"])


@pytest.fixture
def customer(routed: Routed) -> NetNS:
    return routed.hosts["customer"]


@pytest.fixture
def link(routed: Routed) -> Link:
    return Link(routed)


@pytest.fixture
def screen(customer: NetNS, routed_procs: Procs) -> Screen:
    shown = start_xvfb(routed_procs, customer)
    start_painter(routed_procs, customer, shown)
    return shown


@pytest.fixture
def browser(routed: Routed, tmp_path: Path) -> Iterator[Browser]:
    with chromium(routed.hosts["operator"], tmp_path / "chromium") as launched:
        yield launched


def _server(routed: Routed, procs: Procs, tmp_path: Path, resume_within: int) -> Server:
    return start_server(
        procs,
        routed.hosts["server"],
        tmp_path / "server-data",
        host=SERVER_IP,
        extra_args=["--heartbeat", "1", "--resume-within", str(resume_within)],
    )


@pytest.fixture
def server(
    request: pytest.FixtureRequest, routed: Routed, routed_procs: Procs, tmp_path: Path
) -> Server:
    return _server(routed, routed_procs, tmp_path, getattr(request, "param", 60))


def _begin(console: Console, customer: NetNS, procs: Procs, screen: Screen) -> Proc:
    start = functools.partial(start_peer, procs, customer, screen, console.server)
    peer = console.connect(start, allow=("view", "control"), status=r"^Connected \(direct\)$")
    console.wait_for_blocks(screen.blocks, (screen.width, screen.height), timeout=20)
    return peer


def test_a_short_drop_comes_back_without_a_new_code(
    console: Console,
    customer: NetNS,
    routed_procs: Procs,
    screen: Screen,
    link: Link,
    tmp_path: Path,
) -> None:
    page = console.page
    peer = _begin(console, customer, routed_procs, screen)
    code = console.verification_code()
    allowed = page.locator("#consent").inner_text()

    link.cut()
    try:
        console.wait_status("customer's connection was lost", timeout=15)
        expect(page.locator("#video-paused")).to_be_visible()  # the last picture is not live
        page.screenshot(path=str(tmp_path / "reconnect-waiting.png"))  # to look at
        time.sleep(6)
    finally:
        link.heal()
    healed = time.monotonic()

    console.wait_status(r"^Connected \(direct\)$", timeout=45)
    peer.wait_for_line(r"^status: connected again$", timeout=30)
    print(f"connected again {time.monotonic() - healed:.1f} s after the network came back")
    # the customer's screen again, the same code to compare, the same consent
    console.wait_for_blocks(screen.blocks, (screen.width, screen.height), timeout=20)
    assert console.verification_code() == code
    expect(page.locator("#video-paused")).to_be_hidden()
    expect(page.locator("#verify-changed")).to_be_hidden()
    expect(page.locator("#consent")).to_have_text(allowed, timeout=10_000)
    assert peer.returncode is None, peer.output()
    page.get_by_role("button", name="End session").click()
    assert peer.wait_exit(15) == 0, peer.output()


@pytest.mark.parametrize("server", [3], indirect=True)
def test_a_long_drop_ends_the_session_on_both_sides(
    console: Console, customer: NetNS, routed_procs: Procs, screen: Screen, link: Link
) -> None:
    peer = _begin(console, customer, routed_procs, screen)
    link.cut()
    try:
        console.wait_status("customer's connection was lost", timeout=15)
        console.wait_status("^Ended", timeout=15)
        time.sleep(4)
    finally:
        link.heal()
    assert "customer's connection was lost" in console.status()
    peer.wait_for_line(r"^ended: ", timeout=45)
    assert peer.wait_exit(15) == 1, peer.output()
