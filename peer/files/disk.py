"""The disk side of receiving: free space, partial files, the final name (a thin adapter).

Components passed in must already be sanitised (``names.sanitize``); they are checked again.
The destination folder ``base`` is the customer's choice and is trusted, symlinks and all;
below it nothing is followed: a symlink where a folder or the partial file should be is
refused (``UnsafeDestination``, code ``symlink``), and so is a file where a folder should be
(``not_a_folder``) and anything but a file where the partial file should be (``not_a_file``).
The other side only sends names, so it cannot plant a symlink; these checks keep a name from
reaching through one that is already there (``lstat``, then ``O_NOFOLLOW``).

    free_space(base)                           bytes free where base is (or would be)
    partial_path(base, components)             where the file is while it arrives
    prove_partial(base, components)            RunningHash of the partial file, or None
    open_partial(base, components, start)      the partial file, cut to ``start``, positioned
    commit(partial, final, policy)             the final name, never overwriting unless
                                               ``replace``; ``keep_both`` picks ``name (1)``
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Literal

from .digest import RunningHash
from .errors import UnsafeDestination
from .names import check_component, free_name, partial_name

Policy = Literal["refuse", "keep_both", "replace"]

DISK_CODES: dict[str, str] = {
    "symlink": "a symbolic link is in the way of a received file",
    "not_a_folder": "a file is where a received folder should be",
    "not_a_file": "something other than a file is where a partial file should be",
}

_BLOCK = 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def free_space(directory: Path) -> int:
    """Bytes free on the file system of ``directory`` (of its nearest existing ancestor)."""
    path = Path(directory).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def partial_path(base: Path, components: Sequence[str]) -> Path:
    """``base/a/b/name.supportlink-partial`` for the file ``a/b/name``."""
    _check(components)
    return Path(base, *components[:-1], partial_name(components[-1]))


def prove_partial(base: Path, components: Sequence[str]) -> RunningHash | None:
    """The hash of the partial file already there, for the resume proof; None if there is
    none (a folder or symlink on the way counts as none: it will be refused on open)."""
    path = partial_path(base, components)
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY | _CLOEXEC)
    except OSError:
        return None
    hasher = RunningHash()
    with open(fd, "rb", buffering=0) as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        while block := f.read(_BLOCK):
            hasher.update(block)
    return hasher


def open_partial(base: Path, components: Sequence[str], start: int = 0) -> BinaryIO:
    """The partial file of ``components`` under ``base``, opened for writing at ``start``:
    folders on the way are made, nothing is followed, the file is created if missing and cut
    to ``start`` bytes (which it must have; 0 starts over)."""
    path = partial_path(base, components)
    _make_folders(Path(base), components[:-1])
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _BINARY | _CLOEXEC, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            raise UnsafeDestination("symlink", f"{path} is a symbolic link") from exc
        raise
    f = open(fd, "r+b", buffering=0)  # handed to the caller
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeDestination("not_a_file", f"{path} is not a regular file")
        length = os.fstat(fd).st_size
        if start > length:
            raise ValueError(f"{path} has {length} bytes, cannot resume at {start}")
        f.truncate(start)
        f.seek(start)
    except BaseException:
        f.close()
        raise
    return f


def commit(partial: Path, final: Path, policy: Policy = "refuse") -> Path:
    """Give the verified partial file its final name and return that name.

    ``refuse``: ``FileExistsError`` if the name is taken (the partial stays); ``keep_both``:
    the first free ``name (n).ext``; ``replace``: an existing file is replaced (a folder is
    not). Never follows a symlink at ``final``: ``replace`` replaces the link itself.
    """
    if policy == "replace":
        if final.is_dir() and not final.is_symlink():
            raise IsADirectoryError(errno.EISDIR, "a folder has the name", str(final))
        os.replace(partial, final)
        return final
    parent, target = final.parent, final
    while True:
        try:
            _rename_no_replace(partial, target)
            return target
        except FileExistsError:
            if policy != "keep_both":
                raise
        target = parent / free_name(lambda n: os.path.lexists(parent / n), final.name)


# --------------------------------------------------------------------------- helpers


def _check(components: Sequence[str]) -> None:
    if not components or any(check_component(c) != c for c in components):
        raise ValueError(f"components {list(components)[:4]!r} are not sanitised")


def _make_folders(base: Path, folders: Sequence[str]) -> None:
    base.mkdir(parents=True, exist_ok=True)
    path = base
    for name in folders:
        path = path / name
        try:
            path.mkdir()
        except FileExistsError:
            pass
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            raise UnsafeDestination("symlink", f"{path} is a symbolic link")
        if not stat.S_ISDIR(mode):
            raise UnsafeDestination("not_a_folder", f"{path} is not a folder")


def _rename_no_replace(source: Path, target: Path) -> None:
    """Rename, failing with ``FileExistsError`` if ``target`` exists (even as a dangling
    symlink). A hard link does it atomically; where links are not supported (FAT, some
    network shares) a check, then a rename."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "the name is taken", str(target)) from None
        os.rename(source, target)
        return
    os.unlink(source)
