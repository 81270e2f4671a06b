"""A whole session in Japanese: the console in Chromium with a Japanese browser, the customer's
peer with ``--lang ja``. Every word on screen is Japanese (names, units and key names aside;
the log's technical tokens are not checked), and nothing is clipped or overlaps at 1280x720."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .console import CODE_RE, Console, StartPeer
from .services import Server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Words of Latin letters in what is shown, outside the technical log and what the customer's
# computer or the operator's account supplies (host, user, OS, names, chat text).
_ENGLISH = """(allowed) => {
    const skip = "#log, #chat-log, #peer-info, #join-request dd, #operator-name, #language,"
        + " .facts, script, style, option";
    const words = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!el || el.closest(skip) || !el.checkVisibility()) continue;
        for (const word of node.textContent.match(/[A-Za-z]{3,}/g) ?? []) {
            if (!allowed.includes(word)) words.push(`${word} (in ${el.id || el.tagName})`);
        }
    }
    for (const el of document.querySelectorAll("input, textarea")) {
        if (!el.checkVisibility() || el.closest(skip)) continue;
        for (const word of (el.placeholder ?? "").match(/[A-Za-z]{3,}/g) ?? []) {
            if (!allowed.includes(word)) words.push(`${word} (placeholder of ${el.id})`);
        }
    }
    return words;
}"""

# Visible buttons whose text does not fit, and pairs of visible controls that overlap.
_LAYOUT = """() => {
    const shown = [...document.querySelectorAll("button, label, h1, h2, h3, .status, select")]
        .filter((el) => el.checkVisibility() && el.getBoundingClientRect().width > 0);
    const clipped = shown
        .filter((el) => el.scrollWidth > el.clientWidth + 1
            && getComputedStyle(el).overflow !== "visible")
        .map((el) => el.id || el.textContent.trim());
    // what of an element can be seen: its box cut by every scrolling ancestor's box
    const seen = (el) => {
        let {left, top, right, bottom} = el.getBoundingClientRect();
        for (let up = el.parentElement; up; up = up.parentElement) {
            if (getComputedStyle(up).overflow === "visible") continue;
            const r = up.getBoundingClientRect();
            left = Math.max(left, r.left); top = Math.max(top, r.top);
            right = Math.min(right, r.right); bottom = Math.min(bottom, r.bottom);
        }
        return {left, top, right, bottom};
    };
    const boxes = shown.filter((el) => el.tagName === "BUTTON" || el.tagName === "SELECT")
        .map((el) => [el, seen(el)])
        .filter(([, r]) => r.right > r.left && r.bottom > r.top);
    const overlaps = [];
    for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
            const [a, r] = boxes[i];
            const [b, s] = boxes[j];
            if (a.contains(b) || b.contains(a)) continue;
            const apart = r.right - 1 <= s.left || s.right - 1 <= r.left
                || r.bottom - 1 <= s.top || s.bottom - 1 <= r.top;
            if (!apart) {
                overlaps.push(`${a.id || a.textContent.trim()} / ${b.id || b.textContent.trim()}`);
            }
        }
    }
    return {clipped, overlaps};
}"""


@pytest.fixture
def japanese_console(browser: Browser, server: Server) -> Iterator[Console]:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 720})
    try:
        yield Console(context.new_page(), server)
    finally:
        context.close()


def _check_screen(console: Console, shot: Path) -> None:
    page = console.page
    allowed = ["SupportLink", console.server.operator, "fps", "kbit", "RTT", "TURN", "English"]
    allowed += re.findall(r"[A-Za-z]{3,}", console.server.operator)  # the login, quoted as is
    allowed += ["Enter", "Shift", "Esc", "Ctrl", "Alt", "End"]  # as printed on the keys
    # what the customer's computer says of itself (host, user, OS) is shown as it is
    # ... and so are addresses (the customers' page link)
    for field in ("#join-host", "#join-user", "#join-os", "#join-url"):
        allowed += re.findall(r"[A-Za-z]{3,}", page.locator(field).text_content() or "")
    words = page.evaluate(_ENGLISH, allowed)
    layout = page.evaluate(_LAYOUT)
    page.screenshot(path=str(shot))
    assert words == [], f"English on a Japanese screen: {words} (see {shot})"
    assert layout == {"clipped": [], "overlaps": []}, f"{layout} (see {shot})"


def test_a_whole_session_in_japanese(
    japanese_console: Console, start_peer: StartPeer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    console = japanese_console
    page = console.page
    page.goto(console.server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#login-button")).to_have_text("ログイン")
    # a wrong password: the error in the console's own Japanese words for the code
    page.locator("#username").fill(console.server.operator)
    page.locator("#password").fill("not the password")
    page.locator("#login-button").click()
    expect(page.locator("#login-error")).to_contain_text(
        "ユーザー名またはパスワードが正しくありません"
    )
    _check_screen(console, tmp_path / "ja-login.png")

    page.locator("#password").fill(console.server.password)
    page.locator("#login-button").click()
    page.locator("#new-session-button").click()
    expect(page.locator("#session-code")).to_have_text(CODE_RE)
    expect(page.locator("#status")).to_have_text("お客様のコード入力を待っています")
    _check_screen(console, tmp_path / "ja-code.png")

    peer = start_peer(
        page.locator("#session-code").inner_text(), allow=(), extra_args=("--lang", "ja")
    )
    expect(page.locator("#accept-button")).to_be_visible(timeout=20_000)
    _check_screen(console, tmp_path / "ja-join.png")
    page.locator("#accept-button").click()
    expect(page.locator("#status")).to_have_text(re.compile("^接続済み"), timeout=30_000)
    expect(page.locator("#consent-denied")).to_have_text("お客様が画面の表示を拒否しました")
    peer.wait_for_line(r"^consent: 画面の表示：不許可（--allow に含まれていません）$", timeout=10)

    # chat both ways, in Japanese
    chat_input = page.locator("#chat-input")
    expect(chat_input).to_be_enabled(timeout=10_000)
    chat_input.fill("こんにちは。設定画面を開いていただけますか？")
    chat_input.press("Enter")
    name = re.escape(console.server.operator)
    peer.wait_for_line(rf"^chat: {name}: こんにちは。設定画面を開いていただけますか？$", timeout=10)
    peer.write_line("はい、開きました。")
    customer = page.locator("#chat-log .chat-msg[data-who=customer] .chat-text")
    expect(customer).to_have_text("はい、開きました。", timeout=10_000)
    _check_screen(console, tmp_path / "ja-connected.png")

    page.locator("#end-button").click()
    expect(page.locator("#status")).to_contain_text("終了", timeout=10_000)
    peer.wait_for_line(r"^ended: サポート担当者がセッションを終了しました$", timeout=15)
    _check_screen(console, tmp_path / "ja-ended.png")
