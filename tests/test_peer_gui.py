"""The Tk window on a real Xvfb: the code is checked before anything is sent."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(autouse=True)
def tk_garbage_on_this_thread() -> Iterator[None]:
    """Tk objects must be freed on Tk's own thread: collect what earlier tests left before a
    test starts threads of its own (a collection there would free them on the wrong one)."""
    gc.collect()
    yield
    gc.collect()


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


@contextlib.contextmanager
def windowed(session: object) -> Iterator[tuple[Any, Any, Any]]:
    """The customer's window on the test display, wired to ``session`` (calls run at once):
    ``(root, window, ui)``, ``ui`` being what the session would talk to."""
    import tkinter as tk

    from peer.gui import PeerWindow, QueueUI

    root = tk.Tk()
    try:
        window = PeerWindow(root, PeerSettings(server="http://127.0.0.1:9", headless=False))
        window.session = session  # type: ignore[assignment]
        window.loop = ImmediateLoop()  # type: ignore[assignment]
        yield root, window, QueueUI(window.inbox.put, window)
        window.session = None
    finally:
        # what the test left pending runs now, on this root, not on the next test's
        with contextlib.suppress(Exception):
            root.update()
        root.destroy()


def test_hotkey_hint_window_picker_and_whole_screen_again(tk_display: str) -> None:

    from peer.remote_input import Rect
    from peer.windows import WindowInfo

    session = FakeSession()
    with windowed(session) as (root, window, ui):
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


class ChatSession(FakeSession):
    def feature_input(self, capability: str, action: str, value: str) -> None:
        self.calls.append((f"{capability}:{action}", value))


def test_chat_pane_shows_text_literally_sends_on_enter_and_stays_bounded(
    tk_display: str,
) -> None:
    import time

    from peer.feature import Shown
    from peer.gui_panes import CHAT_KEEP, ChatPane

    hostile = "<script>alert(1)</script> \u202eevil\u202c e\u0301 \u65e5\u672c"
    session = ChatSession()
    with windowed(session) as (root, window, ui):
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


class Background:
    """An event loop on a thread of its own, for the server and the operator, while Tk owns
    the test's thread."""

    def __init__(self) -> None:
        import asyncio
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: object, timeout: float = 20) -> object:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def test_a_real_session_in_the_window_asks_in_the_operators_words_and_chats(
    tk_display: str, tmp_path: object
) -> None:
    """The Tk window, the real session, the real server and the operator played by aiortc:
    the code typed in the window, the question from the capability table, chat both ways."""
    import time
    import tkinter as tk
    from pathlib import Path

    from aiohttp import ClientSession, web
    from conftest import OPERATOR_PASSWORD, LoopbackOperator
    from loopback_ice import loopback_only
    from sigclient import Endpoint, add_operator, server_settings

    from peer.gui import PeerWindow
    from peer.gui_panes import ChatPane
    from signaling.app import create_app
    from wire import protocol as p

    data = Path(str(tmp_path))
    add_operator(data / "data", "alice", OPERATOR_PASSWORD)
    bg = Background()
    state: dict[str, object] = {}

    async def serve() -> str:
        runner = web.AppRunner(create_app(server_settings(data)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["runner"] = runner
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        http = state["http"] = ClientSession()
        ep = Endpoint(http, f"http://127.0.0.1:{port}/")
        state["base"] = f"http://127.0.0.1:{port}"
        sig = state["sig"] = await ep.operator(await ep.login("alice", OPERATOR_PASSWORD))
        created = await sig.create("screen")
        state["op"] = LoopbackOperator(sig)
        return created.code

    async def stop() -> None:
        await state["op"].close()  # type: ignore[attr-defined]
        await state["sig"].close()  # type: ignore[attr-defined]
        await state["http"].close()  # type: ignore[attr-defined]
        await state["runner"].cleanup()  # type: ignore[attr-defined]

    gc.disable()  # no collection on the session's or the server's thread while Tk lives
    with loopback_only():
        code = str(bg.run(serve()))
        base = str(state["base"])
        op: LoopbackOperator = state["op"]  # type: ignore[assignment]
        root = tk.Tk()
        try:
            window = PeerWindow(root, PeerSettings(server=base, headless=False))

            def pump(predicate: Callable[[], object], timeout: float = 20) -> None:
                deadline = time.monotonic() + timeout
                while not predicate():
                    assert time.monotonic() < deadline, "condition not met in time"
                    root.update()
                    time.sleep(0.02)

            window.code.set(f"{code[:4]} {code[4:]}")  # as a person types it
            window.connect()
            accepted = asyncio_future(bg, op.accept())
            pump(lambda: accepted.done(), 20)
            accepted.result()
            # the view question, in the table's words, with the operator's name
            pump(lambda: _dialog_text(root) is not None)
            assert _dialog_text(root) == "Allow alice to see your screen?"
            _click(root, "Deny")
            pump(lambda: "chat" in window.panes and op.channels.get("chat") is not None)
            pump(lambda: op.channels["chat"].readyState == "open")
            pane = window.panes["chat"]
            assert isinstance(pane, ChatPane)

            bg.loop.call_soon_threadsafe(op.send, "chat", p.Chat(text="Hello from <b>alice</b>"))
            pump(lambda: "alice: Hello from <b>alice</b>" in pane.text())
            pane.entry.focus_force()
            root.update()
            pane.entry.insert(0, "Hi! The printer is offline.")
            pane.entry.event_generate("<Return>")
            pump(lambda: p.Chat(text="Hi! The printer is offline.") in op.received["chat"])
            pump(lambda: "You: Hi! The printer is offline." in pane.text())
            assert op.states()[-1] == ("chat",)  # nothing else was allowed

            window.disconnect()
            pump(lambda: window.session is None, 20)
            assert str(pane.entry.cget("state")) == "disabled"
            assert "alice: Hello from <b>alice</b>" in pane.text()  # still readable
        finally:
            root.destroy()
            bg.run(stop())
            bg.close()
            gc.enable()


def asyncio_future(bg: Background, coro: object) -> object:
    import asyncio

    return asyncio.run_coroutine_threadsafe(coro, bg.loop)  # type: ignore[arg-type]


def _dialog_text(root: object) -> str | None:
    for top in root.winfo_children():  # type: ignore[attr-defined]
        if top.winfo_class() == "Toplevel":
            for child in top.winfo_children():
                if child.winfo_class() == "TLabel":
                    return str(child.cget("text"))
    return None


def _click(root: object, name: str) -> None:
    for top in root.winfo_children():  # type: ignore[attr-defined]
        if top.winfo_class() == "Toplevel":
            for frame in top.winfo_children():
                for button in frame.winfo_children():
                    if button.winfo_class() == "TButton" and button.cget("text") == name:
                        button.invoke()
                        return
    raise AssertionError(f"no {name!r} button in a dialog")


class AnsweringSession(FakeSession):
    def answer(self, capability: str, allowed: bool) -> None:
        self.calls.append(("answer", (capability, allowed)))

    def answer_whole_screen(self, allowed: bool) -> None:
        self.calls.append(("whole_screen", (allowed,)))

    def answer_files(self, transfer: int, folder: str | None, existing: str = "") -> None:
        self.calls.append(("files", (transfer, folder, existing)))

    def feature_input(self, capability: str, action: str, value: str) -> None:
        self.calls.append(("input", (capability, action, value)))


def _dialog(root: object) -> object:
    tops = [
        w
        for w in root.winfo_children()  # type: ignore[attr-defined]
        if w.winfo_class() == "Toplevel" and not w.overrideredirect()  # not the sharing bar
    ]
    assert len(tops) == 1, tops
    return tops[0]


def _press(root: object, key: str, widget: object | None = None) -> None:
    import tkinter as tk

    dialog = _dialog(root)
    target = widget or dialog
    target.focus_force()  # type: ignore[attr-defined]
    root.update()  # type: ignore[attr-defined]
    focused = dialog.focus_get() or target  # type: ignore[attr-defined]
    assert isinstance(focused, tk.Misc)
    focused.event_generate(key)
    root.update()  # type: ignore[attr-defined]


@pytest.fixture
def in_japanese() -> Iterator[None]:
    """The customer's words in Japanese, as a ja_JP system locale chooses, for one test."""
    from peer import i18n

    i18n.use(i18n.language_from({"LANG": "ja_JP.UTF-8"}))
    yield
    i18n.use("en")


def test_the_window_in_japanese_asks_politely_and_enter_or_esc_answer(
    tk_display: str, tmp_path: object, in_japanese: None
) -> None:
    from tkinter import ttk

    session = AnsweringSession()
    with windowed(session) as (root, window, ui):
        assert window.status.get() == "8桁のセッション番号を入力してください。"
        assert window.disconnect_button.cget("text") == "切断"
        ui.granted(("view", "chat"))

        ui.ask("view", "alice")
        window._drain()
        root.update()
        assert _dialog_text(root) == (
            "サポート担当者（alice）があなたの画面を見ることを許可しますか？"
        )
        _press(root, "<Escape>")  # Esc: not allowed
        assert session.calls == [("answer", ("view", False))]

        ui.ask("control", "alice")
        window._drain()
        root.update()
        _press(root, "<Return>")  # Enter on the button that has the focus: Deny, at first
        assert session.calls[-1] == ("answer", ("control", False))

        ui.ask("clipboard", "alice")
        window._drain()
        root.update()
        dialog = _dialog(root)
        allow = next(
            b
            for f in dialog.winfo_children()  # type: ignore[attr-defined]
            for b in f.winfo_children()
            if isinstance(b, ttk.Button) and b.cget("text") == "許可する"
        )
        root.update()
        _shot(tk_display, Path(str(tmp_path)) / "ja-window.png")
        _press(root, "<Return>", allow)  # the customer moved to 許可する: Enter allows
        assert session.calls[-1] == ("answer", ("clipboard", True))
        labels = [
            w.cget("text")
            for row in window.panel.winfo_children()
            for w in row.winfo_children()
            if w.winfo_class() == "TLabel"
        ]
        assert labels == ["  あなたの画面を見る", "  あなたとチャットする"]

        ui.ask_whole_screen("alice")
        window._drain()
        root.update()
        assert "画面全体" in _dialog_text(root)
        _press(root, "<Return>")  # the safe answer first: keep one window
        assert session.calls[-1] == ("whole_screen", (False,))


def _shot(display: str, path: Path) -> None:
    """A picture of the screen, to look at (not asserted)."""
    import mss
    import mss.tools

    with mss.MSS(display=display) as screen:
        image = screen.grab(screen.monitors[1])
        mss.tools.to_png(image.rgb, image.size, output=str(path))


def test_the_window_names_the_server_and_a_spent_download_stays_spent(tk_display: str) -> None:
    """A downloaded program shows whose server it joins before anything else; once the code it
    came with is refused, it does not offer to take another (a download is for one session)."""
    import tkinter as tk

    from peer.gui import PeerWindow

    root = tk.Tk()
    try:
        settings = PeerSettings(
            server="https://support.example.com:8443",
            code="12345678",
            headless=False,
            code_from_download=True,
        )
        window = PeerWindow(root, settings)
        assert root.title() == "SupportLink — support.example.com:8443"
        texts = [w.cget("text") for w in window.root.winfo_children()[0].winfo_children()[:2]]
        assert texts[0] == "Support server: support.example.com:8443"
        assert "Continue only if" in texts[1]
        window.entry.configure(state="disabled")
        window.join_button.configure(state="disabled")
        window._session_done(2)  # the server refused the code
        assert "download SupportLink again from support.example.com:8443/join" in (
            window.status.get()
        )
        assert str(window.entry.cget("state")) == "disabled"
        assert str(window.join_button.cget("state")) == "disabled"
        # a typed code that is refused may be typed again
        window.settings = PeerSettings(server="https://support.example.com", headless=False)
        window._session_done(2)
        assert str(window.entry.cget("state")) == "normal"
    finally:
        root.destroy()


def test_while_shared_a_bar_above_every_window_says_who_and_stops_it(tk_display: str) -> None:
    """Other windows cannot hide that the screen is seen: a topmost bar names the operator and
    what they may do, and its Stop takes the screen back (viewing and control)."""
    session = FakeSession()
    session.operator = "Alice"  # type: ignore[attr-defined]
    with windowed(session) as (root, window, ui):
        bar = window.bar
        assert not bar.shown
        ui.granted(("view", "chat"))
        window._drain()
        root.update()
        assert bar.shown and bar.top.winfo_ismapped() and bar.top.attributes("-topmost")
        assert bar.text.get() == "Alice can see your screen"
        assert bar.top.winfo_rooty() == 0  # at the top of the screen
        ui.granted(("view", "voice", "chat"))
        window._drain()
        assert bar.text.get() == "Alice can see your screen and hear you"
        ui.granted(("voice", "chat"))  # a call: the microphone is live, that is said too
        window._drain()
        assert bar.text.get() == "Alice can hear you"
        ui.granted(("camera", "chat"))  # the camera is shared too
        window._drain()
        assert bar.text.get() == "Alice can see your camera"
        ui.granted(("view", "camera", "chat"))
        window._drain()
        assert bar.text.get() == "Alice can see your screen  ·  Alice can see your camera"
        bar.stop.invoke()
        assert session.calls[-2:] == [("revoke", "view"), ("revoke", "camera")]
        session.calls.clear()
        ui.granted(("view", "control", "chat"))
        window._drain()
        assert bar.text.get() == "Alice is controlling your mouse and keyboard"
        bar.stop.invoke()
        assert session.calls == [("revoke", "control"), ("revoke", "view")]
        ui.granted(("chat",))  # chat alone shares nothing: no bar
        window._drain()
        root.update()
        assert not bar.shown and not bar.top.winfo_ismapped()


# Before the next test: a Tk dialog raised after that test's ended session (in the same
# process) crashes Tk in focus_force; customers have one Tk root, so only tests meet it.
def test_files_from_the_operator_are_asked_for_with_a_folder_and_a_choice_for_old_names(
    tk_display: str, tmp_path: object
) -> None:
    from tkinter import ttk

    from peer.feature import Shown
    from peer.gui import default_inbox

    session = AnsweringSession()
    with windowed(session) as (root, window, ui):
        ui.ask_files(7, "Alice Smith (Acme IT)", "patch", 3, "1.2 MB", ["patch/a", "patch/b"])
        window._drain()
        root.update()
        assert (
            _dialog_text(root)
            == "Alice Smith (Acme IT) wants to send you 3 file(s) (1.2 MB): patch"
        )
        dialog = _dialog(root)
        widgets: list[Any] = []
        todo = list(dialog.winfo_children())  # type: ignore[attr-defined]
        while todo:
            widget = todo.pop()
            widgets.append(widget)
            todo.extend(widget.winfo_children())
        texts = [
            str(w.cget("text"))
            for w in widgets
            if w.winfo_class() in ("TLabel", "TButton", "TRadiobutton")
        ]
        assert "patch/a\npatch/b\n…" in texts
        variables = [str(w.cget("textvariable")) for w in widgets if w.winfo_class() == "TLabel"]
        shown = [root.getvar(v) for v in variables if v]  # type: ignore[attr-defined]
        assert str(default_inbox()) in shown, shown
        replace = next(
            w
            for w in widgets
            if w.winfo_class() == "TRadiobutton" and "Replace" in str(w.cget("text"))
        )
        replace.invoke()
        root.update()
        _shot(tk_display, Path(str(tmp_path)) / "files-question.png")
        _press(root, "<Return>")  # Enter on the focused button: Decline, the safe answer
        assert session.calls[-1] == ("files", (7, None, "replace"))

        ui.ask_files(8, "Alice", "fix.bin", 1, "5 B", ["fix.bin"])
        window._drain()
        root.update()
        dialog = _dialog(root)
        accept = next(
            b
            for f in dialog.winfo_children()
            for b in f.winfo_children()  # type: ignore[attr-defined]
            if isinstance(b, ttk.Button) and b.cget("text") == "Accept"
        )
        _press(root, "<Return>", accept)
        assert session.calls[-1] == ("files", (8, str(default_inbox()), "keep_both"))

        # the pane: send buttons, and a progress line replaced by the next one
        ui.granted(("view", "files", "chat"))
        ui.show("files", Shown("progress", "receiving patch: 1 MB of 4 MB (25%), 2 MB/s"))
        ui.show("files", Shown("progress", "receiving patch: 2 MB of 4 MB (50%), 2 MB/s"))
        ui.show(
            "files", Shown("line", "received: patch/a (1 MB, SHA-256 0123456789abcdef… checked)")
        )
        window._drain()
        root.update()
        pane = window.panes["files"]
        assert pane.text().splitlines() == [
            "receiving patch: 2 MB of 4 MB (50%), 2 MB/s",
            "received: patch/a (1 MB, SHA-256 0123456789abcdef… checked)",
        ]
        _shot(tk_display, Path(str(tmp_path)) / "files-pane.png")


class FilesHost:
    """What the session offers the files feature, in the test's own thread: the window's
    ``QueueUI`` is its screen, what goes to the operator is recorded, and what the feature
    starts runs to its end at once on a loop of its own."""

    operator = "Alice"
    display = None

    def __init__(self, ui: Any) -> None:
        import asyncio

        self.ui = ui
        self.loop = asyncio.new_event_loop()
        self.sent: list[object] = []
        self.asked: list[int] = []
        self.files: Any = None
        self.inbox = Path()

    def send(self, label: str, msg: object) -> bool:
        self.sent.append(msg)
        return True

    def send_bytes(self, label: str, data: bytes) -> bool:
        return True

    def tell(self, label: str, code: str, message: str) -> None:
        self.sent.append(("error", code))

    def show(self, capability: str, shown: object) -> None:
        self.ui.show(capability, shown)

    def start(self, coro: Any) -> None:
        self.loop.run_until_complete(coro)

    def ask_files(self, transfer: int, *_what: object) -> None:
        self.asked.append(transfer)  # the customer accepts into the inbox at once
        self.files.answered(transfer, self.inbox, "keep_both")

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()


class FeatureSession(AnsweringSession):
    """A session whose files feature is real: the pane's actions reach it."""

    files: Any = None

    def feature_input(self, capability: str, action: str, value: str) -> None:
        super().feature_input(capability, action, value)
        self.files.from_ui(action, value)


def test_stop_transfers_in_the_window_stops_a_running_transfer_and_a_bar_shows_it(
    tk_display: str, tmp_path: object
) -> None:
    """The files pane with the real files feature behind it: while a file arrives the bar
    shows how far and Stop transfers can be pressed; pressing it stops the transfer (the
    operator gets a file_cancel), keeps what arrived and says so."""
    import dataclasses

    from peer.features.files import FilesFeature
    from peer.files import frames
    from peer.files.names import PARTIAL_SUFFIX
    from peer.gui_panes import FilesPane
    from wire import protocol as p

    inbox = Path(str(tmp_path))
    session = FeatureSession()
    gc.disable()  # the feature's thread must not free Tk objects
    with windowed(session) as (root, window, ui):
        host = FilesHost(ui)
        settings = PeerSettings(server="http://127.0.0.1:9", headless=False)
        files = session.files = host.files = FilesFeature(host, settings)
        host.inbox = inbox
        try:
            ui.granted(("files",))
            window._drain()
            pane = window.panes["files"]
            assert isinstance(pane, FilesPane)
            assert pane.stop_button.instate(["disabled"]) and not pane.bar.winfo_ismapped()

            files.set_allowed(True)
            entry = p.FileEntry(path="patch.bin", size=200_000)
            offer = p.FileOffer(transfer=9, name="patch.bin", from_folder="/ops", count=1,
                                total=200_000, entries=(entry,), more=False)  # fmt: skip
            files.frame("files", p.serialize(offer))
            assert host.asked == [9]
            assert isinstance(host.sent[-1], p.FileAnswer) and host.sent[-1].accept
            files.frame("files", p.serialize(p.FileStart(transfer=9, index=0, offset=0)))
            files.frame("files", frames.encode(9, 0, 0, b"x" * 50_000))
            window._drain()
            root.update()
            assert not pane.stop_button.instate(["disabled"])
            assert pane.bar.winfo_ismapped() and float(pane.bar.cget("value")) == 0.25
            progress = pane.text().splitlines()[-1]
            assert progress.startswith("receiving patch.bin: 50.0 KB of 200.0 KB (25%), ")
            _shot(tk_display, inbox / "files-stop.png")

            pane.stop_button.invoke()
            assert session.calls[-1] == ("input", ("files", "stop", ""))
            assert host.sent[-1] == p.FileCancel(transfer=9, reason="stopped_by_customer")
            window._drain()
            root.update()
            assert pane.text().splitlines()[-1].startswith("Stopped by you: 1 transfer(s).")
            assert pane.stop_button.instate(["disabled"]) and not pane.bar.winfo_ismapped()
            partial = inbox / ("patch.bin" + PARTIAL_SUFFIX)
            assert partial.read_bytes() == b"x" * 50_000  # kept, to resume

            # the customer takes file transfer back while a file arrives: the pane follows
            files.frame("files", p.serialize(dataclasses.replace(offer, transfer=10)))
            window._drain()
            root.update()
            assert not pane.stop_button.instate(["disabled"]) and pane.bar.winfo_ismapped()
            files.set_allowed(False)
            window._drain()
            root.update()
            assert pane.stop_button.instate(["disabled"]) and not pane.bar.winfo_ismapped()
        finally:
            host.close()
            gc.enable()


def test_a_request_for_a_path_asks_with_the_exact_path_and_closes_when_it_ends(
    tk_display: str,
) -> None:
    from peer.files.shown import FilesShown

    session = AnsweringSession()
    with windowed(session) as (root, window, ui):
        ui.granted(("files",))
        question = "Alice asks you to send this file:\n/home/bob/report.log (3.2 KB)"
        ui.show("files", FilesShown("question", question))
        window._drain()
        root.update()
        assert _dialog_text(root) == question
        assert [b.cget("text") for b in _buttons(root)] == ["Send", "Decline"]
        _press(root, "<Return>")  # Enter: Decline, the safe answer
        assert session.calls[-1] == ("input", ("files", "request_decline", question))

        ui.show("files", FilesShown("question", question))
        window._drain()
        root.update()
        _click(root, "Send")
        assert session.calls[-1] == ("input", ("files", "request_send", question))

        # unanswered, the question goes when the request ends; the pane says why
        asked = len(session.calls)
        ui.show("files", FilesShown("question", question))
        window._drain()
        root.update()
        assert _dialog_text(root) == question
        over = "the operator asked for ~/report.log: not sent, you did not answer"
        ui.show("files", FilesShown("question_over", over))
        window._drain()
        root.update()
        assert _dialog_text(root) is None and len(session.calls) == asked
        assert window.panes["files"].text().splitlines()[-1] == over


def _buttons(root: object) -> list[Any]:
    return [
        button
        for top in root.winfo_children()  # type: ignore[attr-defined]
        if top.winfo_class() == "Toplevel"
        for frame in top.winfo_children()
        for button in frame.winfo_children()
        if button.winfo_class() == "TButton"
    ]


def test_a_question_opens_on_top_beside_the_window_and_the_end_stays_readable(
    tk_display: str,
) -> None:
    """The consent question is above other windows and does not cover the verification code;
    after the session the window stays, with why it ended, until the customer closes it; a
    mistyped code leaves the big button reading Disconnect, not Disconnected."""
    session = AnsweringSession()
    with windowed(session) as (root, window, ui):
        root.geometry("+10+10")
        root.update()  # the window is on the screen before any question comes
        ui.verification("123 456")
        ui.ask("view", "Alice")
        window._drain()
        root.update()
        dialog = _dialog(root)
        assert dialog.attributes("-topmost")  # type: ignore[attr-defined]
        # beside or below the window, never over it (the verification code stays readable)
        dx, dy = dialog.winfo_rootx(), dialog.winfo_rooty()  # type: ignore[attr-defined]
        rx, ry = root.winfo_rootx(), root.winfo_rooty()
        assert dx >= rx + root.winfo_width() or dy >= ry + root.winfo_height()
        _press(root, "<Escape>")  # answered as a customer would (Tk keeps no stale focus)

        ui.ended("the operator ended the session")
        window._drain()
        window._session_done(0)
        root.update()
        assert root.winfo_exists()
        assert "the operator ended the session" in window.status.get()
        assert window.disconnect_button.cget("text") == "Close"
        assert str(window.disconnect_button.cget("state")) == "normal"
        assert not window.bar.shown

        ui.ended("code refused: no session has this code")  # then a typed code was refused
        window._drain()
        window._session_done(2)
        assert window.status.get() == "Code refused: no session has this code"  # no "Ended:"
        assert window.disconnect_button.cget("text") == "Disconnect"
        assert str(window.disconnect_button.cget("state")) == "disabled"


def test_beside_keeps_a_dialog_on_the_screen() -> None:
    from peer.gui import beside

    screen = (1920, 1080)
    assert beside((10, 20, 360, 500), (300, 100), screen) == (382, 20)
    assert beside((1500, 20, 360, 500), (300, 100), screen) == (1188, 20)  # to the left
    assert beside((100, 20, 1700, 500), (300, 100), screen) == (100, 532)  # below
    assert beside((100, 900, 1700, 170), (300, 100), screen) == (100, 788)  # above
    assert beside((0, 0, 1900, 1000), (300, 100), screen) == (1620, 980)  # the corner


class VoiceSession(ChatSession):
    def __init__(self) -> None:
        super().__init__()
        self.features = {"voice": self}

    def levels(self) -> tuple[float, float]:
        return -6.0, -100.0


def test_voice_pane_says_what_happens_mutes_hangs_up_and_moves_its_meters(
    tk_display: str,
) -> None:
    from peer.feature import Shown
    from peer.gui_panes import VoicePane
    from peer.i18n import t

    session = VoiceSession()
    with windowed(session) as (root, window, ui):
        ui.granted(("voice", "chat"))
        window._drain()
        pane = window.panes["voice"]
        assert isinstance(pane, VoicePane) and pane.winfo_manager() == "pack"
        ui.show("voice", Shown("mic", t("voice.mic.on")))
        ui.show("voice", Shown("speaker", t("voice.speaker.no_device")))
        window._drain()
        assert pane.text() == f"{t('voice.mic.on')}\n{t('voice.speaker.no_device')}"
        ui.show("voice", Shown("mic", t("voice.mic.lost")))  # the newer line replaces its own
        window._drain()
        assert pane.text() == f"{t('voice.mic.lost')}\n{t('voice.speaker.no_device')}"
        root.after(400, root.quit)  # the meters are read every 100 ms
        root.mainloop()
        assert float(pane.mic_meter.cget("value")) == pytest.approx(0.9)
        assert float(pane.speaker_meter.cget("value")) == 0.0

        pane.mute_button.invoke()
        assert session.calls[-1] == ("voice:mute", "on")
        assert str(pane.mute_button.cget("text")) == t("voice.unmute")
        pane.mute_button.invoke()
        assert session.calls[-1] == ("voice:mute", "off")
        pane.hangup_button.invoke()
        assert session.calls[-1] == ("voice:hangup", "")

        ui.show("voice", Shown("line", t("voice.ended")))
        window._drain()
        assert pane.text() == t("voice.ended")
        ui.ended("the operator ended the session")
        window._drain()
        assert pane.mute_button.instate(["disabled"])


def test_drawing_pane_says_who_draws_clears_and_stops(tk_display: str, tmp_path: Path) -> None:
    from peer.feature import Shown
    from peer.gui_panes import AnnotatePane
    from peer.i18n import t

    session = ChatSession()
    with windowed(session) as (root, window, ui):
        ui.granted(("view", "annotate", "chat"))
        ui.show("annotate", Shown("line", t("annotate.on", operator="alice")))
        window._drain()
        pane = window.panes["annotate"]
        assert isinstance(pane, AnnotatePane) and pane.winfo_manager() == "pack"
        assert pane.text().startswith("alice can draw on your screen")
        root.update()
        _shot(tk_display, tmp_path / "drawing-pane.png")
        pane.draw_button.invoke()
        action, frame = session.calls[-1]
        assert action == "annotate:draw_on" and frame.isdigit()  # the window to keep on top
        ui.show("annotate", Shown("drawing", t("annotate.drawing")))
        window._drain()
        assert str(pane.draw_button.cget("text")) == t("annotate.draw_stop")
        root.update()
        _shot(tk_display, tmp_path / "drawing-pane-drawing.png")
        pane.draw_button.invoke()
        assert session.calls[-1] == ("annotate:draw_off", "")
        pane.tool_box.set(t("annotate.tool.ellipse"))
        pane.tool_box.event_generate("<<ComboboxSelected>>")
        assert session.calls[-1] == ("annotate:draw_tool", "ellipse")
        pane.clear_button.invoke()
        assert session.calls[-1] == ("annotate:clear", "")
        pane.off_button.invoke()
        assert session.calls[-1] == ("annotate:off", "")
        ui.ended("the operator ended the session")
        window._drain()
        assert pane.clear_button.instate(["disabled"]) and pane.off_button.instate(["disabled"])


def test_the_operator_showing_asks_show_or_not_now_and_its_pane_stops_it(
    tk_display: str, tmp_path: Path
) -> None:
    from peer.feature import Shown
    from peer.gui_panes import ShowPane
    from peer.i18n import t

    session = AnsweringSession()
    with windowed(session) as (root, window, ui):
        root.geometry("+10+10")
        root.update()
        ui.ask("show_screen", "Alice")
        window._drain()
        root.update()
        dialog = _dialog(root)
        words = [
            str(b.cget("text"))
            for f in dialog.winfo_children()  # type: ignore[attr-defined]
            for b in f.winfo_children()
            if b.winfo_class() == "TButton"
        ]
        assert words == ["Show", "Not now"], words
        _shot(tk_display, tmp_path / "show-question.png")
        _press(root, "<Escape>")  # the safe answer: not now

        ui.granted(("view", "show_screen", "chat"))
        ui.show("show_screen", Shown("line", t("show_screen.showing", operator="Alice")))
        window._drain()
        pane = window.panes["show_screen"]
        assert isinstance(pane, ShowPane) and pane.winfo_manager() == "pack"
        assert pane.text().startswith("You see Alice's screen in its own window")
        root.update()
        _shot(tk_display, tmp_path / "show-pane.png")
        pane.close_button.invoke()
        assert session.calls[-1] == ("input", ("show_screen", "close", ""))


def test_camera_pane_lists_cameras_picks_one_and_stops_it(tk_display: str, tmp_path: Path) -> None:
    from peer.feature import Shown
    from peer.gui_panes import CameraPane
    from peer.i18n import t

    session = ChatSession()
    with windowed(session) as (root, window, ui):
        ui.granted(("view", "camera", "chat"))
        ui.show("camera", Shown("cameras", "/dev/video0\tUSB Camera\n/dev/video2\tIntegrated"))
        ui.show("camera", Shown("line", t("camera.state.busy")))
        window._drain()
        pane = window.panes["camera"]
        assert isinstance(pane, CameraPane) and pane.winfo_manager() == "pack"
        values = list(pane.box.cget("values"))
        assert values == [t("camera.first_found"), "USB Camera", "Integrated"]
        assert "in use by another program" in pane.text()
        root.update()
        _shot(tk_display, tmp_path / "camera-pane.png")
        pane.box.set("Integrated")
        pane.box.event_generate("<<ComboboxSelected>>")
        assert session.calls[-1] == ("camera:pick", "/dev/video2")
        pane.stop_button.invoke()
        assert session.calls[-1] == ("camera:stop", "")
        ui.ended("the operator ended the session")
        window._drain()
        assert pane.stop_button.instate(["disabled"])
