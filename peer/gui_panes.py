"""Panes that features show in the customer's window, one class per capability (``PANES``).

A pane is created the first time its feature has something to show or is granted, lives in
the main window below "What the operator can do now", and gets every ``Shown`` event of its
feature. What the customer does in it goes back through ``send(action, value)``.
"""

from __future__ import annotations

import abc
import collections
import time
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from wire import protocol

from .feature import Shown
from .i18n import t

#: Messages kept in the chat pane; older ones scroll away for good (memory stays bounded).
CHAT_KEEP = 500


class Pane(ttk.Frame, abc.ABC):
    """A feature's part of the window; ``send(action, value)`` goes to the feature."""

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
    """File transfer: Send files… / Send a folder…, and what is arriving or leaving now (the
    newest lines; a progress line replaces the one before it)."""

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
        self.log = tk.Text(
            self, height=5, width=44, wrap="word", state="disabled", takefocus=False,
            font="TkDefaultFont",
        )  # fmt: skip
        self.log.pack(fill="both", expand=True)
        self.lines: collections.deque[str] = collections.deque(maxlen=self.KEEP)
        self._progress_last = False

    def _files(self) -> None:
        from tkinter import filedialog

        for path in filedialog.askopenfilenames(parent=self, title=t("files.send_files")):
            self.to_feature("send", path)

    def _folder(self) -> None:
        from tkinter import filedialog

        path = filedialog.askdirectory(parent=self, title=t("files.send_folder"), mustexist=True)
        if path:
            self.to_feature("send", path)

    def show(self, shown: Shown) -> None:
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

    def ended(self) -> None:
        self.send_files_button.state(["disabled"])
        self.send_folder_button.state(["disabled"])

    def text(self) -> str:
        return "\n".join(self.lines)


PANES: dict[str, type[Pane]] = {"chat": ChatPane, "files": FilesPane}
