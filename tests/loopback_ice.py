"""Keep in-process aiortc peers on loopback.

aioice gathers host candidates on every interface *except* 127.0.0.1, so two aiortc peers in
one test would pair over the machine's real network address. ``loopback_only()`` makes host
gathering return just ``127.0.0.1`` (aioice resolves ``get_host_addresses`` from its module
at call time) and restores the original afterwards. ``candidate_addresses(sdp)`` lists the
addresses an SDP offers, for the test to assert on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import aioice.ice

LOOPBACK = "127.0.0.1"
_CANDIDATE_RE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ", re.MULTILINE)


def _loopback_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return [LOOPBACK] if use_ipv4 else []


@contextmanager
def loopback_only() -> Iterator[None]:
    original = aioice.ice.get_host_addresses
    aioice.ice.get_host_addresses = _loopback_addresses
    try:
        yield
    finally:
        aioice.ice.get_host_addresses = original


def candidate_addresses(sdp: str) -> set[str]:
    return set(_CANDIDATE_RE.findall(sdp.replace("\r\n", "\n")))
