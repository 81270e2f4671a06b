"""Operator password hashes: scrypt with a random salt, checked in constant time.

Stored form: ``scrypt$<n>$<r>$<p>$<salt base64>$<hash base64>`` (standard base64, padded).
The parameters travel with each hash, so a raised default cost applies to passwords set from
then on while older hashes keep verifying.

Errors::

    ValueError   hash_password(): an empty password, one over 1024 characters, or bad
                 scrypt parameters

``verify_password()`` never raises: a malformed stored value does not verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = [
    "DEFAULT_N",
    "DEFAULT_P",
    "DEFAULT_R",
    "hash_password",
    "verify_password",
]

DEFAULT_N = 2**15
DEFAULT_R = 8
DEFAULT_P = 1
MAX_PASSWORD_CHARS = 1024
_SALT_BYTES = 16
_HASH_BYTES = 32
_SCHEME = "scrypt"
# Bounds on what a stored value may ask for, so a tampered row cannot make a check cost
# gigabytes of memory or minutes of CPU.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16
_MAX_MEMORY = 256 * 1024 * 1024  # scrypt works in 128 * n * r bytes; the default is 32 MiB


@dataclass(frozen=True)
class _Stored:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def hash_password(
    password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P
) -> str:
    """A new salted scrypt hash of ``password`` in the stored form."""
    _check_password(password)
    _check_params(n, r, p)
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p, _HASH_BYTES)
    return "$".join((_SCHEME, str(n), str(r), str(p), _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; ``False`` for anything malformed."""
    parsed = _parse(stored)
    if parsed is None or not isinstance(password, str):
        return False
    if not 0 < len(password) <= MAX_PASSWORD_CHARS:
        return False
    try:
        digest = _scrypt(password, parsed.salt, parsed.n, parsed.r, parsed.p, _HASH_BYTES)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(digest, parsed.digest)


def _check_password(password: str) -> None:
    if not isinstance(password, str):
        raise ValueError("the password must be text")
    if not password:
        raise ValueError("the password must not be empty")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(f"the password is longer than {MAX_PASSWORD_CHARS} characters")


def _check_params(n: int, r: int, p: int) -> None:
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0):
        raise ValueError(f"n must be a power of two from 2 to {_MAX_N}, got {n!r}")
    if not 1 <= r <= _MAX_R:
        raise ValueError(f"r must be from 1 to {_MAX_R}, got {r!r}")
    if not 1 <= p <= _MAX_P:
        raise ValueError(f"p must be from 1 to {_MAX_P}, got {p!r}")
    if 128 * n * r > _MAX_MEMORY:
        raise ValueError(f"n={n} and r={r} need more than {_MAX_MEMORY >> 20} MiB")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # OpenSSL needs about 128 * r * (n + p + 2) bytes and refuses past maxmem.
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    data = password.encode("utf-8", "surrogatepass")
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length)


def _parse(stored: object) -> _Stored | None:
    if not isinstance(stored, str) or len(stored) > 512:
        return None
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        return None
    try:
        n, r, p = (_plain_int(x) for x in parts[1:4])
        _check_params(n, r, p)
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    if not _SALT_BYTES <= len(salt) <= 64 or len(digest) != _HASH_BYTES:
        return None
    return _Stored(n, r, p, salt, digest)


def _plain_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 8:
        raise ValueError(f"not a plain number: {text!r}")
    return int(text)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
