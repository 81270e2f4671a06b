"""Token buckets for code guessing and logins. Sans-IO: every call takes ``now`` (seconds).

A bucket holds up to ``burst`` tokens and refills at ``per_second``. Asking costs nothing;
only a failure spends a token, so people who get it right are never slowed down (a login is
charged before its slow password check and refunded when it was right). Clients are keyed by
address, an IPv6 client by its /64. A full
bucket is the same as no bucket, so idle keys are dropped and memory follows the number of
recently failing keys, capped at ``max_keys``. Past the cap the least recently charged key is
forgotten first (it is the one closest to full); the overall guess bucket still holds then.

Errors::

    ValueError   a Rate that could never allow anything (burst < 1, per_second <= 0)

Callers turn a positive ``wait()`` into ``rate_limited`` with ``retry_after`` (see
``protocol.ERROR_CODES``).
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["Buckets", "GuessLimiter", "LoginLimiter", "Rate"]

_OVERALL = ""  # the one key of the overall guess bucket
_MAX_USERNAME_KEY = 256


@dataclass(frozen=True)
class Rate:
    """``burst`` tokens at most, refilled at ``per_second`` tokens each second."""

    burst: float
    per_second: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.burst) and self.burst >= 1):
            raise ValueError(f"burst must be a finite number >= 1, got {self.burst!r}")
        if not (math.isfinite(self.per_second) and self.per_second > 0):
            raise ValueError(f"per_second must be a positive number, got {self.per_second!r}")


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    """Token buckets by key, with bounded memory."""

    def __init__(self, rate: Rate, *, max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys!r}")
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently charged first

    def __len__(self) -> int:
        return len(self._buckets)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` has a whole token; ``0.0`` if it has one now. Takes nothing."""
        tokens = self._tokens(key, now)
        if tokens >= 1.0:
            return 0.0
        return (1.0 - tokens) / self.rate.per_second

    def take(self, key: str, now: float) -> None:
        """Spend one token of ``key`` (down to zero, never below)."""
        tokens = max(0.0, self._tokens(key, now) - 1.0)
        bucket = self._buckets.get(key)
        if bucket is None:
            self._make_room()
            self._buckets[key] = _Bucket(tokens, now)
        else:
            bucket.tokens = tokens
            bucket.at = max(bucket.at, now)
            self._buckets.move_to_end(key)

    def give_back(self, key: str, now: float) -> None:
        """Return one token of ``key`` (up to the burst), for an attempt charged up front that
        turned out not to count."""
        tokens = self._tokens(key, now) + 1.0
        bucket = self._buckets.get(key)
        if bucket is None:
            return  # full already
        if tokens >= self.rate.burst:
            del self._buckets[key]
        else:
            bucket.tokens = tokens
            bucket.at = max(bucket.at, now)

    def _tokens(self, key: str, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return self.rate.burst
        elapsed = max(0.0, now - bucket.at)  # a clock going backwards refills nothing
        tokens = min(self.rate.burst, bucket.tokens + elapsed * self.rate.per_second)
        if tokens >= self.rate.burst:
            del self._buckets[key]  # full is the same as absent
        return tokens

    def _make_room(self) -> None:
        while len(self._buckets) >= self.max_keys:
            self._buckets.popitem(last=False)


class GuessLimiter:
    """Code guessing on ``/ws/peer``: one bucket per client address and one for everyone."""

    def __init__(
        self,
        per_client: Rate = Rate(10, 1 / 6),
        overall: Rate = Rate(300, 5.0),
        *,
        max_keys: int = 100_000,
    ) -> None:
        self.per_client = Buckets(per_client, max_keys=max_keys)
        self.overall = Buckets(overall, max_keys=1)

    def wait(self, client: str, now: float) -> float:
        """``0.0`` if ``client`` may try a code now, else the seconds to wait."""
        return max(self.per_client.wait(_client_key(client), now), self.overall.wait(_OVERALL, now))

    def failed(self, client: str, now: float) -> None:
        """A wrong, expired or used code: spends a token from both buckets."""
        self.per_client.take(_client_key(client), now)
        self.overall.take(_OVERALL, now)


class LoginLimiter:
    """Operator logins: one bucket per client address and one per user name."""

    def __init__(
        self,
        per_client: Rate = Rate(10, 1 / 6),
        per_user: Rate = Rate(5, 1 / 12),
        *,
        max_keys: int = 100_000,
    ) -> None:
        self.per_client = Buckets(per_client, max_keys=max_keys)
        self.per_user = Buckets(per_user, max_keys=max_keys)

    def wait(self, client: str, username: str, now: float) -> float:
        """``0.0`` if this login may be tried now, else the seconds to wait. Takes nothing."""
        return max(
            self.per_client.wait(_client_key(client), now),
            self.per_user.wait(_user_key(username), now),
        )

    def begin(self, client: str, username: str, now: float) -> float:
        """Charge a login about to be checked: ``0.0`` and a token spent from both buckets, or
        the seconds to wait (nothing spent). Charging before the (slow) password check, not
        after it fails, keeps many concurrent attempts from all finding the buckets full."""
        wait = self.wait(client, username, now)
        if wait == 0.0:
            self.per_client.take(_client_key(client), now)
            self.per_user.take(_user_key(username), now)
        return wait

    def succeeded(self, client: str, username: str, now: float) -> None:
        """The password was right: the attempt does not count against anyone."""
        self.per_client.give_back(_client_key(client), now)
        self.per_user.give_back(_user_key(username), now)


def _client_key(client: str) -> str:
    # One IPv6 host usually has a whole /64 to itself: count it as one client.
    try:
        addr = ipaddress.ip_address(client)
    except ValueError:
        return client[:_MAX_USERNAME_KEY]
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return client


def _user_key(username: str) -> str:
    # Case variants of one name share a bucket; very long names cannot grow memory.
    return username.casefold()[:_MAX_USERNAME_KEY]
