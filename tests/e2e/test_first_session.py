"""The first real session: an operator in headless Chromium, the customer's headless peer on a
virtual screen, the signaling server between them, all inside one network namespace.

The console is driven only through what a person sees (labels, button names, the code on the
page) and the fixed hooks listed in ``console.py``.
"""

from __future__ import annotations

import re
import signal
import time

from .console import Console, StartPeer
from .screen import Screen


def test_operator_sees_the_customer_screen(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    peer = console.connect(start_peer, allow=("view",))
    assert console.status().startswith("Connected (direct)"), console.status()

    sample = console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=20)
    # The whole screen is sent, in its own shape.
    assert abs(sample.width / sample.height - xvfb.width / xvfb.height) < 0.02, sample

    shown = console.verification_code()
    printed = peer.wait_for_line(r"(?i)verif\w*.*?(\d{3} \d{3})", timeout=10).group(1)
    assert shown == printed


def test_denied_view_sends_no_picture(console: Console, start_peer: StartPeer) -> None:
    # Headless, with nothing pre-granted, the peer denies the screen view itself.
    console.connect(start_peer, allow=())
    page = console.page
    from playwright.sync_api import expect

    expect(page.locator("#consent-panel")).to_contain_text(re.compile("denied"), timeout=10_000)
    # Long enough for a first frame to have arrived, had one been sent.
    time.sleep(3)
    state = console.video_state()
    assert state["width"] == 0 and state["frames"] <= 0, state
    assert console.sample([(0.5, 0.5)]) is None
    assert console.status().startswith("Connected"), console.status()


def test_customer_disconnect_ends_the_session(console: Console, start_peer: StartPeer) -> None:
    peer = console.connect(start_peer, allow=("view",))
    peer.signal(signal.SIGTERM)
    console.wait_status("Customer disconnected", timeout=15)
    code = peer.wait_exit(15)
    assert code == 0 or code == -signal.SIGTERM, peer.output()


def test_a_code_works_once(console: Console, start_peer: StartPeer) -> None:
    first = console.connect(start_peer, allow=("view",), name="peer-1")

    second = start_peer(console.session_code, allow=("view",), name="peer-2")
    assert second.wait_exit(20) == 2, second.output()  # 2: code refused
    assert re.search(r"(?i)already been used", second.output()), second.output()
    # The first session is untouched.
    assert console.status().startswith("Connected"), console.status()
    assert first.returncode is None, first.output()


def test_logging_out_ends_the_session_and_clears_the_picture(
    console: Console, start_peer: StartPeer, xvfb: Screen
) -> None:
    """An operator who logs out mid-session (and whoever logs in next in that tab) must not
    keep seeing the customer's screen, and the customer is told the session ended."""
    peer = console.connect(start_peer, allow=("view",))
    console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=20)
    page = console.page
    page.get_by_role("button", name="Log out").click()
    peer.wait_for_line(r"^ended: ", timeout=15)
    # Log in again in the same page (no reload), as the next person at that desk would.
    from playwright.sync_api import expect

    page.get_by_label("Username").fill(console.server.operator)
    page.get_by_label("Password").fill(console.server.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="New session")).to_be_visible(timeout=15_000)
    assert page.evaluate("() => document.querySelector('#remote-video').srcObject") is None
    assert console.sample([(0.5, 0.5)]) is None


def test_closing_the_console_tab_ends_the_session_at_once(
    console: Console, start_peer: StartPeer
) -> None:
    # a drop would be waited out (--resume-within); a tab the operator closes is an end
    peer = console.connect(start_peer, allow=("view",))
    console.page.close()
    peer.wait_for_line(r"^ended: the operator ended the session$", timeout=10)
    assert peer.wait_exit(10) == 0, peer.output()
