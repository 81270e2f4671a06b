"""The console's layout in the real browser: at 1280x720 and at 1920x1080, in every state an
operator meets, no control covers another, nothing needs a sideways scroll, the controls that
end or steer a session are on the screen, and every state says what is happening in words.

States: the login page, the start (with the recent sessions), a code waiting, a customer asking
to join, a live session with view, control and clipboard (a copied text received), the end.
Screenshots of each go to the test's folder (``layout-<state>-<size>.png``), to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from .console import Console, StartPeer
from .remote_helpers import customer_copies
from .screen import Screen

SIZES = ((1280, 720), (1920, 1080))

#: What a person reads or uses; overlays drawn on the video on purpose are among them, the
#: video itself is not.
_MEASURE = """
() => {
  const selector = 'button, select, input, textarea, summary, a[href], [role=status], ' +
    '[role=alert], h1, h2, .status, .session-code, .verification-code, #clipboard-in';
  const items = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest('[hidden]')) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    let box = {l: r.left, t: r.top, r: r.right, b: r.bottom};
    // what a scrolled or clipped ancestor lets show
    for (let a = el.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
        const ar = a.getBoundingClientRect();
        box = {l: Math.max(box.l, ar.left), t: Math.max(box.t, ar.top),
               r: Math.min(box.r, ar.right), b: Math.min(box.b, ar.bottom)};
      }
    }
    if (box.r - box.l < 1 || box.b - box.t < 1) continue;
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    items.push({i: items.length, id: el.id, tag: el.tagName.toLowerCase(),
                text: text.slice(0, 50), box});
    el.dataset.layoutIndex = String(items.length - 1);
  }
  // pairs where one holds the other (a summary and its button...) are not overlaps
  const nested = [];
  const all = [...document.querySelectorAll('[data-layout-index]')];
  for (const a of all) for (const b of all) {
    if (a !== b && a.contains(b)) nested.push([+a.dataset.layoutIndex, +b.dataset.layoutIndex]);
  }
  for (const el of all) delete el.dataset.layoutIndex;
  return {items, nested, width: innerWidth, height: innerHeight,
          scrollWidth: document.documentElement.scrollWidth,
          body: document.body.innerText};
}
"""

#: An untranslated catalogue key on the page ("view.limit_asked").
_RAW_KEY = re.compile(r"\b(?:[a-z]+_)*[a-z]+\.(?:[a-z]+_?)+[a-z]\b")
#: Words a key-like pattern matches but that are no keys (host names, file names).
_NOT_KEYS = re.compile(r"\d|\.(?:js|py|png|local|example|html|com|org)\b")


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    w = min(a["r"], b["r"]) - max(a["l"], b["l"])
    h = min(a["b"], b["b"]) - max(a["t"], b["t"])
    return max(0.0, w) * max(0.0, h)


def check_layout(page: Page, state: str, shots: Path, must_see: tuple[str, ...] = ()) -> None:
    """At every size: no overlaps, no sideways scroll, ``must_see`` ids on the screen, words."""
    problems: list[str] = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # a layout pass and a paint
        page.screenshot(path=str(shots / f"layout-{state}-{width}x{height}.png"))
        m: dict[str, Any] = page.evaluate(_MEASURE)
        where = f"{state} at {width}x{height}"
        nested = {tuple(pair) for pair in m["nested"]}
        items = m["items"]
        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                if (a["i"], b["i"]) in nested or (b["i"], a["i"]) in nested:
                    continue
                if _overlap(a["box"], b["box"]) > 4:  # a shared pixel border is not an overlap
                    problems.append(f"{where}: {a} overlaps {b}")
        if m["scrollWidth"] > width + 1:
            problems.append(f"{where}: the page scrolls sideways ({m['scrollWidth']} px wide)")
        for item in items:
            box = item["box"]
            if box["l"] < -1 or box["r"] > width + 1:
                problems.append(f"{where}: {item} is cut off at the side")
            if item["tag"] in ("button", "summary") and not item["text"]:
                problems.append(f"{where}: a button without words: {item}")
        shown = {item["id"]: item["box"] for item in items if item["id"]}
        for wanted in must_see:
            box = shown.get(wanted)
            if box is None:
                problems.append(f"{where}: #{wanted} is not visible")
            elif box["t"] < 0 or box["b"] > height + 1:
                problems.append(f"{where}: #{wanted} is off the screen ({box})")
        keys = [k for k in _RAW_KEY.findall(m["body"]) if not _NOT_KEYS.search(k)]
        if keys:
            problems.append(f"{where}: catalogue keys instead of words: {keys[:5]}")
    assert not problems, "\n".join(problems)


def test_every_state_fits_and_says_what_happens(
    console: Console, start_peer: StartPeer, xvfb: Screen, tmp_path: Path
) -> None:
    page = console.page
    page.goto(console.server.url + "/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=15_000)
    check_layout(page, "login", tmp_path, ("login-button",))

    console.log_in()
    expect(page.locator("#history-panel")).to_be_visible()
    check_layout(page, "start", tmp_path, ("new-session-button", "profile-button"))

    code = console.new_session()
    check_layout(page, "code", tmp_path, ("session-code", "cancel-button", "status"))

    peer = start_peer(code, allow=("view", "control", "clipboard"))
    expect(console.join_request()).to_be_visible(timeout=20_000)
    check_layout(page, "join-request", tmp_path, ("accept-button", "reject-button"))

    console.accept()
    console.wait_status("Connected", timeout=30)
    console.wait_for_blocks(xvfb.blocks, (xvfb.width, xvfb.height), timeout=20)
    expect(page.locator("textarea#clipboard-out")).to_be_visible(timeout=15_000)
    expect(page.locator("#verification-code")).to_be_visible()
    check_layout(page, "session", tmp_path, ("end-button", "status", "verification-code"))
    page.locator("#language").select_option("ja")  # longer words, another script
    expect(page.locator("#end-button")).to_have_text("セッションを終了", timeout=5_000)
    check_layout(page, "session-ja", tmp_path, ("end-button", "status", "verification-code"))
    page.locator("#language").select_option("en")
    expect(page.locator("#end-button")).to_have_text("End session", timeout=5_000)

    # what the customer copies arrives in view even where the session column must scroll
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    copied = "copied by the customer\nsecond line of it\nand a third"
    with customer_copies(xvfb, copied):
        expect(page.locator("#clipboard-in")).to_be_visible(timeout=10_000)
    check_layout(
        page, "clipboard", tmp_path, ("end-button", "clipboard-in", "copy-clipboard-button")
    )

    page.get_by_role("button", name="End session").click()
    console.wait_status("Ended|ended", timeout=15)
    expect(page.locator("#history-list > li.history-row")).to_have_count(1, timeout=10_000)
    check_layout(page, "ended", tmp_path, ("new-session-button", "status"))
    assert peer.wait_exit(15) == 0, peer.output()
