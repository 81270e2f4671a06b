"""A coturn ``turnserver.conf`` for SupportLink, as text. Pure: nothing is written or run here.

The relay authenticates with the TURN REST scheme (``use-auth-secret`` with the same shared
secret the signaling server signs credentials with), relays UDP only, and refuses to relay to
private, loopback, link-local, multicast and reserved addresses, so a TURN allocation cannot be
used to reach the relay's own network. ``allow_loopback_peers`` opens loopback alone, for
tests on one machine; ``allowed_peer_ips`` opens chosen networks (a test's own namespace, a
LAN-only deployment).

Errors::

    ValueError   a value coturn would misread or that is out of range (the message names the
                 field): empty realm or secret, a newline or other control character anywhere,
                 an address that is not an IP, ports out of order, a cert without a key
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, fields

__all__ = ["DENIED_PEER_RANGES", "LOOPBACK_RANGES", "CoturnConfig", "render"]

#: Peer addresses the relay refuses (RFC 6890 special-purpose space, both families).
DENIED_PEER_RANGES: tuple[str, ...] = (
    "0.0.0.0-0.255.255.255",
    "10.0.0.0-10.255.255.255",
    "100.64.0.0-100.127.255.255",
    "127.0.0.0-127.255.255.255",
    "169.254.0.0-169.254.255.255",
    "172.16.0.0-172.31.255.255",
    "192.0.0.0-192.0.0.255",
    "192.0.2.0-192.0.2.255",
    "192.88.99.0-192.88.99.255",
    "192.168.0.0-192.168.255.255",
    "198.18.0.0-198.19.255.255",
    "198.51.100.0-198.51.100.255",
    "203.0.113.0-203.0.113.255",
    "224.0.0.0-255.255.255.255",
    "::1-::1",
    "::ffff:0.0.0.0-::ffff:255.255.255.255",
    "64:ff9b::-64:ff9b::ffff:ffff",
    "100::-100::ffff:ffff:ffff:ffff",
    "2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
    "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    "2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "ff00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
)
#: The ranges that ``allow_loopback_peers`` takes out of the denied list.
LOOPBACK_RANGES = ("127.0.0.0-127.255.255.255", "::1-::1")

_REALM_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_SECRET_RE = re.compile(r"[!-~]{1,512}")  # printable ASCII, no spaces
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


@dataclass(frozen=True, kw_only=True)
class CoturnConfig:
    """What differs between coturn deployments; everything else is fixed policy."""

    realm: str
    secret: str
    #: Addresses to listen on; empty: all of the machine's addresses.
    listening_ips: tuple[str, ...] = ()
    #: Public address, or ``"public/private"`` when coturn sits behind 1:1 NAT.
    external_ip: str | None = None
    #: Addresses to relay from; empty: the listening addresses.
    relay_ips: tuple[str, ...] = ()
    port: int = 3478
    tls_port: int = 443
    tls_cert: str | None = None
    tls_key: str | None = None
    min_port: int = 49152
    max_port: int = 65535
    allow_loopback_peers: bool = False
    #: Extra peer networks to relay to despite the denied list (``"10.77.0.0/16"``).
    allowed_peer_ips: tuple[str, ...] = ()
    #: ``None``: log to standard output (the journal under systemd).
    log_file: str | None = None
    pid_file: str | None = None
    #: coturn's SQLite database (unused with REST credentials, but coturn opens one);
    #: ``None``: coturn's default location.
    db_file: str | None = None
    #: Concurrent allocations per TURN user (one peer or console: a few per session).
    user_quota: int = 12
    #: Concurrent allocations on this relay.
    total_quota: int = 1200
    #: Bytes per second per session; 0: unlimited.
    max_bps: int = 0
    #: Seconds a nonce lives before the client must re-authenticate.
    stale_nonce: int = 600

    def __post_init__(self) -> None:
        for f in fields(self):
            _no_control(f.name, getattr(self, f.name))
        if not _REALM_RE.fullmatch(self.realm):
            raise ValueError(f"realm {self.realm!r} is not a host name")
        if not _SECRET_RE.fullmatch(self.secret):
            raise ValueError("secret must be 1 to 512 printable ASCII characters without spaces")
        for name in ("listening_ips", "relay_ips", "allowed_peer_ips"):
            if isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a tuple of addresses, not one string")
        for ip in self.listening_ips:
            _ip("listening_ips", ip)
        for ip in self.relay_ips:
            _ip("relay_ips", ip)
        for net in self.allowed_peer_ips:
            _network("allowed_peer_ips", net)
        if self.external_ip is not None:
            parts = self.external_ip.split("/")
            if len(parts) > 2:
                raise ValueError(f"external_ip {self.external_ip!r} is not 'public[/private]'")
            for part in parts:
                _ip("external_ip", part)
        for name in ("port", "tls_port", "min_port", "max_port"):
            _int(name, getattr(self, name), 1, 65535)
        if self.min_port > self.max_port:
            raise ValueError(f"min_port {self.min_port} is above max_port {self.max_port}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both tls_cert and tls_key")
        for name in ("tls_cert", "tls_key", "log_file", "pid_file", "db_file"):
            value = getattr(self, name)
            if value is not None and (not value.strip() or value != value.strip()):
                raise ValueError(f"{name} {value!r} is not a usable path")
        _int("user_quota", self.user_quota, 0, 1_000_000)
        _int("total_quota", self.total_quota, 0, 10_000_000)
        _int("max_bps", self.max_bps, 0, 10**12)
        _int("stale_nonce", self.stale_nonce, 1, 86400)
        if not isinstance(self.allow_loopback_peers, bool):
            raise ValueError("allow_loopback_peers must be true or false")

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


def render(cfg: CoturnConfig) -> str:
    """The text of a ``turnserver.conf`` for ``cfg``."""
    lines = [
        "# coturn configuration for SupportLink (supportlink turn-config).",
        "# Keep this file private: it holds the shared TURN secret.",
        "",
        "# Authentication: TURN REST credentials signed with the shared secret.",
        "use-auth-secret",
        f"static-auth-secret={cfg.secret}",
        f"realm={cfg.realm}",
        f"stale-nonce={cfg.stale_nonce}",
        "",
        "# Where to listen and relay from.",
        *(f"listening-ip={ip}" for ip in cfg.listening_ips),
        *(f"relay-ip={ip}" for ip in cfg.relay_ips),
        *([f"external-ip={cfg.external_ip}"] if cfg.external_ip else []),
        f"listening-port={cfg.port}",
        f"min-port={cfg.min_port}",
        f"max-port={cfg.max_port}",
    ]
    if cfg.tls:
        lines += [
            f"tls-listening-port={cfg.tls_port}",
            f"cert={cfg.tls_cert}",
            f"pkey={cfg.tls_key}",
            "no-tlsv1",
            "no-tlsv1_1",
        ]
    else:
        lines += ["no-tls"]
    lines += [
        "no-dtls",
        "",
        "# Policy: UDP relays only, no multicast, no private or reserved peers.",
        "no-tcp-relay",
        "no-multicast-peers",
        *(["allow-loopback-peers"] if cfg.allow_loopback_peers else []),
        *(f"denied-peer-ip={r}" for r in _denied(cfg.allow_loopback_peers)),
        *(f"allowed-peer-ip={_as_range(n)}" for n in cfg.allowed_peer_ips),
        f"user-quota={cfg.user_quota}",
        f"total-quota={cfg.total_quota}",
        *([f"max-bps={cfg.max_bps}"] if cfg.max_bps else []),
        "fingerprint",
        "no-cli",
        "no-software-attribute",
        "no-rfc5780",
        "no-stun-backward-compatibility",
        "",
        "# Logging and process.",
        f"log-file={cfg.log_file or 'stdout'}",
        "simple-log",
        *([f"pidfile={cfg.pid_file}"] if cfg.pid_file else []),
        *([f"userdb={cfg.db_file}"] if cfg.db_file else []),
    ]
    return "\n".join(lines) + "\n"


def _denied(allow_loopback: bool) -> tuple[str, ...]:
    if not allow_loopback:
        return DENIED_PEER_RANGES
    return tuple(r for r in DENIED_PEER_RANGES if r not in LOOPBACK_RANGES)


def _no_control(name: str, value: object) -> None:
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if isinstance(v, str) and _CONTROL_RE.search(v):
            raise ValueError(f"{name} must not contain newlines or control characters")


def _ip(name: str, text: str) -> None:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not an IP address") from None


def _network(name: str, text: str) -> None:
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"{name}: {text!r} is not an IP network ({exc})") from None


def _as_range(text: str) -> str:
    net = ipaddress.ip_network(text, strict=True)
    return f"{net.network_address}-{net.broadcast_address}"


def _int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
