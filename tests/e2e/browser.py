"""Headless Debian Chromium, driven by Playwright, running inside the test's network namespace.

Playwright talks to Chromium over a pipe (fds 3 and 4), which ``ip netns exec`` passes through;
``executable_path`` is a wrapper script that enters the namespace and execs Chromium.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .netns import NetNS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = "/usr/bin/chromium"

# Without these Chromium reaches out at start; mDNS host names are hidden behind <uuid>.local
# without the last one (aioice cannot resolve Chromium's mDNS answers).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--no-proxy-server",
]


def write_wrapper(ns: NetNS, directory: Path) -> Path:
    """A script that runs Chromium inside ``ns`` with the given arguments."""
    wrapper = directory / "chromium-in-netns"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {ns.name} {CHROMIUM} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wrapper


def launch(
    playwright: Playwright, ns: NetNS, directory: Path, extra_args: list[str] | None = None
) -> Browser:
    """Launch headless Chromium inside ``ns`` with its home under ``directory``.

    Playwright gives every launch a fresh profile (``--user-data-dir`` in a new temporary
    directory, removed on close); it refuses the flag among ``args``.
    """
    home = directory / "home"
    home.mkdir(parents=True, exist_ok=True)
    env: dict[str, str | float | bool] = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY")
        and not k.lower().endswith("_proxy")
        and not k.startswith("PULSE_")  # never a test's sound server: the customer's speakers
    }
    env["HOME"] = str(home)  # NSS looks for a test CA under $HOME/.pki/nssdb
    return playwright.chromium.launch(
        executable_path=str(write_wrapper(ns, directory)),
        headless=True,
        args=[*ARGS, *(extra_args or [])],
        env=env,
        timeout=30_000,
    )


@contextmanager
def chromium(ns: NetNS, directory: Path, extra_args: list[str] | None = None) -> Iterator[Browser]:
    """``launch`` for the length of a ``with`` block (a test's ``browser`` fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright, ns, directory, extra_args)
        try:
            yield browser
        finally:
            browser.close()


def secure_origin(url: str) -> str:
    """The flag that has Chromium count ``url`` (the console on plain http at a namespace
    address) as a secure page: microphone and capture exist only on one."""
    return f"--unsafely-treat-insecure-origin-as-secure={url}"
