"""The customer programs the server hands out: a folder written by ``scripts/build-peer``.

The folder holds ``manifest.json`` (``{"version": 1, "files": [{"kind": "program" | "wheel",
"platform", "file", "size", "sha256", "version", "glibc"?}]}``), the files it names, and
``licenses/``. A file is offered only while its size and SHA-256 match the manifest: it is
hashed when first seen and again whenever its size or modification time changes; a file that
is missing or does not match is left out (and logged), never served.

``Catalogue.files()`` is cheap when nothing changed (one ``stat`` per file); hashing runs in
a worker thread, so the event loop never reads a 40 MB file.

Each served file has its SHA-256 prefix in its URL, ``/download/<sha12>/<name>``, so it can be
cached for good; what is appended to a program (``wire.binding``) is part of the response,
not of the file here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

KINDS = ("program", "wheel")
_PLATFORM = re.compile(r"[a-z0-9]{2,16}-[a-z0-9_]{2,16}|python")
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_VERSION = re.compile(r"[0-9A-Za-z.+_-]{1,32}")
MAX_MANIFEST = 64 * 1024
#: ``Catalogue._manifest_key`` while the folder has no manifest.
_NO_MANIFEST = (-1, -1)


@dataclass(frozen=True)
class Download:
    """One verified file of the folder."""

    kind: str
    platform: str
    path: Path
    size: int
    sha256: str
    version: str
    glibc: str | None = None
    #: SHA-256 state after the whole file: the sum of file + appended bytes without a re-read.
    state: Any = None

    @property
    def key(self) -> str:
        """The hash part of its URL."""
        return self.sha256[:12]

    @property
    def filename(self) -> str:
        """The name the browser saves it under."""
        if self.kind == "program":
            return "SupportLink.exe" if self.platform.startswith("windows") else "supportlink-peer"
        return self.path.name

    @property
    def href(self) -> str:
        return f"/download/{self.key}/{self.filename}"

    def sum_with(self, tail: bytes) -> str:
        """SHA-256 of this file followed by ``tail``."""
        digest = self.state.copy()
        digest.update(tail)
        return str(digest.hexdigest())


@dataclass(frozen=True)
class _Seen:
    """A file as last checked: its size, modification time and the sum it had to have."""

    size: int
    mtime_ns: int
    sha256: str
    download: Download | None  # None: it did not match

    def same_as(self, other: _Seen) -> bool:
        return (self.size, self.mtime_ns, self.sha256) == (other.size, other.mtime_ns, other.sha256)


_MISSING = _Seen(-1, -1, "", None)


def parse_manifest(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The valid entries of a manifest and a problem for each invalid one."""
    problems: list[str] = []
    try:
        data = json.loads(text)
    except ValueError as exc:
        return [], [f"manifest.json is not JSON: {exc}"]
    if (
        not isinstance(data, dict)
        or data.get("version") != 1
        or not isinstance(data.get("files"), list)
    ):
        return [], ['manifest.json is not {"version": 1, "files": [...]}']
    entries = []
    for i, item in enumerate(data["files"]):
        ok = (
            isinstance(item, dict)
            and item.get("kind") in KINDS
            and isinstance(item.get("platform"), str)
            and _PLATFORM.fullmatch(item["platform"]) is not None
            and isinstance(item.get("file"), str)
            and _FILE.fullmatch(item["file"]) is not None
            and isinstance(item.get("size"), int)
            and not isinstance(item.get("size"), bool)
            and 0 < item["size"] <= 2**31
            and isinstance(item.get("sha256"), str)
            and _SHA256.fullmatch(item["sha256"]) is not None
            and isinstance(item.get("version", "0"), str)
            and _VERSION.fullmatch(item.get("version", "0")) is not None
            and (item.get("glibc") is None or re.fullmatch(r"\d{1,2}\.\d{1,3}", str(item["glibc"])))
        )
        if ok:
            entries.append(item)
        else:
            problems.append(f"manifest.json entry {i} is malformed; left out")
    return entries, problems


def hash_file(path: Path) -> Any:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest


class Catalogue:
    """The verified downloads of ``folder`` (``None``: the server offers none)."""

    def __init__(self, folder: Path | None, hasher: Callable[[Path], Any] = hash_file) -> None:
        self.folder = folder
        self._hasher = hasher
        self._seen: dict[Path, _Seen] = {}
        self._manifest_key: tuple[int, int] | None = None
        self._entries: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()

    async def files(self) -> list[Download]:
        """Every file that matches the manifest now."""
        if self.folder is None:
            return []
        async with self._lock:
            self._read_manifest()
            out = []
            for item in self._entries:
                download = await self._verified(item)
                if download is not None:
                    out.append(download)
            return out

    async def find(self, key: str, filename: str) -> Download | None:
        for download in await self.files():
            if download.key == key and download.filename == filename:
                return download
        return None

    async def program(self, platform: str) -> Download | None:
        for download in await self.files():
            if download.kind == "program" and download.platform == platform:
                return download
        return None

    def licence_file(self, name: str) -> Path | None:
        """A file of ``licenses/`` (``README.txt``, ``aiortc-1.16.0/LICENSE``), if it exists."""
        if self.folder is None:
            return None
        parts = name.split("/")
        if not 1 <= len(parts) <= 2 or any(not _FILE.fullmatch(p) for p in parts):
            return None
        root = (self.folder / "licenses").resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path

    def has_licences(self) -> bool:
        return self.licence_file("README.txt") is not None

    # ------------------------------------------------------------------ internals

    def _read_manifest(self) -> None:
        assert self.folder is not None
        path = self.folder / "manifest.json"
        try:
            st = path.stat()
        except OSError:
            if self._manifest_key != _NO_MANIFEST:  # said once, not on every page view
                logger.warning("no customer programs: %s is missing", path)
            self._manifest_key, self._entries = _NO_MANIFEST, []
            self._seen.clear()
            return
        key = (st.st_size, st.st_mtime_ns)
        if key == self._manifest_key:
            return
        self._manifest_key = key
        if st.st_size > MAX_MANIFEST:
            logger.error("%s is larger than %d bytes; no downloads offered", path, MAX_MANIFEST)
            self._entries = []
            return
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            logger.error("cannot read %s: %s", path, exc)
            self._entries = []
            return
        self._entries, problems = parse_manifest(text)
        for problem in problems:
            logger.error("%s: %s", self.folder, problem)

    async def _verified(self, item: dict[str, Any]) -> Download | None:
        assert self.folder is not None
        path = self.folder / item["file"]
        try:
            st = path.stat()
        except OSError:
            if self._seen.get(path) != _MISSING:
                logger.error("%s is listed in the manifest but missing; not offered", path)
            self._seen[path] = _MISSING
            return None
        seen = _Seen(st.st_size, st.st_mtime_ns, item["sha256"], None)
        known = self._seen.get(path)
        if known is not None and known.same_as(seen):
            return known.download
        download = None
        if st.st_size != item["size"]:
            logger.error(
                "%s has %d bytes, the manifest says %d; not offered", path, st.st_size, item["size"]
            )
        else:
            loop = asyncio.get_running_loop()
            state = await loop.run_in_executor(None, self._hasher, path)
            if state.hexdigest() != item["sha256"]:
                logger.error("%s does not match its SHA-256 in the manifest; not offered", path)
            else:
                download = Download(
                    kind=item["kind"],
                    platform=item["platform"],
                    path=path,
                    size=st.st_size,
                    sha256=item["sha256"],
                    version=item.get("version", "0"),
                    glibc=item.get("glibc"),
                    state=state,
                )
        self._seen[path] = _Seen(st.st_size, st.st_mtime_ns, item["sha256"], download)
        return download
