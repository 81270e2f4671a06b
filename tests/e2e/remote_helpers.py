"""Helpers for the remote-control end-to-end tests (``test_remote_control.py``,
``test_console_control.py``).

    OperatorKeyboard(page)    key events as an operator's browser with a German layout makes them
    x_input(display)          what the X server reports held (keys, buttons) and the pointer
    watch_channels(page)      before log-in: lets a test send raw INPUT frames as a console could
    watch_video_colour(...)   counts every presented video frame showing a given colour
    take_control / page_point / picture_point / wait_until / press_hotkey
    connect                   ``Console.connect`` with the options given by position

Why key events go through CDP ``Input.dispatchKeyEvent`` and not Playwright's keyboard:
``keyboard.type()`` sends characters its US layout lacks (``ü``, ``é``, ``€``) as
``Input.insertText`` -- an ``input`` event with no ``keydown`` at all, as an input method would --
so the console, which listens for key events, would see nothing. ``keyboard.down("é")`` does send
a keydown, but with ``code: ""``, which no physical keyboard produces. ``Input.dispatchKeyEvent``
is the path Playwright itself uses for keys: Chromium builds a native key event from it and runs
it through the same renderer input pipeline as a real key (``isTrusted`` is true, focus, default
actions and ``preventDefault`` all apply). Here it carries what Chromium on Linux reports for a
German keyboard: ``key: "ü", code: "BracketLeft"``; Shift as a held modifier; ``é`` as the dead
key ``´`` (``key: "Dead"``) followed by ``e``; ``€`` and ``@`` with AltGr -- either as Linux
reports it (``AltRight`` with ``key: "AltGraph"``) or as Windows does (a phantom ``ControlLeft``
first, which the console must not pass on).
"""

from __future__ import annotations

import contextlib
import json
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .console import Console, StartPeer
from .procs import Proc
from .screen import Screen

if TYPE_CHECKING:
    from playwright.sync_api import CDPSession, Page

T = TypeVar("T")

# CDP Input.dispatchKeyEvent modifier bits
ALT, CTRL, META, SHIFT = 1, 2, 4, 8
_MODIFIER_BITS = {
    "ShiftLeft": SHIFT,
    "ShiftRight": SHIFT,
    "ControlLeft": CTRL,
    "ControlRight": CTRL,
    "AltLeft": ALT,
    "MetaLeft": META,
}
#: Windows virtual key codes (KeyboardEvent.keyCode) by physical key.
_VK = {
    **{f"Key{c}": ord(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{f"Digit{d}": ord(str(d)) for d in range(10)},
    "Space": 32,
    "Enter": 13,
    "Backspace": 8,
    "Escape": 27,
    "ArrowLeft": 37,
    "ArrowRight": 39,
    "Home": 36,
    "End": 35,
    "ShiftLeft": 16,
    "ControlLeft": 17,
    "AltLeft": 18,
    "AltRight": 225,  # VKEY_ALTGR: what Chromium on Linux reports for AltGr
    "Comma": 188,
    "Period": 190,
    "Minus": 189,
    "Equal": 187,
    "Slash": 191,
    "Semicolon": 186,
    "Quote": 222,
    "BracketLeft": 219,
    "BracketRight": 221,
}
_LOCATION = {"ShiftLeft": 1, "ControlLeft": 1, "AltLeft": 1, "ShiftRight": 2, "AltRight": 2}


@dataclass(frozen=True)
class Stroke:
    """How one character is typed on a layout."""

    code: str
    shift: bool = False
    altgr: bool = False
    dead: str | None = None  # the dead key's code, pressed (and released) first
    up_key: str | None = None  # what the key-up reports, when it differs from the character


def _german() -> dict[str, Stroke]:
    swap = {"y": "KeyZ", "z": "KeyY"}  # QWERTZ
    strokes: dict[str, Stroke] = {}
    for c in "abcdefghijklmnopqrstuvwxyz":
        code = swap.get(c, f"Key{c.upper()}")
        strokes[c] = Stroke(code)
        strokes[c.upper()] = Stroke(code, shift=True)
    for d in range(10):
        strokes[str(d)] = Stroke(f"Digit{d}")
    for lower, upper, code in (("ü", "Ü", "BracketLeft"), ("ö", "Ö", "Semicolon")):
        strokes[lower] = Stroke(code)
        strokes[upper] = Stroke(code, shift=True)
    strokes["ä"] = Stroke("Quote")
    strokes["Ä"] = Stroke("Quote", shift=True)
    strokes.update(
        {
            " ": Stroke("Space"),
            "ß": Stroke("Minus"),
            "?": Stroke("Minus", shift=True),
            ",": Stroke("Comma"),
            ";": Stroke("Comma", shift=True),
            ".": Stroke("Period"),
            ":": Stroke("Period", shift=True),
            "-": Stroke("Slash"),
            "_": Stroke("Slash", shift=True),
            "!": Stroke("Digit1", shift=True),
            "€": Stroke("KeyE", altgr=True),
            "@": Stroke("KeyQ", altgr=True),
            # dead acute, then e; Chromium's key-up for the e reports the plain letter
            "é": Stroke("KeyE", dead="Equal", up_key="e"),
        }
    )
    return strokes


GERMAN = _german()


class OperatorKeyboard:
    """Trusted key events into the console page, as a German-layout keyboard produces them."""

    def __init__(self, page: Page, layout: dict[str, Stroke] = GERMAN) -> None:
        self.cdp: CDPSession = page.context.new_cdp_session(page)
        self.layout = layout
        self.modifiers = 0

    def down(self, code: str, key: str, *, text: str | None = None, repeat: bool = False) -> None:
        self.modifiers |= _MODIFIER_BITS.get(code, 0)
        # With Ctrl, Alt or Meta held a key inserts nothing: no text, as Chromium does.
        printable = text if text is not None else (key if len(key) == 1 else "")
        if self.modifiers & (CTRL | ALT | META):
            printable = ""
        params: dict[str, Any] = {
            "type": "keyDown" if printable else "rawKeyDown",
            "modifiers": self.modifiers,
            "key": key,
            "code": code,
            "windowsVirtualKeyCode": _VK.get(code, 0),
            "location": _LOCATION.get(code, 0),
            "autoRepeat": repeat,
        }
        if printable:
            params["text"] = params["unmodifiedText"] = printable
        self.cdp.send("Input.dispatchKeyEvent", params)

    def up(self, code: str, key: str) -> None:
        self.modifiers &= ~_MODIFIER_BITS.get(code, 0)
        self.cdp.send(
            "Input.dispatchKeyEvent",
            {
                "type": "keyUp",
                "modifiers": self.modifiers,
                "key": key,
                "code": code,
                "windowsVirtualKeyCode": _VK.get(code, 0),
                "location": _LOCATION.get(code, 0),
            },
        )

    def tap(self, code: str, key: str) -> None:
        self.down(code, key)
        self.up(code, key)

    def chord(self, *keys: tuple[str, str]) -> None:
        """Press in order, release in reverse: ``chord(("ControlLeft", "Control"), ("KeyA",
        "a"))``."""
        for code, key in keys:
            self.down(code, key)
        for code, key in reversed(keys):
            self.up(code, key)

    def type(self, text: str, *, altgr: str = "linux") -> None:
        """Type ``text`` key by key. ``altgr``: ``"linux"`` (AltRight = AltGraph) or
        ``"windows"`` (a ControlLeft comes first, then AltRight = AltGraph)."""
        for ch in text:
            stroke = self.layout[ch]
            if stroke.dead is not None:
                self.down(stroke.dead, "Dead")
                self.up(stroke.dead, "Dead")
            if stroke.shift:
                self.down("ShiftLeft", "Shift")
            if stroke.altgr:
                if altgr == "windows":
                    self.down("ControlLeft", "Control")
                self.down("AltRight", "AltGraph")
            self.down(stroke.code, ch, text=ch)
            self.up(stroke.code, stroke.up_key or ch)
            if stroke.altgr:
                if altgr == "windows":
                    self.up("ControlLeft", "Control")
                self.up("AltRight", "AltGraph")
            if stroke.shift:
                self.up("ShiftLeft", "Shift")

    def detach(self) -> None:
        self.cdp.detach()


# ---------------------------------------------------------------------------- the page

# Every keydown the page sees, before the console's own handlers: (key, code, isTrusted).
_WATCH_KEYS = """() => {
    window.__keydowns = [];
    window.addEventListener("keydown", (e) => {
        window.__keydowns.push([e.key, e.code, e.isTrusted]);
    }, {capture: true});
}"""

# Runs before the console's modules: remembers the data channels the peer opens, by label.
_CHANNEL_PROBE = """(() => {
    const Native = window.RTCPeerConnection;
    if (!Native || window.__slChannels) return;
    const channels = {};
    window.__slChannels = channels;
    window.RTCPeerConnection = class extends Native {
        constructor(...args) {
            super(...args);
            this.addEventListener("datachannel", (e) => { channels[e.channel.label] = e.channel; });
        }
    };
})();"""

_SEND_RAW = """([label, texts]) => {
    const channel = (window.__slChannels || {})[label];
    if (!channel || channel.readyState !== "open") return false;
    for (const text of texts) channel.send(text);
    return true;
}"""

# Checks every presented frame of the video for pixels near one colour (full resolution).
_WATCH_COLOUR = """([rgb, tolerance]) => {
    const video = document.querySelector("video#remote-video");
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", {willReadFrequently: true});
    const watch = {frames: 0, hits: 0, worst: 0, sizes: []};
    window.__colourWatch = watch;
    const look = () => {
        if (window.__colourWatch !== watch) return;
        const w = video.videoWidth, h = video.videoHeight;
        if (w && h) {
            if (canvas.width !== w || canvas.height !== h) {
                canvas.width = w;
                canvas.height = h;
                watch.sizes.push([w, h]);
            }
            ctx.drawImage(video, 0, 0);
            const d = ctx.getImageData(0, 0, w, h).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
                if (Math.abs(d[i] - rgb[0]) <= tolerance && Math.abs(d[i + 1] - rgb[1]) <= tolerance
                    && Math.abs(d[i + 2] - rgb[2]) <= tolerance) n++;
            }
            watch.frames++;
            if (n) watch.hits++;
            watch.worst = Math.max(watch.worst, n);
        }
        video.requestVideoFrameCallback(look);
    };
    video.requestVideoFrameCallback(look);
}"""

# Where a point of the shared picture (fractions) is on the page, through object-fit: contain.
_PICTURE_TO_PAGE = """([fx, fy]) => {
    const video = document.querySelector("video#remote-video");
    const r = video.getBoundingClientRect();
    const scale = Math.min(r.width / video.videoWidth, r.height / video.videoHeight);
    const w = video.videoWidth * scale, h = video.videoHeight * scale;
    return [r.left + (r.width - w) / 2 + fx * w, r.top + (r.height - h) / 2 + fy * h];
}"""


def watch_keys(page: Page) -> None:
    page.evaluate(_WATCH_KEYS)


def keydowns(page: Page) -> list[tuple[str, str, bool]]:
    return [(str(k), str(c), bool(t)) for k, c, t in page.evaluate("() => window.__keydowns")]


def watch_channels(page: Page) -> None:
    """Call before ``Console.log_in``: the page's data channels become reachable by label."""
    page.context.add_init_script(_CHANNEL_PROBE)


def send_raw(page: Page, label: str, messages: Sequence[dict[str, Any]]) -> None:
    """Send frames on the page's ``label`` data channel, bypassing the console's own checks."""
    texts = [json.dumps(m) for m in messages]
    assert page.evaluate(_SEND_RAW, [label, texts]), f"the {label} channel is not open"


def watch_video_colour(page: Page, rgb: tuple[int, int, int], tolerance: int) -> None:
    page.evaluate(_WATCH_COLOUR, [list(rgb), tolerance])


def video_colour_watch(page: Page) -> dict[str, Any]:
    return dict(page.evaluate("() => window.__colourWatch"))


def picture_point(console: Console, fx: float, fy: float) -> tuple[float, float]:
    """The page point of a point of the shared picture, given as fractions of it."""
    px, py = console.page.evaluate(_PICTURE_TO_PAGE, [fx, fy])
    return float(px), float(py)


def page_point(console: Console, screen: Screen, x: float, y: float) -> tuple[float, float]:
    """The page point showing screen pixel (x, y) while the whole screen is shared."""
    return picture_point(console, x / screen.width, y / screen.height)


# ---------------------------------------------------------------------------- the X server


@dataclass(frozen=True)
class XInput:
    keys: frozenset[int]  # keycodes down
    buttons: frozenset[int]  # pointer buttons down
    pointer: tuple[int, int]

    @property
    def idle(self) -> bool:
        return not self.keys and not self.buttons


def x_input(display: str) -> XInput:
    """What the X server itself reports: keys and buttons down (from any client) and where
    the pointer is."""
    import Xlib.display

    from peer.inject import held_keys, pointer_buttons

    d = Xlib.display.Display(display)
    try:
        pointer = d.screen().root.query_pointer()
        return XInput(
            frozenset(held_keys(d)),
            frozenset(pointer_buttons(d)),
            (int(pointer.root_x), int(pointer.root_y)),
        )
    finally:
        d.close()


def keycodes(display: str, *keysyms: str) -> set[int]:
    import Xlib.display
    import Xlib.XK

    d = Xlib.display.Display(display)
    try:
        return {d.keysym_to_keycode(Xlib.XK.string_to_keysym(name)) for name in keysyms}
    finally:
        d.close()


# The customer presses keys on their own keyboard (XTest from another client), in order, and
# lets go in reverse.
_PRESS = """
import sys
import Xlib.display, Xlib.X, Xlib.XK
from Xlib.ext import xtest
display = Xlib.display.Display(sys.argv[1])
codes = [display.keysym_to_keycode(Xlib.XK.string_to_keysym(n)) for n in sys.argv[2:]]
for code in codes:
    xtest.fake_input(display, Xlib.X.KeyPress, code)
for code in reversed(codes):
    xtest.fake_input(display, Xlib.X.KeyRelease, code)
display.sync()
"""


def press_hotkey(screen: Screen) -> None:
    """The customer presses the peer's take-back hotkey, Ctrl+Alt+End."""
    subprocess.run(
        [sys.executable, "-c", _PRESS, screen.display, "Control_L", "Alt_L", "End"],
        env=screen.env(),
        check=True,
        timeout=15,
    )


# ---------------------------------------------------------------------------- waiting


def wait_until(
    probe: Callable[[], T], ok: Callable[[T], bool], what: str, timeout: float = 10
) -> T:
    """``probe()`` until ``ok`` holds for its value; AssertionError with the last one after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s; last: {value!r}")
        time.sleep(0.05)


def expect() -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def connect(
    console: Console,
    start_peer: StartPeer,
    allow: tuple[str, ...],
    extra_args: Sequence[str] = (),
) -> Proc:
    """``console.connect`` (``test_remote_control.py`` passes ``allow`` by position)."""
    return console.connect(start_peer, allow=allow, extra_args=extra_args)


def take_control(console: Console) -> None:
    """Ask for control unless already given; wait until granted and the input channel is open."""
    page = console.page
    state = page.locator("#control-state")
    request = page.get_by_role("button", name="Request control")
    hand_back = page.get_by_role("button", name="Hand back control")
    wait_until(
        lambda: request.is_visible() or hand_back.is_visible(),
        bool,
        "a control button shows",
        timeout=15,
    )
    if request.is_visible():
        request.click()
    expect()(state).to_contain_text("You have control", timeout=15_000)
    expect()(page.locator("#log")).to_contain_text("input channel open", timeout=10_000)


# --------------------------------------------------------------------------- the clipboard

# The customer's CLIPBOARD as another X client sees it, or "" when nobody owns it.
_READ_CLIPBOARD = """
import sys, tkinter
root = tkinter.Tk()
root.withdraw()
try:
    sys.stdout.write(root.clipboard_get())
except tkinter.TclError:
    pass
"""

# A customer's program that copies text: owns the CLIPBOARD until stdin closes.
_OWN_CLIPBOARD = """
import sys, tkinter
root = tkinter.Tk()
root.withdraw()
root.clipboard_clear()
root.clipboard_append(sys.argv[1])
root.update()
print("owned", flush=True)
root.tk.createfilehandler(sys.stdin, tkinter.READABLE, lambda *_: root.destroy())
root.mainloop()
"""


def customer_clipboard(screen: Screen) -> str:
    """What the customer's CLIPBOARD holds now ("" when nobody owns it)."""
    done = subprocess.run(
        [sys.executable, "-c", _READ_CLIPBOARD],
        env=screen.env(),
        capture_output=True,
        text=True,
        timeout=15,
    )
    return done.stdout


@contextlib.contextmanager
def customer_copies(screen: Screen, text: str) -> Iterator[None]:
    """A program on the customer's screen has copied ``text`` and owns the CLIPBOARD while
    the block runs."""
    with subprocess.Popen(
        [sys.executable, "-c", _OWN_CLIPBOARD, text],
        env=screen.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as owner:
        assert owner.stdin is not None and owner.stdout is not None
        try:
            ready, _, _ = select.select([owner.stdout], [], [], 10)
            assert ready and owner.stdout.readline().strip() == "owned", "the copy did not happen"
            yield
        finally:
            owner.stdin.close()
            owner.wait(10)
