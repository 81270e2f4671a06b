"""Short-lived TURN credentials (the TURN REST scheme coturn checks with ``use-auth-secret``).

``username = "<unix expiry>:<user>"``, ``password = base64(HMAC-SHA1(secret, username))``.
The relay recomputes the password from the shared secret and refuses the username once its
expiry has passed, so nothing per user is stored anywhere. Pure functions: ``now`` is passed in.

Errors::

    ValueError                  an empty secret or user, a non-positive ttl, a TURN url
                                without a secret, a control character in the user
        protocol.ProtocolError  a url or credential the wire protocol cannot carry
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from collections.abc import Sequence

from wire import protocol

__all__ = ["ice_servers", "rest_credentials"]

_STUN_ONLY = ("stun:", "stuns:")


def rest_credentials(secret: str, user: str, now: float, ttl: int) -> tuple[str, str]:
    """``(username, password)`` valid until ``now + ttl`` (whole seconds)."""
    if not secret:
        raise ValueError("the TURN secret must not be empty")
    if not user:
        raise ValueError("the TURN user must not be empty")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in user):
        raise ValueError(f"the TURN user {user!r} contains a control character")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise ValueError(f"ttl must be a positive whole number of seconds, got {ttl!r}")
    if not math.isfinite(now):
        raise ValueError(f"now must be a finite time, got {now!r}")
    username = f"{int(now) + ttl}:{user}"
    mac = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode("ascii")


def ice_servers(
    urls: Sequence[str], secret: str | None, user: str, now: float, ttl: int
) -> tuple[protocol.IceServer, ...]:
    """What one member of a pair gets in ``paired.ice_servers``.

    No urls: no servers (never a public default). With a secret: one entry carrying every
    url and this user's credentials. Without one: only ``stun:``/``stuns:`` urls are allowed.
    """
    if not urls:
        return ()
    if isinstance(urls, str):
        raise ValueError("urls must be a sequence of urls, not one string")
    if secret is None:
        needing = [u for u in urls if not u.startswith(_STUN_ONLY)]
        if needing:
            raise ValueError(f"TURN url {needing[0]!r} needs a TURN secret for its credentials")
        return (protocol.IceServer(urls=tuple(urls)),)
    username, password = rest_credentials(secret, user, now, ttl)
    return (protocol.IceServer(urls=tuple(urls), username=username, credential=password),)
