"""The Tk window on a real Xvfb: the code is checked before anything is sent."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from xvfb import virtual_display

from peer.settings import PeerSettings


@pytest.fixture
def tk_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with virtual_display(800, 600) as name:
        monkeypatch.setenv("DISPLAY", name)
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
