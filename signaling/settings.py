"""Server configuration: one frozen ``ServerSettings``, built in ``cli.main`` and passed down.

Every value is checked when the settings are built; a bad value raises ``SettingsError``
(a ``ValueError``) whose message names the option and the value. Nothing here reads the
environment: defaults taken from the environment are resolved in ``cli.main`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from signaling.clientaddr import Network, parse_networks
from wire.binding import BindingError, check_server

#: Where the console's files live when no other directory is given.
DEFAULT_WEBUI_DIR = Path(__file__).resolve().parent.parent / "webui"

_TURN_URL = re.compile(r"(turn|turns|stun|stuns):[^\s?]+(\?transport=(udp|tcp))?")


class SettingsError(ValueError):
    """A setting has a value the server cannot run with; the message names it."""


def _positive(name: str, value: float, *, maximum: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise SettingsError(f"{name} must be a positive number, got {value!r}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:g}, got {value!r}")


#: Longest display name or organisation (characters).
MAX_SHOWN_NAME = 64


def is_shown_name(text: str) -> bool:
    """A name shown to customers: 1..64 printable characters, not only spaces."""
    return 0 < len(text) <= MAX_SHOWN_NAME and text.isprintable() and bool(text.strip())


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """Everything the signaling server needs to run; see ``supportlink serve --help``."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    #: Life of a session code in seconds (15 minutes).
    code_ttl: float = 900.0
    #: Networks of reverse proxies whose ``X-Forwarded-For`` is believed (CIDR or address).
    trusted_proxies: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    #: Life of TURN REST credentials in seconds.
    turn_ttl: int = 12 * 3600
    tls_cert: Path | None = None
    tls_key: Path | None = None
    webui_dir: Path = DEFAULT_WEBUI_DIR
    #: Folder of customer programs written by ``scripts/build-peer`` (None: offer none).
    downloads_dir: Path | None = None
    #: This server's address as customers reach it, put into downloaded programs; by default
    #: the scheme and host each browser used.
    public_url: str | None = None
    #: The organisation customers are told they are dealing with ("Acme IT"), shown beside
    #: the operator's name in every question the customer's program asks.
    organisation: str | None = None
    #: Seconds a paired session waits for a member whose connection was lost to come back
    #: (``resume``) before it ends; 0 ends it at once.
    resume_within: float = 60.0
    #: WebSocket ping interval in seconds; a side that misses a pong for half of it is dropped.
    heartbeat: float = 15.0
    #: Live sessions (waiting, claimed or paired) the server holds at once.
    max_sessions: int = 20_000
    #: Open signaling sockets the server holds at once (both endpoints together).
    max_connections: int = 50_000
    #: Malformed frames tolerated on one socket before it is closed (1008).
    max_bad_frames: int = 20
    #: Life of an operator's login (web session) in seconds.
    login_ttl: float = 12 * 3600.0
    #: Code guessing: failed joins one client may make at once, and their refill per second.
    guess_burst: float = 10.0
    guess_per_second: float = 1 / 6
    #: Code guessing over all clients together.
    guess_overall_burst: float = 200.0
    guess_overall_per_second: float = 5.0
    #: Failed logins: per client address, and per user name.
    login_burst: float = 10.0
    login_per_second: float = 1 / 6
    login_user_burst: float = 5.0
    login_user_per_second: float = 1 / 12
    #: scrypt cost for passwords set by the server (first ``admin``); tests lower it.
    password_cost: int = 2**15
    _networks: tuple[Network, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        if not isinstance(self.data_dir, Path):
            raise SettingsError(f"data_dir must be a path, got {self.data_dir!r}")
        if not self.host:
            raise SettingsError("host must not be empty")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise SettingsError(f"port must be an integer, got {self.port!r}")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port must be within 0..65535, got {self.port}")
        _positive("code_ttl", self.code_ttl, maximum=7 * 86400)
        _positive("turn_ttl", self.turn_ttl, maximum=7 * 86400)
        _positive("heartbeat", self.heartbeat, maximum=3600)
        _positive("login_ttl", self.login_ttl)
        for name in (
            "guess_burst",
            "guess_per_second",
            "guess_overall_burst",
            "guess_overall_per_second",
            "login_burst",
            "login_per_second",
            "login_user_burst",
            "login_user_per_second",
        ):
            _positive(name, getattr(self, name))
        for name in ("max_sessions", "max_connections", "max_bad_frames"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name} must be a positive integer, got {value!r}")
        cost = self.password_cost
        if not isinstance(cost, int) or cost < 2 or cost & (cost - 1):
            raise SettingsError(f"password_cost must be a power of two, got {cost!r}")
        for name in ("guess_burst", "guess_overall_burst", "login_burst", "login_user_burst"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        try:
            networks = parse_networks(self.trusted_proxies)
        except ValueError as exc:
            raise SettingsError(f"trusted proxy: {exc}") from None
        object.__setattr__(self, "_networks", networks)
        for url in self.turn_urls:
            if not _TURN_URL.fullmatch(url):
                raise SettingsError(
                    f"TURN URL {url!r} is not of the form turns:HOST:PORT?transport=tcp"
                )
        if any(url.startswith("turn") for url in self.turn_urls) and not self.turn_secret:
            raise SettingsError("TURN URLs are set but no TURN secret is given")
        if self.turn_secret is not None and not self.turn_secret:
            raise SettingsError("the TURN secret must not be empty")
        if len(self.turn_urls) > 8:
            raise SettingsError(f"at most 8 TURN URLs are allowed, got {len(self.turn_urls)}")
        if self.public_url is not None:
            try:
                check_server(self.public_url)
            except BindingError:
                raise SettingsError(
                    f"public URL {self.public_url!r} is not of the form "
                    "https://support.example.com[:port][/path]"
                ) from None
        if not 0 <= self.resume_within <= 3600:
            raise SettingsError(
                f"resume_within must be 0 to 3600 seconds, got {self.resume_within}"
            )
        if self.organisation is not None and not is_shown_name(self.organisation):
            raise SettingsError(
                f"the organisation must be 1 to {MAX_SHOWN_NAME} printable characters"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingsError("TLS needs both a certificate and a key (--tls-cert, --tls-key)")
        for name in ("tls_cert", "tls_key"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise SettingsError(f"{name} {str(path)!r} is not a readable file")

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        """``trusted_proxies`` parsed into networks."""
        return self._networks

    @property
    def tls(self) -> bool:
        """Whether the server itself speaks TLS."""
        return self.tls_cert is not None

    @property
    def console_url(self) -> str:
        """The address an operator opens in the browser."""
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}/"
