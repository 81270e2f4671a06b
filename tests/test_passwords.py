"""Password hashes. Most tests use a low scrypt cost; one checks the default cost."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.passwords import hash_password, verify_password

CHEAP = {"n": 2**4, "r": 1, "p": 1}


def test_default_cost_hash_verifies() -> None:
    stored = hash_password("correct horse battery staple")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**15), "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert verify_password("correct horse battery staple", stored)
    assert not verify_password("correct horse battery stapler", stored)


def test_format_is_plain_scrypt() -> None:
    stored = hash_password("pässwörd", **CHEAP)
    _, n, r, p, salt, digest = stored.split("$")
    expected = hashlib.scrypt(
        "pässwörd".encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    assert base64.b64decode(digest) == expected


def test_salts_differ() -> None:
    a = hash_password("same", **CHEAP)
    b = hash_password("same", **CHEAP)
    assert a != b
    assert verify_password("same", a) and verify_password("same", b)


def test_wrong_password_and_case() -> None:
    stored = hash_password("Secret", **CHEAP)
    assert not verify_password("secret", stored)
    assert not verify_password("Secret ", stored)
    assert not verify_password("", stored)


@pytest.mark.parametrize("password", ["", "x" * 1025])
def test_empty_and_too_long_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValueError, match="password"):
        hash_password(password, **CHEAP)


def test_longest_password_is_accepted() -> None:
    stored = hash_password("é" * 1024, **CHEAP)
    assert verify_password("é" * 1024, stored)
    assert not verify_password("é" * 1025, stored)


@pytest.mark.parametrize(
    "n, r, p", [(0, 8, 1), (1000, 8, 1), (2**21, 1, 1), (2**20, 8, 1), (16, 0, 1), (16, 1, 0)]
)
def test_bad_parameters_are_refused(n: int, r: int, p: int) -> None:
    with pytest.raises(ValueError):
        hash_password("pw", n=n, r=r, p=p)


def _good() -> str:
    return hash_password("pw", **CHEAP)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: "",
        lambda s: "plain-text-password",
        lambda s: s.replace("scrypt", "bcrypt", 1),
        lambda s: s + "$extra",
        lambda s: s.rsplit("$", 1)[0],
        lambda s: s.replace("$16$", "$17$", 1),  # n not a power of two
        lambda s: s.replace("$16$", "$1048576$", 1).replace("$1$1$", "$32$1$", 1),  # 4 GiB
        lambda s: s.replace("$16$", "$-16$", 1),
        lambda s: s.replace("$16$", "$１６$", 1),  # full-width digits
        lambda s: s[:-4] + "!!!=",  # not base64
        lambda s: s[:-8],  # truncated hash
        lambda s: s.replace(s.split("$")[4], "AAAA", 1),  # short salt
        lambda s: "$".join(s.split("$")[:4] + ["", s.split("$")[5]]),  # empty salt
        lambda s: s + "A" * 600,
    ],
)
def test_malformed_stored_values_never_verify(mangle: object) -> None:
    stored = mangle(_good())  # type: ignore[operator]
    assert verify_password("pw", stored) is False


def test_tampered_hash_does_not_verify() -> None:
    stored = _good()
    head, digest = stored.rsplit("$", 1)
    raw = bytearray(base64.b64decode(digest))
    raw[0] ^= 1
    assert not verify_password("pw", f"{head}${base64.b64encode(bytes(raw)).decode()}")


def test_non_string_inputs_never_raise() -> None:
    assert verify_password(None, _good()) is False  # type: ignore[arg-type]
    assert verify_password("pw", None) is False  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(password=st.text(min_size=1, max_size=40), other=st.text(min_size=1, max_size=40))
def test_verify_accepts_exactly_the_password(password: str, other: str) -> None:
    stored = hash_password(password, **CHEAP)
    assert verify_password(password, stored)
    assert verify_password(other, stored) == (other == password)
