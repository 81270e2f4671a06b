"""Words the customer reads, in the customer's language.

Each language is one catalogue, ``peer/locale/<lang>.json``: a flat object from keys to
texts with named ``{params}``. English is complete by definition and the fallback for a key a
catalogue lacks; adding a language means adding its file (``LANGUAGES`` lists what is there).
The language comes from ``--lang`` or else from the system locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``, ``LANGUAGE``); anything not available falls back to English.

Key families filled from the protocol's tables (``capability.<name>.question`` /
``.may_now`` / ``.name``, ``bye.<reason>``, ``error.<code>``) fall back to the tables'
English words, so English needs no copy of them and a capability or code a catalogue does not
know still reads.

Stable tokens stay English everywhere: the wire, and the prefixes of the headless peer's
lines (``status:``, ``consent:``, ``chat:``), which scripts read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from wire import protocol

LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT = "en"


@cache
def languages() -> tuple[str, ...]:
    """The languages there is a catalogue for."""
    return tuple(sorted(p.stem for p in LOCALE_DIR.glob("*.json")))


@cache
def load(lang: str) -> Mapping[str, str]:
    data = json.loads((LOCALE_DIR / f"{lang}.json").read_text("utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{lang}.json: a catalogue is an object of strings")
    return data


def language_from(environ: Mapping[str, str], requested: str | None = None) -> str:
    """``requested`` if given, else the system locale's language, as gettext reads it:
    ``LANGUAGE`` (a list) first, then the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG``
    that is set. A language without a catalogue means English."""
    if requested:
        return _available(requested)
    locale = next((environ[n] for n in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(n)), "")
    if locale not in ("", "C", "POSIX") and not locale.startswith("C."):
        for value in environ.get("LANGUAGE", "").split(":"):
            if value and _available(value) != DEFAULT:
                return _available(value)
    return _available(locale)


def _available(value: str) -> str:
    lang = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return lang if lang in languages() else DEFAULT


class Catalogue:
    def __init__(self, lang: str = DEFAULT) -> None:
        self.lang = lang if lang in languages() else DEFAULT
        self.messages = load(self.lang)
        self.english = load(DEFAULT)

    def __call__(self, key: str, /, **params: object) -> str:
        text = self.messages.get(key) or self.english.get(key) or _from_tables(key) or key
        return text.format(**params) if params else text


def _from_tables(key: str) -> str | None:
    """English words the protocol's tables hold, for keys no catalogue has."""
    family, _, rest = key.partition(".")
    if family == "capability":
        name, _, field = rest.partition(".")
        spec = protocol.CAPABILITY_BY_NAME.get(name)
        if spec is not None and field in ("question", "may_now"):
            return getattr(spec, field) or None
        if spec is not None and field == "name":
            return spec.operator_name
    if family == "bye":
        return protocol.BYE_REASONS.get(rest)
    if family == "error":
        return protocol.ERROR_CODES.get(rest)
    return None


_active = Catalogue()


def use(lang: str) -> Catalogue:
    """Speak ``lang`` from now on (``main`` calls this once, from the settings)."""
    global _active
    _active = Catalogue(lang)
    return _active


def t(key: str, /, **params: object) -> str:
    """The words for ``key`` in the active language, ``{params}`` filled in."""
    return _active(key, **params)


def current() -> str:
    return _active.lang
