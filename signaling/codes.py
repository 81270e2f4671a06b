"""Session codes: issue, claim once, expire. Sans-IO: every call takes ``now`` (Unix seconds).

A code is 8 digits from a CSPRNG, unique among live codes, valid for ``ttl`` seconds and
claimed at most once. Codes that were used or expired are remembered for a while (tombstones)
so that a second try gets "used" or "expired" instead of "unknown", and so that a remembered
code is never issued again while it is remembered. Tombstones are bounded by count and age,
oldest dropped first.

Cost per call is O(log n) in the number of live codes: deadlines sit in a heap with lazy
deletion, compacted when stale entries outnumber live ones.

Errors::

    CodeError(Exception)   .code, .message (words for the customer)
        unknown_code       no live or remembered code matches
        expired_code       the code reached its expiry before anyone claimed it
        used_code          the code was claimed already, or its session was ended
        server_busy        no unused code could be drawn (the code space is exhausted)
"""

from __future__ import annotations

import heapq
import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = ["CodeError", "CodeRegistry", "IssuedCode"]

_MESSAGES = {
    "unknown_code": "No session has this code. Check the digits and try again.",
    "expired_code": "This code has expired. Ask the operator for a new one.",
    "used_code": "This code has already been used. Ask the operator for a new one.",
    "server_busy": "The server cannot create a session code now. Try again shortly.",
}
_CODE_RE = re.compile(r"[0-9]{8}")
_MAX_DRAWS = 1000
_USED = "used_code"
_EXPIRED = "expired_code"


class CodeError(Exception):
    """A code was refused; ``code`` is a stable ``protocol.ERROR_CODES`` key."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.message = _MESSAGES[code]
        super().__init__(self.message)


@dataclass(frozen=True)
class IssuedCode:
    code: str
    session_id: str
    expires_at: float


@dataclass(frozen=True)
class _Tomb:
    kind: str  # _USED or _EXPIRED
    since: float


def _secret_code() -> str:
    return f"{secrets.randbelow(100_000_000):08d}"


class CodeRegistry:
    """Live codes by code and by session, a deadline heap, and bounded tombstones."""

    def __init__(
        self,
        ttl: float,
        *,
        tombstone_ttl: float = 86400.0,
        max_tombstones: int = 200_000,
        draw: Callable[[], str] | None = None,
    ) -> None:
        if not ttl > 0:
            raise ValueError(f"ttl must be positive, got {ttl!r}")
        if not tombstone_ttl >= 0:
            raise ValueError(f"tombstone_ttl must not be negative, got {tombstone_ttl!r}")
        if max_tombstones < 0:
            raise ValueError(f"max_tombstones must not be negative, got {max_tombstones!r}")
        self._ttl = ttl
        self._tombstone_ttl = tombstone_ttl
        self._max_tombstones = max_tombstones
        self._draw = draw or _secret_code
        self._live: dict[str, IssuedCode] = {}
        self._by_session: dict[str, str] = {}
        self._deadlines: list[tuple[float, str]] = []
        self._tombs: OrderedDict[str, _Tomb] = OrderedDict()
        self._clock = float("-inf")  # the latest ``now`` seen; tombstones are stamped with it

    def __len__(self) -> int:
        return len(self._live)

    def issue(self, session_id: str, now: float) -> IssuedCode:
        """A fresh code for ``session_id``; a code the session had before dies (as used)."""
        self._advance(now)
        self.revoke(session_id)
        for _ in range(_MAX_DRAWS):
            code = self._draw()
            if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
                raise ValueError(f"draw() must return 8 ASCII digits, got {code!r}")
            if code not in self._live and code not in self._tombs:
                break
        else:
            logger.warning("no unused code after %d draws", _MAX_DRAWS)
            raise CodeError("server_busy")
        issued = IssuedCode(code=code, session_id=session_id, expires_at=now + self._ttl)
        self._live[code] = issued
        self._by_session[session_id] = code
        heapq.heappush(self._deadlines, (issued.expires_at, code))
        self._compact()
        return issued

    def claim(self, code: str, now: float) -> str:
        """The session of ``code``, which is used from now on; or ``CodeError``.

        A code past its expiry is refused as expired even before ``expire()`` has seen it;
        it stays live for ``expire()`` so that its session is still reported as expired.
        """
        self._advance(now)
        issued = self._live.get(code)
        if issued is not None:
            if now >= issued.expires_at:
                raise CodeError(_EXPIRED)
            self._kill(issued, _USED)
            return issued.session_id
        tomb = self._tombs.get(code)
        raise CodeError(tomb.kind if tomb is not None else "unknown_code")

    def peek(self, code: str, now: float) -> IssuedCode:
        """The live issue of ``code`` without using it up; ``CodeError`` as ``claim`` would.

        For the customer's download page, which binds the program to a code it checked."""
        self._advance(now)
        issued = self._live.get(code)
        if issued is not None:
            if now >= issued.expires_at:
                raise CodeError(_EXPIRED)
            return issued
        tomb = self._tombs.get(code)
        raise CodeError(tomb.kind if tomb is not None else "unknown_code")

    def revoke(self, session_id: str) -> None:
        """The session's live code dies and is remembered as used. Idempotent."""
        code = self._by_session.get(session_id)
        if code is not None:
            self._kill(self._live[code], _USED)

    def expire(self, now: float) -> list[str]:
        """Sessions whose unclaimed codes reached their expiry by ``now`` (each reported once)."""
        self._advance(now)
        ended: list[str] = []
        while self._deadlines and self._deadlines[0][0] <= now:
            expires_at, code = heapq.heappop(self._deadlines)
            issued = self._live.get(code)
            if issued is not None and issued.expires_at == expires_at:
                self._kill(issued, _EXPIRED)
                ended.append(issued.session_id)
        return ended

    def next_deadline(self) -> float | None:
        """The earliest expiry among live codes, or ``None`` when there are none."""
        while self._deadlines:
            expires_at, code = self._deadlines[0]
            issued = self._live.get(code)
            if issued is not None and issued.expires_at == expires_at:
                return expires_at
            heapq.heappop(self._deadlines)
        return None

    # ------------------------------------------------------------------ internals

    def _kill(self, issued: IssuedCode, kind: str) -> None:
        del self._live[issued.code]
        del self._by_session[issued.session_id]
        self._remember(issued.code, kind)

    def _remember(self, code: str, kind: str) -> None:
        if self._max_tombstones == 0:
            return
        self._tombs[code] = _Tomb(kind, self._clock)
        while len(self._tombs) > self._max_tombstones:
            self._tombs.popitem(last=False)

    def _advance(self, now: float) -> None:
        if now > self._clock:
            self._clock = now
        horizon = self._clock - self._tombstone_ttl
        while self._tombs:
            oldest = next(iter(self._tombs.values()))
            if oldest.since > horizon:
                break
            self._tombs.popitem(last=False)

    def _compact(self) -> None:
        # Claimed and revoked codes leave stale heap entries behind; rebuild the heap when
        # they outnumber the live codes, so memory stays proportional to live codes.
        if len(self._deadlines) > 2 * len(self._live) + 64:
            self._deadlines = [(c.expires_at, c.code) for c in self._live.values()]
            heapq.heapify(self._deadlines)
