"""The Tk window on a real Xvfb: the code is checked before anything is sent."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from xvfb import virtual_display

from peer.settings import PeerSettings


@pytest.fixture(scope="module")
def tk_display() -> Iterator[str]:
    # one display for the module: Tk keeps its connection to a display name after the root
    # is destroyed, and a new Xvfb that reused the number would meet the dead connection
    with virtual_display(800, 600) as name, pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISPLAY", name)
        yield name


def test_code_entry_rejects_a_bad_code_and_shows_the_panel(tk_display: str) -> None:
    import tkinter as tk

    from peer.gui import PeerWindow, QueueUI

    assert os.environ["DISPLAY"] == tk_display
    root = tk.Tk()
    try:
        window = PeerWindow(root, PeerSettings(server="http://127.0.0.1:9", headless=False))
        window.code.set("1234 567")
        window.connect()
        assert window.session is None  # nothing sent: the code is not 8 digits
        assert "8 digits" in window.status.get()
        assert str(window.disconnect_button.cget("state")) == "disabled"

        ui = QueueUI(window.inbox.put, window)
        ui.granted(("view", "control"))
        ui.verification("123 456")
        ui.status("connected")
        window._drain()
        labels = [
            w.cget("text")
            for row in window.panel.winfo_children()
            for w in row.winfo_children()
            if w.winfo_class() == "TLabel"
        ]
        assert labels == ["  see your screen", "  use your mouse and keyboard"]
        assert "123 456" in window.verify.get() and window.status.get() == "Connected"
    finally:
        root.destroy()


class ImmediateLoop:
    """Stands in for the session's loop: runs what the window hands over at once."""

    def is_closed(self) -> bool:
        return False

    def call_soon_threadsafe(self, fn: Callable[[], None]) -> None:
        fn()


class FakeSession:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def limit_to_window(self, wid: int, title: str) -> None:
        self.calls.append(("limit", (wid, title)))

    def share_whole_screen(self) -> None:
        self.calls.append(("whole", None))

    def revoke(self, capability: str) -> None:
        self.calls.append(("revoke", capability))


def test_hotkey_hint_window_picker_and_whole_screen_again(tk_display: str) -> None:
    import tkinter as tk

    from peer.gui import PeerWindow, QueueUI
    from peer.remote_input import Rect
    from peer.windows import WindowInfo

    root = tk.Tk()
    try:
        window = PeerWindow(root, PeerSettings(server="http://127.0.0.1:9", headless=False))
        session = FakeSession()
        window.session = session  # type: ignore[assignment]
        window.loop = ImmediateLoop()  # type: ignore[assignment]
        ui = QueueUI(window.inbox.put, window)
        ui.hotkey("Ctrl+Alt+End")
        ui.granted(("view",))
        window._drain()
        assert window.hotkey_text.get() == ""  # nothing to take back yet
        ui.granted(("view", "control"))
        window._drain()
        assert window.hotkey_text.get() == "Press Ctrl+Alt+End to take back control"
        assert str(window.one_window_button.cget("state")) == "normal"

        # the operator asked to limit the session: the customer picks the second window
        windows = [
            WindowInfo(0x400001, "Mail", Rect(0, 0, 10, 10)),
            WindowInfo(0x600001, "Editor - notes.txt", Rect(0, 0, 10, 10)),
        ]
        ui.pick_window(windows)
        window._drain()
        dialog = window.window_dialog
        assert dialog is not None
        (listbox,) = [w for w in dialog.winfo_children() if w.winfo_class() == "Listbox"]
        assert listbox.get(0, "end") == ("Mail", "Editor - notes.txt")
        listbox.selection_set(1)
        buttons = [
            b
            for frame in dialog.winfo_children()
            for b in frame.winfo_children()
            if b.winfo_class() == "TButton"
        ]
        next(b for b in buttons if b.cget("text") == "Share this window").invoke()
        assert session.calls == [("limit", (0x600001, "Editor - notes.txt"))]
        assert window.window_dialog is None

        ui.view_mode("Editor - notes.txt")
        window._drain()
        assert "Editor - notes.txt" in window.view_text.get()
        assert window.whole_screen_button.winfo_manager() == "pack"
        window.whole_screen_button.invoke()
        assert session.calls[-1] == ("whole", None)
        ui.view_mode(None)
        window._drain()
        assert window.whole_screen_button.winfo_manager() == ""

        # Cancel changes nothing
        ui.pick_window(windows)
        window._drain()
        assert window.window_dialog is not None
        cancel = [
            b
            for frame in window.window_dialog.winfo_children()
            for b in frame.winfo_children()
            if b.winfo_class() == "TButton" and b.cget("text") == "Cancel"
        ]
        cancel[0].invoke()
        assert window.window_dialog is None and len(session.calls) == 2
        window.session = None
    finally:
        root.destroy()


class ChatSession(FakeSession):
    def feature_input(self, capability: str, action: str, value: str) -> None:
        self.calls.append((f"{capability}:{action}", value))


def test_chat_pane_shows_text_literally_sends_on_enter_and_stays_bounded(
    tk_display: str,
) -> None:
    import time
    import tkinter as tk

    from peer.feature import Shown
    from peer.gui import PeerWindow, QueueUI
    from peer.gui_panes import CHAT_KEEP, ChatPane

    hostile = "<script>alert(1)</script> \u202eevil\u202c e\u0301 \u65e5\u672c"
    root = tk.Tk()
    try:
        window = PeerWindow(root, PeerSettings(server="http://127.0.0.1:9", headless=False))
        session = ChatSession()
        window.session = session  # type: ignore[assignment]
        window.loop = ImmediateLoop()  # type: ignore[assignment]
        ui = QueueUI(window.inbox.put, window)
        ui.granted(("chat",))  # chat is on from the start: its pane is there at once
        window._drain()
        pane = window.panes["chat"]
        assert isinstance(pane, ChatPane) and pane.winfo_manager() == "pack"

        ui.show("chat", Shown("message", hostile, who="alice"))
        window._drain()
        root.after(60, root.quit)
        root.mainloop()
        assert f"alice: {hostile}" in pane.text()

        pane.entry.focus_force()
        root.update()
        pane.entry.insert(0, "it works now, thanks")
        pane.entry.event_generate("<Return>")
        assert session.calls == [("chat:send", "it works now, thanks")]
        assert pane.entry.get() == ""
        pane.entry.insert(0, "x" * 4001)
        pane.entry.event_generate("<Return>")
        assert len(session.calls) == 1  # too long: not sent, kept for editing
        assert pane.entry.get() == "x" * 4001

        for i in range(10_000):  # a flood: drawn in one go, and only the newest kept
            ui.show("chat", Shown("message", f"flood {i}", who="alice"))
        started = time.monotonic()
        window._drain()
        root.after(60, root.quit)
        root.mainloop()
        assert time.monotonic() - started < 10
        text = pane.text()
        assert "alice: flood 9999" in text and "alice: flood 0\n" not in text
        assert text.count("\n") <= CHAT_KEEP + 1

        ui.ended("the operator ended the session")
        window._drain()
        assert str(pane.entry.cget("state")) == "disabled"
        window.session = None
    finally:
        root.destroy()
