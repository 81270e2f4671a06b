"""The operator's requests for a path (``file_request``), for the files feature.

One request is looked at at a time (another one meanwhile is answered ``busy``), and at most
``REQUESTS_PER_MINUTE`` a minute. ``files.request`` works out what the path really names
without opening it; then the customer is asked, shown exactly that path (the window's files
pane: Send / Decline, the question as ``FilesShown("question")``). The headless peer asks
nobody: it sends what lies inside a folder of ``--allow-file-requests`` -- checked as written
before the disk is looked at, and again with every link resolved -- and declines the rest.

Every request gets one ``file_request_result``; on yes, ``sending`` names the transfer whose
offer follows, and the feature sends the path as it sends what the customer chose.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wire import protocol

from ..feature import FeatureHost
from ..files import request
from ..files.progress import human_size
from ..files.request import Found, Refused, RequestGate
from ..files.tree import walk
from ..i18n import t
from ..settings import PeerSettings

logger = logging.getLogger(__name__)

LABEL = "files"
#: Requests looked at in any minute; more are answered busy without looking.
REQUESTS_PER_MINUTE = 10
#: Seconds the customer has to answer a request's question.
ANSWER_TIMEOUT = 120.0


@dataclass(frozen=True)
class Tree:
    """What an approved request sends: ``walk`` of its resolved path."""

    root: Path
    files: list[Path]
    entries: list[protocol.FileEntry]
    left_out: list[str]


#: Sends an approved request's tree, calling back with the transfer's number just before
#: its offer goes.
SendTree = Callable[[Tree, Callable[[int], None]], Coroutine[Any, Any, None]]


@dataclass
class _Asking:
    """A request whose question is on the customer's screen: the answer is whether to send
    (``None``: the question went unanswered)."""

    text: str
    answer: asyncio.Future[bool | None]


class PathRequests:
    """The requests of one session. ``allowed`` says whether file transfer is allowed now,
    ``show(text, kind)`` tells the customer, ``send`` sends what they approved."""

    def __init__(
        self,
        host: FeatureHost,
        settings: PeerSettings,
        *,
        allowed: Callable[[], bool],
        show: Callable[[str, str], None],
        send: SendTree,
    ) -> None:
        self.host = host
        self.headless = settings.headless
        self.allowed = allowed
        self.show = show
        self.send = send
        self.counts: Counter[str] = Counter()
        self._gate = RequestGate(REQUESTS_PER_MINUTE)
        self._open = False
        self._asking: _Asking | None = None
        # --allow-file-requests: the folders as written, and with their links resolved
        written = tuple(Path(os.path.abspath(p)) for p in settings.allow_file_requests)
        self._roots_real = tuple(Path(os.path.realpath(p)) for p in written)
        self._roots_written = written + self._roots_real

    # ------------------------------------------------------------------ from the feature

    def requested(self, msg: protocol.FileRequest) -> None:
        """A request while file transfer is allowed."""
        if self._open:
            self._result(msg.request, "busy", "pending")
        elif not self._gate.admit(time.monotonic()):
            self._result(msg.request, "busy", "too_often")
        else:
            self._open = True
            self.host.start(self._serve(msg))

    def not_allowed(self, number: int) -> None:
        """A request while file transfer is not allowed: answered, nothing looked at."""
        self._result(number, "not_allowed")

    def answered(self, send: bool, question: str) -> None:
        """The customer's answer to the question ``question`` (one no longer open: nothing)."""
        asking = self._asking
        if asking is not None and asking.text == question and not asking.answer.done():
            asking.answer.set_result(send)

    def stop(self) -> None:
        """File transfer ends: a question still open is no longer the customer's to answer."""
        if self._asking is not None and not self._asking.answer.done():
            self._asking.answer.set_result(None)

    # ------------------------------------------------------------------ one request

    async def _serve(self, msg: protocol.FileRequest) -> None:
        """One request, from its checks to the answer and, on yes, the offer; the next one
        is looked at once this one is answered."""
        try:
            outcome = await self._outcome(msg)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("looking at a requested path failed")
            outcome = Refused("refused", "failed")
        finally:
            self._open = False
        if isinstance(outcome, Refused):
            self._not_sent(msg, outcome)
            return
        self.show(t("files.request_sending", path=request.shown(outcome.root)), "question_over")
        for skipped in outcome.left_out:
            self.show(t("files.left_out", name=skipped), "line")

        def offered(transfer: int) -> None:
            self._result(msg.request, "sending", transfer=transfer)

        await self.send(outcome, offered)

    async def _outcome(self, msg: protocol.FileRequest) -> Tree | Refused:
        """What to send for ``msg``, or why not."""
        where = request.expand(msg.path, Path.home())
        if isinstance(where, Refused):
            return where
        if self.headless and not self._roots_real:
            return Refused("declined", "unattended")
        if self.headless and not request.inside(where, self._roots_written):
            return Refused("declined", "outside_allowed")
        found = await asyncio.to_thread(request.find, where)
        if isinstance(found, Refused):
            return found
        if self.headless and not request.inside(found.path, self._roots_real):
            return Refused("declined", "outside_allowed")
        files, entries, left_out = await asyncio.to_thread(walk, found.path)
        if not entries:
            return Refused("refused", "empty")
        if len(entries) > protocol.MAX_FILES_PER_TRANSFER:
            return Refused("refused", "too_many")
        tree = Tree(found.path, files, entries, left_out)
        if not self.headless:
            refused = await self._ask(msg.path, found, tree)
            if refused is not None:
                return refused
        if not self.allowed():
            return Refused("not_allowed", "off")
        return tree

    async def _ask(self, typed: str, found: Found, tree: Tree) -> Refused | None:
        """Ask the customer, showing exactly what would be sent: ``None`` when they said
        Send, else why not."""
        text = self._question(typed, found, tree)
        answer: asyncio.Future[bool | None] = asyncio.get_running_loop().create_future()
        self._asking = _Asking(text, answer)
        self.show(text, "question")
        try:
            yes: bool | None = await asyncio.wait_for(answer, ANSWER_TIMEOUT)
        except TimeoutError:
            yes = None
        finally:
            self._asking = None
        if not self.allowed():
            return Refused("not_allowed", "off")
        if yes is None:
            return Refused("declined", "no_answer")
        return None if yes else Refused("declined", "customer")

    def _question(self, typed: str, found: Found, tree: Tree) -> str:
        files = [e for e in tree.entries if not e.folder]
        size = human_size(sum(e.size for e in files))
        operator, path = self.host.operator, request.shown(found.path)
        if found.folder:
            text = t(
                "files.request_question_folder",
                operator=operator,
                path=path,
                count=len(files),
                size=size,
            )
        else:
            text = t("files.request_question_file", operator=operator, path=path, size=size)
        if found.link:
            text += "\n" + t("files.request_link", typed=request.shown(typed))
        if tree.left_out:
            text += "\n" + t("files.request_left_out", count=len(tree.left_out))
        return text

    def _not_sent(self, msg: protocol.FileRequest, refused: Refused) -> None:
        """Answer ``msg`` without sending, and tell the customer why (closing its question
        if it is still on the screen)."""
        self._result(msg.request, refused.result, refused.reason)
        why = why_words(refused.reason)
        text = t("files.request_not_sent", path=request.shown(msg.path), why=why)
        self.show(text, "question_over")

    def _result(
        self, number: int, result: str, reason: str | None = None, transfer: int | None = None
    ) -> None:
        self.counts[result] += 1
        self.host.send(
            LABEL,
            protocol.FileRequestResult(
                request=number, result=result, reason=reason, transfer=transfer
            ),
        )


def why_words(reason: str) -> str:
    """Why a requested path was not sent, in the customer's words."""
    words = {
        "relative": t("files.request_why.relative"),
        "dot_dot": t("files.request_why.dot_dot"),
        "control": t("files.request_why.control"),
        "network": t("files.request_why.network"),
        "missing": t("files.request_why.missing"),
        "broken_link": t("files.request_why.broken_link"),
        "special_file": t("files.request_why.special_file"),
        "unreadable": t("files.request_why.unreadable"),
        "empty": t("files.request_why.empty"),
        "too_many": t("files.request_why.too_many", limit=protocol.MAX_FILES_PER_TRANSFER),
        "unattended": t("files.request_why.unattended"),
        "outside_allowed": t("files.request_why.outside_allowed"),
        "customer": t("files.request_why.customer"),
        "no_answer": t("files.request_why.no_answer"),
        "failed": t("files.request_why.failed"),
        "off": t("files.request_why.off"),
    }
    return words.get(reason, reason)


def request_number(data: str | bytes) -> int | None:
    """The number of the ``file_request`` in the frame ``data``, if that is what it is."""
    if not isinstance(data, str):
        return None
    try:
        msg = protocol.parse(data, protocol.FILES)
    except protocol.ProtocolError:
        return None
    return msg.request if isinstance(msg, protocol.FileRequest) else None
