"""The binding a downloaded program carries: written by the server, read by the program."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire import binding as b

PROGRAM = b"\x7fELF" + bytes(range(256)) * 40 + b"MEI\x0c\x0b\x0a\x0b\x0e cookie"


def bound_file(tmp_path: Path, tail: bytes) -> Path:
    path = tmp_path / "supportlink-peer"
    path.write_bytes(PROGRAM + tail)
    return path


def test_what_the_server_appends_the_program_reads_back(tmp_path: Path) -> None:
    for binding in (
        b.Binding("https://support.example.com"),
        b.Binding("http://10.77.1.1:8080", "01234567", 1_800_000_000.5),
        b.Binding("https://support.example.com:8443/help", "99999999", 1_800_000_000),
    ):
        path = bound_file(tmp_path, b.encode(binding))
        assert b.read(path) == binding
        assert path.read_bytes().startswith(PROGRAM)  # the program itself is untouched


def test_a_program_without_a_binding_has_none(tmp_path: Path) -> None:
    assert b.read(bound_file(tmp_path, b"")) is None
    assert b.read(bound_file(tmp_path, b"SLINK")) is None
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert b.read(empty) is None


def test_a_damaged_or_edited_binding_is_refused(tmp_path: Path) -> None:
    tail = b.encode(b.Binding("https://support.example.com", "12345678", 1_800_000_000))
    edited = tail.replace(b"support.example.com", b"support.example.org")
    assert len(edited) == len(tail)
    for bad in (
        edited,  # another server, checksum not recomputed
        tail[:5] + bytes([tail[5] ^ 1]) + tail[6:],  # one bit flipped in the payload
        tail[:40] + tail[41:],  # a byte lost
        tail[20:],  # the front cut off
    ):
        with pytest.raises(b.BindingError):
            b.read(bound_file(tmp_path, bad))


def _forge(payload: dict[str, object]) -> bytes:
    """A binding with a correct checksum around any payload (as someone editing the file
    could make): it must still be a binding SupportLink could have written."""
    data = json.dumps(payload).encode()
    return data + hashlib.sha256(b.DOMAIN + data).digest() + struct.pack(">I", len(data)) + b.MAGIC


@pytest.mark.parametrize(
    "payload",
    [
        {"v": 2, "server": "https://a.example"},
        {"v": 1},
        {"v": 1, "server": "https://a.example", "extra": 1},
        {"v": 1, "server": "https://a.example", "code": "1234567", "expires": 1},
        {"v": 1, "server": "https://a.example", "code": "12345678"},  # no expiry
        {"v": 1, "server": "https://a.example", "code": "12345678", "expires": "soon"},
        {"v": 1, "server": "javascript:alert(1)"},
        {"v": 1, "server": "https://user:pw@a.example"},
        {"v": 1, "server": "https://a.example/?next=https://b.example"},
        {"v": 1, "server": "https://a.example#x"},
        {"v": 1, "server": "https://a.example\n.b.example"},
        {"v": 1, "server": "https://аpple.example"},  # Cyrillic а: never shown as "apple"
        {"v": 1, "server": "https://a.example:99999"},
        {"v": 1, "server": "file:///etc/passwd"},
        [1, 2],
    ],
)
def test_a_forged_binding_must_still_be_well_formed(tmp_path: Path, payload: object) -> None:
    with pytest.raises(b.BindingError):
        b.read(bound_file(tmp_path, _forge(payload)))  # type: ignore[arg-type]


def test_an_oversized_length_is_refused_without_reading_it(tmp_path: Path) -> None:
    tail = b"x" * 10 + b"\x00" * 32 + struct.pack(">I", 10**9) + b.MAGIC
    with pytest.raises(b.BindingError):
        b.read(bound_file(tmp_path, tail))


def test_a_rewritten_binding_shows_its_server_by_name(tmp_path: Path) -> None:
    """Whoever can edit the file can recompute the checksum: what protects the customer then is
    the window naming the server. The name shown is the one the program will connect to."""
    forged = _forge({"v": 1, "server": "https://evil.example:8443"})
    bound = b.read(bound_file(tmp_path, forged))
    assert bound is not None and b.display_host(bound.server) == "evil.example:8443"


def test_display_host_is_what_a_person_reads() -> None:
    assert b.display_host("https://support.example.com/") == "support.example.com"
    assert b.display_host("https://support.example.com:443") == "support.example.com"
    assert b.display_host("http://10.0.0.1:8080") == "10.0.0.1:8080"
    assert b.display_host("http://[::1]:8080/x") == "[::1]:8080"
    # a look-alike name shows as what it is
    assert b.display_host("https://аpple.com") == "xn--pple-43d.com"


def test_expiry() -> None:
    bound = b.Binding("https://a.example", "12345678", 100.0)
    assert not bound.expired(99.9) and bound.expired(100.0)
    assert not b.Binding("https://a.example").expired(1e12)


@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True),
    port=st.none() | st.integers(1, 65535),
    code=st.none() | st.from_regex(r"[0-9]{8}", fullmatch=True),
    expires=st.integers(0, 2**40),
)
def test_round_trip_of_any_valid_binding(
    host: str, port: int | None, code: str | None, expires: int
) -> None:
    if host.endswith("-"):
        host += "a"
    server = f"https://{host}" + (f":{port}" if port else "")
    binding = b.Binding(server, code, expires if code else None)
    assert b.decode_tail(b"\x00" * 7 + b.encode(binding)) == binding
