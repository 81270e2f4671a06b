"""What ``pip install .`` installs (the deployment guide's way): every package of the server and
the peer is listed for setuptools, and every file the console and the peer load matches the
package data, so nothing is left out of an installation that is not an editable one."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
TOP = ("wire", "signaling", "peer", "turn", "webui")


def test_every_python_package_is_listed() -> None:
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for top in TOP
        for path in (ROOT / top).rglob("__init__.py")
    }
    missing = sorted(found - set(TOOL["packages"]))
    assert not missing, f"pip install . leaves out the packages {missing}"


def matches(path: str, pattern: str) -> bool:
    """As setuptools' package-data globs: ``*`` stays inside one folder."""
    return path.count("/") == pattern.count("/") and fnmatch.fnmatch(path, pattern)


def test_every_file_the_console_and_the_peer_load_is_package_data() -> None:
    data: dict[str, list[str]] = TOOL["package-data"]
    missing = []
    for package, suffixes in (("webui", (".js", ".html", ".css", ".svg")), ("peer", (".json",))):
        for path in (ROOT / package).rglob("*"):
            if path.suffix not in suffixes or "__pycache__" in path.parts:
                continue
            inside = str(path.relative_to(ROOT / package))
            if not any(matches(inside, pattern) for pattern in data.get(package, [])):
                missing.append(f"{package}/{inside}")
    assert not missing, f"pip install . leaves out {sorted(missing)[:10]}"
