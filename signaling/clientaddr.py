"""The client's address, seen through trusted reverse proxies. Pure functions.

``X-Forwarded-For`` is believed only when the direct peer is a trusted proxy, and only as far
as the chain of trusted proxies goes: each proxy appends the address it saw, so walking from
the right, the first address that is not a trusted proxy is the client. Anything to its left
was written by the client and is ignored.

Errors::

    ValueError   parse_networks(): a value that is not an IP network (the message names it)

``client_address()`` never raises: a header it cannot read yields the direct peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

__all__ = ["Network", "client_address", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: What ``client_address`` answers when there is no peer address (a Unix socket).
UNKNOWN = "unknown"
#: At most this many entries of X-Forwarded-For are read, from the right.
MAX_HOPS = 32


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The remote address as text (IPv4-mapped IPv6 shown as IPv4).

    ``peer`` is the direct peer (``request.remote``); ``forwarded_for`` is the
    ``X-Forwarded-For`` value (several headers joined with ``","``).
    """
    direct = _address(peer)
    if direct is None:
        return peer if peer else UNKNOWN
    if not forwarded_for or not _is_trusted(direct, trusted):
        return str(direct)
    hops = forwarded_for.rsplit(",", MAX_HOPS)[-MAX_HOPS:]
    found: Address | None = None
    for hop in reversed(hops):
        addr = _address(_strip_port(hop.strip()))
        if addr is None:
            return str(direct)
        found = addr
        if not _is_trusted(addr, trusted):
            return str(addr)
    # every hop was a trusted proxy: the left-most one is the best we know
    return str(found) if found is not None else str(direct)


def is_trusted_peer(peer: str | None, trusted: Sequence[Network]) -> bool:
    """Whether the directly connected ``peer`` is one of the ``trusted`` proxies."""
    addr = _address(peer)
    return addr is not None and _is_trusted(addr, trusted)


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """Networks from ``"10.0.0.0/8"``, ``"::1"``, ``"192.0.2.7"`` (a single host) and so on."""
    networks: list[Network] = []
    for value in values:
        text = value.strip()
        if not text:
            raise ValueError("an empty value is not an IP network")
        try:
            networks.append(ipaddress.ip_network(text, strict=True))
        except ValueError as exc:
            hint = ""
            try:
                hint = f"; did you mean {ipaddress.ip_network(text, strict=False)}?"
            except ValueError:
                pass
            raise ValueError(f"{value!r} is not an IP network: {exc}{hint}") from None
    return tuple(networks)


def _address(text: str | None) -> Address | None:
    if not text or len(text) > 64:
        return None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return addr.ipv4_mapped
        if addr.scope_id is not None:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
    return addr


def _strip_port(text: str) -> str:
    """``[2001:db8::1]:443`` and ``192.0.2.1:443`` without the port; anything else as is."""
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end > 0 else text
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


def _is_trusted(addr: Address, trusted: Sequence[Network]) -> bool:
    return any(addr.version == net.version and addr in net for net in trusted)
