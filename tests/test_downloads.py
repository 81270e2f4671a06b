"""The customer's page and downloads through the real server: what is offered, what is
refused, and what a downloaded program carries."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sigclient import Endpoint, add_operator, server_settings

from signaling.app import create_app
from signaling.downloads import Catalogue, parse_manifest
from wire import binding as b
from wire import protocol as p

PASSWORD = "correct horse"
PROGRAM = b"\x7fELF program " + os.urandom(300_000)
WHEEL = b"PK wheel " + os.urandom(1000)
WHEEL_NAME = "supportlink-0.1.0-py3-none-any.whl"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_build(folder: Path, *, program: bytes = PROGRAM, listed: bytes = PROGRAM) -> Path:
    """A build folder as scripts/build-peer writes it; ``listed`` is what the manifest vouches
    for (differs from ``program`` for a corrupt build)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "supportlink-peer-linux-x86_64").write_bytes(program)
    (folder / WHEEL_NAME).write_bytes(WHEEL)
    (folder / "licenses").mkdir(exist_ok=True)
    (folder / "licenses" / "README.txt").write_text("licences\n")
    (folder / "licenses" / "SOURCE-OFFER.txt").write_text("offer\n")
    (folder / "secret.txt").write_text("not for download\n")
    manifest = {
        "version": 1,
        "files": [
            {
                "kind": "program",
                "platform": "linux-x86_64",
                "file": "supportlink-peer-linux-x86_64",
                "size": len(listed),
                "sha256": sha(listed),
                "version": "0.1.0",
                "glibc": "2.36",
            },
            {
                "kind": "wheel",
                "platform": "python",
                "file": WHEEL_NAME,
                "size": len(WHEEL),
                "sha256": sha(WHEEL),
                "version": "0.1.0",
            },
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


Start = Callable[..., Awaitable[tuple[Endpoint, str, web.Application]]]


@pytest.fixture
async def start(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Start]:
    add_operator(tmp_path / "data", "alice", PASSWORD)
    endpoints: list[Endpoint] = []

    async def run(**kw: Any) -> tuple[Endpoint, str, web.Application]:
        kw.setdefault("downloads_dir", write_build(tmp_path / "downloads"))
        app = create_app(server_settings(tmp_path, **kw))
        endpoint = Endpoint.of(await aiohttp_client(app))
        endpoints.append(endpoint)
        return endpoint, await endpoint.login("alice", PASSWORD), app

    yield run
    for endpoint in endpoints:
        await endpoint.aclose()


async def offered(endpoint: Endpoint) -> dict[str, Any]:
    async with endpoint.http.get(endpoint.url("/api/downloads")) as resp:
        assert resp.status == 200
        assert resp.headers["Cache-Control"] == "no-store"
        data: dict[str, Any] = await resp.json()
        return data


async def post_download(endpoint: Endpoint, **form: str) -> tuple[int, dict[str, str], bytes]:
    async with endpoint.http.post(
        endpoint.url("/join/download"), data=form, allow_redirects=False
    ) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def test_the_page_and_what_it_offers(start: Start) -> None:
    endpoint, _token, _app = await start()
    async with endpoint.http.get(endpoint.url("/join")) as resp:
        assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
        assert "Content-Security-Policy" in resp.headers
    data = await offered(endpoint)
    server = endpoint.base
    assert data["url"] == server and data["server"] == server.split("://")[1]
    (program,) = data["programs"]
    tail = b.encode(b.Binding(server=server))
    assert program["platform"] == "linux-x86_64" and program["glibc"] == "2.36"
    assert program["filename"] == "supportlink-peer"
    # size and sum are those of the file as the link sends it
    assert program["size"] == len(PROGRAM) + len(tail)
    assert program["sha256"] == sha(PROGRAM + tail)
    assert program["href"] == f"/download/{sha(PROGRAM)[:12]}/supportlink-peer"
    assert data["wheel"]["href"] == f"/download/{sha(WHEEL)[:12]}/{WHEEL_NAME}"
    assert data["wheel"]["sha256"] == sha(WHEEL)
    assert data["licenses"] is True


async def test_the_link_sends_the_program_bound_to_this_server(start: Start) -> None:
    endpoint, _token, _app = await start()
    data = await offered(endpoint)
    href = data["programs"][0]["href"]
    async with endpoint.http.get(endpoint.url(href)) as resp:
        assert resp.status == 200
        body = await resp.read()
        assert resp.headers["Content-Type"] == "application/octet-stream"
        assert resp.headers["Content-Disposition"] == 'attachment; filename="supportlink-peer"'
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert int(resp.headers["Content-Length"]) == len(body)
    assert body.startswith(PROGRAM) and sha(body) == data["programs"][0]["sha256"]
    assert b.decode_tail(body) == b.Binding(server=endpoint.base)
    async with endpoint.http.get(endpoint.url(data["wheel"]["href"])) as resp:
        assert resp.status == 200 and await resp.read() == WHEEL
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for path in (
        f"/download/{'0' * 12}/supportlink-peer",  # unknown hash
        f"/download/{sha(PROGRAM)[:12]}/other-name",
        "/download/secret.txt",
        "/download/licenses/../secret.txt",
        "/download/licenses/%2e%2e/secret.txt",
        "/download/licenses/..%2fsecret.txt",
        "/download/manifest.json",
    ):
        async with endpoint.http.get(endpoint.url(path)) as resp:
            assert resp.status == 404, path
    async with endpoint.http.get(endpoint.url("/download/licenses/SOURCE-OFFER.txt")) as resp:
        assert resp.status == 200 and await resp.text() == "offer\n"


async def test_a_code_from_the_page_is_bound_into_the_program(start: Start) -> None:
    endpoint, token, _app = await start()
    op = await endpoint.operator(token)
    created = await op.create("screen")
    status, headers, body = await post_download(
        endpoint, platform="linux-x86_64", code=created.code[:4] + " " + created.code[4:]
    )
    assert status == 200, body[:200]
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Disposition"] == 'attachment; filename="supportlink-peer"'
    assert int(headers["Content-Length"]) == len(body) and body.startswith(PROGRAM)
    assert b.decode_tail(body) == b.Binding(endpoint.base, created.code, created.expires_at)
    # looking did not use the code up: the program can still join with it
    peer = await endpoint.peer()
    await peer.join(created.code)
    await op.expect(p.JoinRequest)  # the join request reached the operator
    # without a code: bound to the server only
    status, _headers, body = await post_download(endpoint, platform="linux-x86_64", code="")
    assert status == 200 and b.decode_tail(body) == b.Binding(endpoint.base)


@pytest.mark.parametrize(
    ("code", "error", "keeps"),
    [
        ("1234567", "bad_code", False),
        ("abcdefgh", "bad_code", False),
        ("١٢٣٤٥٦٧٨", "bad_code", False),  # Arabic-Indic digits are not a code
        ("00000000", "unknown_code", True),
    ],
)
async def test_a_bad_code_gets_the_page_back_with_why(
    start: Start, code: str, error: str, keeps: bool
) -> None:
    endpoint, _token, _app = await start()
    status, headers, body = await post_download(endpoint, platform="linux-x86_64", code=code)
    assert status == 303 and not body.startswith(PROGRAM)
    assert headers["Location"] == f"/join?error={error}" + (f"#{code}" if keeps else "")


async def test_a_used_code_and_an_unknown_system_are_refused(start: Start) -> None:
    endpoint, token, _app = await start()
    op = await endpoint.operator(token)
    created = await op.create("screen")
    peer = await endpoint.peer()
    await peer.join(created.code)
    status, headers, _body = await post_download(
        endpoint, platform="linux-x86_64", code=created.code
    )
    assert status == 303
    assert headers["Location"] == f"/join?error=used_code#{created.code}"
    status, headers, _body = await post_download(endpoint, platform="windows-x86_64", code="")
    assert (status, headers["Location"]) == (303, "/join?error=no_program")


async def test_guessing_codes_on_the_page_is_limited(start: Start) -> None:
    endpoint, token, _app = await start(guess_burst=3.0, guess_per_second=0.01)
    op = await endpoint.operator(token)
    created = await op.create("screen")
    tokens = []
    for guess in ("00000001", "00000002", "00000003", "00000004"):
        _status, headers, _body = await post_download(endpoint, platform="linux-x86_64", code=guess)
        tokens.append(headers["Location"].split("=")[1].split("#")[0])
    assert tokens == ["unknown_code"] * 3 + ["rate_limited"]
    # the right code is refused too while the limit holds: guessing cannot go on
    _status, headers, _body = await post_download(
        endpoint, platform="linux-x86_64", code=created.code
    )
    assert "rate_limited" in headers["Location"]


async def test_a_corrupt_build_is_never_served(start: Start, tmp_path: Path) -> None:
    corrupt = PROGRAM[:-1] + bytes([PROGRAM[-1] ^ 1])
    folder = write_build(tmp_path / "corrupt", program=corrupt)
    endpoint, _token, _app = await start(downloads_dir=folder)
    data = await offered(endpoint)
    assert data["programs"] == [] and data["wheel"] is not None
    status, headers, body = await post_download(endpoint, platform="linux-x86_64", code="")
    assert (status, headers["Location"]) == (303, "/join?error=no_program")
    async with endpoint.http.get(
        endpoint.url(f"/download/{sha(PROGRAM)[:12]}/supportlink-peer")
    ) as r:
        assert r.status == 404


async def test_a_program_changed_after_it_was_checked_is_withdrawn(
    start: Start, tmp_path: Path
) -> None:
    folder = write_build(tmp_path / "build")
    endpoint, _token, _app = await start(downloads_dir=folder)
    assert len((await offered(endpoint))["programs"]) == 1
    program = folder / "supportlink-peer-linux-x86_64"
    program.write_bytes(PROGRAM.replace(b"program", b"PROGRAM"))  # same size, new bytes
    os.utime(program, ns=(1, 1))
    assert (await offered(endpoint))["programs"] == []
    program.write_bytes(PROGRAM)  # put back: offered again
    assert len((await offered(endpoint))["programs"]) == 1


async def test_no_build_folder_offers_nothing_but_says_so(start: Start, tmp_path: Path) -> None:
    endpoint, _token, _app = await start(downloads_dir=tmp_path / "nothing-here")
    data = await offered(endpoint)
    assert data["programs"] == [] and data["wheel"] is None and data["licenses"] is False
    status, headers, _body = await post_download(endpoint, platform="linux-x86_64", code="")
    assert (status, headers["Location"]) == (303, "/join?error=no_program")


async def test_a_host_no_program_could_use_is_refused(start: Start) -> None:
    endpoint, _token, _app = await start()
    async with endpoint.http.get(
        endpoint.url("/api/downloads"), headers={"Host": "evil.example@good.example"}
    ) as resp:
        assert resp.status == 400


async def test_the_public_url_setting_wins_over_the_browsers_host(start: Start) -> None:
    endpoint, _token, _app = await start(public_url="https://support.example.com")
    data = await offered(endpoint)
    assert (data["url"], data["server"]) == ("https://support.example.com", "support.example.com")
    status, _headers, body = await post_download(endpoint, platform="linux-x86_64", code="")
    assert status == 200 and b.decode_tail(body) == b.Binding("https://support.example.com")


def test_manifest_entries_that_are_malformed_are_left_out() -> None:
    good = {
        "kind": "program",
        "platform": "linux-x86_64",
        "file": "supportlink-peer-linux-x86_64",
        "size": 10,
        "sha256": "a" * 64,
    }
    bad = [
        {**good, "file": "../etc/passwd"},
        {**good, "file": "/etc/passwd"},
        {**good, "kind": "script"},
        {**good, "size": -1},
        {**good, "size": True},
        {**good, "sha256": "A" * 64},
        {**good, "platform": "linux x86_64"},
        "text",
    ]
    entries, problems = parse_manifest(json.dumps({"version": 1, "files": [good, *bad]}))
    assert entries == [good] and len(problems) == len(bad)
    assert parse_manifest("{not json")[0] == []
    assert parse_manifest(json.dumps({"version": 2, "files": []}))[1]


async def test_the_catalogue_hashes_a_file_once_until_it_changes(tmp_path: Path) -> None:
    folder = write_build(tmp_path / "build")
    hashed: list[Path] = []

    def hasher(path: Path) -> Any:
        hashed.append(path)
        return hashlib.sha256(path.read_bytes())

    catalogue = Catalogue(folder, hasher)
    assert len(await catalogue.files()) == 2
    assert len(await catalogue.files()) == 2
    assert len(hashed) == 2  # the second look only stat()s
    (folder / WHEEL_NAME).unlink()
    assert [d.kind for d in await catalogue.files()] == ["program"]


async def test_a_folder_without_a_manifest_is_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalogue = Catalogue(tmp_path / "empty")
    with caplog.at_level("WARNING", logger="signaling.downloads"):
        for _ in range(3):  # three page views
            assert await catalogue.files() == []
    assert [r.getMessage() for r in caplog.records if "is missing" in r.getMessage()] == [
        f"no customer programs: {tmp_path / 'empty' / 'manifest.json'} is missing"
    ]
