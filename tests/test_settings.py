"""ServerSettings: defaults and the checks that name the bad value."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from signaling.settings import ServerSettings, SettingsError


def make(**kw: Any) -> ServerSettings:
    return ServerSettings(data_dir=Path("/tmp/supportlink-test"), **kw)


def test_defaults() -> None:
    s = make()
    assert (s.host, s.port, s.code_ttl, s.heartbeat) == ("127.0.0.1", 8080, 900.0, 15.0)
    assert s.turn_urls == () and s.turn_secret is None and not s.tls
    assert s.password_cost == 2**15
    assert s.console_url == "http://127.0.0.1:8080/"
    assert make(host="::1", port=9000).console_url == "http://[::1]:9000/"
    assert s.webui_dir.name == "webui"


def test_trusted_proxies_parsed() -> None:
    s = make(trusted_proxies=("127.0.0.1", "10.0.0.0/8", "::1"))
    assert s.trusted_networks[1] == ipaddress.ip_network("10.0.0.0/8")


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"port": 70000}, "port"),
        ({"port": "80"}, "port"),
        ({"code_ttl": 0}, "code_ttl"),
        ({"code_ttl": float("nan")}, "code_ttl"),
        ({"heartbeat": -1}, "heartbeat"),
        ({"max_sessions": 0}, "max_sessions"),
        ({"guess_burst": 0.5}, "guess_burst"),
        ({"password_cost": 1000}, "password_cost"),
        ({"trusted_proxies": ("10.0.0.1/8",)}, "10.0.0.1/8"),
        ({"trusted_proxies": ("proxy.example",)}, "proxy.example"),
        ({"turn_urls": ("turns:t.example:443?transport=tcp",)}, "secret"),
        ({"turn_urls": ("http://t.example",), "turn_secret": "s"}, "http://t.example"),
        ({"turn_secret": ""}, "secret"),
        ({"tls_cert": Path("/nonexistent.pem")}, "TLS"),
        ({"tls_cert": Path("/nonexistent.pem"), "tls_key": Path("/k.pem")}, "tls_cert"),
        ({"host": ""}, "host"),
    ],
)
def test_bad_values_are_named(kw: dict[str, Any], words: str) -> None:
    with pytest.raises(SettingsError, match=words.replace("?", r"\?").replace(".", r"\.")):
        make(**kw)


def test_stun_only_needs_no_secret() -> None:
    assert make(turn_urls=("stun:stun.example.org:3478",)).turn_urls
