"""The customer's words in English and Japanese: complete catalogues, chosen by the user."""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest

from peer import i18n
from wire import protocol

PEER = Path(__file__).resolve().parent.parent / "peer"
CATALOGUES = {lang: i18n.load(lang) for lang in i18n.languages()}


def static_keys() -> set[str]:
    """Every ``t("key")`` with a literal key in the peer's code."""
    keys: set[str] = set()
    for path in PEER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                keys.add(node.args[0].value)
    return keys


def why_tokens() -> set[str]:
    """The reasons ``Consent`` gives (the ``why`` of ``Decided``)."""
    tree = ast.parse((PEER / "consent.py").read_text("utf-8"))
    tokens = {f"not_in_{mode}_session" for mode in protocol.MODES}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(n, ast.Name) and n.id == "why" for n in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            tokens.add(node.value.value)
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            index = {"_grant": 1, "_deny": 1, "_withdraw": 1, "Decided": 2}.get(name)
            if index is not None and len(node.args) > index:
                arg = node.args[index]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    tokens.add(arg.value)
    return tokens


def table_keys() -> set[str]:
    """Keys whose English comes from the protocol's tables."""
    keys = {f"bye.{r}" for r in protocol.BYE_REASONS} | {f"error.{c}" for c in protocol.ERROR_CODES}
    for cap in protocol.CAPABILITY_TABLE:
        keys |= {f"capability.{cap.name}.name", f"capability.{cap.name}.may_now"}
        if cap.consent != "none":
            keys.add(f"capability.{cap.name}.question")
    return keys


def unreachable_keys() -> set[str]:
    """``ServerUnreachable("why", ...)`` in the signaling client: ``unreachable.<why>``."""
    keys = set()
    for node in ast.walk(ast.parse((PEER / "signal.py").read_text("utf-8"))):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == "ServerUnreachable"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.add(f"unreachable.{node.args[0].value}")
    return keys


def voice_keys() -> set[str]:
    """``voice.mic.<state>`` and ``voice.speaker.<state>``: every state of the wire's lists."""
    return {f"voice.mic.{s}" for s in protocol.MIC_STATES} | {
        f"voice.speaker.{s}" for s in protocol.SPEAKER_STATES
    }


def show_keys() -> set[str]:
    """The words of what the operator shows (``show_screen.waiting``...) and the camera's
    states (``camera.state.<state>``: every state of the wire's list)."""
    from peer.features.show import WORDS

    return {f"{cap}.{w}" for cap in ("show_screen", "show_camera") for w in WORDS} | {
        f"camera.state.{s}" for s in protocol.CAMERA_STATES
    }


def used_keys() -> set[str]:
    return (
        static_keys()
        | show_keys()
        | {f"why.{w}" for w in why_tokens()}
        | table_keys()
        | unreachable_keys()
        | voice_keys()
    )


def params(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def english(key: str) -> str:
    return i18n.Catalogue("en")(key)


def test_there_are_english_and_japanese_catalogues() -> None:
    assert {"en", "ja"} <= set(i18n.languages())


@pytest.mark.parametrize("lang", sorted(CATALOGUES))
def test_a_catalogue_has_every_key_the_code_uses_and_no_other(lang: str) -> None:
    catalogue = set(CATALOGUES[lang])
    needed = used_keys() - (table_keys() if lang == "en" else set())  # English: the tables
    assert not needed - catalogue, f"{lang} lacks {sorted(needed - catalogue)}"
    assert not catalogue - used_keys(), f"{lang} has unused {sorted(catalogue - used_keys())}"


@pytest.mark.parametrize("lang", sorted(CATALOGUES))
def test_every_translation_takes_the_same_params_as_english(lang: str) -> None:
    for key, text in CATALOGUES[lang].items():
        if key.startswith("line."):
            continue  # lines may name a capability by token or by name: checked below
        assert params(text) == params(english(key)), key


def test_line_templates_use_only_what_the_code_passes() -> None:
    passed = {
        "line.decided": {"capability", "name", "verdict", "why"},
        "line.capability_in_list": {"capability", "name"},
        "line.hotkey": {"hotkey"},
    }
    for catalogue in CATALOGUES.values():
        for key, names in passed.items():
            assert params(catalogue[key]) <= names, key


def test_japanese_is_japanese() -> None:
    """No catalogue entry left in English by mistake: each holds kana or kanji (placeholders,
    hotkeys and option names aside)."""
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for key, text in CATALOGUES["ja"].items():
        words = re.sub(r"\{\w+\}", "", text)
        if not any(ch.isalpha() for ch in words):
            continue  # a template of placeholders and punctuation only
        assert japanese.search(words), key


def test_the_language_comes_from_the_option_else_the_system_locale() -> None:
    assert i18n.language_from({"LANG": "ja_JP.UTF-8"}) == "ja"
    assert i18n.language_from({"LANG": "en_US.UTF-8", "LANGUAGE": "ja:en"}) == "ja"
    assert i18n.language_from({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}) == "en"
    assert i18n.language_from({"LANG": "ja_JP.UTF-8"}, "en") == "en"
    assert i18n.language_from({"LANG": "fr_FR.UTF-8"}) == "en"  # no catalogue: English
    assert i18n.language_from({}) == "en"


def test_an_unknown_key_or_capability_still_reads() -> None:
    ja = i18n.Catalogue("ja")
    assert ja("capability.teleport.name") == "capability.teleport.name"
    assert i18n.Catalogue("en")("capability.view.name") == "screen viewing"  # from the table
    assert ja("status.paired", operator="alice") == "サポート担当者（alice）とつながりました"


def test_the_operator_is_named_with_the_organisation() -> None:
    from peer.words import operator_label

    assert operator_label("Alice Smith", None) == "Alice Smith"
    assert operator_label("Alice Smith", "Acme IT") == "Alice Smith (Acme IT)"
    ja = i18n.Catalogue("ja")
    assert ja("operator.with_organisation", name="Alice", organisation="Acme IT") == (
        "Acme IT の Alice"
    )


def test_catalogues_are_flat_objects_of_strings() -> None:
    for path in (PEER / "locale").glob("*.json"):
        data = json.loads(path.read_text("utf-8"))
        assert isinstance(data, dict) and all(isinstance(v, str) for v in data.values())


async def test_the_headless_peer_speaks_japanese_with_lang_ja(
    loopback_endpoint: tuple[object, str],
) -> None:
    """The real ``supportlink-peer`` process (a wrong code: signaling only, no ICE)."""
    import asyncio
    import os
    import sys

    ep, _token = loopback_endpoint
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "SUPPORTLINK_SERVER")}
    env["LANG"] = "C.UTF-8"  # the option decides, not the locale
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "peer.cli",
        "--server",
        ep.base,  # type: ignore[attr-defined]
        "--code",
        "0000 0000",
        "--lang",
        "ja",
        stdout=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=env,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    lines = out.decode("utf-8").splitlines()
    assert proc.returncode == 2
    assert "status: セッション番号を確認しています" in lines
    assert lines[-1] == (
        "ended: セッション番号を受け付けられませんでした：このセッション番号は見つかりません"
    )


def test_without_a_japanese_font_the_window_falls_back_to_english_and_says_why() -> None:
    from peer.gui import fontconfig_has, window_language

    assert window_language("ja", lambda _lang: True) == ("ja", None)
    assert window_language("ja", lambda _lang: False) == ("en", "fonts-noto-cjk")
    note = i18n.Catalogue("en")("window.no_font", package="fonts-noto-cjk")
    assert "Japanese font" in note and "fonts-noto-cjk" in note
    assert window_language("en", lambda _lang: False) == ("en", None)
    assert fontconfig_has("en")  # this machine has Latin fonts (and fc-list answers)
