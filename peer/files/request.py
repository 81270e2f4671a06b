"""A path the operator asks for (``file_request``): what it names on this computer, found out
before the customer is asked about it.

    where = expand(typed, home)        # no disk access: the absolute path, or Refused
    inside(where, roots)               # under one of these folders? (compared as written)
    found = find(where)                # the disk (blocking): Found, or Refused
    gate = RequestGate(); gate.admit(now)

``expand`` refuses a path that is neither absolute nor under ``~`` [relative], holds ``..``
[dot_dot] or a character that hides or reorders what follows [control], or names a network
share [network]. ``find`` looks without opening anything: nothing there [missing], a link
to nothing [broken_link], a device, FIFO or socket -- or a link to one -- [special_file], or
something this user cannot read [unreadable] is refused; a regular file or a folder is
``Found`` with every link on the way resolved, so the customer is shown, and the operator
gets, what is really there. ``Refused.result`` is the ``file_request_result`` to send.
"""

from __future__ import annotations

import os
import re
import stat
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: Why a request is answered without sending (``file_request_result.reason``).
REQUEST_REASONS: dict[str, str] = {
    "relative": "the path is neither absolute nor under ~",
    "dot_dot": "the path holds '..'",
    "control": "the path holds a control, line separator or bidi control character",
    "network": "the path names a network share",
    "missing": "nothing is at the path",
    "broken_link": "the path is a link to nothing",
    "special_file": "the path is not a regular file or a folder (a device, FIFO or socket)",
    "unreadable": "the customer's account cannot read it",
    "empty": "the folder holds nothing to send",
    "too_many": "the folder holds too many files for one transfer",
    "unattended": "nobody can answer: the peer runs headless without --allow-file-requests",
    "outside_allowed": "the path is outside the folders given to --allow-file-requests",
    "customer": "the customer declined",
    "no_answer": "the customer did not answer",
    "pending": "another request is still waiting for the customer",
    "too_often": "too many requests in the last minute",
    "failed": "the customer's side could not look at the path",
    "off": "file transfer is not allowed now",
}

#: What a path the customer reads must not hold: C0, DEL, C1, the line and paragraph
#: separators and the bidi controls (the same as a file name from the other side).
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Refused:
    """A request answered without sending: ``result`` (one of ``FILE_REQUEST_RESULTS``) and
    ``reason`` (a ``REQUEST_REASONS`` token)."""

    result: str
    reason: str

    def __post_init__(self) -> None:
        if self.reason not in REQUEST_REASONS:
            raise ValueError(f"request reason {self.reason!r} is not in REQUEST_REASONS")


@dataclass(frozen=True)
class Found:
    """What a request names: ``path`` with every link resolved (what would be sent), whether
    it is a ``folder``, and whether the path asked for was a ``link`` (or passed through one)."""

    path: Path
    folder: bool
    link: bool


def expand(typed: str, home: Path) -> Path | Refused:
    """The absolute path ``typed`` names (``~`` is ``home``), or why it is refused. No disk."""
    if _HIDDEN.search(typed):
        return Refused("refused", "control")
    if typed == "~":
        path = home
    elif typed[:2] in ("~/", f"~{os.sep}"):
        path = home / typed[2:]
    else:
        path = Path(typed)
    if not path.is_absolute():
        return Refused("refused", "relative")
    if ".." in path.parts:
        return Refused("refused", "dot_dot")
    if path.drive.startswith(("\\\\", "//")):
        return Refused("refused", "network")
    return path


def inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether ``path`` is one of ``roots`` or below one, compared as written (no disk)."""
    return any(path == root or root in path.parents for root in roots)


def find(path: Path) -> Found | Refused:
    """What is at ``path`` (absolute, from ``expand``), without opening it (blocking)."""
    try:
        mode = path.lstat().st_mode
    except PermissionError:
        return Refused("refused", "unreadable")
    except OSError:  # missing, a file on the way, a name too long
        return Refused("not_found", "missing")
    link = stat.S_ISLNK(mode)
    if link:
        try:
            mode = path.stat().st_mode
        except OSError:  # the target is missing, or the links go round
            return Refused("not_found", "broken_link")
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return Refused("refused", "special_file")
    real = Path(os.path.realpath(path))
    folder = stat.S_ISDIR(mode)
    if not os.access(real, os.R_OK | (os.X_OK if folder else 0)):
        return Refused("refused", "unreadable")
    return Found(real, folder, link or real != path)


def shown(path: Path | str) -> str:
    """``path`` as the customer reads it: a character that would hide or reorder what follows
    (the name of a file on the way may hold one) written as ``\\uXXXX``."""
    return _HIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", str(path))


class RequestGate:
    """At most ``per_minute`` requests are looked at in any minute; more are answered busy
    without touching the disk. Time is passed in (``time.monotonic()``)."""

    def __init__(self, per_minute: int = 10) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute {per_minute} must be at least 1")
        self.per_minute = per_minute
        self._times: deque[float] = deque()

    def admit(self, now: float) -> bool:
        while self._times and self._times[0] <= now - 60.0:
            self._times.popleft()
        if len(self._times) >= self.per_minute:
            return False
        self._times.append(now)
        return True
