"""Files both ways, end to end: the operator in Chromium sends files to the customer's headless
peer (``--accept-files``), the peer sends a file to the operator (``--send``), SHA-256 checked
on the far side each time; the operator saves what arrived and downloads the transfer log as
CSV. Real server, real peer on Xvfb, in the test's network namespace."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from pathlib import Path

from playwright.sync_api import expect

from .console import Console, StartPeer


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_files_go_both_ways_verified_and_the_log_says_so(
    console: Console, start_peer: StartPeer, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    report = tmp_path / "customer" / "report.log"
    report.parent.mkdir()
    report.write_bytes(os.urandom(3_000_000))
    peer = console.connect(
        start_peer,
        allow=("view", "files"),
        extra_args=("--accept-files", str(inbox), "--send", str(report)),
    )
    page = console.page
    # --allow files: allowed from the start, so nothing to request
    expect(page.locator("#files-state")).to_contain_text(
        "Allowed: files go both ways", timeout=15_000
    )
    expect(page.locator("#request-files-button")).to_be_hidden()

    # the customer's file arrives, checked, and the operator saves it as a normal download
    incoming = page.locator("li.transfer[data-direction=from_customer]")
    expect(incoming).to_have_attribute("data-state", "done", timeout=30_000)
    expect(incoming).to_contain_text("verified ✓")
    with page.expect_download(timeout=15_000) as info:
        incoming.locator("[id$=-save]").first.click()
    saved = tmp_path / "saved-report.log"
    info.value.save_as(saved)
    assert info.value.suggested_filename == "report.log"
    assert sha(saved.read_bytes()) == sha(report.read_bytes())
    peer.wait_for_line(r"^files: sent report\.log: 1 of 1 file\(s\) delivered", timeout=15)

    # the operator sends two files; they land in the customer's folder, verified
    outbox = tmp_path / "operator"
    outbox.mkdir()
    files = {"patch.bin": os.urandom(5_000_000), "readme-日本語.txt": "手順: 1, 2, 3\n".encode()}
    for name, data in files.items():
        (outbox / name).write_bytes(data)
    page.locator("#send-files-input").set_input_files([str(outbox / n) for n in files])
    outgoing = page.locator("li.transfer[data-direction=to_customer]")
    expect(outgoing).to_have_attribute("data-state", "done", timeout=60_000)
    for name, data in files.items():
        assert sha((inbox / name).read_bytes()) == sha(data), name
    assert not [q for q in inbox.iterdir() if q.name.endswith(".supportlink-partial")]
    peer.wait_for_line(
        r"^files: received: patch\.bin \(5\.0 MB, SHA-256 [0-9a-f]{16}… checked\)", timeout=10
    )

    # the operator's log: every file, which way, its hash -- downloaded as CSV
    page.locator("#transfer-log").evaluate("(el) => { el.open = true; }")
    with page.expect_download(timeout=15_000) as info:
        page.locator("#transfer-log-csv").click()
    rows = list(
        csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig")))
    )
    by_name = {row["name"]: row for row in rows}
    assert by_name["report.log"]["direction"] == "from_customer"
    assert by_name["report.log"]["sha256"] == sha(report.read_bytes())
    assert by_name["patch.bin"]["direction"] == "to_customer"
    assert by_name["patch.bin"]["sha256"] == sha(files["patch.bin"])
    assert by_name["patch.bin"]["to_folder"] == str(inbox)
    assert all(row["result"] == "ok" for row in rows), rows
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*Z", by_name["patch.bin"]["ended_at"])
    page.screenshot(path=str(tmp_path / "files-console.png"))
