"""Panes that features show in the customer's window, one class per capability (``PANES``).

A pane is created the first time its feature has something to show or is granted, lives in
the main window below "What the operator can do now", and gets every ``Shown`` event of its
feature. What the customer does in it goes back through ``send(action, value)``.
"""

from __future__ import annotations

import abc
import collections
import functools
import time
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from wire import protocol

from .feature import Shown
from .files.shown import FilesShown
from .i18n import t

#: Messages kept in the chat pane; older ones scroll away for good (memory stays bounded).
CHAT_KEEP = 500

#: How a pane asks the customer something: the window's question dialog, given the question,
#: the words of its yes and no buttons and what to do with the answer.
Question = Callable[[str, str, str, Callable[[bool], None]], tk.Toplevel]


class Pane(ttk.Frame, abc.ABC):
    """A feature's part of the window; ``send(action, value)`` goes to the feature. The
    window sets ``question`` to its own dialog for a pane that must ask something."""

    question: Question | None = None

    def __init__(self, master: tk.Misc, send: Callable[[str, str], None]) -> None:
        super().__init__(master)
        self.to_feature = send

    @abc.abstractmethod
    def show(self, shown: Shown) -> None:
        """One event of the feature (``Shown``), drawn the pane's way."""

    def ended(self) -> None:
        """The session is over: what was shown stays readable, nothing more can be sent."""


class ChatPane(Pane):
    """The chat: who wrote what and when, newest at the bottom, Enter sends."""

    def __init__(self, master: tk.Misc, send: Callable[[str, str], None]) -> None:
        super().__init__(master, send)
        ttk.Label(self, text=t("chat.pane_title")).pack(anchor="w")
        box = ttk.Frame(self)
        box.pack(fill="both", expand=True)
        self.transcript = tk.Text(
            box,
            height=8,
            width=44,
            wrap="word",
            state="disabled",
            takefocus=False,
            font="TkDefaultFont",
        )
        scroll = ttk.Scrollbar(box, command=self.transcript.yview)
        self.transcript.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.transcript.pack(side="left", fill="both", expand=True)
        self.transcript.tag_configure("who", font=("TkDefaultFont", 9, "bold"))
        self.transcript.tag_configure("mine", foreground="#1a4f8b")
        self.transcript.tag_configure("note", foreground="#8a4b00")
        row = ttk.Frame(self)
        row.pack(fill="x", pady=(4, 0))
        self.entry = ttk.Entry(row)
        self.entry.pack(side="left", fill="x", expand=True)
        self.entry.bind("<Return>", lambda _e: self._send())
        self.send_button = ttk.Button(row, text=t("chat.send"), command=self._send)
        self.send_button.pack(side="left", padx=(6, 0))
        self.lines: collections.deque[tuple[str, str, str]] = collections.deque(maxlen=CHAT_KEEP)
        self._waiting: list[tuple[str, str, str]] = []
        self._scheduled = False
        self.count = 0

    def _send(self) -> None:
        text = self.entry.get()
        if not text.strip():
            return
        if protocol.user_length(text) > protocol.MAX_CHAT_CHARS:
            self.show(Shown("line", t("chat.pane_too_long", limit=protocol.MAX_CHAT_CHARS)))
            return
        self.entry.delete(0, "end")
        self.to_feature("send", text)

    def show(self, shown: Shown) -> None:
        stamp = time.strftime("%H:%M")
        if shown.kind == "message":
            tag = "mine" if shown.mine else ""
            who = shown.who
            self._waiting.append((f"{stamp} {who}: ", shown.text, tag))
        else:
            self._waiting.append((f"{stamp} ", shown.text, "note"))
        self.count += 1
        if not self._scheduled:  # a burst is drawn once, not message by message
            self._scheduled = True
            self.after(30, self._draw)

    def _draw(self) -> None:
        self._scheduled = False
        waiting, self._waiting = self._waiting[-CHAT_KEEP:], []
        self.lines.extend(waiting)
        t = self.transcript
        t.configure(state="normal")
        if len(waiting) >= CHAT_KEEP:
            t.delete("1.0", "end")
        for head, text, tag in waiting:
            t.insert("end", head, ("who", tag) if tag else ("who",))
            _insert(t, text + "\n", tag)
        extra = int(t.index("end-1c").split(".")[0]) - 1 - _line_count(self.lines)
        if extra > 0:
            t.delete("1.0", f"{extra + 1}.0")
        t.configure(state="disabled")
        t.see("end")

    def ended(self) -> None:
        self.entry.configure(state="disabled")
        self.send_button.configure(state="disabled")

    def text(self) -> str:
        return self.transcript.get("1.0", "end-1c")


def _line_count(lines: collections.deque[tuple[str, str, str]]) -> int:
    return sum(text.count("\n") + 1 for _head, text, _tag in lines)


def _insert(t: tk.Text, text: str, tag: str) -> None:
    """Insert as plain text; characters this Tk cannot draw become U+FFFD, never an error."""
    try:
        t.insert("end", text, tag)
    except tk.TclError:
        t.insert("end", "".join(ch if ord(ch) <= 0xFFFF else "\ufffd" for ch in text), tag)


class FilesPane(Pane):
    """File transfer: Send files… / Send a folder…, Stop transfers (only while something
    arrives or leaves), a bar for the transfer that moved last, and what is arriving or
    leaving now (the newest lines; a progress line replaces the one before it). The
    operator's request for a path comes as a question (``files.shown``): Send or Decline."""

    KEEP = 50

    def __init__(self, master: tk.Misc, send: Callable[[str, str], None]) -> None:
        super().__init__(master, send)
        ttk.Label(self, text=t("files.pane_title")).pack(anchor="w")
        row = ttk.Frame(self)
        row.pack(fill="x", pady=(2, 4))
        self.send_files_button = ttk.Button(row, text=t("files.send_files"), command=self._files)
        self.send_files_button.pack(side="left")
        self.send_folder_button = ttk.Button(row, text=t("files.send_folder"), command=self._folder)
        self.send_folder_button.pack(side="left", padx=6)
        self.stop_button = ttk.Button(row, text=t("files.stop"), command=self._stop)
        self.stop_button.state(["disabled"])
        self.stop_button.pack(side="right")
        self.bar = ttk.Progressbar(self, mode="determinate", maximum=1.0)
        self.log = tk.Text(
            self, height=5, width=44, wrap="word", state="disabled", takefocus=False,
            font="TkDefaultFont",
        )  # fmt: skip
        self.log.pack(fill="both", expand=True)
        self.lines: collections.deque[str] = collections.deque(maxlen=self.KEEP)
        self._progress_last = False
        self.moving = False
        self.question_dialog: tk.Toplevel | None = None

    def _files(self) -> None:
        from tkinter import filedialog

        for path in filedialog.askopenfilenames(parent=self, title=t("files.send_files")):
            self.to_feature("send", path)

    def _folder(self) -> None:
        from tkinter import filedialog

        path = filedialog.askdirectory(parent=self, title=t("files.send_folder"), mustexist=True)
        if path:
            self.to_feature("send", path)

    def _stop(self) -> None:
        self.to_feature("stop", "")

    def show(self, shown: Shown) -> None:
        if shown.kind == "question":
            self._ask(shown.text)
        elif shown.kind == "question_over":
            self._close_question()
        if shown.kind not in ("question", "activity"):
            self._add_line(shown)
        if isinstance(shown, FilesShown):
            self._moved(shown.moving, shown.fraction)

    def _add_line(self, shown: Shown) -> None:
        progress = shown.kind == "progress"
        if progress and self._progress_last and self.lines:
            self.lines[-1] = shown.text
        else:
            self.lines.append(shown.text)
        self._progress_last = progress
        self.log.configure(state="normal")
        self.log.delete("1.0", "end")
        _insert(self.log, "\n".join(self.lines), "")
        self.log.see("end")
        self.log.configure(state="disabled")

    def _moved(self, moving: bool, fraction: float | None) -> None:
        """The bar and Stop transfers follow what moves: shown and enabled only meanwhile."""
        if fraction is not None:
            self.bar.configure(value=fraction)
        if moving == self.moving:
            return
        self.moving = moving
        if moving:
            self.bar.pack(fill="x", pady=(0, 4), before=self.log)
            self.stop_button.state(["!disabled"])
        else:
            self.bar.pack_forget()
            self.bar.configure(value=0)
            self.stop_button.state(["disabled"])

    def _ask(self, text: str) -> None:
        """The operator's request: the question in the window's dialog (Decline is what Enter
        and Esc give); the answer names the question it answers."""
        self._close_question()

        def decide(send: bool) -> None:
            self.question_dialog = None
            self.to_feature("request_send" if send else "request_decline", text)

        if self.question is None:  # a pane on its own cannot ask: the safe answer
            decide(False)
            return
        self.question_dialog = self.question(
            text, t("files.request_send"), t("files.decline"), decide
        )

    def _close_question(self) -> None:
        dialog, self.question_dialog = self.question_dialog, None
        if dialog is not None and dialog.winfo_exists():
            dialog.destroy()

    def ended(self) -> None:
        self.send_files_button.state(["disabled"])
        self.send_folder_button.state(["disabled"])
        self._moved(False, None)
        self._close_question()

    def text(self) -> str:
        return "\n".join(self.lines)


def meter_fraction(dbfs: float) -> float:
    """A level in dBFS on a meter from −60 (empty) to 0 (full)."""
    return min(max((dbfs + 60.0) / 60.0, 0.0), 1.0)


class VoicePane(Pane):
    """The voice call: what happens (one line each for the microphone and the speakers),
    both levels, Mute and Hang up, and which microphone and speakers to use. The window sets
    ``levels`` (the feature's levels now) and ``devices`` (names of microphones, speakers)."""

    levels: Callable[[], tuple[float, float]] | None = None
    devices: Callable[[], tuple[list[str], list[str]]] | None = None

    def __init__(self, master: tk.Misc, send: Callable[[str, str], None]) -> None:
        super().__init__(master, send)
        ttk.Label(self, text=t("voice.pane_title")).pack(anchor="w")
        self.state_line = ttk.Label(self, text=t("voice.off"), wraplength=420, justify="left")
        self.state_line.pack(anchor="w", fill="x")
        self.mic_line = ""
        self.speaker_line = ""
        grid = ttk.Frame(self)
        grid.pack(fill="x", pady=(4, 0))
        grid.columnconfigure(1, weight=1)
        self.mic_choice = tk.StringVar(value=t("voice.default_device"))
        self.speaker_choice = tk.StringVar(value=t("voice.default_device"))
        self.mic_meter = ttk.Progressbar(grid, maximum=1.0, length=120)
        self.speaker_meter = ttk.Progressbar(grid, maximum=1.0, length=120)
        self.mic_box = ttk.Combobox(grid, textvariable=self.mic_choice, state="readonly", width=28)
        self.speaker_box = ttk.Combobox(
            grid, textvariable=self.speaker_choice, state="readonly", width=28
        )
        rows = (
            (t("voice.microphone"), self.mic_box, self.mic_meter, "mic"),
            (t("voice.speakers"), self.speaker_box, self.speaker_meter, "speaker"),
        )
        for row, (label, box, meter, action) in enumerate(rows):
            ttk.Label(grid, text=label).grid(row=row, column=0, sticky="w", padx=(0, 6))
            box.grid(row=row, column=1, sticky="ew", pady=1)
            meter.grid(row=row, column=2, sticky="e", padx=(6, 0))
            box.configure(postcommand=self._fill_devices)
            box.bind("<<ComboboxSelected>>", functools.partial(self._picked, action, box))
        buttons = ttk.Frame(self)
        buttons.pack(fill="x", pady=(4, 0))
        self.muted = False
        self.mute_button = ttk.Button(buttons, text=t("voice.mute"), command=self._mute)
        self.mute_button.pack(side="left")
        self.hangup_button = ttk.Button(
            buttons, text=t("voice.hangup"), command=lambda: self.to_feature("hangup", "")
        )
        self.hangup_button.pack(side="left", padx=(6, 0))
        self.after(100, self._poll)

    def _fill_devices(self) -> None:
        if self.devices is None:
            return
        mics, speakers = self.devices()
        default = [t("voice.default_device")]
        self.mic_box.configure(values=default + mics)
        self.speaker_box.configure(values=default + speakers)

    def _picked(self, action: str, box: ttk.Combobox, _event: object = None) -> None:
        name = box.get()
        self.to_feature(action, "" if name == t("voice.default_device") else name)

    def _mute(self) -> None:
        self.muted = not self.muted
        self.mute_button.configure(text=t("voice.unmute") if self.muted else t("voice.mute"))
        self.to_feature("mute", "on" if self.muted else "off")

    def _poll(self) -> None:
        if not self.winfo_exists():
            return
        if self.levels is not None:
            mic, out = self.levels()
            self.mic_meter.configure(value=meter_fraction(mic))
            self.speaker_meter.configure(value=meter_fraction(out))
        self.after(100, self._poll)

    def show(self, shown: Shown) -> None:
        if shown.kind == "mic":
            self.mic_line = shown.text
        elif shown.kind == "speaker":
            self.speaker_line = shown.text
        else:  # the call ended: that is what is happening now
            self.mic_line, self.speaker_line = shown.text, ""
        lines = (x for x in (self.mic_line, self.speaker_line) if x)
        self.state_line.configure(text="\n".join(lines))

    def ended(self) -> None:
        self.levels = None
        for widget in (self.mute_button, self.hangup_button, self.mic_box, self.speaker_box):
            widget.state(["disabled"])

    def text(self) -> str:
        return str(self.state_line.cget("text"))


class AnnotatePane(Pane):
    """Drawing on the screen: what happens in one line; Draw on my screen (with a tool) and
    Finish my drawing for the customer's own strokes; Clear drawing and Turn drawing off."""

    def __init__(self, master: tk.Misc, send: Callable[[str, str], None]) -> None:
        super().__init__(master, send)
        ttk.Label(self, text=t("annotate.pane_title")).pack(anchor="w")
        self.state_line = ttk.Label(self, text="", wraplength=420, justify="left")
        self.state_line.pack(anchor="w", fill="x")
        own = ttk.Frame(self)
        own.pack(fill="x", pady=(4, 0))
        self.drawing = False
        self.draw_button = ttk.Button(own, text=t("annotate.draw"), command=self._toggle)
        self.draw_button.pack(side="left")
        self.tools = {
            t("annotate.tool.pen"): "pen",
            t("annotate.tool.highlighter"): "highlighter",
            t("annotate.tool.rect"): "rect",
            t("annotate.tool.ellipse"): "ellipse",
            t("annotate.tool.arrow"): "arrow",
        }
        self.tool_choice = tk.StringVar(value=t("annotate.tool.pen"))
        self.tool_box = ttk.Combobox(
            own, textvariable=self.tool_choice, values=list(self.tools), state="readonly", width=14
        )
        self.tool_box.pack(side="left", padx=(6, 0))
        self.tool_box.bind(
            "<<ComboboxSelected>>",
            lambda _e: self.to_feature("draw_tool", self.tools[self.tool_choice.get()]),
        )
        buttons = ttk.Frame(self)
        buttons.pack(fill="x", pady=(4, 0))
        self.clear_button = ttk.Button(
            buttons, text=t("annotate.clear"), command=lambda: self.to_feature("clear", "")
        )
        self.clear_button.pack(side="left")
        self.off_button = ttk.Button(
            buttons, text=t("annotate.stop"), command=lambda: self.to_feature("off", "")
        )
        self.off_button.pack(side="left", padx=(6, 0))

    def _toggle(self) -> None:
        if self.drawing:
            self.to_feature("draw_off", "")
            return
        try:  # the window manager's frame around this window (Tk's own is an inner one)
            frame = int(self.winfo_toplevel().wm_frame(), 16)
        except (tk.TclError, ValueError):
            frame = 0
        self.to_feature("draw_on", str(frame))

    def show(self, shown: Shown) -> None:
        self.drawing = shown.kind == "drawing"
        self.draw_button.configure(
            text=t("annotate.draw_stop") if self.drawing else t("annotate.draw")
        )
        self.state_line.configure(text=shown.text)

    def ended(self) -> None:
        for widget in (self.draw_button, self.clear_button, self.off_button):
            widget.state(["disabled"])
        self.tool_box.state(["disabled"])

    def text(self) -> str:
        return str(self.state_line.cget("text"))


class ShowPane(Pane):
    """What the operator shows (their screen or camera, in a window of its own): what
    happens in one line, and Stop seeing it (the same as closing that window)."""

    capability = ""

    def __init__(self, master: tk.Misc, send: Callable[[str, str], None]) -> None:
        super().__init__(master, send)
        ttk.Label(self, text=t(f"{self.capability}.pane_title")).pack(anchor="w")
        self.state_line = ttk.Label(self, text="", wraplength=420, justify="left")
        self.state_line.pack(anchor="w", fill="x")
        self.close_button = ttk.Button(
            self, text=t(f"{self.capability}.close"), command=lambda: self.to_feature("close", "")
        )
        self.close_button.pack(anchor="w", pady=(4, 0))

    def show(self, shown: Shown) -> None:
        self.state_line.configure(text=shown.text)

    def ended(self) -> None:
        self.close_button.state(["disabled"])

    def text(self) -> str:
        return str(self.state_line.cget("text"))


class ShowScreenPane(ShowPane):
    capability = "show_screen"


class ShowCameraPane(ShowPane):
    capability = "show_camera"


class CameraPane(Pane):
    """The customer's camera for the operator: how it is in one line, which camera, and
    Stop my camera (the device is released at once)."""

    def __init__(self, master: tk.Misc, send: Callable[[str, str], None]) -> None:
        super().__init__(master, send)
        ttk.Label(self, text=t("camera.pane_title")).pack(anchor="w")
        self.state_line = ttk.Label(self, text="", wraplength=420, justify="left")
        self.state_line.pack(anchor="w", fill="x")
        row = ttk.Frame(self)
        row.pack(fill="x", pady=(4, 0))
        ttk.Label(row, text=t("camera.pick")).pack(side="left")
        self.sources: dict[str, str] = {t("camera.first_found"): ""}
        self.choice = tk.StringVar(value=t("camera.first_found"))
        self.box = ttk.Combobox(
            row, textvariable=self.choice, values=list(self.sources), state="readonly", width=28
        )
        self.box.pack(side="left", padx=(6, 0))
        self.box.bind(
            "<<ComboboxSelected>>",
            lambda _e: self.to_feature("pick", self.sources.get(self.choice.get(), "")),
        )
        self.stop_button = ttk.Button(
            self, text=t("camera.stop"), command=lambda: self.to_feature("stop", "")
        )
        self.stop_button.pack(anchor="w", pady=(4, 0))

    def show(self, shown: Shown) -> None:
        if shown.kind == "cameras":  # "source<TAB>name" lines: what can be picked
            self.sources = {t("camera.first_found"): ""}
            for line in shown.text.splitlines():
                source, _, name = line.partition("\t")
                self.sources[name or source] = source
            self.box.configure(values=list(self.sources))
            return
        self.state_line.configure(text=shown.text)

    def ended(self) -> None:
        self.stop_button.state(["disabled"])
        self.box.state(["disabled"])

    def text(self) -> str:
        return str(self.state_line.cget("text"))


PANES: dict[str, type[Pane]] = {
    "camera": CameraPane,
    "show_screen": ShowScreenPane,
    "show_camera": ShowCameraPane,
    "chat": ChatPane,
    "files": FilesPane,
    "voice": VoicePane,
    "annotate": AnnotatePane,
}
