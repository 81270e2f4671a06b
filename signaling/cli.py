"""``supportlink``: run the server and administer it.

::

    supportlink serve [--host H] [--port P] [--data-dir D] [--code-ttl S] [--trusted-proxy CIDR]
                      [--turn-url URL ...] [--turn-secret S] [--tls-cert F --tls-key F]
    supportlink operator add|passwd|list|remove [NAME] [--data-dir D]
    supportlink audit [--limit N] [--json] [--data-dir D]
    supportlink turn-config --realm R [--turn-secret S] [--listening-ip IP ...] [--cert F ...]

Environment defaults are read here only: ``SUPPORTLINK_DATA_DIR``, ``SUPPORTLINK_HOST``,
``SUPPORTLINK_PORT``, ``SUPPORTLINK_DOWNLOADS_DIR``, ``SUPPORTLINK_PUBLIC_URL``,
``SUPPORTLINK_TRUSTED_PROXY`` and ``SUPPORTLINK_TURN_URL`` (both
comma-separated), ``SUPPORTLINK_TURN_SECRET``. Exit codes: 0 done, 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import getpass
import json
import logging
import os
import re
import secrets
import shutil
import ssl
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from signaling.passwords import MAX_PASSWORD_CHARS, hash_password
from signaling.settings import ServerSettings, SettingsError
from signaling.store import OperatorExists, Store, StoreError, UnknownOperator

logger = logging.getLogger(__name__)

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 8
FIRST_OPERATOR = "admin"


class CliError(Exception):
    """Bad usage or input: the message goes to stderr and the exit code is 2."""


def default_data_dir(env: Mapping[str, str]) -> Path:
    if env.get("SUPPORTLINK_DATA_DIR"):
        return Path(env["SUPPORTLINK_DATA_DIR"])
    xdg = env.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "supportlink"


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(env),
        help="directory of the database, created if missing "
        "(default: $SUPPORTLINK_DATA_DIR, $XDG_DATA_HOME/supportlink or "
        "~/.local/share/supportlink; now %(default)s)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser = argparse.ArgumentParser(
        prog="supportlink", description="SupportLink signaling server and its administration."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the server and the console")
    serve.add_argument("--host", default=env.get("SUPPORTLINK_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(env.get("SUPPORTLINK_PORT", "8080")))
    serve.add_argument(
        "--code-ttl", type=float, default=900.0, help="life of a session code in seconds"
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        metavar="CIDR",
        help="reverse proxy whose X-Forwarded-For is believed (repeatable)",
    )
    serve.add_argument(
        "--turn-url",
        action="append",
        metavar="URL",
        help="TURN server for paired members (repeatable); first: turns:HOST:443?transport=tcp",
    )
    _secret_options(serve, env)
    serve.add_argument(
        "--turn-ttl", type=int, default=12 * 3600, help="life of TURN credentials in seconds"
    )
    serve.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM)")
    serve.add_argument("--webui-dir", type=Path, help="serve the console from this directory")
    serve.add_argument(
        "--heartbeat", type=float, default=15.0, help="WebSocket ping interval in seconds"
    )
    serve.add_argument("--max-sessions", type=int, default=20_000, help="live sessions at most")
    serve.add_argument(
        "--downloads-dir",
        type=Path,
        default=Path(env["SUPPORTLINK_DOWNLOADS_DIR"])
        if env.get("SUPPORTLINK_DOWNLOADS_DIR")
        else None,
        help="customer programs to offer on /join, as scripts/build-peer writes them "
        "(default: $SUPPORTLINK_DOWNLOADS_DIR, else DATA_DIR/downloads)",
    )
    serve.add_argument(
        "--public-url",
        default=env.get("SUPPORTLINK_PUBLIC_URL") or None,
        metavar="URL",
        help="this server's address as customers reach it, written into downloaded programs "
        "(default: $SUPPORTLINK_PUBLIC_URL, else the address each browser used)",
    )
    serve.add_argument(
        "--resume-within",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long a session waits for a side whose network dropped to come back "
        "(default: 60; 0 ends it at once)",
    )
    serve.add_argument(
        "--organisation",
        default=env.get("SUPPORTLINK_ORGANISATION") or None,
        metavar="NAME",
        help="your organisation's name, shown to customers beside the operator's name "
        "(default: $SUPPORTLINK_ORGANISATION)",
    )
    serve.set_defaults(
        func=cmd_serve,
        env_trusted_proxy=_split(env.get("SUPPORTLINK_TRUSTED_PROXY")),
        env_turn_url=_split(env.get("SUPPORTLINK_TURN_URL")),
    )

    operator = sub.add_parser("operator", help="manage operator accounts")
    op_sub = operator.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, func, text in (
        ("add", cmd_operator_add, "add an operator (password from the terminal or stdin)"),
        ("passwd", cmd_operator_passwd, "set an operator's password and log them out"),
        ("remove", cmd_operator_remove, "remove an operator"),
    ):
        p = op_sub.add_parser(action, parents=[common], help=text)
        p.add_argument("name", metavar="NAME")
        p.set_defaults(func=func)
    p = op_sub.add_parser("list", parents=[common], help="list operators")
    p.set_defaults(func=cmd_operator_list)

    audit = sub.add_parser("audit", parents=[common], help="print session start/end records")
    audit.add_argument("--limit", type=int, default=100, help="most recent N sessions")
    audit.add_argument("--json", action="store_true", help="print JSON instead of a table")
    audit.set_defaults(func=cmd_audit)

    turn = sub.add_parser(
        "turn-config", parents=[common], help="print a coturn configuration for this server"
    )
    turn.add_argument("--realm", help="TURN realm (default: the host of the first --turn-url)")
    turn.add_argument(
        "--turn-url",
        action="append",
        metavar="URL",
        help="the server's --turn-url values (to derive the realm)",
    )
    _secret_options(turn, env)
    turn.add_argument(
        "--listening-ip",
        action="append",
        default=[],
        metavar="IP",
        help="address coturn listens on (repeatable; default: all)",
    )
    turn.add_argument(
        "--external-ip", help="public address (or PUBLIC/PRIVATE) when coturn is behind NAT"
    )
    turn.add_argument(
        "--relay-ip", action="append", default=[], metavar="IP", help="address to relay from"
    )
    turn.add_argument(
        "--allowed-peer-ip",
        action="append",
        default=[],
        metavar="CIDR",
        help="private network coturn may relay to despite its deny list (repeatable)",
    )
    turn.add_argument(
        "--allow-loopback-peers", action="store_true", help="relay to loopback (tests only)"
    )
    turn.add_argument("--port", type=int, default=3478, help="plain TURN port (UDP and TCP)")
    turn.add_argument("--tls-port", type=int, default=443, help="TURN over TLS port")
    turn.add_argument("--cert", type=Path, help="TLS certificate for turns: (PEM)")
    turn.add_argument("--key", type=Path, help="its private key (PEM)")
    turn.add_argument("--min-port", type=int, default=49152, help="lowest relay port")
    turn.add_argument("--max-port", type=int, default=65535, help="highest relay port")
    turn.set_defaults(func=cmd_turn_config, env_turn_url=_split(env.get("SUPPORTLINK_TURN_URL")))
    return parser


def _secret_options(parser: argparse.ArgumentParser, env: Mapping[str, str]) -> None:
    parser.add_argument(
        "--turn-secret",
        default=env.get("SUPPORTLINK_TURN_SECRET") or None,
        help="shared TURN REST secret (default: $SUPPORTLINK_TURN_SECRET)",
    )
    parser.add_argument(
        "--turn-secret-file", type=Path, help="read the shared TURN secret from this file"
    )


def _turn_secret(args: argparse.Namespace) -> str | None:
    if args.turn_secret_file is not None:
        try:
            return str(args.turn_secret_file.read_text()).strip() or None
        except OSError as exc:
            raise CliError(f"cannot read the TURN secret file: {exc}") from None
    secret: str | None = args.turn_secret
    return secret


def _program() -> str:
    """How to call this program again: by name when PATH finds it, else by its path."""
    path = sys.argv[0] if sys.argv else ""
    if os.path.basename(path) != "supportlink" or shutil.which("supportlink") == os.path.abspath(
        path
    ):
        return "supportlink"
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``supportlink``; returns the exit code."""
    parser = build_parser(os.environ)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, message printed)
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose
        else logging.INFO
        if args.command == "serve"
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (CliError, SettingsError, StoreError, OSError) as exc:
        print(f"supportlink: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


# --------------------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from signaling.app import create_app

    extra: dict[str, Any] = {}
    if args.webui_dir is not None:
        extra["webui_dir"] = args.webui_dir
    settings = ServerSettings(
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        code_ttl=args.code_ttl,
        trusted_proxies=tuple(args.trusted_proxy or args.env_trusted_proxy),
        turn_urls=tuple(args.turn_url or args.env_turn_url),
        turn_secret=_turn_secret(args),
        turn_ttl=args.turn_ttl,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        heartbeat=args.heartbeat,
        max_sessions=args.max_sessions,
        downloads_dir=args.downloads_dir or args.data_dir / "downloads",
        public_url=args.public_url,
        organisation=args.organisation,
        resume_within=args.resume_within,
        **extra,
    )
    ssl_context = None
    if settings.tls_cert is not None and settings.tls_key is not None:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ssl_context.load_cert_chain(settings.tls_cert, settings.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise CliError(f"cannot load the TLS certificate or key: {exc}") from None
    if settings.turn_urls and not settings.turn_urls[0].startswith("turns:"):
        logger.warning("the first TURN URL should be turns:HOST:443?transport=tcp")
    with Store(settings.data_dir) as store:
        if store.operator_count() == 0:
            password = secrets.token_urlsafe(18)
            store.add_operator(
                FIRST_OPERATOR, hash_password(password, n=settings.password_cost), time.time()
            )
            print(
                f"First start: created operator {FIRST_OPERATOR!r} with password: {password}\n"
                "It is shown only this once. Change it with:\n"
                f"  {_program()} operator passwd {FIRST_OPERATOR} --data-dir {settings.data_dir}",
                flush=True,
            )

    def started(_: str) -> None:
        tune_gc()
        print(f"SupportLink console: {settings.console_url}", flush=True)
        print(f"Customers' page: {settings.console_url}join", flush=True)

    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ssl_context=ssl_context,
        print=started,
        access_log=None,
    )
    return 0


def tune_gc() -> None:
    """Keep garbage collection from stopping the event loop for long.

    A server with thousands of sockets holds millions of long-lived objects, and a full
    collection walks them all: 590 ms at 10,000 waiting sessions (bench/signaling.py), during
    which no message is relayed. What is alive once the server listens is frozen out of
    collection, and collections run less often (cycles are still collected).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(700, 10, 100)


# --------------------------------------------------------------------------- operators


def _check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise CliError(
            f"operator name {name[:64]!r} must be 1-64 letters, digits or . _ @ - "
            "(starting with a letter or digit)"
        )
    return name


def read_password(stdin: TextIO | None = None) -> str:
    """Twice from the terminal, or one line from a stdin that is not a terminal."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise CliError("the passwords do not match")
        password = first
    else:
        line = stdin.readline()
        if not line:
            raise CliError("no password on standard input")
        password = line.rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise CliError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise CliError(f"the password must have at most {MAX_PASSWORD_CHARS} characters")
    return password


def cmd_operator_add(args: argparse.Namespace) -> int:
    name = _check_name(args.name)
    with Store(args.data_dir) as store:
        if store.password_hash(name) is not None:
            raise CliError(f"operator {name!r} already exists")
        password = read_password()
        try:
            store.add_operator(name, hash_password(password), time.time())
        except OperatorExists as exc:
            raise CliError(str(exc)) from None
    print(f"operator {name!r} added")
    return 0


def cmd_operator_passwd(args: argparse.Namespace) -> int:
    with Store(args.data_dir) as store:
        if store.password_hash(args.name) is None:
            raise CliError(f"no operator is named {args.name[:64]!r}")
        password = read_password()
        try:
            store.set_password(args.name, hash_password(password))
        except UnknownOperator as exc:
            raise CliError(str(exc)) from None
    print(f"password of {args.name!r} changed; their console logins were ended")
    return 0


def cmd_operator_remove(args: argparse.Namespace) -> int:
    with Store(args.data_dir) as store:
        try:
            store.remove_operator(args.name)
        except UnknownOperator as exc:
            raise CliError(str(exc)) from None
    print(f"operator {args.name!r} removed")
    return 0


def cmd_operator_list(args: argparse.Namespace) -> int:
    with Store(args.data_dir) as store:
        for op in store.list_operators():
            print(f"{op.name}\t(added {_when(op.created_at)})")
    return 0


# --------------------------------------------------------------------------- audit


def _when(t: float | None) -> str:
    if t is None:
        return "-"
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _printable(text: str) -> str:
    """Peer-reported text without terminal control characters."""
    return "".join(c if c.isprintable() else "?" for c in text)


def cmd_audit(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CliError(f"--limit must be at least 1, got {args.limit}")
    with Store(args.data_dir) as store:
        records = store.list_sessions(args.limit)
    if args.json:
        print(json.dumps([r.as_json() for r in records], indent=2))
        return 0
    header = ("started (UTC)", "ended (UTC)", "duration", "operator", "mode", "host", "user")
    rows = [header + ("os", "allowed", "end reason")]
    for r in records:
        rows.append(
            (
                _when(r.started_at),
                _when(r.ended_at),
                _duration(r.duration),
                _printable(r.operator),
                r.mode,
                _printable(r.host)[:40],
                _printable(r.user)[:40],
                _printable(r.os)[:40],
                ",".join(r.capabilities) or "-",
                r.end_reason or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if not records:
        print("(no sessions recorded)")
    return 0


# --------------------------------------------------------------------------- coturn


def cmd_turn_config(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from turn.coturn import CoturnConfig, render

    secret = _turn_secret(args)
    if not secret:
        raise CliError(
            "turn-config needs the server's shared secret: --turn-secret, --turn-secret-file "
            "or $SUPPORTLINK_TURN_SECRET (make one with: openssl rand -hex 32)"
        )
    realm = args.realm
    urls = args.turn_url or args.env_turn_url
    if realm is None and urls:
        # turns:HOST:PORT?transport=tcp -> HOST
        rest = urlsplit(urls[0]).path
        realm = rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest
    if not realm:
        raise CliError("turn-config needs --realm (or --turn-url to take it from)")
    if (args.cert is None) != (args.key is None):
        raise CliError("TURN over TLS needs both --cert and --key")
    try:
        cfg = CoturnConfig(
            realm=realm,
            secret=secret,
            listening_ips=tuple(args.listening_ip),
            external_ip=args.external_ip,
            relay_ips=tuple(args.relay_ip),
            allowed_peer_ips=tuple(args.allowed_peer_ip),
            allow_loopback_peers=args.allow_loopback_peers,
            port=args.port,
            tls_port=args.tls_port,
            tls_cert=str(args.cert) if args.cert else None,
            tls_key=str(args.key) if args.key else None,
            min_port=args.min_port,
            max_port=args.max_port,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    sys.stdout.write(render(cfg))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
