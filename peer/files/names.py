"""Names that come from the other side: refused, or turned into safe path components.

``sanitize(path)`` takes a relative path as sent on the wire (``/``-separated) and returns its
components, each NFC-normalised, or raises ``UnsafeName(code, message)``. It never rewrites a
bad name into a good one: a name is taken as it is or refused, so what the customer is shown
is what lands on the disk. A component is refused (``code`` in brackets) when it

* is empty -- ``""``, ``a//b``, ``a/`` [empty]; the path starts with ``/`` [absolute];
* is ``.`` [dot] or ``..`` [dot_dot];
* holds NUL [nul], ``\\`` [backslash], ``/`` [slash, only when checked on its own], ``:``
  [drive: a drive letter, or an NTFS alternate data stream], a control character (C0, DEL,
  C1), U+2028/U+2029 or a bidi control (U+061C, U+200E/F, U+202A-E, U+2066-9) [control],
  a lone surrogate (JSON can carry one) [not_unicode];
* ends in a dot or a space, which Windows strips [trailing];
* is a Windows device name with or without an extension -- CON, PRN, AUX, NUL, COM0-9,
  LPT0-9, CONIN$, CONOUT$, any case, also ``COM¹`` -- or ends in ``PARTIAL_SUFFIX``, which
  is ours [reserved];
* is over 255 bytes of UTF-8, as sent or normalised; the whole path over 4096 [too_long];
* is fine as written but its compatibility form (NFKC) is not: fullwidth ``．．``,
  ``‥``, fullwidth ``／`` or ``＼``, ``：`` ... [lookalike];

and a path is refused with more than 32 components [too_deep].

``unique_among(paths)`` checks a whole offer: two names that one file system could take for the
same (NFC or NFKC, then case-folded: ``Report.PDF`` and ``report.pdf``) [duplicate], and a
file that another path needs as its folder (``a`` and ``a/b``) [not_a_folder].

``free_name`` finds the name for "keep both" (``report (1).pdf``); ``partial_name`` is the
name a file has while it arrives.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Container, Iterable

from .errors import UnsafeName as UnsafeName

MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 4096
MAX_DEPTH = 32
#: What a file's name ends in while it arrives (``partial_name``).
PARTIAL_SUFFIX = ".supportlink-partial"

NAME_CODES: dict[str, str] = {
    "empty": "the path or one of its parts is empty",
    "absolute": "the path starts with /",
    "dot": "a part of the path is '.'",
    "dot_dot": "a part of the path is '..'",
    "nul": "the name holds a NUL character",
    "backslash": "the name holds a backslash",
    "slash": "the name holds a slash",
    "drive": "the name holds a ':' (a drive letter or a data stream)",
    "control": "the name holds a control, line separator or bidi control character",
    "not_unicode": "the name is not valid Unicode (a lone surrogate)",
    "trailing": "the name ends in a dot or a space",
    "reserved": "the name is reserved (a Windows device name, or a partial file's)",
    "too_long": "a name is over 255 bytes or the path over 4096 bytes",
    "too_deep": "the path is more than 32 folders deep",
    "lookalike": "the name turns into '..', a separator or another refused name when normalised",
    "duplicate": "two names are the same file on some file systems",
    "not_a_folder": "a file is also the folder of another file",
}

# NUL, \, /, :, then what is "control": category Cc (C0, DEL, C1, exactly), the line and
# paragraph separators, and the Bidi_Control characters.
_FORBIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\\\\/:\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_FORBIDDEN_CODES = {"\0": "nul", "\\": "backslash", "/": "slash", ":": "drive"}
_DEVICES = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"com{i}" for i in range(10)]
    + [f"lpt{i}" for i in range(10)]
)


def sanitize(path: str) -> tuple[str, ...]:
    """The safe, NFC-normalised components of a relative ``/``-separated path."""
    _check_unicode(path)
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise UnsafeName("too_long", f"path of {len(path.encode('utf-8'))} bytes")
    if not path:
        raise UnsafeName("empty", "empty path")
    if path.startswith("/"):
        raise UnsafeName("absolute", f"{path[:40]!r} is absolute")
    raw = path.split("/")
    if len(raw) > MAX_DEPTH:
        raise UnsafeName("too_deep", f"path of {len(raw)} levels")
    components = tuple(check_component(c) for c in raw)
    size = len("/".join(components).encode("utf-8"))
    if size > MAX_PATH_BYTES:
        raise UnsafeName("too_long", f"path of {size} bytes once normalised")
    return components


def check_component(name: str) -> str:
    """One path component, NFC-normalised, or ``UnsafeName``."""
    _check_unicode(name)
    if len(name.encode("utf-8")) > MAX_COMPONENT_BYTES:
        raise UnsafeName("too_long", f"name of {len(name.encode('utf-8'))} bytes")
    nfc = unicodedata.normalize("NFC", name)
    problem = _problem(nfc)
    if problem is not None:
        raise UnsafeName(problem, f"{nfc[:60]!r}: {NAME_CODES[problem]}")
    nfkc = unicodedata.normalize("NFKC", nfc)
    if nfkc != nfc:
        problem = _problem(nfkc, lengths=False)
        if problem is not None:
            code = "reserved" if problem == "reserved" else "lookalike"
            raise UnsafeName(code, f"{nfc[:60]!r} normalises to {nfkc[:60]!r} ({problem})")
    return nfc


def unique_among(paths: Iterable[str], folders: Iterable[str] = ()) -> list[tuple[str, ...]]:
    """Sanitise every file path of one offer and refuse names that collide.

    ``folders`` are (empty) folders of the offer: they may hold files but not be one. Two
    files whose partial files would share a name (long names cut for the suffix) collide too.
    Returns the files' components in order.
    """
    files = [sanitize(p) for p in paths]
    dirs = [sanitize(p) for p in folders]
    for fold in (_fold_nfc, _fold_nfkc):
        seen: dict[tuple[str, ...], tuple[str, ...]] = {}
        partials: dict[tuple[str, ...], tuple[str, ...]] = {}
        parents: dict[tuple[str, ...], tuple[str, ...]] = {}
        file_keys = [tuple(fold(c) for c in f) for f in files]
        dir_keys = [tuple(fold(c) for c in d) for d in dirs]
        for key, components in zip(file_keys + dir_keys, files + dirs, strict=True):
            _claim(seen, key, components)
            for depth in range(1, len(key)):
                parents.setdefault(key[:depth], components)
        for key, components in zip(file_keys, files, strict=True):
            _claim(partials, (*key[:-1], fold(partial_name(components[-1]))), components)
            if key in parents:
                other = "/".join(parents[key])
                raise UnsafeName(
                    "not_a_folder", f"{'/'.join(components)[:60]!r} for {other[:60]!r}"
                )
    return files


def free_name(existing: Callable[[str], bool] | Container[str], name: str) -> str:
    """``name`` if it is free, else ``report (1).pdf``, ``report (2).pdf``, ... (for "keep
    both"). ``existing`` says whether a name is taken: a set, or a function such as
    ``lambda n: os.path.lexists(folder / n)`` (which also knows the file system's case rules).
    """
    taken = existing if callable(existing) else existing.__contains__
    name = check_component(name)
    if not taken(name):
        return name
    stem, ext = _split_extension(name)
    base, number = stem, 0
    numbered = re.fullmatch(r"(.*) \((\d{1,6})\)", stem)
    if numbered:
        base, number = numbered.group(1), int(numbered.group(2))
    for n in range(number + 1, number + 100_000):
        candidate = _fit(base, f" ({n}){ext}")
        if not taken(candidate):
            return check_component(candidate)
    raise FileExistsError(f"no free name like {name!r}")


def partial_name(name: str) -> str:
    """The name a file has while it arrives: ``name`` + ``PARTIAL_SUFFIX``. A name too long
    for the suffix is cut and given a short hash of the whole name, so that the same name
    always has the same partial file (for resume) and two long names do not share one."""
    if len((name + PARTIAL_SUFFIX).encode("utf-8")) <= MAX_COMPONENT_BYTES:
        return name + PARTIAL_SUFFIX
    tag = "~" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return _fit(name, tag + PARTIAL_SUFFIX)


def is_partial(name: str) -> bool:
    return name.casefold().endswith(PARTIAL_SUFFIX)


# --------------------------------------------------------------------------- helpers


def _check_unicode(text: str) -> None:
    if not text.isascii() and any("\ud800" <= ch <= "\udfff" for ch in text):
        raise UnsafeName("not_unicode", "the name holds a lone surrogate")


def _problem(name: str, *, lengths: bool = True) -> str | None:
    """The first rule ``name`` (already normalised) breaks, or None."""
    if not name:
        return "empty"
    if name == ".":
        return "dot"
    if name == "..":
        return "dot_dot"
    bad = _FORBIDDEN.search(name)
    if bad is not None:
        return _FORBIDDEN_CODES.get(bad.group(), "control")
    if name[-1] in ". ":
        return "trailing"
    folded = name.casefold()
    if folded.split(".", 1)[0].rstrip(" ") in _DEVICES or folded.endswith(PARTIAL_SUFFIX):
        return "reserved"
    if lengths and len(name.encode("utf-8")) > MAX_COMPONENT_BYTES:
        return "too_long"
    return None


def _claim(
    seen: dict[tuple[str, ...], tuple[str, ...]], key: tuple[str, ...], path: tuple[str, ...]
) -> None:
    if key in seen:
        first, second = "/".join(seen[key]), "/".join(path)
        raise UnsafeName("duplicate", f"{first[:60]!r} and {second[:60]!r}")
    seen[key] = path


def _fold_nfc(name: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _fold_nfkc(name: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def _split_extension(name: str) -> tuple[str, str]:
    """``("report", ".pdf")``, ``("backup", ".tar.gz")``, ``(".bashrc", "")``."""
    dot = name.rfind(".")
    if dot <= 0 or len(name) - dot > 16 or " " in name[dot:]:
        return name, ""
    stem, ext = name[:dot], name[dot:]
    if stem.lower().endswith(".tar") and len(stem) > 4:
        stem, ext = stem[:-4], stem[-4:] + ext
    return stem, ext


def _fit(base: str, tail: str) -> str:
    """``base + tail`` in NFC, ``base`` cut short to fit ``MAX_COMPONENT_BYTES``."""
    room = MAX_COMPONENT_BYTES - len(tail.encode("utf-8"))
    base = base.encode("utf-8")[: max(room, 0)].decode("utf-8", "ignore")
    while True:
        name = unicodedata.normalize("NFC", base + tail)
        if not base or len(name.encode("utf-8")) <= MAX_COMPONENT_BYTES:
            return name
        base = base[:-1]
