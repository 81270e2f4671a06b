"""``supportlink-peer``: the customer's side of a SupportLink session.

With a display and no ``--code`` it opens a small window; otherwise it runs headless and
prints one line per step and decision. Exit status: 0 the session ended normally, 1 it
failed after the code was accepted, 2 the code was refused, 3 the server could not be
reached, 64 a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wire import binding, protocol

from . import i18n
from .feature import Shown
from .i18n import t
from .settings import PeerSettings, SettingsError, normalize_code, parse_capabilities
from .tuning import CODECS, X264_PRESETS
from .windows import WindowInfo
from .words import capability_name, decided_text, question

if TYPE_CHECKING:  # loaded only once a session starts: the window opens without it
    from .session import PeerSession

EXIT_USAGE = 64

_EPILOG = """\
examples:
  supportlink-peer --server https://support.example.com
      open the window, type the code the operator reads to you
  supportlink-peer --server https://support.example.com --code 12345678 --allow view
      headless: join, allow screen viewing only, print every step
  supportlink-peer --server URL --code 12345678 --allow view,control --window "Text Editor"
      headless: share only the window whose title contains "Text Editor", allow control

While the operator controls the mouse and keyboard, press Ctrl+Alt+End to take control back.

Chat, headless: each message from the operator is printed as "chat: NAME: TEXT" (line breaks
inside it as \\n); every line typed on standard input is sent to the operator.

capabilities for --allow: {caps}
  Only the named ones are granted without asking; in headless mode every other request
  from the operator is denied (and the decision printed).

exit status: 0 session ended normally, 1 failed after the code was accepted,
  2 code refused (wrong, expired, used, too many tries), 3 server unreachable, 64 usage error
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supportlink-peer",
        description="Join a SupportLink remote-support session with the 8-digit code "
        "the operator gave you. Nothing is shared until you allow it.",
        epilog=_EPILOG.format(
            caps=", ".join(c.name for c in protocol.CAPABILITY_TABLE if c.consent != "none")
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        help="the SupportLink server, e.g. https://support.example.com "
        "(default: $SUPPORTLINK_SERVER)",
    )
    parser.add_argument(
        "--code", metavar="CODE", help="the 8-digit session code; implies headless mode"
    )
    parser.add_argument(
        "--allow",
        metavar="CAPS",
        default="",
        help="comma-separated capabilities to grant without asking, e.g. view,control",
    )
    parser.add_argument(
        "--headless", action="store_true", help="no window even when a display is available"
    )
    parser.add_argument(
        "--monitor",
        type=int,
        default=1,
        help="monitor to share first: 1, 2, ... (1); the operator may switch",
    )
    parser.add_argument(
        "--window",
        metavar="TITLE",
        help="share only the window whose title contains TITLE (case-insensitive); "
        "input outside it is dropped",
    )
    parser.add_argument(
        "--lang",
        choices=i18n.languages(),
        help="language of the window and of the lines printed (default: the system's, "
        "else English)",
    )
    parser.add_argument(
        "--accept-files",
        metavar="DIR",
        type=Path,
        help="headless: accept files and folders the operator sends into DIR without asking "
        "(file transfer must be allowed: --allow files)",
    )
    parser.add_argument(
        "--send",
        metavar="PATH",
        type=Path,
        action="append",
        default=[],
        help="headless: offer the file or folder PATH to the operator once connected "
        "(repeatable; file transfer must be allowed: --allow files)",
    )
    parser.add_argument(
        "--allow-file-requests",
        metavar="DIR",
        type=Path,
        action="append",
        default=[],
        help="headless: send a file or folder the operator asks for by its path when it lies "
        "inside DIR, also once every link on the way is resolved (repeatable); every other "
        "request is declined (file transfer must be allowed: --allow files)",
    )
    parser.add_argument(
        "--existing",
        choices=("keep-both", "replace", "skip"),
        default="keep-both",
        help="an arriving file whose name is taken: keep both (name (1).ext, the default), "
        "replace the old one, or skip the new one",
    )
    parser.add_argument(
        "--audio-in",
        metavar="DEVICE",
        help="microphone for voice: a device number or part of its name, as --list-audio shows "
        "(default: the system's)",
    )
    parser.add_argument(
        "--audio-out",
        metavar="DEVICE",
        help="speakers or headset for voice, as --audio-in (default: the system's)",
    )
    parser.add_argument(
        "--camera",
        metavar="SOURCE",
        help="the camera to show the operator once they may see it: /dev/videoN, "
        "lavfi:GRAPH (a test picture, e.g. lavfi:testsrc2) or a video file "
        "(default: the first camera found)",
    )
    parser.add_argument(
        "--show-operator-screen",
        metavar="FILE",
        type=Path,
        help="also write the newest picture of the screen the operator shows you to this PNG "
        "file (they may show it: --allow show_screen)",
    )
    parser.add_argument(
        "--show-operator-camera",
        metavar="FILE",
        type=Path,
        help="as --show-operator-screen, for the operator's camera (--allow show_camera)",
    )
    parser.add_argument(
        "--list-audio",
        action="store_true",
        help="list the microphones and speakers voice can use, and exit",
    )
    parser.add_argument("--fps", type=float, default=60.0, help="most frames per second (60)")
    parser.add_argument(
        "--codec", choices=CODECS, default="vp8", help="video codec (vp8: sharpest text)"
    )
    parser.add_argument(
        "--bitrate",
        type=int,
        default=8_000_000,
        metavar="BPS",
        help="highest video bitrate in bit/s (8000000); lowered on thin links",
    )
    parser.add_argument(
        "--x264-preset", choices=X264_PRESETS, default="veryfast", help=argparse.SUPPRESS
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    parser.add_argument(
        "--binding-from",
        metavar="FILE",
        type=Path,
        help=argparse.SUPPRESS,  # read the download's binding from FILE instead of this program
    )
    return parser


class StartProblem(Exception):
    """The program cannot start a session as it is: the words say why and what to do."""


def own_binding(
    executable: str, frozen: bool, environ: Mapping[str, str] | None = None
) -> binding.Binding | None:
    """The binding a download carries at its end (one-file build only): the file is this
    program, or the one its launcher names in ``SUPPORTLINK_PROGRAM`` (``launcher.c``).

    Raises ``StartProblem`` when there is one but it is damaged."""
    if not frozen:
        return None
    launched_from = (environ or {}).get("SUPPORTLINK_PROGRAM")
    return read_binding(Path(launched_from or executable))


def read_binding(path: Path) -> binding.Binding | None:
    try:
        return binding.read(path)
    except (binding.BindingError, OSError):
        raise StartProblem(t("start.binding_damaged")) from None


def parse_settings(
    argv: Sequence[str],
    environ: Mapping[str, str],
    bound: binding.Binding | None = None,
    now: float | None = None,
) -> tuple[PeerSettings, int]:
    """Settings and verbosity from the command line (``environ`` supplies defaults, ``bound``
    the server and code of a downloaded program, which the command line overrides).

    A usage error prints the message and raises ``SystemExit(2)``, as argparse does; a
    download that cannot be used raises ``StartProblem``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    lang = i18n.language_from(environ, args.lang)
    i18n.use(lang)  # so that even a usage error reads in the customer's language
    if args.list_audio:
        print_audio_devices()
        raise SystemExit(0)
    if args.binding_from is not None:
        bound = read_binding(args.binding_from)
    from_download = bound is not None and not args.server
    server = args.server or (bound.server if bound is not None else None)
    server = server or environ.get("SUPPORTLINK_SERVER")
    if not server:
        if bound is None and args.binding_from is None and _frozen():
            raise StartProblem(t("start.no_server"))
        parser.error("no server: pass --server URL or set SUPPORTLINK_SERVER")
    bound_code = None
    if from_download and bound is not None and bound.code is not None and args.code is None:
        if bound.expired(time.time() if now is None else now):
            raise StartProblem(t("start.bound_code_expired", host=binding.display_host(server)))
        bound_code = bound.code
    try:
        code = normalize_code(args.code) if args.code is not None else bound_code
        headless = bool(args.headless or args.code is not None or not _has_display(environ))
        if headless and code is None:
            parser.error("without a window, pass the session code with --code")
        settings = PeerSettings(
            server=server,
            code=code,
            allow=parse_capabilities(args.allow),
            headless=headless,
            monitor=args.monitor,
            window=args.window,
            lang=lang,
            fps=args.fps,
            codec=args.codec,
            bitrate=args.bitrate,
            x264_preset=args.x264_preset,
            code_from_download=bound_code is not None,
            accept_files=args.accept_files,
            send=tuple(args.send),
            allow_file_requests=tuple(args.allow_file_requests),
            existing=args.existing.replace("-", "_"),
            audio_in=args.audio_in,
            audio_out=args.audio_out,
            camera=args.camera,
            show_operator_screen=args.show_operator_screen,
            show_operator_camera=args.show_operator_camera,
        )
    except SettingsError as exc:
        parser.error(str(exc))
    return settings, int(args.verbose)


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def _has_display(environ: Mapping[str, str]) -> bool:
    if sys.platform.startswith("linux"):
        return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))
    return True


class HeadlessUI:
    """One line per step and decision on stdout."""

    def _line(self, text: str) -> None:
        print(text, flush=True)

    def status(self, text: str) -> None:
        self._line(f"status: {text}")

    def ask(self, capability: str, operator: str) -> None:  # never called: can_ask is False
        self._line(f"consent: {question(capability, operator)}")

    _hotkey: str | None = None

    def decided(self, capability: str, allowed: bool, why: str) -> None:
        self._line(f"consent: {decided_text(capability, allowed, why)}")
        if capability == "control" and allowed and self._hotkey is not None:
            self._line(t("notice.control_hotkey", hotkey=self._hotkey))

    def granted(self, capabilities: tuple[str, ...]) -> None:
        names = [
            t("line.capability_in_list", capability=c, name=capability_name(c))
            for c in capabilities
        ]
        self._line(f"operator may now: {t('list.separator').join(names) or t('window.nothing')}")

    def verification(self, code: str) -> None:
        self._line(f"verification code: {code}")

    def ended(self, text: str) -> None:
        self._line(f"ended: {text}")

    def notice(self, text: str) -> None:
        self._line(text)

    def hotkey(self, label: str) -> None:
        self._hotkey = label
        self._line(f"hotkey: {t('line.hotkey', hotkey=label)}")

    def pick_window(self, windows: list[WindowInfo]) -> None:  # never called headless
        self._line(t("notice.no_window_picker_headless"))

    def ask_whole_screen(self, operator: str) -> None:  # never called headless
        self._line(t("notice.no_whole_screen_headless"))

    def ask_files(  # never called headless: --accept-files decides
        self, transfer: int, operator: str, name: str, count: int, size: str, preview: list[str]
    ) -> None:
        self._line(t("files.declined_headless", count=count, size=size))

    def view_mode(self, window: str | None) -> None:
        pass

    def show(self, capability: str, shown: Shown) -> None:
        if shown.kind == "message":
            if not shown.mine:  # what was typed on standard input is not echoed
                self._line(f"{capability}: {one_line(shown.who)}: {one_line(shown.text)}")
        elif shown.kind != "cameras":  # what the window offers to pick (--camera here)
            self._line(f"{capability}: {one_line(shown.text)}")


def one_line(text: str) -> str:
    """``text`` safe for one line of a terminal or a script: a backslash doubles, and every
    control character (line breaks, ESC, BEL, NEL, ...), line or paragraph separator and
    bidirectional override becomes an escape (``\\n``, ``\\x1b``, ``\\u202e``). So the operator
    can neither start a fake line nor send the customer's terminal a command."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif _unsafe(ch):
            cp = ord(ch)
            out.append(f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}")
        else:
            out.append(ch)
    return "".join(out)


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Bidirectional embeddings, overrides, isolates and marks: they could reorder what follows.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _may_read(stream: Any) -> bool:
    """Not a terminal, or one this process has in the foreground: reading a terminal from
    the background (``supportlink-peer ... &``) would stop the whole process (SIGTTIN)."""
    try:
        if not stream.isatty():
            return True
        return bool(os.tcgetpgrp(stream.fileno()) == os.getpgrp())
    except (OSError, ValueError):
        return False


def read_chat(session: PeerSession, stream: Any = None) -> None:
    """Send every line typed on standard input as a chat message, until end of input.

    A daemon thread reads, so that a terminal nobody types into never holds up the exit."""
    loop = asyncio.get_running_loop()
    stream = sys.stdin if stream is None else stream
    if stream is None or stream.closed or not _may_read(stream):
        return

    def read() -> None:
        while True:
            try:
                line = stream.readline()
            except (OSError, ValueError):
                return
            if not line or loop.is_closed():
                return
            try:
                loop.call_soon_threadsafe(session.feature_input, "chat", "send", line)
            except RuntimeError:  # the loop closed meanwhile
                return

    threading.Thread(target=read, name="chat-stdin", daemon=True).start()


async def run_headless(settings: PeerSettings) -> int:
    assert settings.code is not None
    from .session import PeerSession

    ui = HeadlessUI()
    ui.notice(f"server: {binding.display_host(settings.server)}")
    session = PeerSession(settings, ui)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, session.disconnect)
    read_chat(session)
    try:
        outcome = await session.run(settings.code)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return outcome.exit_status


def print_audio_devices() -> None:
    """``--list-audio``: the devices ``--audio-in`` and ``--audio-out`` can name."""
    from .audio.devices import audio_available, list_devices

    if not audio_available():
        print("no audio system found (PortAudio could not be loaded)")
        return
    inputs, outputs = list_devices()
    for title, devices in (("microphones", inputs), ("speakers", outputs)):
        print(f"{title}:")
        for device in devices:
            mark = " (default)" if device.default else ""
            print(f"  {device.index}: {device.name}{mark}")
        if not devices:
            print("  none")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        bound = own_binding(sys.executable, _frozen(), os.environ)
        settings, verbosity = parse_settings(args, os.environ, bound)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code == 2 else int(exc.code or 0)
    except StartProblem as exc:
        return report_problem(str(exc), args)
    i18n.use(settings.lang)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbosity, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if _frozen() and os.environ.get("SUPPORTLINK_PROGRAM"):
        threading.Thread(
            target=prune_unpacked, args=(Path(sys.executable), time.time()), daemon=True
        ).start()
    if settings.headless:
        return asyncio.run(run_headless(settings))
    from .gui import run_gui

    return run_gui(settings)


def prune_unpacked(program: Path, now: float, keep_days: float = 1.0) -> list[Path]:
    """Remove the unpacked copies of other SupportLink builds from the user's cache (the
    launcher unpacks each build into ``<cache>/supportlink/<key>/``; ``program`` is this one's
    executable there), leaving those used within ``keep_days``. Returns what was removed."""
    import shutil

    mine = program.parent.parent
    cache = mine.parent
    if cache.name != "supportlink" or len(mine.name) != 32:
        return []
    removed = []
    for entry in cache.iterdir():
        if entry == mine or not entry.is_dir() or entry.is_symlink():
            continue
        try:
            if now - entry.stat().st_mtime < keep_days * 86400:
                continue
            shutil.rmtree(entry)
            removed.append(entry)
        except OSError:
            continue
    return removed


def report_problem(text: str, argv: Sequence[str]) -> int:
    """Say why the program cannot start: in a window when it would have opened one (someone
    double-clicked it and reads no terminal), and on standard error."""
    print(f"supportlink-peer: {text}", file=sys.stderr)
    if "--headless" not in argv and "--code" not in argv and _has_display(os.environ):
        from .gui import show_problem

        show_problem(text)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
