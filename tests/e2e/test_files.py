"""Files both ways, end to end: the operator in Chromium sends files to the customer's headless
peer (``--accept-files``), the peer sends a file to the operator (``--send``), SHA-256 checked
on the far side each time; the operator saves what arrived and downloads the transfer log as
CSV. Folders both ways as the same tree (the operator's picked folder; the customer's folder
asked for by its path and saved as a .zip). A 50 MB file cut off mid-way (the customer's
program killed) resumes in a new session without sending the verified part again. Real
server, real peer on Xvfb, in the test's network namespace."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import signal
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from peer.files.names import PARTIAL_SUFFIX

from .console import Console, StartPeer

if TYPE_CHECKING:
    from playwright.sync_api import Browser


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


def tree_digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): sha(path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_folders_go_both_ways_as_the_same_tree(
    console: Console, start_peer: StartPeer, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shared = tmp_path / "customer"
    logs = shared / "logs"
    (logs / "old").mkdir(parents=True)
    (logs / "app.log").write_bytes(os.urandom(700_000))
    (logs / "old" / "boot-起動.log").write_text("booted\n", encoding="utf-8")
    console.connect(
        start_peer,
        allow=("view", "files"),
        extra_args=("--accept-files", str(inbox), "--allow-file-requests", str(shared)),
    )
    page = console.page
    expect(page.locator("#files-state")).to_contain_text("Allowed", timeout=15_000)

    # the operator picks a whole folder: it arrives as the same tree, every file verified
    patches = tmp_path / "operator" / "patches"
    (patches / "drivers" / "net").mkdir(parents=True)
    (patches / "install.sh").write_text("#!/bin/sh\necho ok\n")
    (patches / "drivers" / "net" / "e1000.ko").write_bytes(os.urandom(1_500_000))
    (patches / "drivers" / "README-読んで.txt").write_text("手順\n", encoding="utf-8")
    page.locator("#send-folder-input").set_input_files(str(patches))
    outgoing = page.locator("li.transfer[data-direction=to_customer]")
    expect(outgoing).to_have_attribute("data-state", "done", timeout=60_000)
    assert tree_digests(inbox / "patches") == tree_digests(patches)

    # the operator asks for the customer's folder by its path; it comes back as a .zip
    page.locator("#files-ask-path").fill(str(logs))
    page.locator("#files-ask-button").click()
    incoming = page.locator("li.transfer[data-direction=from_customer]")
    expect(incoming).to_have_attribute("data-state", "done", timeout=60_000)
    expect(incoming).to_contain_text("verified ✓")
    with page.expect_download(timeout=15_000) as info:
        incoming.locator("[id$=-save]").first.click()
    assert info.value.suggested_filename == "logs.zip"
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(info.value.path()) as archive:
        assert archive.testzip() is None
        archive.extractall(unpacked)
    assert tree_digests(unpacked / "logs") == tree_digests(logs)


def test_a_50_mb_file_cut_midway_resumes_in_a_new_session(
    console: Console, browser: Browser, start_peer: StartPeer, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    big = tmp_path / "operator" / "disk-image.bin"
    big.parent.mkdir()
    big.write_bytes(os.urandom(50_000_000))
    partial = inbox / ("disk-image.bin" + PARTIAL_SUFFIX)
    peer = console.connect(
        start_peer, allow=("view", "files"), extra_args=("--accept-files", str(inbox))
    )
    page = console.page
    expect(page.locator("#files-state")).to_contain_text("Allowed", timeout=15_000)
    page.locator("#send-files-input").set_input_files(str(big))
    # the link drops a while into the transfer: the customer's program is gone at once
    deadline = time.monotonic() + 60
    while not (partial.exists() and partial.stat().st_size >= 8_000_000):
        assert time.monotonic() < deadline, "the transfer never got going"
        time.sleep(0.05)
    peer.signal(signal.SIGKILL)
    peer.wait_exit(10)
    kept = partial.stat().st_size
    assert 8_000_000 <= kept < big.stat().st_size
    expect(page.locator("li.transfer[data-direction=to_customer]")).not_to_have_attribute(
        "data-state", "done", timeout=5_000
    )

    # a new session (a new console page too): the same file again goes on where it stopped
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    try:
        again = Console(context.new_page(), console.server)
        peer = again.connect(
            start_peer,
            allow=("view", "files"),
            extra_args=("--accept-files", str(inbox)),
            name="peer-again",
        )
        expect(again.page.locator("#files-state")).to_contain_text("Allowed", timeout=15_000)
        again.page.locator("#send-files-input").set_input_files(str(big))
        resumed = peer.wait_for_line(
            r"^files: going on with disk-image\.bin after the ([0-9.]+) MB already here", 30
        )
        assert float(resumed.group(1)) * 1e6 >= kept - 1_000_000  # the verified part stays
        expect(again.page.locator("li.transfer[data-direction=to_customer]")).to_have_attribute(
            "data-state", "done", timeout=120_000
        )
        peer.wait_for_line(
            r"^files: received: disk-image\.bin \(50\.0 MB, SHA-256 .* checked\)", 15
        )
        assert sha((inbox / "disk-image.bin").read_bytes()) == sha(big.read_bytes())
        assert not partial.exists()
    finally:
        context.close()


def test_a_file_from_the_customer_cut_midway_resumes_after_a_reload(
    console: Console, start_peer: StartPeer, tmp_path: Path
) -> None:
    """The console keeps what arrived of a cut file (IndexedDB, surviving a reload) and proves it
    to the customer's side, which sends only the rest."""
    big = tmp_path / "customer" / "capture.pcap"
    big.parent.mkdir()
    big.write_bytes(os.urandom(50_000_000))
    peer = console.connect(
        start_peer, allow=("view", "files"), extra_args=("--send", str(big)), name="sender"
    )
    page = console.page
    incoming = page.locator("li.transfer[data-direction=from_customer]")
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, "the transfer never got going"
        shown = re.search(r"(\d+)%", incoming.first.inner_text()) if incoming.count() else None
        if shown and int(shown.group(1)) >= 45:
            break
        time.sleep(0.1)
    peer.signal(signal.SIGKILL)
    peer.wait_exit(10)
    expect(incoming.first).not_to_have_attribute("data-state", "done", timeout=5_000)

    # the page reloads (a new session): the same file again goes on from what is kept
    page.reload()
    peer = start_peer(
        console.new_session(),
        allow=("view", "files"),
        extra_args=("--send", str(big)),
        name="sender-again",
    )
    console.accept()
    resumed = peer.wait_for_line(
        r"^files: resuming capture\.pcap after the ([0-9.]+) MB the operator already has", 30
    )
    assert float(resumed.group(1)) >= 16  # the console keeps what arrived in 8 MB pieces
    incoming = page.locator("li.transfer[data-direction=from_customer]")
    expect(incoming).to_have_attribute("data-state", "done", timeout=60_000)
    expect(incoming).to_contain_text("verified ✓")
    with page.expect_download(timeout=30_000) as info:
        incoming.locator("[id$=-save]").first.click()
    saved = tmp_path / "saved.pcap"
    info.value.save_as(saved)
    assert sha(saved.read_bytes()) == sha(big.read_bytes())
