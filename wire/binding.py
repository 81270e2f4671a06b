"""What a downloaded customer program knows about where it came from: its binding.

When a customer downloads ``supportlink-peer`` from a server's ``/join`` page, the server
appends a binding to the executable: the server's address and, when the page had it, the
session code with the moment it expires. The program reads it from its own file at start, so
the customer types nothing and only answers the consent questions.

Layout, at the very end of the file (the one-file executable finds its own archive by
searching backwards for a marker of its own, so bytes after it are harmless)::

    payload (UTF-8 JSON)  |  SHA-256(DOMAIN + payload), 32 bytes  |  len(payload), 4 bytes BE
    |  MAGIC, 16 bytes

What the binding protects against, and what not. The digest catches a damaged or cut-off
download, and an edit that did not recompute it; such a binding is refused
(``BindingError``) and the program uses no address from it. It is not a signature: whoever
can change the file can change the program itself. What keeps a customer from being pointed
at another server without seeing it is the window, which shows the bound server's name
(``display_host``: ASCII only, so look-alike letters cannot imitate another name) before and
during the session; authenticity of the download itself comes from HTTPS.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

MAGIC = b"SLINK-BINDING-01"
DOMAIN = b"supportlink binding v1\n"
MAX_PAYLOAD = 2048
_TAIL = 32 + 4 + len(MAGIC)
_CODE = re.compile(r"[0-9]{8}")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")


class BindingError(ValueError):
    """The file carries a binding that is damaged or not one SupportLink could have written."""


@dataclass(frozen=True)
class Binding:
    """``server``: the base URL the program joins; ``code``: the session's code, if the page
    had it; ``expires``: when that code runs out (Unix seconds)."""

    server: str
    code: str | None = None
    expires: float | None = None

    def __post_init__(self) -> None:
        check_server(self.server)
        if self.code is not None and not (
            isinstance(self.code, str) and _CODE.fullmatch(self.code)
        ):
            raise BindingError("the code in the binding is not 8 digits")
        if (self.code is None) != (self.expires is None):
            raise BindingError("a bound code comes with its expiry, and only then")
        if self.expires is not None and (
            isinstance(self.expires, bool) or not isinstance(self.expires, int | float)
        ):
            raise BindingError("the expiry in the binding is not a number")

    def expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": 1, "server": self.server}
        if self.code is not None:
            out["code"] = self.code
            out["expires"] = self.expires
        return out


def check_server(url: str) -> None:
    """``url`` is ``http(s)://host[:port][/path]``: no user, query, fragment or odd bytes."""
    bad = BindingError("the server address in the binding is not a plain web address")
    if not isinstance(url, str) or not 1 <= len(url) <= 300 or not url.isascii():
        raise bad
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise bad
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise bad from None
    if parts.scheme not in ("http", "https") or "@" in parts.netloc:
        raise bad
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise bad
    host = parts.hostname or ""
    if not _HOST.fullmatch(host):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad from None


def display_host(url: str) -> str:
    """The name a person reads for a server URL: ``support.example.com`` (with ``:port`` when
    not the scheme's default). Internationalised names show in their ASCII (``xn--``) form."""
    parts = urlsplit(url)
    host = parts.hostname or url
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        host = host.encode("ascii", "backslashreplace").decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port
    return host if port is None or port == default else f"{host}:{port}"


def encode(binding: Binding) -> bytes:
    """The bytes to append to an executable."""
    payload = json.dumps(binding.to_json(), separators=(",", ":"), sort_keys=True).encode()
    if len(payload) > MAX_PAYLOAD:
        raise BindingError("the binding is too long")
    digest = hashlib.sha256(DOMAIN + payload).digest()
    return payload + digest + struct.pack(">I", len(payload)) + MAGIC


def decode_tail(tail: bytes) -> Binding | None:
    """The binding at the end of ``tail`` (the last bytes of a file), ``None`` if it has none.

    Raises ``BindingError`` when there is one but it is damaged or invalid."""
    if len(tail) < _TAIL or not tail.endswith(MAGIC):
        return None
    (length,) = struct.unpack(">I", tail[-len(MAGIC) - 4 : -len(MAGIC)])
    if length > MAX_PAYLOAD or length + _TAIL > len(tail):
        raise BindingError("the binding is cut off or too long")
    end = len(tail) - _TAIL
    payload = tail[end - length : end]
    digest = tail[end : end + 32]
    if hashlib.sha256(DOMAIN + payload).digest() != digest:
        raise BindingError("the binding does not match its checksum")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BindingError("the binding is not readable") from None
    if not isinstance(data, dict) or data.get("v") != 1:
        raise BindingError("the binding is of an unknown kind")
    if set(data) - {"v", "server", "code", "expires"}:
        raise BindingError("the binding has unknown fields")
    return Binding(data.get("server"), data.get("code"), data.get("expires"))  # type: ignore[arg-type]


def read(path: Path) -> Binding | None:
    """The binding at the end of the file ``path``; ``None`` if it has none."""
    with path.open("rb") as f:
        return read_stream(f)


def read_stream(f: BinaryIO) -> Binding | None:
    f.seek(0, 2)
    size = f.tell()
    want = min(size, MAX_PAYLOAD + _TAIL)
    f.seek(size - want)
    return decode_tail(f.read(want))
