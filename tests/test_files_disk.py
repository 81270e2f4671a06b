"""peer.files.disk against the real file system in tmp_path: no symlink followed, nothing
overwritten unless asked."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from peer.files import disk
from peer.files.digest import resume_offset
from peer.files.errors import UnsafeDestination
from peer.files.incoming import Incoming
from peer.files.names import sanitize


def test_receive_a_file_into_new_folders(tmp_path: Path) -> None:
    base = tmp_path / "Downloads" / "SupportLink"
    components = sanitize("project/docs/report.pdf")
    payload = os.urandom(5000)
    inc = Incoming(len(payload))
    with disk.open_partial(base, components) as f:
        for offset in range(0, len(payload), 1024):
            data = payload[offset : offset + 1024]
            f.write(data[: inc.chunk(offset, data)])
    partial = disk.partial_path(base, components)
    assert partial == base / "project" / "docs" / "report.pdf.supportlink-partial"
    assert inc.finish(hashlib.sha256(payload).hexdigest()).ok
    final = disk.commit(partial, base.joinpath(*components))
    assert final.read_bytes() == payload and not partial.exists()


def test_resume_a_partial_file(tmp_path: Path) -> None:
    components = ("big.bin",)
    payload = os.urandom(10_000)
    with disk.open_partial(tmp_path, components) as f:
        f.write(payload[:6000])
    assert disk.prove_partial(tmp_path, ("other.bin",)) is None
    hasher = disk.prove_partial(tmp_path, components)
    assert hasher is not None
    proof = hasher.proof()
    assert proof.length == 6000
    start = resume_offset(proof, len(payload), hashlib.sha256(payload[:6000]).hexdigest())
    assert start == 6000
    inc = Incoming.resuming(len(payload), hasher, start)
    with disk.open_partial(tmp_path, components, start) as f:
        assert f.tell() == 6000
        f.write(payload[6000 : 6000 + inc.chunk(6000, payload[6000:])])
    assert inc.finish(hashlib.sha256(payload).hexdigest()).ok
    assert disk.partial_path(tmp_path, components).read_bytes() == payload


def test_starting_over_cuts_the_partial_file(tmp_path: Path) -> None:
    with disk.open_partial(tmp_path, ("a",)) as f:
        f.write(b"old data")
    with disk.open_partial(tmp_path, ("a",), 3) as f:
        assert f.tell() == 3
    assert disk.partial_path(tmp_path, ("a",)).read_bytes() == b"old"
    with disk.open_partial(tmp_path, ("a",), 0) as f:
        f.write(b"new")
    assert disk.partial_path(tmp_path, ("a",)).read_bytes() == b"new"
    with pytest.raises(ValueError):
        disk.open_partial(tmp_path, ("a",), 4)  # longer than what is there


def test_a_symlinked_folder_is_not_followed(tmp_path: Path) -> None:
    base, elsewhere = tmp_path / "dl", tmp_path / "elsewhere"
    base.mkdir()
    elsewhere.mkdir()
    (base / "docs").symlink_to(elsewhere)
    with pytest.raises(UnsafeDestination) as info:
        disk.open_partial(base, ("docs", "x.txt"))
    assert info.value.code == "symlink" and isinstance(info.value, OSError)
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_partial_file_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    base = tmp_path / "dl"
    base.mkdir()
    disk.partial_path(base, ("x.txt",)).symlink_to(victim)
    with pytest.raises(UnsafeDestination, match="symlink"):
        disk.open_partial(base, ("x.txt",))
    assert disk.prove_partial(base, ("x.txt",)) is None
    assert victim.read_bytes() == b"precious"


def test_a_file_where_a_folder_should_be(tmp_path: Path) -> None:
    (tmp_path / "docs").write_bytes(b"")
    with pytest.raises(UnsafeDestination) as info:
        disk.open_partial(tmp_path, ("docs", "x.txt"))
    assert info.value.code == "not_a_folder"


def test_components_must_be_sanitised(tmp_path: Path) -> None:
    for components in [(), ("..", "x"), ("a/b",), ("e\u0301",)]:
        with pytest.raises(ValueError):
            disk.open_partial(tmp_path, components)


# --------------------------------------------------------------------------- commit


def partial_with(tmp_path: Path, data: bytes, name: str = "report.pdf") -> Path:
    with disk.open_partial(tmp_path, (name,)) as f:
        f.write(data)
    return disk.partial_path(tmp_path, (name,))


def test_an_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    final = tmp_path / "report.pdf"
    final.write_bytes(b"mine")
    partial = partial_with(tmp_path, b"theirs")
    with pytest.raises(FileExistsError):
        disk.commit(partial, final)
    assert final.read_bytes() == b"mine" and partial.read_bytes() == b"theirs"


def test_keep_both(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"mine")
    (tmp_path / "report (1).pdf").write_bytes(b"mine too")
    partial = partial_with(tmp_path, b"theirs")
    got = disk.commit(partial, tmp_path / "report.pdf", "keep_both")
    assert got == tmp_path / "report (2).pdf" and got.read_bytes() == b"theirs"
    assert (tmp_path / "report.pdf").read_bytes() == b"mine"
    assert (tmp_path / "report (1).pdf").read_bytes() == b"mine too"
    assert not partial.exists()


def test_replace(tmp_path: Path) -> None:
    final = tmp_path / "report.pdf"
    final.write_bytes(b"mine")
    assert disk.commit(partial_with(tmp_path, b"theirs"), final, "replace") == final
    assert final.read_bytes() == b"theirs"
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError):
        disk.commit(partial_with(tmp_path, b"x", "folder"), tmp_path / "folder", "replace")


def test_a_symlink_at_the_final_name_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    base = tmp_path / "dl"
    base.mkdir()
    (base / "report.pdf").symlink_to(victim)
    (base / "dangling").symlink_to(tmp_path / "nothing")
    with pytest.raises(FileExistsError):
        disk.commit(partial_with(base, b"theirs"), base / "report.pdf")
    with pytest.raises(FileExistsError):
        disk.commit(partial_with(base, b"theirs", "dangling"), base / "dangling")
    assert not (tmp_path / "nothing").exists()
    got = disk.commit(partial_with(base, b"theirs"), base / "report.pdf", "replace")
    assert got.read_bytes() == b"theirs" and not got.is_symlink()
    assert victim.read_bytes() == b"precious"


def test_without_hard_links_a_check_then_a_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)  # FAT, some network shares
    (tmp_path / "report.pdf").write_bytes(b"mine")
    partial = partial_with(tmp_path, b"theirs")
    with pytest.raises(FileExistsError):
        disk.commit(partial, tmp_path / "report.pdf")
    got = disk.commit(partial, tmp_path / "report.pdf", "keep_both")
    assert got.name == "report (1).pdf" and got.read_bytes() == b"theirs"
    assert (tmp_path / "report.pdf").read_bytes() == b"mine"


def test_free_space(tmp_path: Path) -> None:
    assert disk.free_space(tmp_path) > 0
    assert disk.free_space(tmp_path / "not" / "yet") > 0  # the folder it would be made in
    assert not (tmp_path / "not").exists()
