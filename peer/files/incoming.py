"""One file being received: chunks in order, within the declared size, checked by SHA-256.

Sans-IO: ``Incoming`` says how many bytes of a chunk to write and where, and at the end
whether the file may take its final name. The adapter writes to the partial file and renames
only on ``Verdict.ok``::

    inc = Incoming(size)                       # or Incoming.resuming(size, prefix_hash, start)
    n = inc.chunk(offset, data)                # write data[:n] at offset (n == len(data))
    verdict = inc.finish(claimed_sha256)       # after the sender's end of file

``TransferError.code`` (the sender's fault; after one, the file can only fail):

``out_of_order``   a chunk does not start where the previous one ended (a gap or an overlap)
``past_end``       a chunk goes past the declared size (a sender lying about the size)
``finished``       a chunk, or a second end, after the end of the file
``bad_start``      a resume from an offset the receiver did not prove

``Verdict.code`` when not ok: ``short`` (fewer bytes than declared), ``hash_mismatch``, or
the ``TransferError`` code that failed the file earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from .digest import RunningHash, same_digest
from .errors import TransferError as TransferError

TRANSFER_CODES: dict[str, str] = {
    "out_of_order": "a chunk does not start where the previous one ended",
    "past_end": "a chunk goes past the file's declared size",
    "finished": "a chunk or an end came after the end of the file",
    "bad_start": "the sender resumes from an offset the receiver did not prove",
    "short": "the file ended before its declared size",
    "hash_mismatch": "the file's SHA-256 is not the one the sender claimed",
}

_U64 = 2**64


@dataclass(frozen=True)
class Verdict:
    """The end of one file: ``ok`` means every byte arrived and the SHA-256 matched."""

    ok: bool
    code: str | None
    sha256: str  # of what arrived (prefix included)


class Incoming:
    """The assembler of one file of ``size`` bytes, the first ``start`` already on disk."""

    def __init__(self, size: int, start: int = 0) -> None:
        if not 0 <= size < _U64:
            raise ValueError(f"file size {size} out of range")
        if not 0 <= start <= size:
            raise ValueError(f"start {start} outside a file of {size} bytes")
        self.size = size
        self.start = start
        self._hash = RunningHash()
        self._received = start
        self._finished = False
        self._failed: str | None = None

    @classmethod
    def resuming(cls, size: int, prefix: RunningHash, start: int) -> Incoming:
        """Go on from the hash of the partial file (its ``RunningHash`` from the proof) if
        the sender chose to resume there; ``start == 0`` starts over (truncate the partial).
        Any other ``start`` is ``bad_start``."""
        if start == 0:
            return cls(size)
        if start != prefix.length or start > size:
            raise TransferError(
                "bad_start", f"start {start}, proved {prefix.length}, file of {size} bytes"
            )
        incoming = cls(size, start)
        incoming._hash = prefix.copy()
        return incoming

    # ------------------------------------------------------------------ state

    @property
    def received(self) -> int:
        """Bytes of the file present so far, the resumed prefix included."""
        return self._received

    @property
    def remaining(self) -> int:
        return self.size - self._received

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def failed(self) -> str | None:
        """The code that failed this file, or None."""
        return self._failed

    # ------------------------------------------------------------------ input

    def seed(self, prefix: bytes | bytearray | memoryview) -> None:
        """Hash part of the verified prefix already on disk (in order, before any chunk);
        all seeded blocks together must be exactly ``start`` bytes."""
        if self._hash.length + memoryview(prefix).nbytes > self.start:
            raise ValueError(f"seeded more than the start of {self.start} bytes")
        self._hash.update(prefix)

    def chunk(self, offset: int, data: bytes | bytearray | memoryview) -> int:
        """Take ``data`` at ``offset``: returns how many bytes to write there (all of them),
        or raises ``TransferError``."""
        self._check_seeded()
        if self._failed is not None:
            raise TransferError(self._failed, "the file has already failed")
        if self._finished:
            raise TransferError("finished", f"a chunk at {offset} after the end")
        n = memoryview(data).nbytes
        if offset != self._received:
            self._fail("out_of_order", f"a chunk at {offset}, expected {self._received}")
        if offset + n > self.size:
            self._fail("past_end", f"{n} bytes at {offset} in a file of {self.size} bytes")
        self._hash.update(data)
        self._received += n
        return n

    def finish(self, claimed_sha256: str) -> Verdict:
        """The sender says the file is complete, with this SHA-256 (hex)."""
        self._check_seeded()
        if self._finished:
            raise TransferError("finished", "a second end of the file")
        self._finished = True
        sha = self._hash.hexdigest()
        if self._failed is not None:
            return Verdict(False, self._failed, sha)
        if self._received < self.size:
            return Verdict(False, "short", sha)
        if not same_digest(sha, claimed_sha256):
            return Verdict(False, "hash_mismatch", sha)
        return Verdict(True, None, sha)

    # ------------------------------------------------------------------ helpers

    def _check_seeded(self) -> None:
        if self._hash.length < self.start:
            raise ValueError(f"seed {self.start} bytes first ({self._hash.length} so far)")

    def _fail(self, code: str, message: str) -> NoReturn:
        self._failed = code
        raise TransferError(code, message)
