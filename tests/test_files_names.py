"""peer.files.names: names from the other side are taken as they are or refused."""

from __future__ import annotations

import os
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from peer.files.names import (
    MAX_COMPONENT_BYTES,
    MAX_DEPTH,
    NAME_CODES,
    PARTIAL_SUFFIX,
    UnsafeName,
    check_component,
    free_name,
    is_partial,
    partial_name,
    sanitize,
    unique_among,
)

# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("", "empty"),
        ("a//b", "empty"),
        ("a/", "empty"),
        ("/etc/passwd", "absolute"),
        ("/", "absolute"),
        (".", "dot"),
        ("a/./b", "dot"),
        ("..", "dot_dot"),
        ("../x", "dot_dot"),
        ("a/../../x", "dot_dot"),
        ("C:", "drive"),
        ("C:/Windows", "drive"),
        ("a/c:x", "drive"),
        ("file.txt:stream", "drive"),
        ("a\\b", "backslash"),
        ("..\\..\\x", "backslash"),
        ("\\\\server\\share", "backslash"),
        ("a\0b", "nul"),
        ("a\nb", "control"),
        ("tab\there", "control"),
        ("del\x7f", "control"),
        ("c1\x85", "control"),
        ("c1\x9b", "control"),
        ("line\u2028sep", "control"),
        ("para\u2029sep", "control"),
        ("invoice\u202efdp.exe", "control"),
        ("x\u202a", "control"),
        ("x\u2066y", "control"),
        ("x\u2069y", "control"),
        ("x\u200fy", "control"),
        ("x\u061cy", "control"),
        ("\ud800", "not_unicode"),
        ("a/b\udfff", "not_unicode"),
        ("name.", "trailing"),
        ("name ", "trailing"),
        ("...", "trailing"),
        ("a/dir./b", "trailing"),
        ("CON", "reserved"),
        ("con", "reserved"),
        ("Con.txt", "reserved"),
        ("nul.tar.gz", "reserved"),
        ("a/PRN", "reserved"),
        ("AUX.h", "reserved"),
        ("COM0", "reserved"),
        ("com9.log", "reserved"),
        ("LPT1", "reserved"),
        ("lpt0.x", "reserved"),
        ("CONIN$", "reserved"),
        ("conout$.txt", "reserved"),
        ("CON .txt", "reserved"),
        ("COM\u00b9", "reserved"),  # COM¹: Windows reserves it too
        ("LPT\u00b3.txt", "reserved"),
        ("\uff23\uff2f\uff2e", "reserved"),  # fullwidth CON
        ("report.pdf" + PARTIAL_SUFFIX, "reserved"),
        ("x.SupportLink-Partial", "reserved"),
        ("\uff0e\uff0e", "lookalike"),  # fullwidth ..
        ("\uff0e\uff0e/x", "lookalike"),
        ("\u2025", "lookalike"),  # two dot leader
        ("\uff0e", "lookalike"),
        ("a\uff0fb", "lookalike"),  # fullwidth solidus
        ("a\uff3cb", "lookalike"),  # fullwidth reverse solidus
        ("a\ufe68b", "lookalike"),  # small reverse solidus
        ("c\uff1ax", "lookalike"),  # fullwidth colon
        ("a\ufe55b", "lookalike"),  # small colon
        ("end\uff0e", "lookalike"),
        ("end\u00a0", "lookalike"),  # no-break space becomes a trailing space
        ("x" * 256, "too_long"),
        ("\u00e9" * 128, "too_long"),  # 256 bytes
        ("e\u0301" * 100, "too_long"),  # 300 bytes as sent, 200 once composed
        ("/".join(["a"] * (MAX_DEPTH + 1)), "too_deep"),
        ("/".join(["x" * 200] * 21), "too_long"),  # 4220 bytes
    ],
)
def test_refused(path: str, code: str) -> None:
    assert code in NAME_CODES
    with pytest.raises(UnsafeName) as info:
        sanitize(path)
    assert info.value.code == code, info.value.message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("path", "components"),
    [
        ("report.pdf", ("report.pdf",)),
        ("a/b/c.txt", ("a", "b", "c.txt")),
        (".bashrc", (".bashrc",)),
        ("..hidden", ("..hidden",)),
        ("a..b", ("a..b",)),
        ("my file (1).txt", ("my file (1).txt",)),
        (" leading space", (" leading space",)),
        ("CONSOLE.txt", ("CONSOLE.txt",)),
        ("COM10", ("COM10",)),
        ("LPT", ("LPT",)),
        ("con-game", ("con-game",)),
        ("x.con", ("x.con",)),
        ("what?.txt", ("what?.txt",)),  # fine on Linux and macOS; Windows would refuse on open
        ("Grüße/日本語/файл.txt", ("Grüße", "日本語", "файл.txt")),
        ("e\u0301t\u0301e\u0301", ("\u00e9t\u0301\u00e9",)),  # NFC, as the disk gets it
        ("family \U0001f468\u200d\U0001f469\u200d\U0001f467.jpg", None),  # ZWJ is not a control
        ("x" * MAX_COMPONENT_BYTES, None),
        ("/".join(["a"] * MAX_DEPTH), None),
    ],
)
def test_accepted(path: str, components: tuple[str, ...] | None) -> None:
    got = sanitize(path)
    if components is None:
        components = tuple(unicodedata.normalize("NFC", c) for c in path.split("/"))
    assert got == components


def test_a_component_checked_alone_may_not_hold_a_slash() -> None:
    with pytest.raises(UnsafeName) as info:
        check_component("a/b")
    assert info.value.code == "slash"
    assert check_component("e\u0301") == "\u00e9"


# --------------------------------------------------------------------------- properties

TRICKY = [
    ".",
    "..",
    "/",
    "\\",
    ":",
    "\0",
    " ",
    "\t",
    "\x85",
    "\u202e",
    "\u2028",
    "\uff0e",  # fullwidth full stop
    "\uff0f",  # fullwidth solidus
    "\uff3c",  # fullwidth reverse solidus
    "\uff1a",  # fullwidth colon
    "\u2024",  # one dot leader
    "\u2025",  # two dot leader
    "\u2026",  # ellipsis
    "\u00a0",
    "\u0301",  # combining acute
    "\u00b9",  # superscript one
    "\ufb01",  # fi ligature
    "\u212a",  # Kelvin sign
    "CON",
    "nul",
    "com1",
    "LPT\u00b2",
    "\uff23\uff2f\uff2e",
    PARTIAL_SUFFIX,
    "e\u0301",
    "\U0001f600",
    "ß",
]
chars = st.one_of(st.characters(), st.sampled_from(TRICKY))
component = st.lists(chars, max_size=12).map("".join)
paths = st.one_of(
    st.lists(component, min_size=1, max_size=6).map("/".join),
    st.lists(chars, max_size=40).map("".join),
    st.lists(st.sampled_from(TRICKY + ["a", "b", "x.txt"]), min_size=1, max_size=5).map("/".join),
)


def assert_safe_component(c: str) -> None:
    assert c and c not in (".", "..")
    assert not set(c) & {"/", "\\", ":", "\0"}
    assert not any(unicodedata.category(ch) == "Cc" for ch in c)
    assert not set(c) & set("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert c[-1] not in ". "
    assert c.split(".")[0].rstrip(" ").upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    assert len(c.encode("utf-8")) <= MAX_COMPONENT_BYTES
    assert unicodedata.normalize("NFC", c) == c
    nfkc = unicodedata.normalize("NFKC", c)
    assert nfkc not in (".", "..") and not set(nfkc) & {"/", "\\", ":", "\0"}


@settings(max_examples=200, deadline=None)
@given(paths)
def test_the_sanitiser_only_returns_safe_components(path: str) -> None:
    try:
        components = sanitize(path)
    except UnsafeName as exc:
        assert exc.code in NAME_CODES
        return
    assert 1 <= len(components) <= MAX_DEPTH
    for c in components:
        assert_safe_component(c)
    base = os.path.join(os.sep, "srv", "downloads")
    joined = os.path.normpath(os.path.join(base, *components))
    assert joined.startswith(base + os.sep)
    assert os.path.commonpath([base, joined]) == base
    assert sanitize("/".join(components)) == components  # idempotent


@settings(max_examples=200, deadline=None)
@given(paths)
def test_a_case_or_normalisation_twin_is_a_duplicate(path: str) -> None:
    try:
        components = sanitize(path)
    except UnsafeName:
        return
    twin = "/".join(unicodedata.normalize("NFD", c).upper() for c in components)
    try:
        sanitize(twin)
    except UnsafeName:
        return  # upper case can make a name long or reserved (ß -> SS, ﬁ -> FI)
    with pytest.raises(UnsafeName) as info:
        unique_among([path, twin])
    assert info.value.code == "duplicate"


@settings(max_examples=200, deadline=None)
@given(st.lists(paths, max_size=6))
def test_an_accepted_offer_has_no_collisions(offer: list[str]) -> None:
    try:
        files = unique_among(offer)
    except UnsafeName as exc:
        assert exc.code in NAME_CODES
        return
    folded = [tuple(unicodedata.normalize("NFKC", c).casefold() for c in f) for f in files]
    assert len(set(folded)) == len(folded)
    for f in folded:
        assert not any(g[: len(f)] == f for g in folded if len(g) > len(f))


# --------------------------------------------------------------------------- offers


def test_collisions_in_an_offer() -> None:
    assert unique_among(["a/B.txt", "A/c.txt", "b"]) == [("a", "B.txt"), ("A", "c.txt"), ("b",)]
    cases = {
        ("Report.pdf", "report.PDF"): "duplicate",
        ("caf\u00e9", "cafe\u0301"): "duplicate",  # NFC and NFD spellings
        ("\uff52\uff45\uff50\uff4f\uff52\uff54", "report"): "duplicate",  # fullwidth
        ("Stra\u00dfe", "STRASSE"): "duplicate",
        ("a/x", "A/X"): "duplicate",
        ("a", "a/b"): "not_a_folder",
        ("a/b", "A"): "not_a_folder",
        ("ok", "../x"): "dot_dot",
    }
    for offer, code in cases.items():
        with pytest.raises(UnsafeName) as info:
            unique_among(list(offer))
        assert info.value.code == code, offer


def test_folders_may_hold_files_but_not_be_one() -> None:
    assert unique_among(["a/b"], folders=["a", "c"]) == [("a", "b")]
    with pytest.raises(UnsafeName, match="not_a_folder"):
        unique_among(["a"], folders=["a/empty"])
    with pytest.raises(UnsafeName, match="duplicate"):
        unique_among(["a"], folders=["A"])


def test_two_long_names_cut_to_the_same_partial_collide() -> None:
    long_name = "x" * 250
    cut = partial_name(long_name)[: -len(PARTIAL_SUFFIX)]
    assert cut != long_name
    with pytest.raises(UnsafeName, match="duplicate"):
        unique_among([long_name, cut])


def test_a_hundred_thousand_names_are_checked_quickly() -> None:
    offer = [f"dir{i // 1000}/file{i}.txt" for i in range(100_000)]
    assert len(unique_among(offer)) == 100_000


# --------------------------------------------------------------------------- free names


def test_free_name_keeps_the_extension() -> None:
    assert free_name(set(), "report.pdf") == "report.pdf"
    assert free_name({"report.pdf"}, "report.pdf") == "report (1).pdf"
    assert free_name({"report.pdf", "report (1).pdf"}, "report.pdf") == "report (2).pdf"
    assert free_name({"report (1).pdf"}, "report (1).pdf") == "report (2).pdf"
    assert free_name({"backup.tar.gz"}, "backup.tar.gz") == "backup (1).tar.gz"
    assert free_name({".bashrc"}, ".bashrc") == ".bashrc (1)"
    assert free_name({"Makefile"}, "Makefile") == "Makefile (1)"
    assert free_name(lambda n: n != "a (3).txt", "a.txt") == "a (3).txt"
    long_name = "y" * 251 + ".pdf"
    assert free_name({long_name}, long_name) == "y" * 247 + " (1).pdf"
    with pytest.raises(UnsafeName):
        free_name(set(), "../x")


@settings(max_examples=200, deadline=None)
@given(st.lists(component, max_size=5), component, st.integers(1, 5))
def test_keeping_both_again_and_again_gives_fresh_safe_names(
    taken: list[str], name: str, copies: int
) -> None:
    try:
        name = check_component(name)
    except UnsafeName:
        return
    used = {name, *taken}
    for _ in range(copies):
        got = free_name(used, name)
        assert got not in used
        assert check_component(got) == got
        used.add(got)


@settings(max_examples=200, deadline=None)
@given(component, component)
def test_partial_names(a: str, b: str) -> None:
    try:
        a, b = check_component(a), check_component(b)
    except UnsafeName:
        return
    assume(a != b)
    pa = partial_name(a)
    assert is_partial(pa) and len(pa.encode("utf-8")) <= MAX_COMPONENT_BYTES
    assert pa == partial_name(a) != partial_name(b)
    with pytest.raises(UnsafeName, match="reserved"):
        check_component(pa)  # a partial name never comes from the other side


def test_partial_name_of_a_long_name_fits() -> None:
    assert partial_name("report.pdf") == "report.pdf.supportlink-partial"
    # golden: cut to fit, then "~" and the first 8 hex digits of the whole name's SHA-256
    assert partial_name("x" * 250) == "x" * 226 + "~086d4a1c" + PARTIAL_SUFFIX
    assert partial_name("\u00e9" * 127) == "\u00e9" * 113 + "~2e3eba0a" + PARTIAL_SUFFIX
    name = "\u00e9" * 127  # 254 bytes
    partial = partial_name(name)
    assert len(partial.encode("utf-8")) <= MAX_COMPONENT_BYTES
    assert partial.startswith("\u00e9" * 10) and partial.endswith(PARTIAL_SUFFIX)
    assert partial != partial_name(name[:-1])
