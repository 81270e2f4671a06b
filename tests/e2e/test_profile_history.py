"""Who the customer is dealing with, and what happened: the operator sets the name customers
see, the customer's program shows it with the organisation, and after the session the
console's history says who the customer was, what they allowed and how it ended.

Real server (``--organisation``), real headless peer on Xvfb, headless Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .console import Console, StartPeer
from .netns import NetNS
from .procs import Procs
from .services import Server, start_server

ORGANISATION = "Acme IT"


@pytest.fixture
def server(netns: NetNS, procs: Procs, tmp_path: Path) -> Server:
    return start_server(
        procs, netns, tmp_path / "server-data", extra_args=("--organisation", ORGANISATION)
    )


def test_the_customer_sees_the_name_and_the_history_says_what_was_allowed(
    console: Console, start_peer: StartPeer
) -> None:
    page = console.page
    console.log_in()
    # no name yet: the console says what customers would see, and offers to set one
    hint = page.locator("#name-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text(console.server.operator)
    expect(page.locator("#history-empty")).to_be_visible()

    page.locator("#profile-button").click()
    name = page.locator("#display-name")
    expect(name).to_be_focused()
    name.fill("x" * 70)  # the field keeps 64
    assert len(name.input_value()) == 64
    name.fill("Alice Smith")
    expect(page.locator("#customers-see")).to_contain_text(f"Alice Smith ({ORGANISATION})")
    name.press("Enter")
    expect(page.locator("#operator-name")).to_have_text("Alice Smith")
    expect(page.locator("#profile-form")).to_be_hidden()
    expect(hint).to_be_hidden()

    peer = start_peer(console.new_session(), allow=("view",))
    # the customer's program names the operator and the organisation before it is let in
    peer.wait_for_line(re.escape(f"Alice Smith ({ORGANISATION})"), timeout=20)
    expect(page.locator("#history-panel")).to_be_hidden()
    console.accept()
    console.wait_status("Connected", timeout=30)
    page.get_by_role("button", name="End session").click()
    console.wait_status("Ended|ended", timeout=15)

    row = page.locator("#history-list > li.history-row").first
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_have_attribute("data-running", "false", timeout=10_000)
    expect(row.locator(".history-allowed")).to_contain_text("screen viewing")
    expect(row.locator(".history-ended")).to_contain_text(re.compile("ended", re.I))
    assert page.locator("#history-list > li.history-row").count() == 1

    # the profile survives a reload: it is the server's, not the page's
    page.reload()
    expect(page.locator("#operator-name")).to_have_text("Alice Smith", timeout=10_000)
