"""The customer's text clipboard on X11 (the ``CLIPBOARD`` selection), with python-xlib only.

No helper program (``xclip``/``xsel``) and no toolkit: one thread with its own X connection
and a small unmapped window does both halves of the selection protocol.

* **Watching** (``watch(True)``): every ``poll`` seconds (0.5) the thread asks the selection's
  owner for the text (``ConvertSelection`` to ``UTF8_STRING``, falling back to ``STRING``)
  and calls ``on_change(text)`` when it differs from the last text seen. The first look after
  ``watch(True)`` only records what is there: what the customer copied *before* allowing the
  clipboard is not sent. While we own the selection ourselves nothing is asked.
* **Setting** (``set_text``): the thread becomes the selection's owner and answers every
  ``SelectionRequest`` (``TARGETS``, ``UTF8_STRING``, ``STRING``, ``TEXT``) until another
  program takes the selection (``SelectionClear``). Texts sent are at most
  ``protocol.MAX_CLIPBOARD_CHARS`` characters (16 KiB of UTF-8 at most), far below the request
  size that would need the incremental (``INCR``) answer, so we always answer at once.
* Owners do answer incrementally (Tk above 4000 bytes): ``INCR`` is read chunk by chunk, up
  to ``MAX_READ_BYTES``; the rest of a larger text is read and thrown away.

What the operator set stays on the clipboard as long as the peer runs (an X selection lives
with its owner, unless a clipboard manager keeps a copy).

``on_change`` is called on the clipboard thread; the caller hands it over to its own loop.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from typing import Any

import Xlib.display
import Xlib.error
import Xlib.X
import Xlib.Xatom
from Xlib.protocol import event as xevent

logger = logging.getLogger(__name__)

#: How long to wait for a selection owner to answer (or send the next chunk), in seconds.
ANSWER_TIMEOUT = 1.0
#: Most bytes of clipboard text kept from one read.
MAX_READ_BYTES = 64 * 1024


class XClipboard:
    def __init__(
        self,
        display: str | None,
        on_change: Callable[[str], None],
        *,
        poll: float = 0.5,
        max_chars: int = 4000,
    ) -> None:
        self.on_change = on_change
        self.poll = poll
        self.max_chars = max_chars
        self._display_name = display
        self._commands: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: Exception | None = None

    def start(self) -> None:
        """Open the X connection on the clipboard thread; raises if that fails."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="supportlink-clipboard", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def watch(self, on: bool) -> None:
        self._command("watch", on)

    def set_text(self, text: str) -> None:
        self._command("set", text)

    def close(self) -> None:
        if self._thread is None:
            return
        self._command("quit", None)
        self._thread.join(5)
        self._thread = None
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _command(self, name: str, value: Any) -> None:
        if self._thread is None:
            return
        self._commands.put((name, value))
        os.write(self._wake_w, b"x")

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            d = Xlib.display.Display(self._display_name)
        except Exception as exc:  # no display
            self._error = exc
            self._ready.set()
            return
        try:
            _Worker(self, d).loop()
        except Exception:
            logger.exception("clipboard: the X connection failed")
        finally:
            try:
                d.close()
            except Exception:
                pass


class _Worker:
    def __init__(self, owner: XClipboard, d: Any) -> None:
        self.owner = owner
        self.d = d
        atom = d.intern_atom
        self.CLIPBOARD = atom("CLIPBOARD")
        self.UTF8 = atom("UTF8_STRING")
        self.TARGETS = atom("TARGETS")
        self.TEXT = atom("TEXT")
        self.INCR = atom("INCR")
        self.PROP = atom("SUPPORTLINK_CLIPBOARD")
        root = d.screen().root
        self.window = root.create_window(
            0,
            0,
            1,
            1,
            0,
            Xlib.X.CopyFromParent,
            Xlib.X.InputOnly,
            Xlib.X.CopyFromParent,
            event_mask=Xlib.X.PropertyChangeMask,  # for INCR answers
        )
        self.window.set_wm_name("SupportLink clipboard")
        d.sync()
        self.watching = False
        self.last: str | None = None  # what was last seen or set
        self.mine: str | None = None  # our text while we own the selection
        self.next_poll = 0.0
        self.first = False  # the next look only records what is there
        self.running = True
        d.set_error_handler(self._x_error)  # a requestor gone meanwhile, and the like
        owner._ready.set()

    @staticmethod
    def _x_error(error: Any, request: Any) -> None:
        logger.debug("clipboard: X error %s", error)

    def loop(self) -> None:
        while self.running:
            timeout = max(0.0, self.next_poll - time.monotonic()) if self.watching else None
            ready, _, _ = select.select([self.d, self.owner._wake_r], [], [], timeout)
            if self.owner._wake_r in ready:
                os.read(self.owner._wake_r, 64)
            self._commands()
            self._events()
            if self.running and self.watching and time.monotonic() >= self.next_poll:
                self.next_poll = time.monotonic() + self.owner.poll
                self._look()

    def _commands(self) -> None:
        while True:
            try:
                name, value = self.owner._commands.get_nowait()
            except queue.Empty:
                return
            if name == "quit":
                self.running = False
            elif name == "watch":
                if value and not self.watching:
                    self.last = None if self.mine is None else self.mine
                    self.next_poll = 0.0
                    self.first = True
                self.watching = bool(value)
            elif name == "set":
                self._own(str(value))

    def _events(self, until: Callable[[Any], bool] | None = None) -> Any:
        while self.d.pending_events():
            ev = self.d.next_event()
            if ev.type == Xlib.X.SelectionRequest:
                self._answer(ev)
            elif ev.type == Xlib.X.SelectionClear and ev.atom == self.CLIPBOARD:
                self.mine = None
            elif until is not None and until(ev):
                return ev
        return None

    # ------------------------------------------------------------------ reading

    def _look(self) -> None:
        if self.mine is not None:
            return
        text = self._read()
        first, self.first = self.first, False
        if text is None or text == self.last:
            return
        self.last = text
        if not first:
            self.owner.on_change(text[: self.owner.max_chars])

    def _read(self) -> str | None:
        if _id(self.d.get_selection_owner(self.CLIPBOARD)) == Xlib.X.NONE:
            return None
        for target in (self.UTF8, Xlib.Xatom.STRING):
            self.window.convert_selection(self.CLIPBOARD, target, self.PROP, Xlib.X.CurrentTime)
            self.d.flush()
            ev = self._wait(lambda e: e.type == Xlib.X.SelectionNotify)
            if ev is None or ev.property == Xlib.X.NONE:
                continue
            prop = self.window.get_full_property(self.PROP, Xlib.X.AnyPropertyType)
            self.window.delete_property(self.PROP)
            self.d.flush()
            if prop is None:
                return None
            data = self._incremental() if prop.property_type == self.INCR else _bytes(prop.value)
            if data is None:
                return None
            if target == self.UTF8:
                return data.decode("utf-8", "replace")
            return data.decode("latin-1")
        return None

    def _incremental(self) -> bytes | None:
        """The chunks of an ``INCR`` answer (the property was just deleted: that asks for the
        first one); an empty chunk ends it."""
        data = bytearray()
        while True:
            ev = self._wait(
                lambda e: (
                    e.type == Xlib.X.PropertyNotify
                    and e.atom == self.PROP
                    and e.state == Xlib.X.PropertyNewValue
                )
            )
            if ev is None:
                return None
            prop = self.window.get_full_property(self.PROP, Xlib.X.AnyPropertyType)
            self.window.delete_property(self.PROP)
            self.d.flush()
            chunk = b"" if prop is None else _bytes(prop.value)
            if not chunk:
                return bytes(data)
            if len(data) < MAX_READ_BYTES:
                data += chunk[: MAX_READ_BYTES - len(data)]

    def _wait(self, wanted: Callable[[Any], bool]) -> Any:
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while True:
            ev = self._events(wanted)
            if ev is not None:
                return ev
            left = deadline - time.monotonic()
            if left <= 0:
                logger.debug("clipboard: the owner did not answer")
                return None
            select.select([self.d], [], [], left)

    # ------------------------------------------------------------------ owning

    def _own(self, text: str) -> None:
        self.window.set_selection_owner(self.CLIPBOARD, Xlib.X.CurrentTime)
        self.d.sync()
        if _id(self.d.get_selection_owner(self.CLIPBOARD)) != self.window.id:
            logger.warning("clipboard: could not take the selection")
            return
        self.mine = text
        self.last = text  # never sent back as a change

    def _answer(self, req: Any) -> None:
        prop = req.property if req.property != Xlib.X.NONE else req.target
        text = self.mine
        ok = False
        if text is not None and req.selection == self.CLIPBOARD:
            try:
                if req.target == self.TARGETS:
                    targets = [self.TARGETS, self.UTF8, Xlib.Xatom.STRING, self.TEXT]
                    req.requestor.change_property(prop, Xlib.Xatom.ATOM, 32, targets)
                    ok = True
                elif req.target in (self.UTF8, self.TEXT):
                    req.requestor.change_property(prop, self.UTF8, 8, text.encode("utf-8"))
                    ok = True
                elif req.target == Xlib.Xatom.STRING:
                    data = text.encode("latin-1", "replace")
                    req.requestor.change_property(prop, Xlib.Xatom.STRING, 8, data)
                    ok = True
            except Xlib.error.XError:
                ok = False
        notify = xevent.SelectionNotify(
            time=req.time,
            requestor=req.requestor,
            selection=req.selection,
            target=req.target,
            property=prop if ok else Xlib.X.NONE,
        )
        try:
            req.requestor.send_event(notify)
            self.d.flush()
        except Xlib.error.XError:
            pass


def _id(resource: Any) -> int:
    return int(getattr(resource, "id", resource))


def _bytes(value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)
