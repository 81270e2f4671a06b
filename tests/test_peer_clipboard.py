"""The customer's clipboard, both ways, only while allowed.

The customer's applications are played by a Tk program in a child process that copies text to
the X ``CLIPBOARD`` selection and pastes from it (Tk's own clipboard code, independent of
``peer.clipboard``). The session runs against the real server and a real aiortc operator.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest
from conftest import clipboard_of, start_session, until
from sigclient import Endpoint
from xvfb import virtual_display

from peer.clipboard import XClipboard
from wire import protocol as p

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(800, 600) as name:
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer", "peer_display")


_APP = textwrap.dedent(
    """
    import sys, tkinter as tk
    root = tk.Tk()
    root.withdraw()
    def command():
        line = sys.stdin.readline()
        if not line:
            root.destroy()
            return
        name, _, arg = line.rstrip("\\n").partition(" ")
        if name == "copy":
            root.clipboard_clear()
            root.clipboard_append(arg)
            root.update()
            print("ok", flush=True)
        elif name == "paste":
            try:
                print("text " + root.clipboard_get(), flush=True)
            except tk.TclError:
                print("empty", flush=True)
    root.tk.createfilehandler(sys.stdin, tk.READABLE, lambda *_: command())
    print("ok", flush=True)
    root.mainloop()
    """
)


class CustomerApp:
    """Copies to and pastes from the customer's clipboard."""

    def __init__(self, display: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _APP],
            env={**os.environ, "DISPLAY": display},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._answer() == "ok"

    def _answer(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().rstrip("\n")

    def _command(self, line: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def copy(self, text: str) -> None:
        assert self._command(f"copy {text}") == "ok"

    def paste(self) -> str | None:
        answer = self._command("paste")
        return answer[5:] if answer.startswith("text ") else None

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


@pytest.fixture
def app(display: str) -> Iterator[CustomerApp]:
    customer = CustomerApp(display)
    yield customer
    customer.close()


def test_xclipboard_reads_changes_and_serves_text(display: str, app: CustomerApp) -> None:
    seen: list[str] = []
    clipboard = XClipboard(display, seen.append, poll=0.05, max_chars=10)
    clipboard.start()
    try:
        app.copy("copied before watching")
        clipboard.watch(True)
        time.sleep(0.3)
        assert seen == []  # what was there before is not reported
        app.copy("héllo ✓ wörld")
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen == ["héllo ✓ wö"]  # cut to max_chars
        clipboard.set_text("from the operator ✓")
        time.sleep(0.2)
        assert app.paste() == "from the operator ✓"
        time.sleep(0.3)
        assert seen == ["héllo ✓ wö"]  # our own text is not reported back
    finally:
        clipboard.close()


async def test_clipboard_both_ways_only_while_allowed(
    loopback_endpoint: tuple[Endpoint, str], display: str, app: CustomerApp
) -> None:
    r = await start_session(loopback_endpoint, display, headless=False)
    op, session, ui = r.operator, r.session, r.ui
    # not allowed yet: the operator's text is dropped, the customer's copy is not sent
    op.send("control", p.Clipboard(text="too early"))
    await until(lambda: clipboard_of(session).counts["dropped"] == 1)
    app.copy("private before consent")
    assert app.paste() == "private before consent"
    assert clipboard_of(session).clipboard is None  # not even watched

    op.send("control", p.ConsentRequest(capability="clipboard"))
    await until(lambda: ("clipboard", "alice") in ui.asked)
    session.answer("clipboard", True)
    await until(lambda: op.states()[-1] == ("view", "clipboard", "chat"))

    app.copy("customer copied this")
    await until(lambda: p.Clipboard(text="customer copied this") in op.control)
    assert p.Clipboard(text="private before consent") not in op.control
    op.send("control", p.Clipboard(text="operator's text ✓"))
    await until(lambda: "clipboard: received 17 characters" in ui.lines)
    await until(lambda: app.paste() == "operator's text ✓")

    # a long copy is cut to what one message carries
    app.copy("x" * (p.MAX_CLIPBOARD_CHARS + 50))
    await until(lambda: p.Clipboard(text="x" * p.MAX_CLIPBOARD_CHARS) in op.control)

    # the customer stops it: nothing more either way
    session.revoke("clipboard")
    await until(lambda: op.states()[-1] == ("view", "chat"))
    sent = len(op.of(p.Clipboard))
    app.copy("after the revoke")
    op.send("control", p.Clipboard(text="also too late"))
    await until(lambda: clipboard_of(session).counts["dropped"] == 2)
    import asyncio

    await asyncio.sleep(1.2)  # more than two polls
    assert len(op.of(p.Clipboard)) == sent
    assert app.paste() == "after the revoke"
    await r.end()
    assert any(line.startswith("clipboard: sent 2, received 1, dropped 2") for line in ui.lines)
