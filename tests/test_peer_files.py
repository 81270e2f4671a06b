"""File transfer through the whole headless peer, with the real server and an aiortc operator
on loopback: files and folders both ways with SHA-256 checked on the far side, resume from a
proven partial file, and hostile offers that write nothing."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LoopbackOperator, Running, start_session, until
from sigclient import Endpoint
from xvfb import virtual_display

from peer.files import frames
from peer.files.names import PARTIAL_SUFFIX
from wire import protocol as p


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(640, 480) as name:
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer", "peer_display")

CHUNK = frames.chunk_size(None)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_of(op: LoopbackOperator, cls: type[Any]) -> list[Any]:
    return [m for m in op.received["files"] if isinstance(m, cls)]


async def allowed_files(endpoint: tuple[Endpoint, str], display: str, **kw: Any) -> Running:
    r = await start_session(endpoint, display, allow=frozenset({"view", "files"}), **kw)
    r.operator.send("control", p.ConsentRequest(capability="files"))
    await until(lambda: any("files" in s for s in r.operator.states()), 10)
    await until(lambda: "files" in r.operator.channels, 10)
    return r


async def send_file(op: LoopbackOperator, transfer: int, index: int, data: bytes, start: int = 0,
                    claimed: str | None = None) -> None:  # fmt: skip
    op.send("files", p.FileStart(transfer=transfer, index=index, offset=start))
    channel = op.channels["files"]
    for offset in range(start, len(data), CHUNK):
        channel.send(frames.encode(transfer, index, offset, data[offset : offset + CHUNK]))
        while channel.bufferedAmount > 1 << 20:
            await asyncio.sleep(0.01)
    op.send("files", p.FileEnd(transfer=transfer, index=index, sha256=claimed or sha(data)))


def offer(transfer: int, name: str, entries: list[tuple[str, int, bool]]) -> p.FileOffer:
    return p.FileOffer(
        transfer=transfer,
        name=name,
        from_folder="/home/operator/patches",
        count=len(entries),
        total=sum(size for _, size, folder in entries if not folder),
        entries=tuple(p.FileEntry(path=n, size=s, folder=f or None) for n, s, f in entries),
        more=False,
    )


async def test_a_folder_from_the_operator_arrives_as_the_same_tree_verified(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "patch").mkdir()
    (inbox / "patch" / "notes.txt").write_text("the customer's own file")  # taken name
    r = await allowed_files(loopback_endpoint, display, accept_files=inbox)
    op, ui = r.operator, r.ui
    notes = "メモ: apply in order\n".encode() * 50
    binary = os.urandom(3 * CHUNK + 123)
    op.send(
        "files",
        offer(
            7,
            "patch",
            [
                ("patch/notes.txt", len(notes), False),
                ("patch/bin/fix.bin", len(binary), False),
                ("patch/empty", 0, True),
                ("patch/zero.dat", 0, False),
            ],
        ),  # fmt: skip
    )
    await until(lambda: bool(files_of(op, p.FileAnswer)), 10)
    (answer,) = files_of(op, p.FileAnswer)
    assert answer.accept and answer.to_folder == str(inbox) and answer.skip == ()
    await send_file(op, 7, 0, notes)
    await send_file(op, 7, 1, binary)
    await send_file(op, 7, 3, b"")
    await until(lambda: len(files_of(op, p.FileResult)) == 3, 15)
    results = {m.index: m for m in files_of(op, p.FileResult)}
    assert all(m.ok for m in results.values()), results
    # keep both: the customer's own notes.txt is untouched, the new one is beside it
    assert (inbox / "patch" / "notes.txt").read_text() == "the customer's own file"
    assert results[0].saved_as == "patch/notes (1).txt"
    assert (inbox / "patch" / "notes (1).txt").read_bytes() == notes
    assert sha((inbox / "patch" / "bin" / "fix.bin").read_bytes()) == sha(binary)
    assert (inbox / "patch" / "empty").is_dir() and (
        inbox / "patch" / "zero.dat"
    ).stat().st_size == 0
    assert not list(inbox.rglob(f"*{PARTIAL_SUFFIX}"))
    assert any(line.startswith("files: received: patch/bin/fix.bin") for line in ui.lines)
    await r.end()


async def test_hostile_offers_and_a_lying_hash_write_nothing(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    r = await allowed_files(loopback_endpoint, display, accept_files=inbox)
    op = r.operator
    hostile = ["../evil.sh", "/etc/passwd", "C:evil", "a\\b", "CON.txt", "x\u202eexe.txt", "．．/x"]
    for i, name in enumerate(hostile, start=1):
        op.send("files", offer(i, "evil", [(name, 4, False)]))
    await until(lambda: len(files_of(op, p.FileAnswer)) == len(hostile), 10)
    answers = {m.transfer: m for m in files_of(op, p.FileAnswer)}
    assert not any(m.accept for m in answers.values())
    assert [answers[i].reason for i in range(1, len(hostile) + 1)] == [
        "dot_dot", "absolute", "drive", "backslash", "reserved", "control", "lookalike",
    ]  # fmt: skip
    # two names one file system takes for the same file
    op.send("files", offer(50, "twins", [("Report.pdf", 1, False), ("report.PDF", 1, False)]))
    await until(lambda: any(m.transfer == 50 for m in files_of(op, p.FileAnswer)), 10)
    # a file whose hash does not match is not kept, not even as a partial
    data = os.urandom(10_000)
    op.send("files", offer(60, "x.bin", [("x.bin", len(data), False)]))
    await until(lambda: any(m.transfer == 60 and m.accept for m in files_of(op, p.FileAnswer)))
    await send_file(op, 60, 0, data, claimed=sha(b"something else"))
    await until(lambda: bool(files_of(op, p.FileResult)), 10)
    (result,) = files_of(op, p.FileResult)
    assert not result.ok and result.reason == "hash_mismatch"
    # a chunk past the declared size stops the transfer
    op.send("files", offer(61, "y.bin", [("y.bin", 10, False)]))
    await until(lambda: any(m.transfer == 61 and m.accept for m in files_of(op, p.FileAnswer)))
    op.send("files", p.FileStart(transfer=61, index=0, offset=0))
    op.channels["files"].send(frames.encode(61, 0, 0, b"x" * 11))
    await until(lambda: any(m.transfer == 61 for m in files_of(op, p.FileCancel)), 10)
    assert [m.reason for m in files_of(op, p.FileCancel)] == ["past_end"]
    assert sorted(q.name for q in inbox.rglob("*")) == ["y.bin" + PARTIAL_SUFFIX]
    assert not (tmp_path / "evil.sh").exists()
    await r.end()


async def test_a_partial_file_resumes_without_resending_the_verified_part(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = os.urandom(5 * CHUNK)
    have = 2 * CHUNK + 17
    (inbox / ("big.iso" + PARTIAL_SUFFIX)).write_bytes(data[:have])  # a cut transfer's rest
    r = await allowed_files(loopback_endpoint, display, accept_files=inbox)
    op = r.operator
    op.send("files", offer(9, "big.iso", [("big.iso", len(data), False)]))
    await until(lambda: bool(files_of(op, p.FileAnswer)), 10)
    (answer,) = files_of(op, p.FileAnswer)
    assert [(x.index, x.length, x.sha256) for x in answer.resume] == [(0, have, sha(data[:have]))]
    await send_file(op, 9, 0, data, start=have)  # only the rest crosses the link
    await until(lambda: bool(files_of(op, p.FileResult)), 10)
    assert files_of(op, p.FileResult)[0].ok
    assert (inbox / "big.iso").read_bytes() == data
    await r.end()


async def test_the_customer_sends_a_folder_and_each_file_is_verified(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    (logs / "old").mkdir(parents=True)
    contents = {"logs/app.log": os.urandom(200_000), "logs/old/boot.log": b"booted\n"}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    (logs / "link").symlink_to("/etc/passwd")  # never followed, never sent
    r = await allowed_files(loopback_endpoint, display, send=(logs,))
    op, ui = r.operator, r.ui
    await until(lambda: bool(files_of(op, p.FileOffer)), 10)
    (sent_offer,) = files_of(op, p.FileOffer)
    paths = [e.path for e in sent_offer.entries]
    assert sorted(paths) == sorted(contents) and sent_offer.name == "logs"
    assert "files: left out: logs/link (a link or not a regular file)" in ui.lines
    op.send("files", p.FileAnswer(transfer=sent_offer.transfer, accept=True, skip=(), resume=()))
    await until(lambda: len(files_of(op, p.FileEnd)) == len(paths), 15)
    got: dict[int, bytearray] = {}
    for frame in (m for m in op.received["files"] if isinstance(m, bytes)):
        chunk = frames.decode(frame)
        buffer = got.setdefault(chunk.index, bytearray())
        assert chunk.offset == len(buffer)
        buffer += chunk.data
    for end in files_of(op, p.FileEnd):
        assert end.sha256 == sha(bytes(got[end.index])) == sha(contents[paths[end.index]])
        op.send("files", p.FileResult(transfer=end.transfer, index=end.index, ok=True))
    await until(lambda: any(line.startswith("files: sent logs: 2 of 2") for line in ui.lines), 10)
    await r.end()


async def test_nothing_is_written_before_the_customer_allows_it(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    r = await start_session(
        loopback_endpoint, display, allow=frozenset({"view"}), accept_files=inbox
    )
    op = r.operator
    await until(lambda: "files" in op.channels, 10)
    op.send("files", offer(1, "a.txt", [("a.txt", 3, False)]))
    op.channels["files"].send(frames.encode(1, 0, 0, b"abc"))
    await until(lambda: len(files_of(op, p.Error)) >= 2, 10)
    assert {m.code for m in files_of(op, p.Error)} == {"not_allowed"}
    assert not files_of(op, p.FileAnswer) and list(inbox.iterdir()) == []
    await r.end()


async def test_in_the_window_the_customer_is_asked_where_and_may_decline(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    r = await allowed_files(loopback_endpoint, display, headless=False)
    op, session, ui = r.operator, r.session, r.ui
    op.send("files", offer(3, "fix.bin", [("fix.bin", 5, False)]))
    await until(lambda: bool(ui.file_asks), 10)
    transfer, operator, name, count, size, preview = ui.file_asks[0]
    assert (transfer, operator, name, count, size, preview) == (
        3, session.operator, "fix.bin", 1, "5 B", ["fix.bin"],
    )  # fmt: skip
    session.answer_files(3, None)  # Decline
    await until(lambda: bool(files_of(op, p.FileAnswer)), 10)
    assert files_of(op, p.FileAnswer)[0].reason == "declined"
    chosen = tmp_path / "chosen" / "place"  # made when accepted
    op.send("files", offer(4, "fix.bin", [("fix.bin", 5, False)]))
    await until(lambda: len(ui.file_asks) == 2, 10)
    session.answer_files(4, str(chosen), "replace")
    await until(lambda: len(files_of(op, p.FileAnswer)) == 2, 10)
    assert files_of(op, p.FileAnswer)[1].accept
    await send_file(op, 4, 0, b"fixed")
    await until(lambda: bool(files_of(op, p.FileResult)), 10)
    assert (chosen / "fix.bin").read_bytes() == b"fixed"
    await r.end()


# --------------------------------------------------------------------------- requests for a path


def request_results(op: LoopbackOperator) -> dict[int, p.FileRequestResult]:
    return {m.request: m for m in files_of(op, p.FileRequestResult)}


async def ask_for(op: LoopbackOperator, number: int, path: str) -> p.FileRequestResult:
    """The operator asks for ``path``; the peer's answer to it."""
    op.send("files", p.FileRequest(request=number, path=path))
    await until(lambda: number in request_results(op), 10)
    return request_results(op)[number]


def received_files(op: LoopbackOperator, transfer: int) -> dict[int, bytes]:
    """The bytes of each file of ``transfer`` that reached the operator, in order."""
    got: dict[int, bytearray] = {}
    for frame in (m for m in op.received["files"] if isinstance(m, bytes)):
        chunk = frames.decode(frame)
        if chunk.transfer == transfer:
            buffer = got.setdefault(chunk.index, bytearray())
            assert chunk.offset == len(buffer)
            buffer += chunk.data
    return {i: bytes(b) for i, b in got.items()}


async def settled(count: Callable[[], int], quiet: float = 0.5, timeout: float = 15) -> int:
    """``count()`` once it has not changed for ``quiet`` seconds."""
    async with asyncio.timeout(timeout):
        last = count()
        while True:
            await asyncio.sleep(quiet)
            now = count()
            if now == last:
                return now
            last = now


class Looked:
    """``request.find`` with a record of every path it was asked to look at."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from peer.files import request

        self.paths: list[Path] = []
        real = request.find

        def find(path: Path) -> Any:
            self.paths.append(path)
            return real(path)

        monkeypatch.setattr(request, "find", find)


async def test_a_requested_file_inside_the_allowed_folder_arrives_verified(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    share = tmp_path / "share"
    (share / "logs").mkdir(parents=True)
    data = os.urandom(2 * CHUNK + 99)
    (share / "logs" / "app.log").write_bytes(data)
    r = await allowed_files(loopback_endpoint, display, allow_file_requests=(share,))
    op, ui = r.operator, r.ui
    answer = await ask_for(op, 5, str(share / "logs" / "app.log"))
    assert (answer.result, answer.reason) == ("sending", None) and answer.transfer is not None
    await until(lambda: any(o.transfer == answer.transfer for o in files_of(op, p.FileOffer)), 10)
    (sent_offer,) = files_of(op, p.FileOffer)
    assert (sent_offer.name, sent_offer.count, sent_offer.total) == ("app.log", 1, len(data))
    op.send("files", p.FileAnswer(transfer=answer.transfer, accept=True, skip=(), resume=()))
    await until(lambda: bool(files_of(op, p.FileEnd)), 15)
    (end,) = files_of(op, p.FileEnd)
    assert end.sha256 == sha(received_files(op, answer.transfer)[0]) == sha(data)
    op.send("files", p.FileResult(transfer=end.transfer, index=0, ok=True))
    await until(lambda: any(line.startswith("files: sent app.log: 1 of 1") for line in ui.lines))
    assert f"files: the operator asked for {share / 'logs' / 'app.log'}: sending it" in ui.lines
    await r.end()


async def test_requests_outside_for_special_or_missing_paths_send_nothing(
    loopback_endpoint: tuple[Endpoint, str],
    display: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (tmp_path / "secret.txt").write_text("not for the operator")
    os.mkfifo(share / "pipe")
    (share / "to-secret").symlink_to(tmp_path / "secret.txt")  # inside, but leads out
    (share / "to-pipe").symlink_to(share / "pipe")
    looked = Looked(monkeypatch)
    r = await allowed_files(loopback_endpoint, display, allow_file_requests=(share,))
    op, ui = r.operator, r.ui
    asked = [
        (str(tmp_path / "secret.txt"), "declined", "outside_allowed"),
        ("/etc/shadow", "declined", "outside_allowed"),
        ("~/.ssh/id_ed25519", "declined", "outside_allowed"),
        (f"{share}/../secret.txt", "refused", "dot_dot"),
        (str(share / "missing.txt"), "not_found", "missing"),
        (str(share / "pipe"), "refused", "special_file"),
        (str(share / "to-pipe"), "refused", "special_file"),
        (str(share / "to-secret"), "declined", "outside_allowed"),
    ]
    for number, (path, result, reason) in enumerate(asked, start=1):
        answer = await ask_for(op, number, path)
        assert (answer.result, answer.reason, answer.transfer) == (result, reason, None), path
    # what lies outside the folder as written was never looked at on the disk
    assert looked.paths == [share / "missing.txt", share / "pipe", share / "to-pipe",
                            share / "to-secret"]  # fmt: skip
    assert "files: the operator asked for /etc/shadow: not sent, it is not inside a folder " \
        "given to --allow-file-requests" in ui.lines  # fmt: skip
    # a flood is answered without looking: ten a minute at most
    for number in range(9, 11):
        await ask_for(op, number, str(share / "missing.txt"))
    answer = await ask_for(op, 11, str(share / "missing.txt"))
    assert (answer.result, answer.reason) == ("busy", "too_often")
    assert len(looked.paths) == 6
    await asyncio.sleep(0.3)
    assert not files_of(op, p.FileOffer)
    assert not [m for m in op.received["files"] if isinstance(m, bytes)]
    await r.end()


async def test_a_request_while_files_is_not_allowed_reads_nothing(
    loopback_endpoint: tuple[Endpoint, str],
    display: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "report.log").write_text("x")
    looked = Looked(monkeypatch)
    r = await start_session(
        loopback_endpoint, display, allow=frozenset({"view"}), allow_file_requests=(share,)
    )
    op = r.operator
    await until(lambda: "files" in op.channels, 10)
    await until(lambda: op.channels["files"].readyState == "open", 10)
    answer = await ask_for(op, 1, str(share / "report.log"))
    assert (answer.result, answer.reason) == ("not_allowed", None)
    assert looked.paths == [] and not files_of(op, p.FileOffer)
    files = r.session.features["files"]
    assert files.counts["refused"] == 1  # type: ignore[attr-defined]
    await r.end()


async def test_in_the_window_the_customer_sees_the_exact_path_and_decides(
    loopback_endpoint: tuple[Endpoint, str],
    display: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from peer.feature import Shown

    home = tmp_path / "home"
    (home / "Documents" / "old").mkdir(parents=True)
    (home / "report.log").write_bytes(b"x" * 3200)
    tree = {"Documents/a.txt": os.urandom(5000), "Documents/old/b.txt": b"bee\n"}
    for name, data in tree.items():
        (home / name).write_bytes(data)
    (home / "docs").symlink_to(home / "Documents")
    monkeypatch.setenv("HOME", str(home))
    r = await allowed_files(loopback_endpoint, display, headless=False)
    op, session = r.operator, r.session
    shown: list[Shown] = []
    show = r.ui.show
    monkeypatch.setattr(r.ui, "show", lambda cap, s: (shown.append(s), show(cap, s)))

    def questions() -> list[str]:
        return [s.text for s in shown if s.kind == "question"]

    op.send("files", p.FileRequest(request=1, path="~/report.log"))
    await until(lambda: bool(questions()), 10)
    assert questions()[0] == (
        f"{session.operator} asks you to send this file:\n{home / 'report.log'} (3.2 KB)"
    )
    answer = await ask_for(op, 2, "~/Documents")  # one question at a time
    assert (answer.result, answer.reason) == ("busy", "pending")
    session.feature_input("files", "request_decline", questions()[0])
    await until(lambda: 1 in request_results(op), 10)
    assert (request_results(op)[1].result, request_results(op)[1].reason) == (
        "declined",
        "customer",
    )
    assert shown[-1].kind == "question_over"  # the question closes, the line says why

    op.send("files", p.FileRequest(request=3, path="~/docs"))
    await until(lambda: len(questions()) == 2, 10)
    text = questions()[1]
    assert text.startswith(f"{session.operator} asks you to send this folder:\n")
    assert f"\n{home / 'Documents'} (2 file(s), 5.0 KB)\n" in text  # where the link leads
    assert "~/docs" in text
    session.feature_input("files", "request_send", questions()[0])  # an old question: nothing
    await asyncio.sleep(0.2)
    assert 3 not in request_results(op)
    session.feature_input("files", "request_send", text)
    await until(lambda: 3 in request_results(op), 10)
    answer = request_results(op)[3]
    assert answer.result == "sending" and answer.transfer is not None
    await until(lambda: bool(files_of(op, p.FileOffer)), 10)
    (sent_offer,) = files_of(op, p.FileOffer)
    assert sent_offer.name == "Documents" and sent_offer.from_folder == str(home)
    op.send("files", p.FileAnswer(transfer=answer.transfer, accept=True, skip=(), resume=()))
    await until(lambda: len(files_of(op, p.FileEnd)) == 2, 15)
    got = received_files(op, answer.transfer)
    paths = [e.path for e in sent_offer.entries]
    for end in files_of(op, p.FileEnd):
        assert end.sha256 == sha(got[end.index]) == sha(tree[paths[end.index]])
    # file transfer taken back while a question is open: the question goes, nothing is sent
    op.send("files", p.FileRequest(request=4, path="~/report.log"))
    await until(lambda: len(questions()) == 3, 10)
    session.revoke("files")
    await until(lambda: 4 in request_results(op), 10)
    assert request_results(op)[4].result == "not_allowed"
    asked = max(i for i, s in enumerate(shown) if s.kind == "question")
    assert [s.text for s in shown[asked:] if s.kind == "question_over"] == [
        "the operator asked for ~/report.log: not sent, file transfer is not allowed now"
    ]
    await r.end()


# --------------------------------------------------------------------------- Stop transfers


async def test_stop_transfers_cancels_both_ways_and_keeps_the_partial_file(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    big = tmp_path / "disk.img"
    with big.open("wb") as f:
        f.truncate(256 * 1024 * 1024)  # far more than crosses the link before Stop
    r = await allowed_files(loopback_endpoint, display, accept_files=inbox, send=(big,))
    op, session, ui = r.operator, r.session, r.ui
    # leaving: the customer's file is accepted and on its way
    await until(lambda: bool(files_of(op, p.FileOffer)), 10)
    out = files_of(op, p.FileOffer)[0].transfer
    op.send("files", p.FileAnswer(transfer=out, accept=True, skip=(), resume=()))
    # arriving: the operator's file is accepted and half of it is here
    data = os.urandom(4 * CHUNK)
    op.send("files", offer(70, "patch.bin", [("patch.bin", len(data), False)]))
    await until(lambda: any(m.transfer == 70 for m in files_of(op, p.FileAnswer)), 10)
    op.send("files", p.FileStart(transfer=70, index=0, offset=0))
    for offset in range(0, 2 * CHUNK, CHUNK):
        op.channels["files"].send(frames.encode(70, 0, offset, data[offset : offset + CHUNK]))
    partial = inbox / ("patch.bin" + PARTIAL_SUFFIX)
    await until(lambda: partial.exists() and partial.stat().st_size == 2 * CHUNK, 10)
    await until(lambda: len(received_files(op, out).get(0, b"")) > 0, 10)

    session.feature_input("files", "stop", "")  # what the pane's button does
    await until(lambda: len(files_of(op, p.FileCancel)) == 2, 10)
    cancels = {m.transfer: m.reason for m in files_of(op, p.FileCancel)}
    assert cancels == {out: "stopped_by_customer", 70: "stopped_by_customer"}
    assert "files: Stopped by you: 2 transfer(s). What arrived is kept, so it can resume." in (
        ui.lines
    )
    arrived = await settled(lambda: len(received_files(op, out)[0]))  # what was on the way
    assert arrived < big.stat().st_size
    assert not files_of(op, p.FileEnd) and not list(inbox.glob("patch.bin"))
    assert partial.read_bytes() == data[: 2 * CHUNK]  # kept
    # the late rest of the stopped file is dropped without a word to the operator
    op.send("files", p.FileEnd(transfer=70, index=0, sha256=sha(data)))
    # offering it again resumes after the part that arrived
    op.send("files", offer(71, "patch.bin", [("patch.bin", len(data), False)]))
    await until(lambda: any(m.transfer == 71 for m in files_of(op, p.FileAnswer)), 10)
    (again,) = [m for m in files_of(op, p.FileAnswer) if m.transfer == 71]
    assert [(x.length, x.sha256) for x in again.resume] == [(2 * CHUNK, sha(data[: 2 * CHUNK]))]
    assert not files_of(op, p.Error)
    await r.end()


# ---------------------------------------------------------------------- flow: file_ack


def data_frames(op: LoopbackOperator) -> list[frames.Chunk]:
    return [frames.decode(m) for m in op.received["files"] if isinstance(m, bytes)]


async def test_the_peer_keeps_a_small_window_on_its_way_and_goes_on_with_acknowledgements(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    from peer.files import flow

    data = os.urandom(3_000_000)
    (tmp_path / "dump.bin").write_bytes(data)
    r = await allowed_files(loopback_endpoint, display, send=(tmp_path / "dump.bin",))
    op = r.operator
    await until(lambda: bool(files_of(op, p.FileOffer)), 10)
    (sent_offer,) = files_of(op, p.FileOffer)
    op.send("files", p.FileAnswer(transfer=sent_offer.transfer, accept=True, skip=(), resume=()))
    await asyncio.sleep(1.0)
    # nothing acknowledged yet: the first window and no more
    early = sum(len(c.data) for c in data_frames(op))
    assert 0 < early <= flow.START_WINDOW

    acker = flow.Acker(0.0)

    def acknowledge(message: bytes | str) -> None:
        if isinstance(message, bytes):
            count = acker.add(len(frames.decode(message).data), 0.0, last=True)
            if count is not None:
                op.send("files", p.FileAck(transfer=sent_offer.transfer, received=count))

    op.channels["files"].on("message", acknowledge)
    # the bytes that came before the listener: acknowledged now, and the rest follows
    acker.add(early, 0.0)
    op.send("files", p.FileAck(transfer=sent_offer.transfer, received=early))
    await until(lambda: bool(files_of(op, p.FileEnd)), 30)
    chunks = data_frames(op)
    got = b"".join(c.data for c in chunks)
    assert sha(got) == files_of(op, p.FileEnd)[0].sha256 == sha(data)
    # frames grow with the link's rate (loopback: far above the smallest)
    assert chunks[0].data.__len__() == flow.MIN_FRAME
    assert max(len(c.data) for c in chunks) >= 8 * flow.MIN_FRAME
    await r.end()


async def test_a_receiver_that_never_acknowledges_still_gets_the_file(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    from peer.files import flow

    data = os.urandom(400_000)
    (tmp_path / "old.bin").write_bytes(data)
    r = await allowed_files(loopback_endpoint, display, send=(tmp_path / "old.bin",))
    op = r.operator
    await until(lambda: bool(files_of(op, p.FileOffer)), 10)
    (sent_offer,) = files_of(op, p.FileOffer)
    op.send("files", p.FileAnswer(transfer=sent_offer.transfer, accept=True, skip=(), resume=()))
    await asyncio.sleep(flow.SILENT_AFTER - 1.0)
    assert sum(len(c.data) for c in data_frames(op)) <= flow.START_WINDOW
    await until(lambda: bool(files_of(op, p.FileEnd)), 15)
    assert sha(b"".join(c.data for c in data_frames(op))) == sha(data)
    await r.end()


async def test_the_peer_acknowledges_what_arrives(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = os.urandom(2_000_000)
    r = await allowed_files(loopback_endpoint, display, accept_files=inbox)
    op = r.operator
    op.send("files", offer(3, "big.bin", [("big.bin", len(data), False)]))
    await until(lambda: bool(files_of(op, p.FileAnswer)), 10)
    await send_file(op, 3, 0, data)
    await until(lambda: bool(files_of(op, p.FileResult)), 15)
    acks = [a.received for a in files_of(op, p.FileAck) if a.transfer == 3]
    assert acks == sorted(set(acks)) and len(acks) >= 3
    assert acks[-1] == len(data)  # the end of the file is acknowledged at once
    assert sha((inbox / "big.bin").read_bytes()) == sha(data)
    await r.end()
