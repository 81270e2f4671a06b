"""Chat end to end: the operator in headless Chromium, the customer's headless peer typing on
its standard input and printing on its standard output, the real server between them."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from .console import Console, StartPeer

CUSTOMER_TEXT = "Thanks! <b>it</b> works \u202eevil\u202c e\u0301 \U0001f44d\U0001f3fd"


def test_chat_both_ways_before_any_consent_and_the_transcript(
    console: Console, start_peer: StartPeer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # nothing pre-granted: the peer denies the screen view, chat works all the same
    peer = console.connect(start_peer, allow=())
    page = console.page
    expect(page.locator("#consent-panel")).to_contain_text(re.compile("denied"), timeout=10_000)
    chat_input = page.locator("#chat-input")
    expect(chat_input).to_be_enabled(timeout=10_000)

    name = re.escape(console.server.operator)
    # operator -> customer: Enter sends, Shift+Enter is a new line inside the message
    chat_input.fill("Hello <script>alert(1)</script> ✓")
    chat_input.press("Enter")
    peer.wait_for_line(rf"^chat: {name}: Hello <script>alert\(1\)</script> ✓$", timeout=10)
    chat_input.type("line one")
    chat_input.press("Shift+Enter")
    chat_input.type("line two")
    chat_input.press("Enter")
    peer.wait_for_line(rf"^chat: {name}: line one\\nline two$", timeout=10)
    expect(chat_input).to_have_value("")

    # customer -> operator, rendered literally (markup, direction marks, emoji and all)
    peer.write_line(CUSTOMER_TEXT)
    customer = page.locator("#chat-log .chat-msg[data-who=customer] .chat-text")
    expect(customer).to_have_text(CUSTOMER_TEXT, timeout=10_000)
    assert page.locator("#chat-log b").count() == 0  # no markup was interpreted
    own = page.locator("#chat-log .chat-msg[data-who=operator] .chat-text")
    expect(own.first).to_have_text("Hello <script>alert(1)</script> ✓")

    # over the limit: Send is off and the console says why; nothing reaches the customer
    chat_input.fill("x" * 4001)
    expect(page.locator("#chat-send")).to_be_disabled()
    expect(page.locator("#chat-problem")).to_contain_text("4,000")
    chat_input.press("Enter")
    assert not any(line.endswith("xxxx") for line in peer.lines)
    chat_input.fill("")
    expect(page.locator("#chat-problem")).to_be_hidden()  # it fits again: the notice goes
    page.screenshot(path=str(tmp_path / "chat.png"))

    # the customer leaves: the transcript is offered as a text file, with both sides in it
    peer.signal(signal.SIGTERM)
    console.wait_status("Customer disconnected", timeout=15)
    with page.expect_download(timeout=10_000) as info:
        page.locator("#chat-download").click()
    transcript = Path(info.value.path()).read_text("utf-8")
    assert "Hello <script>alert(1)</script> ✓" in transcript
    assert CUSTOMER_TEXT in transcript
    assert re.search(r"^\d\d:\d\d ", transcript, re.MULTILINE)
