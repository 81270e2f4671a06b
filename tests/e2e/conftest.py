"""End-to-end fixtures: real parts, each test in a network namespace of its own.

    netns     NetNS: lo + one veth pair (10.77.1.1, 10.77.1.2), both ends inside; removed after
    procs     Procs: every child process of the test; stopped after, logs printed on failure
    xvfb      Screen: Xvfb 1920x1080 inside the namespace, painted with known colour blocks
    server    Server: ``supportlink serve`` on http://10.77.1.1:8080 with one operator
    start_peer(code, allow=("view",), extra_args=()) -> Proc: the headless customer peer
    browser   playwright Browser: headless Debian Chromium inside the namespace
    console   Console: a page of ``browser`` on the server's console (see console.py)
    coturn    Coturn: turnserver on 10.77.1.1 (3478 UDP/TCP, TLS 443, REST secret, test CA)

Hosts behind a router, for restricted networks (the router filters nothing until a test loads
its rules):

    routed        Routed: customer 10.77.1.1, operator 10.77.2.1, server 10.77.3.1 + 10.77.3.2,
                  router 10.77.{1,2,3}.254 (see netns.Routed); all removed after
    routed_procs  Procs, as ``procs``, for processes in those namespaces

All of it needs root (network namespaces); without root every test here is skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .browser import chromium
from .console import Console
from .netns import NetNS, Routed, remove_stale
from .procs import Proc, Procs
from .screen import Screen, start_painter, start_xvfb
from .services import Coturn, Server, start_coturn, start_peer, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REQUIRED_TOOLS = ("ip", "Xvfb", "chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"e2e_report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(getattr(request.node, f"e2e_report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


@pytest.fixture(scope="session")
def e2e_ready() -> None:
    if os.geteuid() != 0:
        pytest.skip("end-to-end tests need root for network namespaces (CI runs as root)")
    missing = [name for name in REQUIRED_TOOLS if shutil.which(name) is None]
    if missing:
        pytest.skip(f"end-to-end tests need {', '.join(missing)} (scripts/test installs them)")
    remove_stale()


@pytest.fixture
def netns(e2e_ready: None) -> Iterator[NetNS]:
    ns = NetNS.create()
    try:
        yield ns
    finally:
        ns.destroy()


@contextlib.contextmanager
def _registry(log_dir: Path, request: pytest.FixtureRequest) -> Iterator[Procs]:
    """Procs whose processes are all stopped after the test, their logs printed if it failed."""
    log_dir.mkdir()
    registry = Procs(log_dir)
    try:
        yield registry
    finally:
        registry.stop_all()
        if _failed(request):
            print(f"\n===== logs of {request.node.nodeid} =====\n{registry.dump()}")


@pytest.fixture
def procs(netns: NetNS, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Procs]:
    with _registry(tmp_path / "logs", request) as registry:
        yield registry


#: The hosts of ``routed``, in order (host i is on 10.77.i.0/24), and how many addresses each.
ROUTED_HOSTS = {"customer": 1, "operator": 1, "server": 2}


@pytest.fixture
def routed(e2e_ready: None) -> Iterator[Routed]:
    net = Routed.create(ROUTED_HOSTS, upstream="server")
    try:
        yield net
    finally:
        net.destroy()


@pytest.fixture
def routed_procs(routed: Routed, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Procs]:
    with _registry(tmp_path / "routed-logs", request) as registry:
        yield registry


@pytest.fixture
def xvfb(netns: NetNS, procs: Procs) -> Screen:
    screen = start_xvfb(procs, netns)
    start_painter(procs, netns, screen)
    return screen


@pytest.fixture
def server(netns: NetNS, procs: Procs, tmp_path: Path) -> Server:
    return start_server(procs, netns, tmp_path / "server-data")


@pytest.fixture(name="start_peer")
def start_peer_fixture(
    netns: NetNS, procs: Procs, xvfb: Screen, server: Server
) -> Callable[..., Proc]:
    def start(
        code: str,
        *,
        allow: Sequence[str] = ("view",),
        extra_args: Sequence[str] = (),
        name: str = "peer",
        env: Mapping[str, str] | None = None,
    ) -> Proc:
        return start_peer(
            procs, netns, xvfb, server, code, allow=allow, extra_args=extra_args, name=name, env=env
        )

    return start


@pytest.fixture
def browser(netns: NetNS, procs: Procs, tmp_path: Path) -> Iterator[Browser]:
    with chromium(netns, tmp_path / "chromium") as launched:
        yield launched


@pytest.fixture
def console(
    browser: Browser, server: Server, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Console]:
    # an English browser, whatever the host's locale: the tests read the console's words
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(f"console.{msg.type}: {msg.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    try:
        yield Console(page, server)
    finally:
        if _failed(request):
            shot = tmp_path / "console.png"
            try:
                page.screenshot(path=str(shot), timeout=5000)
                log = page.locator("#log").inner_text(timeout=2000)
            except Exception as error:  # the page may be gone: still report the rest
                log = f"(no log panel: {error})"
            print(f"\n===== console page ({shot}) =====\n{log}\n" + "\n".join(messages))
        context.close()


@pytest.fixture
def coturn(netns: NetNS, procs: Procs, tmp_path: Path) -> Coturn:
    return start_coturn(procs, netns, tmp_path / "coturn")
