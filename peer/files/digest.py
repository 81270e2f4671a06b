"""A running SHA-256 that counts its bytes, and the proof of a partial file's prefix.

Resume, both sides sans-IO::

    receiver: hasher = RunningHash(); hasher.update(block) for each block of the partial file
              -> sends hasher.proof() = PrefixProof(length, sha256)
    sender:   reads the first ``length`` bytes of its source into its own RunningHash and
              calls resume_offset(proof, source_size, its_hash.hexdigest()) -> where to start
    receiver: Incoming.resuming(size, hasher) goes on from the same hash state, so the
              partial file is read once.

The sender goes on hashing what it sends from the same ``RunningHash``, so the SHA-256 it
claims at the end covers the whole file, prefix included.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_HEX64 = re.compile(r"[0-9a-f]{64}")
#: SHA-256 of nothing.
EMPTY_SHA256 = hashlib.sha256().hexdigest()


def is_sha256_hex(text: str) -> bool:
    """Whether ``text`` is a SHA-256 as the wire carries it: 64 lowercase hex digits."""
    return _HEX64.fullmatch(text) is not None


def same_digest(a: str, b: str) -> bool:
    """Whether two hex digests are equal (constant time, case-insensitive)."""
    return hmac.compare_digest(
        a.lower().encode("ascii", "replace"), b.lower().encode("ascii", "replace")
    )


@dataclass(frozen=True)
class PrefixProof:
    """The receiver's claim: "I hold the first ``length`` bytes, and this is their SHA-256"."""

    length: int
    sha256: str

    def __post_init__(self) -> None:
        if self.length < 0:
            raise ValueError(f"prefix length {self.length} is negative")
        if not is_sha256_hex(self.sha256):
            raise ValueError(f"prefix sha256 {self.sha256[:80]!r} is not 64 lowercase hex digits")


class RunningHash:
    """SHA-256 of everything fed so far, and how many bytes that was."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._length = 0

    @property
    def length(self) -> int:
        return self._length

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._sha.update(data)
        self._length += memoryview(data).nbytes

    def hexdigest(self) -> str:
        return self._sha.hexdigest()

    def proof(self) -> PrefixProof:
        return PrefixProof(self._length, self._sha.hexdigest())

    def copy(self) -> RunningHash:
        other = RunningHash()
        other._sha = self._sha.copy()
        other._length = self._length
        return other


def resume_offset(
    partial: PrefixProof | None, source_size: int, source_prefix_sha: str | None
) -> int:
    """The sender's decision: where to start sending.

    ``partial`` is what the receiver holds (``None``: nothing); ``source_prefix_sha`` the
    SHA-256 of the source's first ``partial.length`` bytes (``None`` when the source is
    shorter, or could not be read). The partial is kept only if the source is at least that
    long and starts with exactly those bytes; else the file starts over at 0.
    """
    if partial is None or partial.length == 0 or source_prefix_sha is None:
        return 0
    if partial.length > source_size:
        return 0
    return partial.length if same_digest(partial.sha256, source_prefix_sha) else 0


def resume_decision(
    partial_len: int, partial_sha: str, source_size: int, source_prefix_sha: str | None
) -> int:
    """``resume_offset`` with the proof's fields apart; a malformed proof starts over."""
    try:
        proof = PrefixProof(partial_len, partial_sha)
    except ValueError:
        return 0
    return resume_offset(proof, source_size, source_prefix_sha)
