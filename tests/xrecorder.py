"""A small X client of the tests' own that records what it receives.

``Recorder(display, x, y, width, height)`` runs a Tk program in a child process (so Tk and the
test never share a thread): one undecorated window at exactly that place, filled by a Text
widget that has the keyboard focus. ``title=`` makes it an ordinary titled application window
instead (not override-redirect: the peer can share it alone); ``background=`` fills it with a
colour (``"#rrggbb"``). Every key press and release, and every button press and
release with its root coordinates, is written to stdout as one JSON line; the text typed into
the widget can be read back. The widget keeps Tk's own bindings (Shift+arrows select, typing
replaces the selection, Ctrl+C / Ctrl+V copy and paste) plus Ctrl+A = select all.

    with Recorder(":5", 100, 100, 600, 300) as rec:
        ...inject...
        rec.text()        # what the Text widget holds (without Tk's trailing newline)
        rec.events()      # every event recorded so far (dicts), after a round trip
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import textwrap
import threading
from typing import Any

_PROGRAM = textwrap.dedent(
    """
    import json, sys, tkinter as tk
    x, y, w, h = map(int, sys.argv[1:5])
    title, background = sys.argv[5], sys.argv[6]
    root = tk.Tk()
    if not title:
        root.overrideredirect(True)
    root.geometry(f"{w}x{h}+{x}+{y}")
    root.title(title or "supportlink recorder")
    text = tk.Text(root, borderwidth=0, highlightthickness=0, undo=False)
    if background:
        text.configure(background=background, insertbackground=background)
    text.pack(fill="both", expand=True)
    def emit(**fields):
        sys.stdout.write(json.dumps(fields) + "\\n")
        sys.stdout.flush()
    def key(ev, kind):
        emit(ev=kind, keysym=ev.keysym, keysym_num=ev.keysym_num, char=ev.char, state=ev.state)
    def button(ev, kind):
        emit(ev=kind, num=ev.num, x_root=ev.x_root, y_root=ev.y_root, state=ev.state)
    def select_all(ev):
        text.tag_add("sel", "1.0", "end-1c")
        text.mark_set("insert", "1.0")
        return "break"
    text.bindtags(("record",) + text.bindtags())
    text.bind_class("record", "<KeyPress>", lambda ev: key(ev, "key_down"))
    text.bind_class("record", "<KeyRelease>", lambda ev: key(ev, "key_up"))
    text.bind_class("record", "<ButtonPress>", lambda ev: button(ev, "button_down"))
    text.bind_class("record", "<ButtonRelease>", lambda ev: button(ev, "button_up"))
    text.bind("<Control-a>", select_all)
    text.bind("<Control-A>", select_all)
    def command():
        line = sys.stdin.readline()
        if not line:
            root.destroy()
            return
        root.update()  # XSync: every event the server generated before now is handled
        cmd = line.strip()
        if cmd == "text":
            emit(ev="text", text=text.get("1.0", "end-1c"))
        elif cmd == "clear":
            text.delete("1.0", "end")
            emit(ev="ok")
        elif cmd == "focus":
            text.focus_force()
            root.update()
            emit(ev="ok")
        else:
            emit(ev="ok")
    root.tk.createfilehandler(sys.stdin, tk.READABLE, lambda *_: command())
    root.update()
    text.focus_force()
    root.update()
    emit(ev="ready", window=root.winfo_id(), x=root.winfo_rootx(), y=root.winfo_rooty())
    root.mainloop()
    """
)


class RecorderError(RuntimeError):
    """The recorder did not start or did not answer."""


class Recorder:
    """A Tk window at a known place that reports every key and click it receives."""

    def __init__(
        self,
        display: str,
        x: int,
        y: int,
        width: int,
        height: int,
        timeout: float = 10.0,
        *,
        title: str = "",
        background: str = "",
    ) -> None:
        self.display = display
        self.geometry = (x, y, width, height)
        self.timeout = timeout
        self.title = title
        self.background = background
        self.window = 0
        self._proc: subprocess.Popen[str] | None = None
        self._events: list[dict[str, Any]] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Recorder:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _PROGRAM, *map(str, self.geometry), self.title, self.background],
            env={**os.environ, "DISPLAY": self.display},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._thread = threading.Thread(target=self._reader, daemon=True)
        self._thread.start()
        ready = self._read_until("ready")
        self.window = int(ready["window"])
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._thread is not None:
            self._thread.join(5)

    def text(self) -> str:
        return str(self._command("text", "text")["text"])

    def clear(self) -> None:
        self._command("clear", "ok")

    def focus(self) -> None:
        self._command("focus", "ok")

    def events(self) -> list[dict[str, Any]]:
        """Every key and button event recorded so far."""
        self._command("sync", "ok")
        return list(self._events)

    def forget(self) -> None:
        """Start recording afresh."""
        self.events()
        self._events.clear()

    def _command(self, line: str, answer: str) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        return self._read_until(answer)

    def _reader(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                self._lines.put(line)
        self._lines.put("")

    def _read_until(self, answer: str) -> dict[str, Any]:
        assert self._proc is not None
        while True:
            try:
                line = self._lines.get(timeout=self.timeout)
            except queue.Empty:
                raise RecorderError(f"the recorder did not answer {answer!r}") from None
            if not line:
                raise RecorderError(f"the recorder exited (status {self._proc.poll()})")
            event = json.loads(line)
            if event["ev"] == answer:
                return dict(event)
            self._events.append(event)
