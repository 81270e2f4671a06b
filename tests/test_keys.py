"""peer.keys: the keysym pressed for each Key message."""

from __future__ import annotations

import pytest

from peer import keys
from peer.keys import keysym_for


@pytest.mark.parametrize(
    ("code", "key", "keysym"),
    [
        ("KeyA", "a", ord("a")),
        ("KeyA", "A", ord("A")),  # Shift+a: the upper-case keysym
        ("KeyQ", "a", ord("a")),  # AZERTY: what is printed wins, not where it is
        ("Digit1", "1", ord("1")),
        ("Digit1", "!", ord("!")),
        ("Digit3", "#", ord("#")),
        ("BracketLeft", "[", ord("[")),
        ("Space", " ", 0x20),
        ("Semicolon", "é", 0xE9),  # Latin-1: its own code point
        ("Minus", "ß", 0xDF),
        ("Quote", "Ä", 0xC4),
        ("KeyE", "€", 0x010020AC),  # beyond Latin-1: 0x01000000 + code point
        ("KeyA", "ф", 0x01000444),
        ("KeyE", "e\u0301", 0xE9),  # decomposed é is normalised
        ("Enter", "Enter", 0xFF0D),
        ("Backspace", "Backspace", 0xFF08),
        ("Tab", "Tab", 0xFF09),
        ("Escape", "Escape", 0xFF1B),
        ("Delete", "Delete", 0xFFFF),
        ("Insert", "Insert", 0xFF63),
        ("Home", "Home", 0xFF50),
        ("End", "End", 0xFF57),
        ("PageUp", "PageUp", 0xFF55),
        ("PageDown", "PageDown", 0xFF56),
        ("ArrowLeft", "ArrowLeft", 0xFF51),
        ("ArrowUp", "ArrowUp", 0xFF52),
        ("ArrowRight", "ArrowRight", 0xFF53),
        ("ArrowDown", "ArrowDown", 0xFF54),
        ("F1", "F1", 0xFFBE),
        ("F12", "F12", 0xFFC9),
        ("F24", "F24", 0xFFD5),
        ("ContextMenu", "ContextMenu", 0xFF67),
        ("PrintScreen", "PrintScreen", 0xFF61),
        ("ShiftLeft", "Shift", 0xFFE1),
        ("ShiftRight", "Shift", 0xFFE2),
        ("ControlLeft", "Control", 0xFFE3),
        ("ControlRight", "Control", 0xFFE4),
        ("AltLeft", "Alt", 0xFFE9),
        ("AltRight", "Alt", 0xFFEA),
        ("AltRight", "AltGraph", 0xFE03),
        ("MetaLeft", "Meta", 0xFFEB),
        ("MetaRight", "Meta", 0xFFEC),
        ("OSLeft", "OS", 0xFFEB),
        ("", "Shift", 0xFFE1),  # no code: the left one
        ("CapsLock", "CapsLock", 0xFFE5),
        ("Numpad1", "1", 0xFFB1),
        ("Numpad1", "End", 0xFF9C),  # NumLock off
        ("Numpad5", "Clear", 0xFF9D),
        ("NumpadDecimal", ".", 0xFFAE),
        ("NumpadDecimal", ",", 0xFFAC),
        ("NumpadDecimal", "Delete", 0xFF9F),
        ("NumpadEnter", "Enter", 0xFF8D),
        ("NumpadAdd", "+", 0xFFAB),
        ("NumpadDivide", "/", 0xFFAF),
        ("NumLock", "NumLock", 0xFF7F),
        ("AudioVolumeUp", "AudioVolumeUp", 0x1008FF13),
    ],
)
def test_keysym_for(code: str, key: str, keysym: int) -> None:
    assert keysym_for(code, key) == keysym


@pytest.mark.parametrize(
    ("code", "key", "keysym"),
    [
        ("KeyA", "a", ord("a")),  # Ctrl+A arrives as "a"
        ("KeyA", "A", ord("A")),  # Ctrl+Shift+A
        ("KeyC", "с", ord("c")),  # Cyrillic layout: Ctrl+C is still Ctrl+C
        ("KeyA", "å", ord("a")),  # macOS Option+A
        ("Digit2", "é", ord("2")),
        ("Equal", "+", ord("+")),  # ASCII stays what it is: Ctrl++ zooms
        ("Tab", "Tab", 0xFF09),  # Alt+Tab
        ("ArrowLeft", "ArrowLeft", 0xFF51),  # Shift/Ctrl+arrows
        ("Semicolon", "ö", 0xF6),  # not a letter or digit key: the character
    ],
)
def test_shortcuts(code: str, key: str, keysym: int) -> None:
    assert keysym_for(code, key, command=True) == keysym


@pytest.mark.parametrize(
    ("code", "key", "keysym"),
    [
        ("KeyZ", "Unidentified", ord("z")),
        ("Digit5", "Unidentified", ord("5")),
        ("Slash", "Unidentified", ord("/")),
        ("Enter", "Unidentified", 0xFF0D),
        ("ShiftLeft", "Unidentified", 0xFFE1),
        ("Numpad7", "Unidentified", 0xFFB7),
        ("NumpadEnter", "Unidentified", 0xFF8D),
        ("Lang1", "Unidentified", None),
        ("BracketLeft", "Dead", None),
        ("KeyA", "Process", None),
    ],
)
def test_unidentified_and_dead(code: str, key: str, keysym: int | None) -> None:
    assert keysym_for(code, key) == keysym


@pytest.mark.parametrize("key", ["\x01", "\x7f", "\x85", "ab", "Fn", "Hyper2", "\ud800", "\u0378"])
def test_no_keysym(key: str) -> None:
    assert keysym_for("KeyA", key) is None


def test_every_printable_latin1_is_its_own_keysym() -> None:
    for cp in [*range(0x20, 0x7F), *range(0xA0, 0x100)]:
        assert keys.char_keysym(chr(cp)) == cp


def test_emoji_is_unicode_keysym() -> None:
    assert keysym_for("", "😀") == 0x01000000 + 0x1F600
