"""The customer's window (Tk): code entry, status, consent questions, verification code, what
the operator may do now (each with Stop), the hotkey that takes control back, one-window mode
(pick a window / share the whole screen again), a pane per feature that shows something
(``gui_panes.PANES``: the chat), and one big Disconnect button.

Every word about a capability (the question, what the operator "can now" do) comes from
``protocol.CAPABILITY_TABLE``.

Tk owns the main thread; the session's asyncio loop runs in a second thread. Everything the
session tells the window goes through a queue that Tk drains every 50 ms (``root.after``), and
everything the window tells the session goes through ``loop.call_soon_threadsafe`` -- so each
side only ever touches its own objects from its own thread.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import subprocess
import sys
import threading
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk
from typing import TYPE_CHECKING

from wire import binding, protocol

from . import i18n
from .feature import Shown
from .gui_panes import PANES, Pane, VoicePane
from .i18n import t
from .settings import PeerSettings, SettingsError, normalize_code
from .windows import WindowInfo
from .words import answers, decided_text, may_now, question

if TYPE_CHECKING:  # the session (aiortc, PyAV) loads after the window is up
    from .session import PeerSession


def default_inbox() -> Path:
    """Where files from the operator go unless the customer picks another folder."""
    downloads = Path.home() / "Downloads"
    return downloads / "SupportLink"


def _audio_device_names() -> tuple[list[str], list[str]]:
    """The names of the microphones and speakers voice can use (empty: no audio system)."""
    from .audio.devices import audio_available, list_devices

    if not audio_available():
        return [], []
    inputs, outputs = list_devices()
    return [d.name for d in inputs], [d.name for d in outputs]


class QueueUI:
    """``PeerUI`` for the session thread: every call becomes a closure run on Tk's thread."""

    def __init__(self, post: Callable[[Callable[[], None]], None], window: PeerWindow) -> None:
        self._post = post
        self._window = window

    def status(self, text: str) -> None:
        self._post(lambda: self._window.show_status(text))

    def ask(self, capability: str, operator: str) -> None:
        self._post(lambda: self._window.ask(capability, operator))

    def decided(self, capability: str, allowed: bool, why: str) -> None:
        text = decided_text(capability, allowed, why)
        self._post(lambda: self._window.show_status(text))

    def granted(self, capabilities: tuple[str, ...]) -> None:
        self._post(lambda: self._window.show_granted(capabilities))

    def verification(self, code: str) -> None:
        self._post(lambda: self._window.show_verification(code))

    def ended(self, text: str) -> None:
        self._post(lambda: self._window.session_ended(text))

    def notice(self, text: str) -> None:
        self._post(lambda: self._window.show_status(text))

    def hotkey(self, label: str) -> None:
        self._post(lambda: self._window.show_hotkey(label))

    def pick_window(self, windows: list[WindowInfo]) -> None:
        self._post(lambda: self._window.pick_window(windows))

    def ask_whole_screen(self, operator: str) -> None:
        self._post(lambda: self._window.ask_whole_screen(operator))

    def ask_files(
        self, transfer: int, operator: str, name: str, count: int, size: str, preview: list[str]
    ) -> None:
        self._post(lambda: self._window.ask_files(transfer, operator, name, count, size, preview))

    def view_mode(self, window: str | None) -> None:
        self._post(lambda: self._window.show_view_mode(window))

    def show(self, capability: str, shown: Shown) -> None:
        self._post(lambda: self._window.show_feature(capability, shown))


class PeerWindow:
    def __init__(self, root: tk.Tk, settings: PeerSettings) -> None:
        self.root = root
        self.settings = settings
        self.inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.session: PeerSession | None = None
        self.exit_status = 0
        self.ended_text = ""
        self.host = binding.display_host(settings.server)
        root.title(t("window.title", host=self.host))
        root.minsize(360, 0)
        frame = ttk.Frame(root, padding=12)
        frame.pack(fill="both", expand=True)
        # Whose server this is, before anything else: a download pointed elsewhere shows here.
        ttk.Label(
            frame, text=t("window.server", host=self.host), font=("TkDefaultFont", 11, "bold")
        ).pack(anchor="w")
        ttk.Label(frame, text=t("window.check_server"), wraplength=340).pack(
            anchor="w", pady=(0, 8)
        )
        ttk.Label(frame, text=t("window.code_label")).pack(anchor="w")
        row = ttk.Frame(frame)
        row.pack(fill="x", pady=4)
        self.code = tk.StringVar()
        self.entry = ttk.Entry(row, textvariable=self.code, width=12, font=("TkFixedFont", 16))
        self.entry.pack(side="left")
        self.entry.bind("<Return>", lambda _e: self.connect())
        self.join_button = ttk.Button(row, text=t("window.connect"), command=self.connect)
        self.join_button.pack(side="left", padx=6)
        self.status = tk.StringVar(value=t("window.enter_code"))
        ttk.Label(frame, textvariable=self.status, wraplength=340).pack(anchor="w", pady=4)
        self.verify = tk.StringVar(value="")
        ttk.Label(frame, textvariable=self.verify, font=("TkDefaultFont", 12, "bold")).pack(
            anchor="w"
        )
        ttk.Label(frame, text=t("window.can_now")).pack(anchor="w", pady=(8, 0))
        self.panel = ttk.Frame(frame)
        self.panel.pack(fill="x")
        self.hotkey_text = tk.StringVar(value="")
        ttk.Label(frame, textvariable=self.hotkey_text, wraplength=340).pack(anchor="w")
        self.granted: tuple[str, ...] = ()
        self.bar = SharingBar(root, self.stop_sharing)
        self.hotkey_label: str | None = None
        self.panes_frame: ttk.Frame | None = None
        self.show_granted(())
        share = ttk.Frame(frame)
        share.pack(fill="x", pady=(8, 0))
        self.view_text = tk.StringVar(value="")
        ttk.Label(share, textvariable=self.view_text, wraplength=340).pack(anchor="w")
        self.one_window_button = ttk.Button(
            share, text=t("window.share_one"), command=self.choose_window, state="disabled"
        )
        self.one_window_button.pack(side="left")
        self.whole_screen_button = ttk.Button(
            share, text=t("window.share_whole"), command=self.whole_screen
        )
        self.window_dialog: tk.Toplevel | None = None
        self.panes_frame = ttk.Frame(frame)
        self.panes_frame.pack(fill="both", expand=True, pady=(8, 0))
        self.panes: dict[str, Pane] = {}
        self.disconnect_button = tk.Button(
            frame,
            text=t("window.disconnect"),
            font=("TkDefaultFont", 16, "bold"),
            bg="#c62828",
            fg="white",
            height=2,
            command=self.disconnect,
            state="disabled",
        )
        self.disconnect_button.pack(fill="x", pady=(12, 0))
        root.protocol("WM_DELETE_WINDOW", self.close)
        self.entry.focus_set()
        root.after(50, self._drain)

    # ------------------------------------------------------------------ Tk thread

    def _drain(self) -> None:
        while True:
            try:
                self.inbox.get_nowait()()
            except queue.Empty:
                break
        self.root.after(50, self._drain)

    def _to_session(self, fn: Callable[[], None]) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn)

    def connect(self) -> None:
        if self.session is not None:
            return
        try:
            code = normalize_code(self.code.get())
        except SettingsError as exc:
            self.show_status(str(exc))
            return
        self.join_button.configure(state="disabled")
        self.entry.configure(state="disabled")
        self.disconnect_button.configure(state="normal")
        threading.Thread(target=self._run_session, args=(code,), daemon=True).start()

    def _run_session(self, code: str) -> None:
        from .session import PeerSession

        async def main() -> int:
            self.loop = asyncio.get_running_loop()
            self.session = PeerSession(self.settings, QueueUI(self.inbox.put, self))
            outcome = await self.session.run(code)
            return outcome.exit_status

        status = asyncio.run(main())
        self.inbox.put(lambda: self._session_done(status))

    def _session_done(self, status: int) -> None:
        self.exit_status = status
        self.session = None
        self.loop = None
        self.bar.hide()
        if status in (2, 3) and not (status == 2 and self.settings.code_from_download):
            # a wrong code or no server: nothing had started, so no "Ended:"; try again
            if self.ended_text:
                self.show_status(self.ended_text)
            self.join_button.configure(state="normal")
            self.entry.configure(state="normal")
            self.disconnect_button.configure(
                state="disabled", text=t("window.disconnect"), command=self.disconnect
            )
            return
        if status == 2:
            # a download made for one session: its code is spent, typing another is not offered
            self.show_status(t("window.download_spent", host=self.host))
        # The window stays with the reason on it until the customer closes it.
        self.disconnect_button.configure(
            state="normal", text=t("window.close"), command=self.root.destroy
        )

    def disconnect(self) -> None:
        session = self.session
        if session is not None:
            self.disconnect_button.configure(state="disabled", text=t("window.disconnecting"))
            self._to_session(session.disconnect)

    def close(self) -> None:
        if self.session is not None:
            self.disconnect()
        else:
            self.root.destroy()

    def show_status(self, text: str) -> None:
        self.status.set(text[:1].upper() + text[1:])

    def show_verification(self, code: str) -> None:
        self.verify.set(t("window.verification", code=code))

    def show_granted(self, capabilities: tuple[str, ...]) -> None:
        self.granted = capabilities
        operator = getattr(self.session, "operator", None) or t("bar.operator")
        self.bar.show_for(capabilities, operator)
        self._show_hotkey_text()
        if hasattr(self, "one_window_button"):
            state = "normal" if "view" in capabilities else "disabled"
            self.one_window_button.configure(state=state)
        for child in self.panel.winfo_children():
            child.destroy()
        if not capabilities:
            ttk.Label(self.panel, text="  " + t("window.nothing")).pack(anchor="w")
        for capability in capabilities:
            row = ttk.Frame(self.panel)
            row.pack(fill="x")
            ttk.Label(row, text=f"  {may_now(capability)}").pack(side="left")
            spec = protocol.CAPABILITY_BY_NAME.get(capability)
            if spec is None or spec.consent != "none":  # what needs consent can be taken back
                stop = functools.partial(self.revoke, capability)
                ttk.Button(row, text=t("window.stop"), command=stop).pack(side="right")
            if capability in PANES:
                self.pane(capability)

    def pane(self, capability: str) -> Pane | None:
        """The pane of ``capability``, made the first time it is needed."""
        if capability not in PANES or self.panes_frame is None:
            return None
        pane = self.panes.get(capability)
        if pane is None:

            def send(action: str, value: str) -> None:
                session = self.session
                if session is not None:
                    self._to_session(lambda: session.feature_input(capability, action, value))

            pane = self.panes[capability] = PANES[capability](self.panes_frame, send)
            pane.question = self._question
            if isinstance(pane, VoicePane):
                pane.levels = self._voice_levels
                pane.devices = _audio_device_names
            pane.pack(fill="both", expand=True)
        return pane

    def _voice_levels(self) -> tuple[float, float]:
        """The voice feature's levels (two floats read across threads: no lock needed)."""
        features = getattr(self.session, "features", None) or {}
        levels = getattr(features.get("voice"), "levels", None)
        # (no import of the feature here: aiortc loads after the window is up)
        return levels() if levels is not None else (-100.0, -100.0)

    def show_feature(self, capability: str, shown: Shown) -> None:
        pane = self.pane(capability)
        if pane is not None:
            pane.show(shown)
        else:
            self.show_status(f"{capability}: {shown.text}")

    def stop_sharing(self) -> None:
        """The bar's Stop: take back the screen (viewing and control) and the camera; chat
        goes on."""
        for capability in ("control", "view", "camera"):
            if capability in self.granted:
                self.revoke(capability)

    def revoke(self, capability: str) -> None:
        session = self.session
        if session is not None:
            self._to_session(lambda: session.revoke(capability))

    def ask(self, capability: str, operator: str) -> None:
        def decide(allowed: bool) -> None:
            session = self.session
            if session is not None:
                self._to_session(lambda: session.answer(capability, allowed))

        self._question(question(capability, operator), *answers(capability), decide)

    def ask_whole_screen(self, operator: str) -> None:
        def decide(allowed: bool) -> None:
            session = self.session
            if session is not None:
                self._to_session(lambda: session.answer_whole_screen(allowed))

        self._question(
            t("whole_screen.question", operator=operator),
            t("whole_screen.show"),
            t("whole_screen.keep"),
            decide,
        )

    def ask_files(
        self, transfer: int, operator: str, name: str, count: int, size: str, preview: list[str]
    ) -> None:
        """Files from the operator: what, where to (a folder the customer may change), and
        what to do with a name already there. Decline is the safe answer Enter gives."""
        folder = tk.StringVar(self.root, value=str(default_inbox()))
        existing = tk.StringVar(self.root, value="keep_both")

        def decide(allowed: bool) -> None:
            session = self.session
            chosen = folder.get() if allowed else None
            policy = existing.get()
            if session is not None:
                self._to_session(lambda: session.answer_files(transfer, chosen, policy))

        def details(extra: ttk.Frame) -> None:
            shown = "\n".join(preview) + ("\n…" if count > len(preview) else "")
            ttk.Label(extra, text=shown, foreground="#444", wraplength=440).pack(anchor="w")
            where = ttk.Frame(extra)
            where.pack(fill="x", pady=(6, 0))
            ttk.Label(where, text=t("files.save_to")).pack(side="left")
            ttk.Label(where, textvariable=folder, wraplength=300).pack(side="left", padx=4)

            def choose() -> None:
                from tkinter import filedialog

                picked = filedialog.askdirectory(
                    parent=extra, initialdir=folder.get(), mustexist=False
                )
                if picked:
                    folder.set(picked)

            ttk.Button(where, text=t("files.choose_folder"), command=choose).pack(side="right")
            ttk.Label(extra, text=t("files.if_exists")).pack(anchor="w", pady=(6, 0))
            for value, words in (
                ("keep_both", t("files.keep_both")),
                ("replace", t("files.replace")),
                ("skip", t("files.skip")),
            ):
                ttk.Radiobutton(extra, text=words, value=value, variable=existing).pack(anchor="w")

        text = t("files.question", operator=operator, count=count, size=size, name=name)
        self._question(text, t("files.accept"), t("files.decline"), decide, details)

    def _question(
        self,
        text: str,
        yes: str,
        no: str,
        decide: Callable[[bool], None],
        details: Callable[[ttk.Frame], None] | None = None,
    ) -> tk.Toplevel:
        """A question on top of everything, answered once: Enter gives the focused button
        (the safe "no" unless the customer moved), Esc and closing the window say no.
        ``details`` fills a frame between the question and the buttons."""
        dialog = tk.Toplevel(self.root, padx=16, pady=12)
        dialog.title("SupportLink")
        dialog.transient(self.root)
        ttk.Label(dialog, text=text, font=("TkDefaultFont", 12), wraplength=440).pack(pady=(0, 10))
        if details is not None:
            extra = ttk.Frame(dialog)
            extra.pack(fill="x", pady=(0, 10))
            details(extra)
        buttons = ttk.Frame(dialog)
        buttons.pack()

        def answer(allowed: bool) -> None:
            if dialog.winfo_exists():
                dialog.destroy()
                decide(allowed)

        ttk.Button(buttons, text=yes, command=lambda: answer(True)).pack(side="left", padx=4)
        deny = ttk.Button(buttons, text=no, command=lambda: answer(False))
        deny.pack(side="left", padx=4)
        deny.focus_set()  # the safe answer is the one Enter gives unless the customer moves

        def on_return(_event: object) -> None:
            focused = dialog.focus_get()
            if isinstance(focused, ttk.Button):
                focused.invoke()
            else:
                answer(False)

        dialog.bind("<Return>", on_return)
        dialog.bind("<Escape>", lambda _e: answer(False))
        dialog.protocol("WM_DELETE_WINDOW", lambda: answer(False))
        self.bring_forward(dialog)
        deny.focus_force()
        return dialog

    def bring_forward(self, dialog: tk.Toplevel) -> None:
        """A question the customer must see: above every other window, beside this one (so
        the verification code stays readable), with the keyboard focus."""
        self.root.deiconify()
        self.root.lift()
        dialog.attributes("-topmost", True)
        dialog.update_idletasks()
        root = self.root
        x, y = beside(
            (root.winfo_rootx(), root.winfo_rooty(), root.winfo_width(), root.winfo_height()),
            (dialog.winfo_reqwidth(), dialog.winfo_reqheight()),
            (root.winfo_screenwidth(), root.winfo_screenheight()),
        )
        dialog.geometry(f"+{x}+{y}")
        dialog.lift()
        dialog.update_idletasks()
        dialog.focus_force()

    def show_hotkey(self, label: str) -> None:
        self.hotkey_label = label
        self._show_hotkey_text()

    def _show_hotkey_text(self) -> None:
        if self.hotkey_label is not None and "control" in self.granted:
            self.hotkey_text.set(t("window.hotkey", hotkey=self.hotkey_label))
        else:
            self.hotkey_text.set("")

    def show_view_mode(self, window: str | None) -> None:
        if window is None:
            self.view_text.set("")
            self.whole_screen_button.pack_forget()
        else:
            self.view_text.set(t("window.only_window", title=window))
            self.whole_screen_button.pack(side="left", padx=6)

    def choose_window(self) -> None:
        session = self.session
        if session is not None:
            self._to_session(session.offer_window_choice)

    def whole_screen(self) -> None:
        session = self.session
        if session is not None:
            self._to_session(session.share_whole_screen)

    def pick_window(self, windows: list[WindowInfo]) -> None:
        """Ask which one window to share; Cancel changes nothing."""
        if self.window_dialog is not None:
            self.window_dialog.destroy()
        dialog = self.window_dialog = tk.Toplevel(self.root, padx=16, pady=12)
        dialog.title(t("picker.window_title"))
        dialog.transient(self.root)
        ttk.Label(dialog, text=t("picker.title_label")).pack(anchor="w")
        choices = tk.Listbox(dialog, height=min(12, max(3, len(windows))), width=48)
        for info in windows:
            choices.insert("end", info.title)
        choices.pack(fill="both", expand=True, pady=6)
        buttons = ttk.Frame(dialog)
        buttons.pack()

        def close() -> None:
            dialog.destroy()
            if self.window_dialog is dialog:
                self.window_dialog = None

        def share() -> None:
            picked = choices.curselection()  # type: ignore[no-untyped-call]
            if not picked:
                return
            info = windows[int(picked[0])]
            close()
            session = self.session
            if session is not None:
                self._to_session(lambda: session.limit_to_window(info.id, info.title))

        ttk.Button(buttons, text=t("picker.share"), command=share).pack(side="left", padx=4)
        ttk.Button(buttons, text=t("picker.cancel"), command=close).pack(side="left", padx=4)
        choices.bind("<Double-Button-1>", lambda _e: share())
        dialog.protocol("WM_DELETE_WINDOW", close)
        self.bring_forward(dialog)

    def session_ended(self, text: str) -> None:
        self.bar.hide()
        self.ended_text = text
        self.show_status(t("window.ended", text=text))
        self.verify.set("")
        self.hotkey_label = None
        self.show_granted(())
        self.show_view_mode(None)
        for pane in self.panes.values():
            pane.ended()
        self.disconnect_button.configure(state="disabled", text=t("window.disconnected"))


def beside(
    window: tuple[int, int, int, int], dialog: tuple[int, int], screen: tuple[int, int]
) -> tuple[int, int]:
    """Where a dialog goes so as not to cover ``window`` (x, y, width, height): to its right,
    else to its left, else below, else above it; on a screen too small for any of those, at
    the screen's bottom right (the window's top, with the verification code, stays clear)."""
    x, y, w, h = window
    dw, dh = dialog
    sw, sh = screen
    if x + w + 12 + dw <= sw:
        return x + w + 12, y
    if x - 12 - dw >= 0:
        return x - 12 - dw, y
    if y + h + 12 + dh <= sh:
        return x, y + h + 12
    if y - 12 - dh >= 0:
        return x, y - 12 - dh
    return max(0, sw - dw), max(0, sh - dh)


class SharingBar:
    """A small bar at the top of the screen, above every window, while the operator sees or
    controls the screen: who does what, and Stop. Other windows cannot cover it."""

    def __init__(self, root: tk.Tk, stop: Callable[[], None]) -> None:
        self.top = tk.Toplevel(root, bg="#b71c1c", padx=10, pady=4)
        self.top.withdraw()
        self.top.overrideredirect(True)
        self.top.attributes("-topmost", True)
        self.text = tk.StringVar(value="")
        tk.Label(
            self.top,
            textvariable=self.text,
            bg="#b71c1c",
            fg="white",
            font=("TkDefaultFont", 11, "bold"),
        ).pack(side="left", padx=(0, 10))
        self.stop = tk.Button(self.top, text=t("bar.stop"), command=stop)
        self.stop.pack(side="left")
        self.shown = False

    def show_for(self, capabilities: tuple[str, ...], operator: str) -> None:
        lines = []
        if "control" in capabilities:
            lines.append(t("bar.controlling", operator=operator))
        elif "view" in capabilities and "voice" in capabilities:
            lines.append(t("bar.viewing_hearing", operator=operator))
        elif "view" in capabilities:
            lines.append(t("bar.viewing", operator=operator))
        elif "voice" in capabilities:  # a call: the microphone is live
            lines.append(t("bar.hearing", operator=operator))
        if "camera" in capabilities:
            lines.append(t("bar.camera", operator=operator))
        if not lines:
            self.hide()
            return
        self.text.set("  ·  ".join(lines))
        self.top.update_idletasks()
        x = max(0, (self.top.winfo_screenwidth() - self.top.winfo_reqwidth()) // 2)
        self.top.geometry(f"+{x}+0")
        self.top.deiconify()
        self.top.lift()
        self.shown = True

    def hide(self) -> None:
        self.top.withdraw()
        self.shown = False


def window_language(lang: str, has_font: Callable[[str], bool]) -> tuple[str, str | None]:
    """The language the window can show, and the font package it lacks for ``lang``: a
    script with no font on this desktop would be boxes, so the window falls back to English
    (and says which package brings the font)."""
    if lang == "en" or has_font(lang):
        return lang, None
    return "en", FONT_PACKAGES.get(lang, "a font for your language")


#: The Debian package that brings fonts for each language's script.
FONT_PACKAGES = {"ja": "fonts-noto-cjk"}


def fontconfig_has(lang: str) -> bool:
    """Whether fontconfig knows a font for ``lang``; True when it cannot tell."""
    try:
        found = subprocess.run(
            ["fc-list", f":lang={lang}", "family"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return True
    return found.returncode != 0 or bool(found.stdout.strip())


def _preload() -> None:
    import peer.session  # noqa: F401


def show_problem(text: str) -> None:
    """A window that says why SupportLink cannot start, until the customer closes it."""
    try:
        root = tk.Tk()
    except tk.TclError:  # no usable display after all: the words went to standard error
        return
    root.title("SupportLink")
    frame = ttk.Frame(root, padding=16)
    frame.pack(fill="both", expand=True)
    ttk.Label(frame, text=text, wraplength=400, justify="left").pack(anchor="w")
    close = ttk.Button(frame, text=t("window.close"), command=root.destroy)
    close.pack(anchor="e", pady=(12, 0))
    close.focus_set()
    root.bind("<Return>", lambda _e: root.destroy())
    root.bind("<Escape>", lambda _e: root.destroy())
    root.mainloop()


def run_gui(settings: PeerSettings) -> int:
    lang, missing = window_language(i18n.current(), fontconfig_has)
    note = None
    if missing is not None:
        i18n.use(lang)
        note = t("window.no_font", package=missing)
        print(f"supportlink-peer: {note}", file=sys.stderr)
    root = tk.Tk()
    window = PeerWindow(root, settings)
    # Load the session's libraries while the customer reads the window (or types the code).
    threading.Thread(target=_preload, name="preload", daemon=True).start()
    if note is not None:
        window.show_status(note)
    if settings.code is not None:
        window.code.set(settings.code)
        window.connect()
    root.mainloop()
    return window.exit_status
