"""Build the customer's program as one file, and the files that go with it.

Run through ``scripts/build-peer`` (which installs what the build needs first)::

    scripts/build-peer [--out DIR]

writes into DIR (default: the server's downloads folder, ``<data dir>/downloads``):

* ``supportlink-peer-<platform>``: one executable for this system. On Linux: a small
  launcher (``scripts/launcher.c``) followed by the PyInstaller folder as a tar.gz; its first
  start unpacks the folder into the user's cache and later starts run it from there (a
  PyInstaller one-file program would unpack ~95 MB on every start, about a second). On
  Windows and macOS: PyInstaller's one-file program.
* ``supportlink-<version>-py3-none-any.whl``: the same program for people with Python,
* ``licenses/``: the licence of every bundled component and the source offer for FFmpeg,
* ``manifest.json``: what is there, with sizes and SHA-256 sums. ``supportlink serve``
  serves only files whose size and sum match it.

A build on another system (Windows, macOS) run with the same ``--out`` adds its executable to
the manifest beside the others.

Size: the FFmpeg libraries in PyAV's wheel link encoders and decoders the peer never uses
(x265, SVT-AV1, dav1d, LAME, opencore-amr, WebP) and GnuTLS for network streams it never
opens. They are replaced by stub libraries that export the same symbols and abort with a
message if one is ever called, which saves about a quarter of the file; the VP8/VP9 (libvpx),
H.264 (x264) and Opus libraries the peer uses stay.

Voice: PortAudio (``libportaudio.so.2``, Debian's libportaudio2) goes into the program, as
sounddevice's PyInstaller hook collects it; ALSA (``libasound.so.2``) stays the customer's own
(the spec drops it) and JACK is a stub that finds no server (``PORTAUDIO_STUBBED``).
``check_bundle`` fails the build if any of that (or numpy) is not as it should be.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "scripts" / "supportlink-peer.spec"
RUNTIME_HOOK = ROOT / "scripts" / "pyi_rth_portaudio.py"

#: Bundled libraries replaced by stubs (file names start with these), and why nobody misses them.
STUBBED = {
    "libx265": "H.265 encoder",
    "libSvtAv1Enc": "AV1 encoder",
    "libdav1d": "AV1 decoder",
    "libmp3lame": "MP3 encoder",
    "libopencore-amrnb": "AMR audio",
    "libopencore-amrwb": "AMR audio",
    "libwebp": "WebP images",
    "libwebpmux": "WebP images",
    "libsharpyuv": "WebP images",
    "libgnutls": "TLS for network streams",
    "libasound": "ALSA capture devices",
    "libvpl": "Intel Quick Sync video",
}
#: Only needed by the libraries above; left out once those are stubs.
DROPPED_WITH_STUBS = ("libunistring", "libgmp", "libnettle", "libhogweed")

#: PortAudio, for voice: sounddevice loads it with ctypes (scripts/pyi_rth_portaudio.py makes
#: it the bundled copy). Debian's links ``libasound.so.2`` (ALSA: left to the customer's
#: system, see the spec's DROP) and ``libjack.so.0``.
PORTAUDIO = "libportaudio.so.2"
#: What PortAudio links, replaced by stubs: name -> (why, functions that answer NULL / 0).
#: JACK: desktops reach their sound server (PulseAudio, PipeWire) through ALSA, which is how
#: the peer uses PortAudio; a real JACK client library would bring Berkeley DB (~2 MB) and talk
#: to a jackd of its own version only (PipeWire's JACK is a libjack of its own anyway). The
#: stub's ``jack_client_open`` answers NULL, "no JACK server", and PortAudio then leaves its
#: JACK support out; nothing else of it is called without a client. (The program's folder
#: comes first in its library path, so ALSA's jack plugin, where installed, gets the stub too:
#: it calls ``jack_client_open`` first and gives up the same way.)
PORTAUDIO_STUBBED = {
    "libjack.so.0": ("JACK sound server", re.compile(r"^jack_client_open$")),
}
#: Only needed by the real libjack.
DROPPED_WITH_PORTAUDIO_STUBS = ("libdb-",)


def platform_name() -> str:
    """``linux-x86_64``, ``windows-x86_64``, ``macos-arm64`` ...: the download's platform."""
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(
        sys.platform, sys.platform
    )
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return f"{system}-{machine}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- stub libraries


def _nm(path: Path, *flags: str) -> list[list[str]]:
    out = subprocess.run(
        ["nm", "-D", *flags, str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [line.split() for line in out.splitlines() if line.strip()]


def _needed(path: Path) -> list[str]:
    out = subprocess.run(
        ["readelf", "-d", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def _soname(path: Path) -> str:
    out = subprocess.run(
        ["readelf", "-d", str(path)], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", out)
    return found.group(1) if found else path.name


#: Text in every stub library (its message when a missing function is called).
STUB_MARK = b"is not included in this build"
#: Functions FFmpeg calls while it lists its codecs, to see what a library offers (x265's
#: ``x265_api_get`` for its bit depths): their stubs answer "nothing" (NULL / 0) instead.
_PROBE = re.compile(r"api_get|api_query|version")


def make_stub(
    library: Path, users: list[Path], work: Path, why: str, answers: re.Pattern[str] = _PROBE
) -> Path:
    """A library with ``library``'s soname exporting every symbol ``users`` take from it
    (with the same symbol versions): each a function that aborts with a message, but for
    those matching ``answers`` (the probes, ``_PROBE``), which answer that nothing is there."""
    # name -> {version or None: (type, size, is the default version)}
    defined: dict[str, dict[str | None, tuple[str, int, bool]]] = {}
    for fields in _nm(library, "--defined-only", "-S"):
        if len(fields) == 4:
            _addr, size, kind, name = fields
        elif len(fields) == 3:
            _addr, kind, name = fields
            size = "0"
        else:
            continue
        base, _, version = name.partition("@")
        default = version.startswith("@") or not version
        defined.setdefault(base, {})[version.lstrip("@") or None] = (kind, int(size, 16), default)
    wanted: set[tuple[str, str | None]] = set()
    for user in users:
        for fields in _nm(user, "--undefined-only"):
            base, _, version = fields[-1].partition("@")
            versions = defined.get(base)
            if versions is None:
                continue
            version = version.lstrip("@") or None
            if version not in versions:  # unversioned reference: the default version
                version = next((v for v, d in versions.items() if d[2]), None)
            wanted.add((base, version))
    short = library.name.rsplit("-", 1)[0]
    lines = [
        "#include <stdlib.h>",
        "#include <unistd.h>",
        "static void missing(const char *name) {",
        f'    static const char text[] = "supportlink-peer: {short} ({why}) '
        'is not included in this build: ";',
        "    (void)!write(2, text, sizeof text - 1);",
        "    const char *end = name; while (*end) end++;",
        '    (void)!write(2, name, (size_t)(end - name)); (void)!write(2, "\\n", 1);',
        "    abort();",
        "}",
    ]
    version_nodes: list[str] = []
    for index, (name, version) in enumerate(sorted(wanted, key=lambda w: (w[0], w[1] or ""))):
        kind, size, default = defined[name][version]
        symbol = name if version is None else f"_stub{index}"
        if kind.upper() in ("T", "W", "I") and answers.search(name):
            lines.append(f"long {symbol}(void) {{ return 0; }}")  # "not available": NULL, 0
        elif kind.upper() in ("T", "W", "I"):
            lines.append(f'void {symbol}(void) {{ missing("{name}"); }}')
        else:
            lines.append(f"char {symbol}[{max(size, 8)}] __attribute__((aligned(16)));")
        if version is not None:
            at = "@@" if default else "@"
            lines.append(f'__asm__(".symver {symbol},{name}{at}{version}");')
            if version not in version_nodes:
                version_nodes.append(version)
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"{library.name}.c"
    source.write_text("\n".join(lines) + "\n")
    out = work / library.name
    command = ["gcc", "-shared", "-fPIC", "-O2", "-fno-builtin", f"-Wl,-soname,{_soname(library)}"]
    if version_nodes:
        script = work / f"{library.name}.map"
        script.write_text(
            "".join(f"{v} {{ }};\n" for v in version_nodes[1:])
            + f"{version_nodes[0]} {{ local: _stub*; }};\n"
        )
        command.append(f"-Wl,--version-script={script}")
    subprocess.run([*command, "-o", str(out), str(source)], check=True)
    subprocess.run(["strip", "--strip-unneeded", str(out)], check=True)
    return out


def stubs_for(site_packages: Path, work: Path) -> dict[str, str]:
    """Stub libraries for PyAV's bundled libraries in ``STUBBED``: bundled name -> stub path."""
    libs_dir = site_packages / "av.libs"
    if not libs_dir.is_dir():
        return {}
    libs = sorted(libs_dir.iterdir())
    users = [
        p
        for p in libs
        if not p.name.startswith(tuple(f"{n}-" for n in (*STUBBED, *DROPPED_WITH_STUBS)))
    ]
    users += sorted((site_packages / "av").rglob("*.so"))
    stubs = {}
    for lib in libs:
        prefix = next((p for p in STUBBED if lib.name.startswith(p + "-")), None)
        if prefix is not None:
            stubs[lib.name] = str(make_stub(lib, users, work, STUBBED[prefix]))
    return stubs


def _ldd(path: Path) -> dict[str, Path]:
    """The libraries ``path`` needs (directly or not), by name, as the system resolves them."""
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=True).stdout
    return {m[0]: Path(m[1]) for m in re.findall(r"^\s*(\S+) => (/\S+)", out, re.M)}


def system_portaudio() -> Path | None:
    """The system's PortAudio, as sounddevice's hook finds it (ldconfig's cache)."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    found = re.search(rf"^\s*{re.escape(PORTAUDIO)} \(([^)]*)\) => (\S+)", out, re.M)
    return Path(found.group(2)) if found else None


def portaudio_stubs(work: Path) -> dict[str, str]:
    """Stubs for what the system's PortAudio links (``PORTAUDIO_STUBBED``): name -> stub."""
    portaudio = system_portaudio()
    if portaudio is None:
        return {}
    needed = _ldd(portaudio)
    stubs = {}
    for name, (why, answers) in PORTAUDIO_STUBBED.items():
        if name in needed:
            stubs[name] = str(make_stub(needed[name], [portaudio], work, why, answers))
    return stubs


# --------------------------------------------------------------------------- the bundle


def check_bundle(folder: Path) -> list[str]:
    """What is wrong with the PyInstaller folder ``folder`` (Linux) for voice and size: the
    bundled PortAudio and the JACK stub there, ALSA and numpy not."""
    internal = folder / "_internal"
    problems = []
    if not (internal / PORTAUDIO).is_file():
        problems.append(f"{PORTAUDIO} is missing: no voice without libportaudio2")
    for name in PORTAUDIO_STUBBED:
        lib = internal / name
        if lib.is_file() and STUB_MARK not in lib.read_bytes():
            problems.append(f"{name} is the real library, not the stub")
    if (internal / "libasound.so.2").exists():
        problems.append("libasound.so.2 is bundled: ALSA must be the customer's own")
    if any(internal.glob("numpy*")):
        problems.append("numpy is bundled (EXCLUDES in the spec)")
    return problems


# --------------------------------------------------------------------------- licences


def runtime_distributions() -> list[str]:
    """SupportLink and every distribution it needs at run time (no extras), by name."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: dict[str, str] = {}
    todo = ["supportlink"]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[key] = dist.metadata["Name"]
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return sorted(seen.values(), key=str.lower)


def write_licenses(out: Path, stubs: dict[str, str]) -> None:
    from importlib import metadata

    import av

    folder = out / "licenses"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    listed = []
    for name in runtime_distributions():
        dist = metadata.distribution(name)
        files = [
            f
            for f in dist.files or []
            if (
                re.search(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", f.name, re.I)
                or "sboms" in f.parts
            )
            and ".dist-info" in str(f)
            and not f.name.endswith((".py", ".pyc"))
        ]
        for f in files:
            target = folder / f"{dist.metadata['Name']}-{dist.version}" / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(Path(str(f.locate())).read_bytes())
        licence = (
            dist.metadata.get("License-Expression") or dist.metadata.get("License") or ""
        ).strip()
        first = licence.splitlines()[0] if licence else "see its folder"
        listed.append(f"{dist.metadata['Name']} {dist.version}: {first}")
    python_licence = (
        Path(sys.base_prefix)
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "LICENSE.txt"
    )
    if python_licence.is_file():
        shutil.copy(python_licence, folder / "Python-LICENSE.txt")
    for package in ("tcl8.6", "tk8.6", "libtcl8.6", "libtk8.6", "libportaudio2"):
        copyright_file = Path("/usr/share/doc") / package / "copyright"
        if copyright_file.is_file():
            shutil.copy(copyright_file, folder / f"{package}-copyright.txt")
    ffmpeg = av.ffmpeg_version_info
    left_out = ", ".join(sorted({re.split(r"[-.]", Path(n).name)[0] for n in stubs}))
    (folder / "README.txt").write_text(
        f"""The customer's program (supportlink-peer) bundles, besides SupportLink (MIT):

- CPython {platform.python_version()} (PSF License, Python-LICENSE.txt), Tcl/Tk (BSD-style),
  PortAudio (MIT-style, libportaudio2-copyright.txt),
- these Python distributions, each with its licence in its folder here:
  {chr(10).join("  " + line for line in listed).strip()}
- FFmpeg {ffmpeg} as built for PyAV {av.__version__}, with libvpx (BSD), Opus (BSD) and
  x264 (GPL-2.0-or-later). FFmpeg is built with --enable-gpl, so the FFmpeg libraries, and
  therefore this executable as a whole, are distributed under the GNU General Public License,
  version 2 or later (https://www.gnu.org/licenses/old-licenses/gpl-2.0.txt; the PyAV
  folder's *.cdx.json bill of materials lists every library in its FFmpeg build).
  See SOURCE-OFFER.txt.
- pynput (LGPL-3.0) and python-xlib (LGPL-2.1-or-later) are inside as Python bytecode in the
  program's archive; whoever receives the program may replace them with modified versions by
  rebuilding it from the SupportLink source (scripts/build-peer).

Left out of the executable (replaced by stubs that abort if called; libjack's says that no
JACK server runs, so PortAudio uses ALSA): {left_out}.
"""
    )
    (folder / "SOURCE-OFFER.txt").write_text(
        f"""Source code offer for supportlink-peer

This executable contains software licensed under the GNU General Public License (GPL),
version 2 or later: the FFmpeg {ffmpeg} libraries and x264, as bundled in the PyAV
{av.__version__} wheel for {platform_name()}.

The complete corresponding source code is:
- PyAV {av.__version__}: https://pypi.org/project/av/{av.__version__}/#files (sdist), and the
  scripts that build its FFmpeg: https://github.com/PyAV-Org/pyav-ffmpeg
- FFmpeg {ffmpeg}: https://ffmpeg.org/releases/
- x264: https://code.videolan.org/videolan/x264
- SupportLink: the source tree this program was built from (scripts/build-peer).

Whoever distributes this executable (for example, by running a SupportLink server that offers
it for download) must, for three years, give anyone who asks a copy of that source on a
medium customarily used for software interchange, for no more than the cost of providing it,
or offer the source from the same place as the executable. Put a contact here:

Contact for source requests: ______________________________
"""
    )


# --------------------------------------------------------------------------- glibc floor


def glibc_floor(files: list[Path]) -> str:
    """The newest ``GLIBC_x.y`` symbol version any of ``files`` (ELF or not) asks for."""
    newest = (0, 0)
    for path in files:
        for major, minor in re.findall(rb"GLIBC_(\d+)\.(\d+)", path.read_bytes()):
            newest = max(newest, (int(major), int(minor)))
    return f"{newest[0]}.{newest[1]}"


# --------------------------------------------------------------------------- one file on Linux

PAYLOAD_MAGIC = b"SLPAYLD1"
LAUNCHER = ROOT / "scripts" / "launcher.c"


def pack(folder: Path, work: Path, target: Path) -> list[Path]:
    """``target`` = the launcher, ``folder`` as a tar.gz, and the footer the launcher reads
    (``launcher.c``). Returns the files whose glibc needs count."""
    import tarfile

    launcher = work / "launcher"
    subprocess.run(
        ["gcc", "-O2", "-s", "-Wall", "-Werror", "-o", str(launcher), str(LAUNCHER)], check=True
    )
    payload = work / "payload.tar.gz"

    def plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with tarfile.open(payload, "w:gz", compresslevel=9) as tar:
        tar.add(folder, arcname=folder.name, filter=plain)
    key = sha256_of(payload)[:32]
    size = payload.stat().st_size
    with target.open("wb") as out:
        for part in (launcher, payload):
            with part.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
        out.write(size.to_bytes(8, "little") + key.encode() + PAYLOAD_MAGIC)
    return [launcher, *(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())]


# --------------------------------------------------------------------------- reuse


def source_key() -> str:
    """A digest of everything the executable is built from: the peer's sources, the build's
    own files and the versions of the libraries it bundles."""
    from importlib import metadata

    digest = hashlib.sha256()
    files = [ROOT / "pyproject.toml", Path(__file__).resolve(), SPEC, LAUNCHER, RUNTIME_HOOK]
    for folder in ("peer", "wire"):
        files += sorted(
            p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".json") and p.is_file()
        )
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for name in ("av", "aiortc", "cryptography", "pyinstaller", "aiohttp", "sounddevice"):
        digest.update(f"{name}=={metadata.version(name)}\n".encode())
    portaudio = system_portaudio()
    if portaudio is not None:
        digest.update(portaudio.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()[:16]


def built_from(out: Path, key: str, plat: str) -> bool:
    """Whether ``out`` already holds this platform's program built from ``key``, intact."""
    try:
        manifest = json.loads((out / "manifest.json").read_text())
        (program,) = [
            f for f in manifest["files"] if f.get("kind") == "program" and f.get("platform") == plat
        ]
        path = out / program["file"]
        return bool(
            program.get("source") == key
            and path.stat().st_size == program["size"]
            and sha256_of(path) == program["sha256"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


# --------------------------------------------------------------------------- main


def build_wheel(out: Path, work: Path) -> Path:
    """The wheel for people who run SupportLink with their own Python, in ``out``."""
    print("==> wheel for Python users", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp, str(ROOT)],
            check=True,
        )
        (wheel,) = Path(tmp).glob("supportlink-*.whl")
        for old in out.glob("supportlink-*.whl"):
            old.unlink()
        wheel_path = out / wheel.name
        shutil.copy(wheel, wheel_path)
    return wheel_path


def update_manifest(out: Path, entries: list[dict[str, object]]) -> None:
    path = out / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
        files = [f for f in manifest.get("files", []) if isinstance(f, dict)]
    except (OSError, ValueError):
        files = []
    replaced = {(e["kind"], e["platform"]) for e in entries}
    files = [f for f in files if (f.get("kind"), f.get("platform")) not in replaced]
    files.extend(entries)
    files.sort(key=lambda f: (str(f.get("kind")), str(f.get("platform"))))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": 1, "files": files}, indent=2) + "\n")
    tmp.replace(path)


def entry(kind: str, plat: str, path: Path, **extra: object) -> dict[str, object]:
    return {
        "kind": kind,
        "platform": plat,
        "file": path.name,
        "size": path.stat().st_size,
        "sha256": sha256_of(path),
        **extra,
    }


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from signaling.cli import default_data_dir

    parser = argparse.ArgumentParser(prog="scripts/build-peer", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=default_data_dir(os.environ) / "downloads",
        help="folder the server serves downloads from (default: %(default)s)",
    )
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build" / "peer", help="scratch folder (%(default)s)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="do nothing when DIR already holds a program built from the same sources",
    )
    parser.add_argument(
        "--wheel-only",
        action="store_true",
        help="only the wheel (seconds, no PyInstaller): the page's Python alternative",
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    work: Path = args.work.resolve()
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    plat = platform_name()
    from importlib import metadata

    version = metadata.version("supportlink")
    started = time.monotonic()
    if args.wheel_only:
        wheel_path = build_wheel(out, work)
        update_manifest(out, [entry("wheel", "python", wheel_path, version=version)])
        print(wheel_path)
        return 0
    key = source_key()
    if args.reuse and built_from(out, key, plat):
        print(f"==> {out} already holds this build ({key}); reused", file=sys.stderr)
        print(out / f"supportlink-peer-{plat}{'.exe' if plat.startswith('windows') else ''}")
        return 0

    wheel_path = build_wheel(out, work)

    site_packages = Path(metadata.distribution("av").locate_file(""))
    stubs = stubs_for(site_packages, work / "stubs") if plat.startswith("linux") else {}
    voice_stubs = portaudio_stubs(work / "stubs") if plat.startswith("linux") else {}
    drop = [
        *(DROPPED_WITH_STUBS if stubs else ()),
        *(DROPPED_WITH_PORTAUDIO_STUBS if voice_stubs else ()),
    ]
    stubs.update(voice_stubs)
    print(f"==> one-file executable for {plat} ({len(stubs)} libraries stubbed)", file=sys.stderr)
    onedir = plat.startswith("linux")
    env = dict(
        os.environ,
        SUPPORTLINK_ONEDIR="1" if onedir else "0",
        SUPPORTLINK_ROOT=str(ROOT),
        SUPPORTLINK_STUBS=json.dumps(stubs),
        SUPPORTLINK_DROP=json.dumps(drop),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "pyi"),
            str(SPEC),
        ],
        check=True,
        env=env,
        cwd=work,
    )
    suffix = ".exe" if plat.startswith("windows") else ""
    target = out / f"supportlink-peer-{plat}{suffix}"
    tmp_target = target.with_name(target.name + ".part")
    extra: dict[str, object] = {"version": version, "source": key}
    if onedir:
        problems = check_bundle(work / "dist" / "supportlink-peer")
        if problems:
            raise SystemExit("the program's folder is not right:\n  " + "\n  ".join(problems))
        elf_files = pack(work / "dist" / "supportlink-peer", work, tmp_target)
        extra["glibc"] = glibc_floor(elf_files)
    else:
        shutil.copy(work / "dist" / f"supportlink-peer{suffix}", tmp_target)
    tmp_target.chmod(0o755)
    tmp_target.replace(target)
    write_licenses(out, stubs)
    update_manifest(
        out,
        [
            entry("program", plat, target, **extra),
            entry("wheel", "python", wheel_path, version=version),
        ],
    )
    size = target.stat().st_size
    print(
        f"built {target} ({size / 1e6:.1f} MB, sha256 {sha256_of(target)}, "
        f"{extra.get('glibc') and 'glibc >= ' + str(extra['glibc']) or ''}) "
        f"in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
