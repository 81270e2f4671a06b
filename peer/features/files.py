"""File transfer, both ways, over the ``files`` channel (``wire.protocol`` FILES, binary frames
of ``peer/files/frames.py``), while the customer allows ``files``.

Receiving (the operator sends): an offer is collected (it may span several ``file_offer``
messages), every name is checked (``names.sanitize``, ``unique_among``: refused, never
rewritten), the free space is checked, partial files already there are proven by their
SHA-256 (``file_answer.resume``), and the answer goes back. The headless peer accepts into
``--accept-files DIR`` (or declines); each file arrives as ``NAME.supportlink-partial``, its
SHA-256 is checked against ``file_end``, and only then does it get its final name (an
existing name: ``--existing`` keep_both / replace / skip). A failed hash deletes the partial;
a cancel or a lost link keeps it, so offering the same file again resumes.

Sending (``--send PATH``, headless): once ``files`` is allowed and the channel is open, each
path is offered (a folder as its tree: symlinks and special files are left out and said so),
and the files the operator accepts are sent in order, paced by the channel's
``bufferedAmount`` (``outgoing.Pacer``), resumed from a proven prefix when the operator holds
one, each followed by ``file_end`` with its SHA-256.

Nothing is read or written before the customer allowed file transfer: frames and offers that
arrive without it are dropped, counted and answered with ``not_allowed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from wire import protocol

from ..feature import Feature, Shown
from ..files import disk, frames, names
from ..files.digest import PrefixProof, RunningHash, resume_offset
from ..files.errors import FilesError
from ..files.incoming import Incoming
from ..files.outgoing import Pacer
from ..i18n import t
from ..settings import PeerSettings

logger = logging.getLogger(__name__)

LABEL = "files"
#: Offers being collected or answered at once; more are declined.
MAX_PENDING = 4
#: Seconds a sender waits for the answer to an offer, and for the results at the end.
ANSWER_TIMEOUT = 120.0
#: Seconds between two progress lines of one transfer.
PROGRESS_EVERY = 1.0
#: Bytes of JSON per ``file_offer`` message (the registry allows 64 KiB).
OFFER_BYTES = 48 * 1024


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover - the loop returns


@dataclass
class _Receiving:
    """One transfer coming in."""

    offer: protocol.FileOffer
    entries: list[protocol.FileEntry] = field(default_factory=list)
    paths: list[tuple[str, ...]] = field(default_factory=list)
    base: Path | None = None
    proofs: dict[int, RunningHash] = field(default_factory=dict)
    skip: set[int] = field(default_factory=set)
    index: int | None = None
    incoming: Incoming | None = None
    handle: BinaryIO | None = None
    existing: str = "keep_both"
    done_bytes: int = 0
    started: float = 0.0
    shown_at: float = 0.0
    kept: int = 0
    failed: int = 0


@dataclass
class _Sending:
    transfer: int
    root: Path
    files: list[Path]
    entries: list[protocol.FileEntry]
    answer: asyncio.Future[protocol.FileAnswer]
    results: dict[int, protocol.FileResult] = field(default_factory=dict)
    all_results: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False


class FilesFeature(Feature):
    capability = "files"
    reads_raw = frozenset({LABEL})

    def __init__(self, host: Any, settings: PeerSettings) -> None:
        super().__init__(host)
        self.settings = settings
        self.counts: Counter[str] = Counter()
        self._receiving: dict[int, _Receiving] = {}
        self._sending: dict[int, _Sending] = {}
        self._next_transfer = 1
        self._sent_paths = False
        self._pacer = Pacer(None)
        self._asks: dict[int, asyncio.Future[tuple[Path, str] | None]] = {}

    # ------------------------------------------------------------------ consent, lifecycle

    def set_allowed(self, allowed: bool) -> bool:
        self.allowed = allowed
        if not allowed:
            self._stop_all("not_allowed")
        elif self.settings.send and not self._sent_paths:
            self._sent_paths = True
            self.host.start(self._send_paths(self.settings.send))
        return True

    def link_lost(self) -> None:
        # partial files stay where they are: offering them again resumes
        for r in self._receiving.values():
            self._close(r)

    def stop_now(self) -> None:
        self._stop_all("peer_ended")

    async def close(self) -> None:
        self._stop_all("peer_ended")

    def summary(self) -> str | None:
        c = self.counts
        if not c:
            return None
        return (
            f"files: received {c['received']}, sent {c['sent']}, failed {c['failed']}, "
            f"refused {c['refused']}"
        )

    def _stop_all(self, reason: str) -> None:
        for ask in self._asks.values():
            if not ask.done():
                ask.set_result(None)
        for r in list(self._receiving.values()):
            self._close(r)
        self._receiving.clear()
        for s in self._sending.values():
            s.cancelled = True
            if not s.answer.done():
                s.answer.cancel()
            s.all_results.set()

    # ------------------------------------------------------------------ frames in

    def frame(self, label: str, data: str | bytes) -> None:
        if not self.allowed:
            self.counts["refused"] += 1
            self.host.tell(LABEL, "not_allowed", "the customer has not allowed file transfer")
            return
        if isinstance(data, str):
            try:
                msg = protocol.parse(data, protocol.FILES)
            except protocol.ProtocolError as exc:
                self.counts["bad_message"] += 1
                self.host.tell(LABEL, exc.code, exc.message[:200])
                return
            self._message(msg)
        else:
            self._chunk(data)

    def _message(self, msg: Any) -> None:
        if isinstance(msg, protocol.FileOffer):
            self._offer(msg)
        elif isinstance(msg, protocol.FileStart):
            self._start(msg)
        elif isinstance(msg, protocol.FileEnd):
            self._end(msg)
        elif isinstance(msg, protocol.FileCancel):
            self._cancelled(msg.transfer, msg.reason)
        elif isinstance(msg, protocol.FileAnswer):
            sending = self._sending.get(msg.transfer)
            if sending is not None and not sending.answer.done():
                sending.answer.set_result(msg)
        elif isinstance(msg, protocol.FileResult):
            self._result(msg)
        elif isinstance(msg, protocol.Error):
            self._line(t("files.refused_by_operator", code=msg.code))

    # ------------------------------------------------------------------ receiving

    def _offer(self, msg: protocol.FileOffer) -> None:
        r = self._receiving.get(msg.transfer)
        if r is None:
            if len(self._receiving) >= MAX_PENDING:
                self._answer_no(msg.transfer, "busy")
                return
            r = self._receiving[msg.transfer] = _Receiving(msg)
        elif r.base is not None:  # already answered: an offer of the same id again is wrong
            self._fail_transfer(r, "bad_offer")
            return
        r.entries.extend(msg.entries)
        if len(r.entries) > r.offer.count:
            self._fail_transfer(r, "bad_offer")
            return
        if not msg.more:
            self.host.start(self._decide(r))

    async def _decide(self, r: _Receiving) -> None:
        offer = r.offer
        transfer = offer.transfer
        if (
            len(r.entries) != offer.count
            or sum(e.size for e in r.entries if not e.folder) != offer.total
        ):
            self._answer_no(transfer, "bad_offer")
            return
        try:
            r.paths = await asyncio.to_thread(_checked_paths, r.entries)
        except names.UnsafeName as exc:
            self.counts["unsafe_name"] += 1
            self._line(t("files.unsafe_name", name=offer.name, why=exc.message))
            self._answer_no(transfer, exc.code)
            return
        size = human_size(offer.total)
        existing = self.settings.existing
        if self.settings.headless:
            base = self.settings.accept_files
            if base is None:
                self._line(t("files.declined_headless", count=offer.count, size=size))
                self._answer_no(transfer, "declined")
                return
        else:
            choice = await self._ask(r)
            if choice is None:
                self._line(t("files.declined", name=offer.name))
                self._answer_no(transfer, "declined")
                return
            base, existing = choice
        try:
            proofs = await asyncio.to_thread(self._prove, base, r)
        except (FilesError, OSError) as exc:
            self._line(t("files.cannot_write", why=str(exc)))
            self._answer_no(transfer, "cannot_write")
            return
        already = sum(p.length for p in proofs.values())
        if disk.free_space(base) < offer.total - already:
            self._line(t("files.no_space", size=size, folder=str(base)))
            self._answer_no(transfer, "no_space")
            return
        if self._receiving.get(transfer) is not r:  # cancelled meanwhile
            return
        r.base, r.proofs, r.existing = base, proofs, existing
        if existing == "skip":
            r.skip = {
                i
                for i, (p, e) in enumerate(zip(r.paths, r.entries, strict=True))
                if not e.folder and Path(base, *p).exists()
            }
        resume = tuple(
            protocol.FileResume(index=i, length=h.length, sha256=h.hexdigest())
            for i, h in proofs.items()
            if i not in r.skip
        )
        for i in sorted(r.skip):
            self._line(t("files.skipped_existing", name="/".join(r.paths[i])))
        r.started = time.monotonic()
        self._line(
            t("files.accepting", name=offer.name, count=offer.count, size=size, folder=str(base))
        )
        self.host.send(
            LABEL,
            protocol.FileAnswer(
                transfer=transfer,
                accept=True,
                to_folder=str(base),
                skip=tuple(sorted(r.skip)),
                resume=resume,
            ),
        )

    async def _ask(self, r: _Receiving) -> tuple[Path, str] | None:
        """Ask the customer (the window): where to, and what to do with names already there;
        ``None`` if they decline (or do not answer in ``ANSWER_TIMEOUT``)."""
        offer = r.offer
        answer = self._asks[offer.transfer] = asyncio.get_running_loop().create_future()
        files = [e.path for e in r.entries if not e.folder]
        self.host.ask_files(
            offer.transfer, offer.name, len(files), human_size(offer.total), files[:8]
        )
        try:
            return await asyncio.wait_for(answer, ANSWER_TIMEOUT)
        except (TimeoutError, asyncio.CancelledError):
            return None
        finally:
            self._asks.pop(offer.transfer, None)

    def answered(self, transfer: int, folder: Path | None, existing: str) -> None:
        """The customer's answer to ``ask_files`` (``folder`` None: declined)."""
        answer = self._asks.get(transfer)
        if answer is not None and not answer.done():
            answer.set_result(None if folder is None else (folder, existing))

    def from_ui(self, action: str, value: str) -> None:
        """``send``: the customer chose a file or a folder to send to the operator."""
        if action != "send" or not value:
            return
        if not self.allowed:
            self._line(t("files.off"))
            return
        self.host.start(self._send_paths((Path(value),)))

    def _prove(self, base: Path, r: _Receiving) -> dict[int, RunningHash]:
        """Make the folders; prove the partial files already there (blocking: a thread)."""
        base.mkdir(parents=True, exist_ok=True)
        proofs: dict[int, RunningHash] = {}
        for i, (path, entry) in enumerate(zip(r.paths, r.entries, strict=True)):
            if entry.folder:
                target = Path(base, *path)
                target.mkdir(parents=True, exist_ok=True)
                continue
            proof = disk.prove_partial(base, path)
            if proof is not None and 0 < proof.length <= entry.size:
                proofs[i] = proof
        return proofs

    def _start(self, msg: protocol.FileStart) -> None:
        r = self._receiving.get(msg.transfer)
        if r is None or r.base is None or msg.index >= len(r.entries):
            self.host.tell(LABEL, "unexpected_message", "no such transfer or file")
            return
        entry, path = r.entries[msg.index], r.paths[msg.index]
        if entry.folder or msg.index in r.skip or r.incoming is not None:
            self._fail_transfer(r, "bad_start")
            return
        proof = r.proofs.get(msg.index)
        try:
            if msg.offset == 0:
                incoming = Incoming(entry.size)
            elif proof is not None and msg.offset == proof.length:
                incoming = Incoming.resuming(entry.size, proof, msg.offset)
            else:
                self._fail_transfer(r, "bad_start")
                return
            r.handle = disk.open_partial(r.base, path, msg.offset)
        except (FilesError, OSError) as exc:
            self._line(t("files.cannot_write", why=str(exc)))
            self._fail_transfer(r, "cannot_write")
            return
        r.index, r.incoming = msg.index, incoming
        r.done_bytes += msg.offset

    def _chunk(self, data: bytes) -> None:
        try:
            chunk = frames.decode(data)
        except FilesError as exc:
            self.counts["bad_frame"] += 1
            self.host.tell(LABEL, exc.code, exc.message[:200])
            return
        r = self._receiving.get(chunk.transfer)
        if r is None or r.incoming is None or r.handle is None or chunk.index != r.index:
            self.counts["stray_chunk"] += 1
            return
        try:
            n = r.incoming.chunk(chunk.offset, chunk.data)
            r.handle.write(chunk.data[:n])
        except FilesError as exc:
            self._fail_transfer(r, exc.code)
            return
        except OSError as exc:
            self._line(t("files.cannot_write", why=str(exc)))
            self._fail_transfer(r, "no_space" if exc.errno == 28 else "cannot_write")
            return
        r.done_bytes += n
        self._progress(r)

    def _progress(self, r: _Receiving) -> None:
        now = time.monotonic()
        if now - r.shown_at < PROGRESS_EVERY:
            return
        r.shown_at = now
        total = max(1, r.offer.total)
        speed = r.done_bytes / max(0.001, now - r.started)
        self._line(
            kind="progress",
            text=t(
                "files.progress_in",
                name=r.offer.name,
                done=human_size(r.done_bytes),
                total=human_size(r.offer.total),
                percent=round(100 * r.done_bytes / total),
                speed=human_size(speed),
            ),
        )

    def _end(self, msg: protocol.FileEnd) -> None:
        r = self._receiving.get(msg.transfer)
        if r is None or r.incoming is None or r.index != msg.index or r.base is None:
            self.host.tell(LABEL, "unexpected_message", "no file of that transfer is arriving")
            return
        verdict = r.incoming.finish(msg.sha256)
        path = r.paths[msg.index]
        partial = disk.partial_path(r.base, path)
        self._close(r)
        r.index, r.incoming = None, None
        name = "/".join(path)
        if not verdict.ok:
            r.failed += 1
            self.counts["failed"] += 1
            if verdict.code == "hash_mismatch":
                with contextlib.suppress(OSError):
                    partial.unlink()
            self._line(t("files.failed_in", name=name, why=verdict.code or "failed"))
            self.host.send(
                LABEL,
                protocol.FileResult(
                    transfer=msg.transfer, index=msg.index, ok=False, reason=verdict.code
                ),
            )
        else:
            policy: disk.Policy = "replace" if self.settings.existing == "replace" else "keep_both"
            try:
                final = disk.commit(partial, Path(r.base, *path), policy)
            except (FilesError, OSError) as exc:
                self._line(t("files.cannot_write", why=str(exc)))
                self.host.send(
                    LABEL,
                    protocol.FileResult(
                        transfer=msg.transfer, index=msg.index, ok=False, reason="cannot_write"
                    ),
                )
                return
            r.kept += 1
            self.counts["received"] += 1
            saved = final.relative_to(r.base).as_posix()
            self._line(
                t(
                    "files.received",
                    name=saved,
                    size=human_size(r.entries[msg.index].size),
                    sha=verdict.sha256[:16],
                )
            )
            self.host.send(
                LABEL,
                protocol.FileResult(
                    transfer=msg.transfer, index=msg.index, ok=True, saved_as=saved[:4096]
                ),
            )
        if self._all_done(r):
            del self._receiving[msg.transfer]
            self._line(t("files.transfer_done", name=r.offer.name, kept=r.kept, failed=r.failed))

    def _all_done(self, r: _Receiving) -> bool:
        files = sum(1 for e in r.entries if not e.folder)
        return r.kept + r.failed + len(r.skip) >= files

    def _close(self, r: _Receiving) -> None:
        handle, r.handle = r.handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()

    def _fail_transfer(self, r: _Receiving, reason: str) -> None:
        """Stop a transfer the sender broke (or we cannot write): its partial files stay."""
        self.counts["failed"] += 1
        self._close(r)
        self._receiving.pop(r.offer.transfer, None)
        self._line(t("files.stopped", name=r.offer.name, why=reason))
        self.host.send(LABEL, protocol.FileCancel(transfer=r.offer.transfer, reason=reason))

    def _answer_no(self, transfer: int, reason: str) -> None:
        self._receiving.pop(transfer, None)
        self.host.send(
            LABEL,
            protocol.FileAnswer(transfer=transfer, accept=False, skip=(), resume=(), reason=reason),
        )

    def _cancelled(self, transfer: int, reason: str) -> None:
        r = self._receiving.pop(transfer, None)
        if r is not None:
            self._close(r)
            self._line(t("files.cancelled_by_operator", name=r.offer.name))
        s = self._sending.get(transfer)
        if s is not None:
            s.cancelled = True
            if not s.answer.done():
                s.answer.cancel()
            s.all_results.set()
            self._line(t("files.cancelled_by_operator", name=s.root.name))

    # ------------------------------------------------------------------ sending

    async def _send_paths(self, paths: tuple[Path, ...]) -> None:
        for path in paths:
            if not self.allowed:
                return
            try:
                await self._send_one(path)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one path going wrong does not end the session
                logger.exception("sending %s failed", path)
                self._line(t("files.send_failed", name=path.name, why=str(exc)))

    async def _send_one(self, root: Path) -> None:
        root = root.absolute()
        files, entries, left_out = await asyncio.to_thread(_walk, root)
        for skipped in left_out:
            self._line(t("files.left_out", name=skipped))
        if not entries:
            self._line(t("files.nothing_to_send", name=root.name))
            return
        if len(entries) > protocol.MAX_FILES_PER_TRANSFER:
            self._line(t("files.too_many", name=root.name, limit=protocol.MAX_FILES_PER_TRANSFER))
            return
        transfer = self._next_transfer
        self._next_transfer += 1
        loop = asyncio.get_running_loop()
        sending = self._sending[transfer] = _Sending(
            transfer, root, files, entries, loop.create_future()
        )
        total = sum(e.size for e in entries if not e.folder)
        for part in _offer_parts(transfer, root, entries, total):
            if not self.host.send(LABEL, part):
                self._line(t("files.not_connected"))
                return
        self._line(t("files.offered", name=root.name, count=len(entries), size=human_size(total)))
        try:
            answer = await asyncio.wait_for(sending.answer, ANSWER_TIMEOUT)
        except (TimeoutError, asyncio.CancelledError):
            if not sending.cancelled:
                self._line(t("files.no_answer", name=root.name))
            self._sending.pop(transfer, None)
            return
        if not answer.accept:
            self._line(t("files.declined_by_operator", name=root.name, why=answer.reason or ""))
            self._sending.pop(transfer, None)
            return
        proofs = {p.index: p for p in answer.resume}
        started = time.monotonic()
        sent = 0
        for index, (path, entry) in enumerate(zip(files, entries, strict=True)):
            if entry.folder or index in answer.skip or sending.cancelled:
                continue
            sent += await self._send_file(sending, index, path, entry, proofs.get(index))
        if sending.cancelled:
            self._sending.pop(transfer, None)
            return
        expected = sum(1 for i, e in enumerate(entries) if not e.folder and i not in answer.skip)
        if len(sending.results) < expected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sending.all_results.wait(), ANSWER_TIMEOUT)
        ok = sum(1 for r in sending.results.values() if r.ok)
        seconds = max(0.001, time.monotonic() - started)
        self._line(
            t(
                "files.sent_all",
                name=root.name,
                ok=ok,
                count=expected,
                speed=human_size(sent / seconds),
            )
        )
        self._sending.pop(transfer, None)

    async def _send_file(
        self,
        sending: _Sending,
        index: int,
        path: Path,
        entry: protocol.FileEntry,
        proof: protocol.FileResume | None,
    ) -> int:
        """Send one file; the bytes sent (not counting a resumed prefix)."""
        hasher = RunningHash()
        start = 0
        with path.open("rb") as source:
            if proof is not None and proof.length <= entry.size:
                prefix = await asyncio.to_thread(_hash_prefix, source, proof.length)
                start = resume_offset(
                    PrefixProof(proof.length, proof.sha256), entry.size, prefix.hexdigest()
                )
                if start:
                    hasher = prefix
                    self._line(t("files.resuming", name=entry.path, size=human_size(start)))
            source.seek(start)
            if not self.host.send(
                LABEL, protocol.FileStart(transfer=sending.transfer, index=index, offset=start)
            ):
                sending.cancelled = True
                return 0
            chunk = self._pacer.chunk
            offset = start
            while offset < entry.size and not sending.cancelled:
                budget = self._pacer.budget(self.host.buffered_amount(LABEL))
                if budget <= 0:
                    await self.host.drained(LABEL, self._pacer.low_threshold)
                    continue
                while budget > 0 and offset < entry.size:
                    data = source.read(min(chunk, entry.size - offset))
                    if not data:
                        break  # the file shrank: the operator will see it short
                    hasher.update(data)
                    if not self.host.send_bytes(
                        LABEL, frames.encode(sending.transfer, index, offset, data)
                    ):
                        sending.cancelled = True
                        return offset - start
                    offset += len(data)
                    budget -= len(data) + frames.HEADER
                else:
                    continue
                break
        if sending.cancelled:
            return offset - start
        self.host.send(
            LABEL,
            protocol.FileEnd(transfer=sending.transfer, index=index, sha256=hasher.hexdigest()),
        )
        self.counts["sent"] += 1
        return offset - start

    def _result(self, msg: protocol.FileResult) -> None:
        sending = self._sending.get(msg.transfer)
        if sending is None or msg.index >= len(sending.entries):
            return
        sending.results[msg.index] = msg
        name = sending.entries[msg.index].path
        if msg.ok:
            self._line(t("files.delivered", name=name))
        else:
            self.counts["failed"] += 1
            self._line(t("files.not_delivered", name=name, why=msg.reason or "failed"))
        files = sum(1 for e in sending.entries if not e.folder)
        if len(sending.results) >= files:
            sending.all_results.set()

    def _line(self, text: str, kind: str = "line") -> None:
        self.host.show(self.capability, Shown(kind, text))


def _checked_paths(entries: list[protocol.FileEntry]) -> list[tuple[str, ...]]:
    """Every entry's safe components, or ``UnsafeName`` (a bad name, two that collide)."""
    paths = [names.sanitize(e.path) for e in entries]
    names.unique_among(
        [e.path for e in entries if not e.folder], [e.path for e in entries if e.folder]
    )
    return paths


def _hash_prefix(source: BinaryIO, length: int) -> RunningHash:
    hasher = RunningHash()
    left = length
    while left > 0:
        data = source.read(min(1 << 20, left))
        if not data:
            break
        hasher.update(data)
        left -= len(data)
    return hasher


def _walk(root: Path) -> tuple[list[Path], list[protocol.FileEntry], list[str]]:
    """What offering ``root`` sends: its files (a folder: its tree, empty folders as entries),
    never following a symlink; what was left out (symlinks, devices, unreadable)."""
    files: list[Path] = []
    entries: list[protocol.FileEntry] = []
    left_out: list[str] = []
    if root.is_symlink() or not (root.is_file() or root.is_dir()):
        return files, entries, [root.name]
    if root.is_file():
        files.append(root)
        entries.append(protocol.FileEntry(path=root.name, size=root.stat().st_size))
        return files, entries, left_out

    def visit(folder: Path, rel: str) -> None:
        try:
            children = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            left_out.append(rel)
            return
        if not children:
            files.append(folder)
            entries.append(protocol.FileEntry(path=rel, size=0, folder=True))
        for child in children:
            child_rel = f"{rel}/{child.name}"
            if child.is_symlink():
                left_out.append(child_rel)
            elif child.is_dir(follow_symlinks=False):
                visit(Path(child.path), child_rel)
            elif child.is_file(follow_symlinks=False):
                files.append(Path(child.path))
                entries.append(
                    protocol.FileEntry(
                        path=child_rel, size=child.stat(follow_symlinks=False).st_size
                    )
                )
            else:
                left_out.append(child_rel)
            if len(entries) > protocol.MAX_FILES_PER_TRANSFER:
                return

    visit(root, root.name)
    return files, entries, left_out


def _offer_parts(
    transfer: int, root: Path, entries: list[protocol.FileEntry], total: int
) -> list[protocol.FileOffer]:
    """The offer, cut into messages of at most ``OFFER_BYTES`` of JSON each."""
    parts: list[list[protocol.FileEntry]] = [[]]
    size = 0
    for entry in entries:
        cost = len(json.dumps(entry.path, ensure_ascii=False).encode()) + 48
        if parts[-1] and (size + cost > OFFER_BYTES or len(parts[-1]) >= 1000):
            parts.append([])
            size = 0
        parts[-1].append(entry)
        size += cost
    return [
        protocol.FileOffer(
            transfer=transfer,
            name=root.name,
            from_folder=str(root.parent)[:4096],
            count=len(entries),
            total=total,
            entries=tuple(part),
            more=i < len(parts) - 1,
        )
        for i, part in enumerate(parts)
    ]
