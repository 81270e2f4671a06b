"""Client addresses behind trusted proxies; pure functions, no event loop."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signaling.clientaddr import client_address, is_trusted_peer, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "127.0.0.1", "fd00::/8"])


def test_direct_peer_without_proxies() -> None:
    assert client_address("203.0.113.7", None, ()) == "203.0.113.7"
    assert client_address("203.0.113.7", "198.51.100.1", ()) == "203.0.113.7"


def test_header_ignored_when_peer_is_not_trusted() -> None:
    assert client_address("203.0.113.7", "198.51.100.1", PROXIES) == "203.0.113.7"


def test_trusted_peer_uses_the_forwarded_address() -> None:
    assert client_address("127.0.0.1", "198.51.100.1", PROXIES) == "198.51.100.1"


def test_right_most_untrusted_address_wins_over_spoofed_ones() -> None:
    header = "1.2.3.4, 198.51.100.1, 10.1.2.3"  # the client made up 1.2.3.4
    assert client_address("10.0.0.5", header, PROXIES) == "198.51.100.1"


def test_all_hops_trusted_gives_the_left_most() -> None:
    assert client_address("127.0.0.1", "10.9.9.9, 10.1.1.1", PROXIES) == "10.9.9.9"


def test_trusted_peer_without_header_is_itself() -> None:
    assert client_address("127.0.0.1", None, PROXIES) == "127.0.0.1"
    assert client_address("127.0.0.1", "", PROXIES) == "127.0.0.1"


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "unknown",
        "198.51.100.1, not-an-ip",
        " , ",
        "198.51.100.1,",
        "999.1.1.1",
        "\x00",
        "x" * 10_000,
        "[::1",
    ],
)
def test_garbage_header_gives_the_direct_peer(header: str) -> None:
    assert client_address("127.0.0.1", header, PROXIES) == "127.0.0.1"


def test_garbage_left_of_the_client_is_ignored() -> None:
    assert client_address("127.0.0.1", "junk, 198.51.100.1", PROXIES) == "198.51.100.1"


def test_ports_and_brackets_in_the_header() -> None:
    assert client_address("127.0.0.1", "198.51.100.1:5555", PROXIES) == "198.51.100.1"
    assert client_address("127.0.0.1", "[2001:db8::1]:443", PROXIES) == "2001:db8::1"
    assert client_address("127.0.0.1", "2001:db8::1", PROXIES) == "2001:db8::1"


def test_ipv6_proxies_and_normal_form() -> None:
    assert client_address("fd00::1", "2001:DB8:0:0::7", PROXIES) == "2001:db8::7"
    assert client_address("2001:db8::9", "198.51.100.1", PROXIES) == "2001:db8::9"


def test_ipv4_mapped_peer_is_shown_as_ipv4_and_can_be_trusted() -> None:
    assert client_address("::ffff:203.0.113.7", None, ()) == "203.0.113.7"
    assert client_address("::ffff:10.0.0.5", "198.51.100.1", PROXIES) == "198.51.100.1"


def test_missing_or_odd_peer() -> None:
    assert client_address(None, "198.51.100.1", PROXIES) == "unknown"
    assert client_address("", None, PROXIES) == "unknown"
    # not an IP (a Unix socket path, say): shown as it is, the header is not believed
    assert client_address("/run/supportlink.sock", "198.51.100.1", PROXIES) == (
        "/run/supportlink.sock"
    )


def test_only_the_last_hops_are_read() -> None:
    header = ", ".join(["10.0.0.1"] * 100 + ["198.51.100.1"] + ["10.0.0.2"] * 40)
    # the client is 41 hops from the right, past the 32 that are read: the left-most read
    # (trusted) hop is the answer, never a made-up address further left
    assert client_address("10.0.0.3", header, PROXIES) == "10.0.0.2"


def test_parse_networks() -> None:
    nets = parse_networks(["10.0.0.0/8", " 192.0.2.7 ", "::1", "2001:db8::/32"])
    assert nets == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    assert parse_networks([]) == ()


@pytest.mark.parametrize(
    "value, words",
    [
        ("10.0.0.1/8", "did you mean 10.0.0.0/8"),
        ("localhost", "'localhost' is not an IP network"),
        ("", "empty"),
        ("10.0.0.0/33", "'10.0.0.0/33'"),
    ],
)
def test_parse_networks_refuses_with_a_clear_message(value: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_networks(["127.0.0.1", value])


@given(peer=st.one_of(st.none(), st.text(max_size=50)), header=st.one_of(st.none(), st.text()))
def test_never_raises(peer: str | None, header: str | None) -> None:
    result = client_address(peer, header, PROXIES)
    assert isinstance(result, str) and result


@given(
    client=st.ip_addresses(v=4).filter(lambda a: not a.is_private),
    junk=st.text(max_size=40).filter(lambda s: "," not in s),
)
def test_client_is_found_whatever_it_prepends(client: ipaddress.IPv4Address, junk: str) -> None:
    header = f"{junk}, {client}, 10.20.30.40"
    assert client_address("10.0.0.1", header, PROXIES) == str(client)


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        ("10.0.0.5", True),
        ("::ffff:10.0.0.5", True),  # an IPv4 proxy seen on a dual-stack listener
        ("10.0.1.5", False),
        ("fe80::1%eth0", False),
        (None, False),
        ("not an address", False),
    ],
)
def test_is_trusted_peer_reads_addresses_like_client_address(
    peer: str | None, trusted: bool
) -> None:
    assert is_trusted_peer(peer, parse_networks(["10.0.0.0/24"])) is trusted
