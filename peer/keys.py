"""Which X keysym to press for a ``Key`` message from the operator's browser.

A ``Key`` message carries two things the browser knows: ``code``, the *physical* key
(``"KeyA"``, ``"ShiftLeft"``, ``"Numpad1"``; independent of layout) and ``key``, what that key
*produces* with the operator's layout and modifiers (``"a"``, ``"A"``, ``"é"``, ``"Enter"``).
The customer may use another layout, so the peer presses the keysym of what the operator
meant, not the keycode of where their finger was.

The rule, in order:

1. **Numpad** (``code`` starts with ``Numpad``): the keypad keysym, so applications see a
   keypad key: ``"1"`` -> ``KP_1``; with NumLock off the browser sends ``"End"`` -> ``KP_End``;
   ``"."`` -> ``KP_Decimal``, ``","`` -> ``KP_Separator``; ``NumpadEnter`` -> ``KP_Enter``.
2. **Modifiers** by side, from ``code``: ``ShiftLeft`` -> ``Shift_L``, ``ControlRight`` ->
   ``Control_R``, ``AltLeft`` -> ``Alt_L``, ``MetaLeft`` -> ``Super_L``... ``"AltGraph"`` is
   ``ISO_Level3_Shift`` whichever physical key produced it.
3. **Named keys** (``key`` longer than one character: ``Enter``, ``Backspace``, ``Tab``,
   ``Escape``, ``Delete``, ``Insert``, ``Home``, ``End``, ``PageUp``, ``PageDown``,
   ``Arrow*``, ``F1``-``F35``, ``ContextMenu``, ``PrintScreen``, ``Pause``, locks, media
   keys...): their X keysym.
4. **A printed character** (``key`` is one character once NFC-normalised): its keysym --
   Latin-1 code points (U+0020..U+007E, U+00A0..U+00FF) are their own keysym, every other
   character is ``0x01000000 + code point``. Case is kept: Shift+a arrives as ``"A"`` and is
   pressed as keysym ``A``, so the customer sees ``A`` whatever their layout.
5. **Shortcuts**: with Control, Alt or Meta held (``command=True``) the browser still reports
   the layout's character (Ctrl+A arrives as ``"a"``, not ``"\\x01"``), which is what the
   customer's application matches, so rule 4 applies. Only when that character is *not ASCII*
   and the physical key is a letter or digit (a Cyrillic or Greek layout, or macOS's
   Option+letter producing ``"å"``) is the US-layout character of ``code`` pressed instead,
   so Ctrl+C stays Ctrl+C.
6. ``"Unidentified"``: the US-layout keysym of ``code`` (the physical key), if it has one.
   ``"Dead"`` (a dead key starting a composition) and ``"Process"`` (an input method at
   work): ``None`` -- the composed character arrives with the next key's ``key``; pressing the
   dead key on the customer's side as well would compose twice.

Anything else (control characters, multi-character text, unknown names) is ``None``: the
caller drops it and counts it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

# --------------------------------------------------------------------------- keysym values

XK_BackSpace = 0xFF08
XK_Tab = 0xFF09
XK_Return = 0xFF0D
XK_Escape = 0xFF1B
XK_Delete = 0xFFFF
XK_Shift_L = 0xFFE1
XK_Shift_R = 0xFFE2
XK_Control_L = 0xFFE3
XK_Control_R = 0xFFE4
XK_Caps_Lock = 0xFFE5
XK_Alt_L = 0xFFE9
XK_Alt_R = 0xFFEA
XK_Super_L = 0xFFEB
XK_Super_R = 0xFFEC
XK_ISO_Level3_Shift = 0xFE03
XK_Num_Lock = 0xFF7F
XK_F1 = 0xFFBE
XK_KP_0 = 0xFFB0

#: Keysyms that change what other keys do (``Shift_L``, ``Control_R``, ``ISO_Level3_Shift``...).
MODIFIER_KEYSYMS: frozenset[int] = frozenset(
    {
        XK_Shift_L,
        XK_Shift_R,
        XK_Control_L,
        XK_Control_R,
        XK_Alt_L,
        XK_Alt_R,
        XK_Super_L,
        XK_Super_R,
        XK_ISO_Level3_Shift,
        0xFFE7,  # Meta_L
        0xFFE8,  # Meta_R
        0xFF7E,  # Mode_switch
    }
)
SHIFT_KEYSYMS: frozenset[int] = frozenset({XK_Shift_L, XK_Shift_R})
#: Held modifiers that turn a key press into a shortcut (rule 5).
COMMAND_KEYSYMS: frozenset[int] = frozenset(
    {XK_Control_L, XK_Control_R, XK_Alt_L, XK_Alt_R, XK_Super_L, XK_Super_R, 0xFFE7, 0xFFE8}
)
#: Held modifiers that select another level of the layout (AltGr).
LEVEL3_KEYSYMS: frozenset[int] = frozenset({XK_ISO_Level3_Shift, 0xFF7E})

#: ``KeyboardEvent.key`` names of keys that print nothing.
NAMED: Mapping[str, int] = {
    "Enter": XK_Return,
    "Backspace": XK_BackSpace,
    "Tab": XK_Tab,
    "Escape": XK_Escape,
    "Delete": XK_Delete,
    "Insert": 0xFF63,
    "Home": 0xFF50,
    "End": 0xFF57,
    "PageUp": 0xFF55,
    "PageDown": 0xFF56,
    "ArrowLeft": 0xFF51,
    "ArrowUp": 0xFF52,
    "ArrowRight": 0xFF53,
    "ArrowDown": 0xFF54,
    "ContextMenu": 0xFF67,  # Menu
    "PrintScreen": 0xFF61,  # Print
    "Pause": 0xFF13,
    "ScrollLock": 0xFF14,
    "NumLock": XK_Num_Lock,
    "CapsLock": XK_Caps_Lock,
    "Clear": 0xFF0B,
    "Help": 0xFF6A,
    "Select": 0xFF60,
    "Execute": 0xFF62,
    "Undo": 0xFF65,
    "Redo": 0xFF66,
    "Find": 0xFF68,
    "Cancel": 0xFF69,
    "AudioVolumeMute": 0x1008FF12,
    "AudioVolumeDown": 0x1008FF11,
    "AudioVolumeUp": 0x1008FF13,
    "MediaPlayPause": 0x1008FF14,
    "MediaStop": 0x1008FF15,
    "MediaTrackPrevious": 0x1008FF16,
    "MediaTrackNext": 0x1008FF17,
    **{f"F{n}": XK_F1 + n - 1 for n in range(1, 36)},
}

#: Modifier keys by physical key (``code``).
MODIFIERS_BY_CODE: Mapping[str, int] = {
    "ShiftLeft": XK_Shift_L,
    "ShiftRight": XK_Shift_R,
    "ControlLeft": XK_Control_L,
    "ControlRight": XK_Control_R,
    "AltLeft": XK_Alt_L,
    "AltRight": XK_Alt_R,
    "MetaLeft": XK_Super_L,
    "MetaRight": XK_Super_R,
    "OSLeft": XK_Super_L,  # older Firefox
    "OSRight": XK_Super_R,
    "CapsLock": XK_Caps_Lock,
}
#: A modifier ``key`` whose ``code`` says nothing about its side: the left one.
_MODIFIER_DEFAULT: Mapping[str, int] = {
    "Shift": XK_Shift_L,
    "Control": XK_Control_L,
    "Alt": XK_Alt_L,
    "Meta": XK_Super_L,
    "OS": XK_Super_L,
    "Super": XK_Super_L,
    "Hyper": XK_Super_L,
    "CapsLock": XK_Caps_Lock,
}
_MODIFIER_SIDES: Mapping[str, tuple[str, ...]] = {
    "Shift": ("ShiftLeft", "ShiftRight"),
    "Control": ("ControlLeft", "ControlRight"),
    "Alt": ("AltLeft", "AltRight"),
    "Meta": ("MetaLeft", "MetaRight", "OSLeft", "OSRight"),
    "OS": ("MetaLeft", "MetaRight", "OSLeft", "OSRight"),
    "Super": ("MetaLeft", "MetaRight", "OSLeft", "OSRight"),
    "Hyper": ("MetaLeft", "MetaRight", "OSLeft", "OSRight"),
    "CapsLock": ("CapsLock",),
}

#: Keypad keys that are not digits, by ``code``.
NUMPAD_BY_CODE: Mapping[str, int] = {
    "NumpadEnter": 0xFF8D,  # KP_Enter
    "NumpadAdd": 0xFFAB,
    "NumpadSubtract": 0xFFAD,
    "NumpadMultiply": 0xFFAA,
    "NumpadDivide": 0xFFAF,
    "NumpadEqual": 0xFFBD,
    "NumpadComma": 0xFFAC,  # KP_Separator
}
#: What a keypad key produces (``key``) -> its keypad keysym.
NUMPAD_BY_KEY: Mapping[str, int] = {
    **{str(d): XK_KP_0 + d for d in range(10)},
    ".": 0xFFAE,  # KP_Decimal
    ",": 0xFFAC,  # KP_Separator
    "+": 0xFFAB,
    "-": 0xFFAD,
    "*": 0xFFAA,
    "/": 0xFFAF,
    "=": 0xFFBD,
    "Enter": 0xFF8D,
    # NumLock off
    "Home": 0xFF95,
    "ArrowLeft": 0xFF96,
    "ArrowUp": 0xFF97,
    "ArrowRight": 0xFF98,
    "ArrowDown": 0xFF99,
    "PageUp": 0xFF9A,
    "PageDown": 0xFF9B,
    "End": 0xFF9C,
    "Clear": 0xFF9D,  # KP_Begin (the 5 with NumLock off)
    "Insert": 0xFF9E,
    "Delete": 0xFF9F,
    "NumLock": XK_Num_Lock,
}

#: What each physical key prints on a US layout without modifiers (rules 5 and 6).
US_CHAR_BY_CODE: Mapping[str, str] = {
    **{f"Key{c}": c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{f"Digit{d}": str(d) for d in range(10)},
    "Space": " ",
    "Minus": "-",
    "Equal": "=",
    "BracketLeft": "[",
    "BracketRight": "]",
    "Backslash": "\\",
    "IntlBackslash": "<",
    "Semicolon": ";",
    "Quote": "'",
    "Backquote": "`",
    "Comma": ",",
    "Period": ".",
    "Slash": "/",
}
#: Physical keys that print nothing, by ``code`` (rule 6).
NAMED_BY_CODE: Mapping[str, int] = {
    **{name: sym for name, sym in NAMED.items() if not name.startswith(("Audio", "Media"))},
    "Backspace": XK_BackSpace,
    "Enter": XK_Return,
    "Escape": XK_Escape,
    **MODIFIERS_BY_CODE,
}

_NO_KEYSYM_KEYS = frozenset({"Dead", "Process", "Compose", "AllCandidates"})


def char_keysym(ch: str) -> int | None:
    """The keysym that types the single character ``ch``, or ``None`` for control characters."""
    if len(ch) != 1:
        return None
    cp = ord(ch)
    if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF:
        return cp
    if cp < 0x20 or 0x7F <= cp < 0xA0:
        return None
    if 0xD800 <= cp <= 0xDFFF:  # a lone surrogate is not a character
        return None
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Cn"):
        return None
    return 0x01000000 + cp


def _code_fallback(code: str) -> int | None:
    if code in US_CHAR_BY_CODE:
        return char_keysym(US_CHAR_BY_CODE[code])
    if code in NAMED_BY_CODE:
        return NAMED_BY_CODE[code]
    if code.startswith("Numpad"):
        return NUMPAD_BY_CODE.get(code) or (
            XK_KP_0 + int(code[6:]) if code[6:].isdigit() and len(code) == 7 else None
        )
    return None


def keysym_for(code: str, key: str, *, command: bool = False) -> int | None:
    """The X keysym to press for a ``Key{code, key}`` message, or ``None`` if there is none.

    ``command`` says that Control, Alt or Meta is held (a shortcut); see the module docstring.
    """
    # 1. keypad
    if code.startswith("Numpad"):
        sym = NUMPAD_BY_KEY.get(key)
        if sym is not None:
            return sym
        if code in NUMPAD_BY_CODE:
            return NUMPAD_BY_CODE[code]
        if key == "Unidentified":
            return _code_fallback(code)
        # an unusual keypad character: type it like any other
    # 2. modifiers
    if key == "AltGraph":
        return XK_ISO_Level3_Shift
    if key in _MODIFIER_DEFAULT:
        if code in _MODIFIER_SIDES[key]:
            return MODIFIERS_BY_CODE[code]
        return _MODIFIER_DEFAULT[key]
    # 3. named keys
    if key in NAMED:
        return NAMED[key]
    if key == "Unidentified":
        return _code_fallback(code)
    if key in _NO_KEYSYM_KEYS:
        return None
    # 4. a printed character
    text = unicodedata.normalize("NFC", key)
    if len(text) != 1:
        return None
    # 5. shortcuts on layouts that do not print ASCII
    if command and not text.isascii() and code.startswith(("Key", "Digit")):
        fallback = _code_fallback(code)
        if fallback is not None:
            return fallback
    return char_keysym(text)
