"""File transfer, both ways, over the ``files`` channel (``wire.protocol`` FILES, binary frames
of ``peer/files/frames.py``), while the customer allows ``files``.

Receiving (the operator sends): an offer is collected (it may span several ``file_offer``
messages), every name is checked (``names.sanitize``, ``unique_among``: refused, never
rewritten), the free space is checked, partial files already there are proven by their
SHA-256 (``file_answer.resume``), and the answer goes back. The headless peer accepts into
``--accept-files DIR`` (or declines); each file arrives as ``NAME.supportlink-partial``, its
SHA-256 is checked against ``file_end``, and only then does it get its final name (an
existing name: ``--existing`` keep_both / replace / skip). A failed hash deletes the partial;
a cancel or a lost link keeps it, so offering the same file again resumes. What arrives is
acknowledged (``file_ack``, ``flow.Acker``) so that the operator's side keeps little on its way.

Sending (``--send PATH``, headless): once ``files`` is allowed and the channel is open, each
path is offered (a folder as its tree: symlinks and special files are left out and said so),
and the files the operator accepts are sent in order, paced by the channel's
``bufferedAmount`` (``outgoing.Pacer``) and by what the operator acknowledges
(``file_ack``, ``flow.Window``: frames sized to the link, a short queue on it), resumed
from a proven prefix when the operator holds one, each followed by ``file_end`` with its
SHA-256.

Requests (``file_request``, ``filerequests.PathRequests``): the operator names a path; the
customer is shown exactly what is there and decides (headless: ``--allow-file-requests DIR``
decides). On yes the path goes as Send files… or ``--send`` sends it.

Stop transfers (``from_ui("stop")``, the pane's button): every transfer moving either way
ends at once, the operator gets a ``file_cancel`` for each, partial files stay to resume.

What the window's pane draws besides the words (the bar, whether Stop can stop something,
the request's question) travels in ``files.shown.FilesShown``.

Nothing is read or written before the customer allowed file transfer: frames and offers that
arrive without it are dropped, counted and answered with ``not_allowed`` (a request, with a
``file_request_result`` saying so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from wire import protocol

from ..feature import Feature
from ..files import disk, frames, names
from ..files.digest import PrefixProof, RunningHash, resume_offset
from ..files.errors import FilesError
from ..files.flow import Acker, Window
from ..files.incoming import Incoming
from ..files.outgoing import Pacer
from ..files.progress import TransferPlan, human_size
from ..files.shown import FilesShown
from ..files.tree import offer_parts, walk
from ..i18n import t
from ..settings import PeerSettings
from .filerequests import PathRequests, Tree, request_number

logger = logging.getLogger(__name__)

LABEL = "files"
#: Offers being collected or answered at once; more are declined.
MAX_PENDING = 4
#: Seconds a sender waits for the answer to an offer, and for the results at the end.
ANSWER_TIMEOUT = 120.0
#: Seconds a sender with a full window waits for an acknowledgement before it looks again.
ACK_WAIT = 0.05
#: Seconds between two progress lines of one transfer.
PROGRESS_EVERY = 1.0
#: ``file_cancel.reason`` when the customer pressed Stop transfers.
STOPPED = "stopped_by_customer"


def human_time(seconds: float | None) -> str:
    """Time left in words: "12 s left", "3 min left", "1 h 5 min left", or that it is not
    known yet."""
    if seconds is None:
        return t("files.left_unknown")
    whole = math.ceil(seconds)
    if whole < 60:
        time_words = t("files.seconds", n=whole)
    elif whole < 3600:
        time_words = t("files.minutes", n=math.ceil(whole / 60))
    else:
        time_words = t("files.hours", h=whole // 3600, m=whole % 3600 // 60)
    return t("files.left", time=time_words)


def progress_words(name: str, plan: TransferPlan, now: float) -> dict[str, object]:
    """The parameters of a progress line: the file moving now, the transfer's bytes, the
    speed and the time left."""
    return {
        "name": name,
        "done": human_size(plan.done_bytes),
        "total": human_size(plan.total_bytes),
        "percent": math.floor(100 * plan.progress),
        "speed": human_size(plan.speed(now)),
        "left": human_time(plan.time_left(now)),
    }


def new_plan(entries: list[protocol.FileEntry], skip: Iterable[int], now: float) -> TransferPlan:
    """The counters of a transfer once it is accepted: its files but the skipped ones."""
    plan = TransferPlan([0 if e.folder else e.size for e in entries])
    left_out = set(skip)
    for i, entry in enumerate(entries):
        if entry.folder or i in left_out:
            plan.skip(i)
    plan.begin(now)
    return plan


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
    plan: TransferPlan = field(default_factory=lambda: TransferPlan(()))
    shown_at: float = 0.0
    kept: int = 0
    failed: int = 0
    acker: Acker | None = None
    ack_timer: asyncio.TimerHandle | None = None


@dataclass
class _Sending:
    """One transfer going out."""

    transfer: int
    root: Path
    files: list[Path]
    entries: list[protocol.FileEntry]
    answer: asyncio.Future[protocol.FileAnswer]
    results: dict[int, protocol.FileResult] = field(default_factory=dict)
    all_results: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False
    plan: TransferPlan = field(default_factory=lambda: TransferPlan(()))
    shown_at: float = 0.0
    window: Window | None = None
    acked: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self) -> None:
        """No more bytes of it go out; whoever waits for the operator stops waiting."""
        self.cancelled = True
        if not self.answer.done():
            self.answer.cancel()
        self.all_results.set()
        self.acked.set()


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
        # incoming transfers the customer stopped: their late messages are dropped quietly
        self._stopped: deque[int] = deque(maxlen=64)
        self._shown_moving = False  # what the window's pane was last told
        self.requests = PathRequests(
            host, settings, allowed=lambda: self.allowed, show=self._line, send=self._send_asked
        )

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
        self.requests.stop()
        for r in list(self._receiving.values()):
            self._close(r)
        self._receiving.clear()
        for s in self._sending.values():
            s.stop()
        self._activity()

    def stop_transfers(self) -> None:
        """Stop transfers (the customer's button): every transfer moving either way ends at
        once; the operator gets a ``file_cancel`` for each, and partial files stay where they
        are, so that offering the same again resumes."""
        incoming = [r for r in self._receiving.values() if r.base is not None]
        for r in incoming:
            self._close(r)
            del self._receiving[r.offer.transfer]
            self._stopped.append(r.offer.transfer)
        outgoing = [s for s in self._sending.values() if not s.cancelled]
        for s in outgoing:
            s.stop()
        stopped = [r.offer.transfer for r in incoming] + [s.transfer for s in outgoing]
        for transfer in stopped:
            self.host.send(LABEL, protocol.FileCancel(transfer=transfer, reason=STOPPED))
        self.counts["stopped"] += len(stopped)
        if stopped:
            self._line(t("files.stopped_by_you", count=len(stopped)))
        else:
            self._line(t("files.nothing_to_stop"))

    # ------------------------------------------------------------------ frames in

    def frame(self, label: str, data: str | bytes) -> None:
        if not self.allowed:
            self.counts["refused"] += 1
            asked = request_number(data)
            if asked is not None:
                self.requests.not_allowed(asked)
            else:
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
        elif isinstance(msg, protocol.FileAck):
            self._acked(msg)
        elif isinstance(msg, protocol.FileRequest):
            self.requests.requested(msg)
        elif isinstance(msg, protocol.FileRequestResult):
            self.host.tell(LABEL, "unexpected_message", "file_request_result is the peer's")
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
        r.plan = new_plan(r.entries, r.skip, time.monotonic())
        r.acker = Acker(time.monotonic())
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
        """What the customer did in the pane: ``send`` a file or a folder they chose,
        ``stop`` (Stop transfers), or answer a request's question with ``request_send`` /
        ``request_decline`` (``value`` is the question's text: an answer to a question no
        longer open changes nothing)."""
        if action == "stop":
            self.stop_transfers()
            return
        if action in ("request_send", "request_decline"):
            self.requests.answered(action == "request_send", value)
            return
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
            if msg.transfer not in self._stopped:
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
        if msg.offset:
            r.plan.resumed(msg.index, msg.offset)
            self._line(t("files.resumed_in", name="/".join(path), size=human_size(msg.offset)))

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
        now = time.monotonic()
        self._ack(r, n, now)
        r.plan.advance(chunk.index, n, now)
        if now - r.shown_at >= PROGRESS_EVERY:
            r.shown_at = now
            name = "/".join(r.paths[chunk.index])
            self._show_progress(t("files.progress_in", **progress_words(name, r.plan, now)), r.plan)

    def _ack(self, r: _Receiving, n: int, now: float, *, last: bool = False) -> None:
        """Tell the sender what has arrived (``peer/files/flow.py``): now, or once the
        acknowledgement falls due if nothing more arrives before."""
        acker = r.acker
        if acker is None:
            return
        count = acker.add(n, now, last=last)
        if count is not None:
            self.host.send(LABEL, protocol.FileAck(transfer=r.offer.transfer, received=count))
        due = acker.due
        if due is not None and r.ack_timer is None:
            r.ack_timer = asyncio.get_running_loop().call_later(
                max(0.0, due - now), self._ack_due, r
            )

    def _ack_due(self, r: _Receiving) -> None:
        r.ack_timer = None
        if self._receiving.get(r.offer.transfer) is r:
            self._ack(r, 0, time.monotonic())

    def _show_progress(self, text: str, plan: TransferPlan) -> None:
        self._shown_moving = True
        self.host.show(
            self.capability, FilesShown("progress", text, moving=True, fraction=plan.progress)
        )

    def _end(self, msg: protocol.FileEnd) -> None:
        r = self._receiving.get(msg.transfer)
        if r is None or r.incoming is None or r.index != msg.index or r.base is None:
            if msg.transfer not in self._stopped:
                self.host.tell(LABEL, "unexpected_message", "no file of that transfer is arriving")
            return
        self._ack(r, 0, time.monotonic(), last=True)
        verdict = r.incoming.finish(msg.sha256)
        path = r.paths[msg.index]
        partial = disk.partial_path(r.base, path)
        self._close(r)
        r.index, r.incoming = None, None
        name = "/".join(path)
        if not verdict.ok:
            r.plan.skip(msg.index)
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
            r.plan.complete(msg.index)
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
        if r.ack_timer is not None:
            r.ack_timer.cancel()
            r.ack_timer = None
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
            s.stop()
            self._line(t("files.cancelled_by_operator", name=s.root.name))

    # ------------------------------------------------------------------ sending

    async def _send_paths(self, paths: tuple[Path, ...]) -> None:
        for path in paths:
            if not self.allowed:
                return
            await self._guarded(self._send_one(path), path.name)

    async def _guarded(self, sending: Coroutine[Any, Any, None], name: str) -> None:
        """Send one path: something going wrong with it does not end the session."""
        try:
            await sending
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("sending %s failed", name)
            self._line(t("files.send_failed", name=name, why=str(exc)))

    async def _send_one(self, root: Path) -> None:
        root = root.absolute()
        files, entries, left_out = await asyncio.to_thread(walk, root)
        for skipped in left_out:
            self._line(t("files.left_out", name=skipped))
        if not entries:
            self._line(t("files.nothing_to_send", name=root.name))
            return
        if len(entries) > protocol.MAX_FILES_PER_TRANSFER:
            self._line(t("files.too_many", name=root.name, limit=protocol.MAX_FILES_PER_TRANSFER))
            return
        await self._send_tree(root, files, entries)

    async def _send_asked(self, tree: Tree, offered: Callable[[int], None]) -> None:
        """Send what the operator asked for and the customer approved."""
        await self._guarded(
            self._send_tree(tree.root, tree.files, tree.entries, offered), tree.root.name
        )

    async def _send_tree(
        self,
        root: Path,
        files: list[Path],
        entries: list[protocol.FileEntry],
        offered: Callable[[int], None] | None = None,
    ) -> None:
        """Offer what ``walk(root)`` found and send what the operator accepts; ``offered``
        learns the transfer's number just before its offer goes."""
        transfer = self._next_transfer
        self._next_transfer += 1
        loop = asyncio.get_running_loop()
        sending = self._sending[transfer] = _Sending(
            transfer, root, files, entries, loop.create_future()
        )
        if offered is not None:
            offered(transfer)
        total = sum(e.size for e in entries if not e.folder)
        for part in offer_parts(transfer, root, entries, total):
            if not self.host.send(LABEL, part):
                self._line(t("files.not_connected"))
                self._forget(sending)
                return
        self._line(t("files.offered", name=root.name, count=len(entries), size=human_size(total)))
        try:
            answer = await asyncio.wait_for(sending.answer, ANSWER_TIMEOUT)
        except (TimeoutError, asyncio.CancelledError):
            if not sending.cancelled:
                self._line(t("files.no_answer", name=root.name))
            self._forget(sending)
            return
        if not answer.accept:
            self._forget(sending)
            self._line(t("files.declined_by_operator", name=root.name, why=answer.reason or ""))
            return
        proofs = {p.index: p for p in answer.resume}
        sending.plan = new_plan(entries, answer.skip, time.monotonic())
        sending.window = Window(time.monotonic(), max_frame=self._pacer.chunk)
        started = time.monotonic()
        sent = 0
        for index, (path, entry) in enumerate(zip(files, entries, strict=True)):
            if entry.folder or index in answer.skip or sending.cancelled:
                continue
            sent += await self._send_file(sending, index, path, entry, proofs.get(index))
        if sending.cancelled:
            self._forget(sending)
            return
        expected = sum(1 for i, e in enumerate(entries) if not e.folder and i not in answer.skip)
        if len(sending.results) < expected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sending.all_results.wait(), ANSWER_TIMEOUT)
        ok = sum(1 for r in sending.results.values() if r.ok)
        seconds = max(0.001, time.monotonic() - started)
        w = sending.window
        if w is not None:
            logger.debug(
                "transfer %d: window %d B, base round trip %.1f ms, queueing %.1f ms, "
                "rate %.0f B/s, frame %d B, unacknowledged %s",
                transfer, w.window, (w.base_rtt or 0) * 1000, w.queueing * 1000, w.rate,
                w.frame(), w.unacked,
            )  # fmt: skip
        self._forget(sending)
        self._line(
            t(
                "files.sent_all",
                name=root.name,
                ok=ok,
                count=expected,
                speed=human_size(sent / seconds),
            )
        )

    def _forget(self, sending: _Sending) -> None:
        """A transfer going out is over: the window's pane learns that it no longer moves."""
        if self._sending.get(sending.transfer) is sending:
            del self._sending[sending.transfer]
        self._activity()

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
                    sending.plan.resumed(index, start)
                    self._line(t("files.resuming", name=entry.path, size=human_size(start)))
            source.seek(start)
            if not self.host.send(
                LABEL, protocol.FileStart(transfer=sending.transfer, index=index, offset=start)
            ):
                sending.cancelled = True
                return 0
            window = sending.window or Window(time.monotonic(), max_frame=self._pacer.chunk)
            offset = start
            while offset < entry.size and not sending.cancelled:
                now = time.monotonic()
                size = min(window.frame(), entry.size - offset)
                if window.room(now) < size and window.in_flight > 0:
                    # (with nothing on its way a frame goes whatever the window says: an
                    # ack that never comes cannot be waited for)
                    await self._wait_for_ack(sending)
                    continue
                if self._pacer.budget(self.host.buffered_amount(LABEL)) < size + frames.HEADER:
                    await self.host.drained(LABEL, self._pacer.low_threshold)
                    continue
                data = source.read(size)
                if not data:
                    break  # the file shrank: the operator will see it short
                hasher.update(data)
                if not self.host.send_bytes(
                    LABEL, frames.encode(sending.transfer, index, offset, data)
                ):
                    sending.cancelled = True
                    return offset - start
                window.on_sent(len(data), now)
                offset += len(data)
                self._sent_some(sending, index, len(data), entry.path)
        if sending.cancelled:
            return offset - start
        self.host.send(
            LABEL,
            protocol.FileEnd(transfer=sending.transfer, index=index, sha256=hasher.hexdigest()),
        )
        if offset == entry.size:
            sending.plan.complete(index)
        else:  # the file shrank while it was sent: the operator will see it short
            sending.plan.skip(index)
        self.counts["sent"] += 1
        return offset - start

    async def _wait_for_ack(self, sending: _Sending) -> None:
        """Until the operator acknowledges more of the transfer, or a moment passes (the
        window gives up on a receiver that never acknowledges)."""
        sending.acked.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ACK_WAIT):
                await sending.acked.wait()

    def _acked(self, msg: protocol.FileAck) -> None:
        sending = self._sending.get(msg.transfer)
        if sending is None or sending.window is None:
            return
        sending.window.on_ack(msg.received, time.monotonic())
        sending.acked.set()

    def _sent_some(self, sending: _Sending, index: int, nbytes: int, name: str) -> None:
        now = time.monotonic()
        sending.plan.advance(index, nbytes, now)
        if now - sending.shown_at >= PROGRESS_EVERY:
            sending.shown_at = now
            words = progress_words(name, sending.plan, now)
            self._show_progress(t("files.progress_out", **words), sending.plan)

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

    # ------------------------------------------------------------------ what the pane shows

    def _moving(self) -> bool:
        return any(r.base is not None for r in self._receiving.values()) or any(
            not s.cancelled for s in self._sending.values()
        )

    def _line(self, text: str, kind: str = "line") -> None:
        self._shown_moving = moving = self._moving()
        self.host.show(self.capability, FilesShown(kind, text, moving=moving))

    def _activity(self) -> None:
        """Tell the window's pane when what moves changed without a line that says so (the
        headless peer has nothing to draw)."""
        moving = self._moving()
        if moving != self._shown_moving and not self.settings.headless:
            self._shown_moving = moving
            self.host.show(self.capability, FilesShown("activity", "", moving=moving))


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
