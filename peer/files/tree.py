"""What offering a file or a folder sends: its tree, walked without following a link, and the
``file_offer`` messages that carry it.

    files, entries, left_out = walk(root)           # blocking: run it in a thread
    parts = offer_parts(transfer, root, entries, total)

A folder's symlinks and special files (devices, FIFOs, sockets) are left out and named in
``left_out``; so is ``root`` itself when it is a link or not a regular file or folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from wire import protocol

#: Bytes of JSON per ``file_offer`` message (the registry allows 64 KiB).
OFFER_BYTES = 48 * 1024


def walk(root: Path) -> tuple[list[Path], list[protocol.FileEntry], list[str]]:
    """What offering ``root`` sends: its files (a folder: its tree, empty folders as entries),
    never following a symlink; what was left out (symlinks, devices, unreadable)."""
    files: list[Path] = []
    entries: list[protocol.FileEntry] = []
    left_out: list[str] = []
    if root.is_symlink() or not (root.is_file() or root.is_dir()):
        return files, entries, [root.name]
    if root.is_file():
        files.append(root)
        entries.append(protocol.FileEntry(path=root.name, size=root.stat().st_size))
        return files, entries, left_out

    def visit(folder: Path, rel: str) -> None:
        try:
            children = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            left_out.append(rel)
            return
        if not children:
            files.append(folder)
            entries.append(protocol.FileEntry(path=rel, size=0, folder=True))
        for child in children:
            child_rel = f"{rel}/{child.name}"
            if child.is_symlink():
                left_out.append(child_rel)
            elif child.is_dir(follow_symlinks=False):
                visit(Path(child.path), child_rel)
            elif child.is_file(follow_symlinks=False):
                files.append(Path(child.path))
                entries.append(
                    protocol.FileEntry(
                        path=child_rel, size=child.stat(follow_symlinks=False).st_size
                    )
                )
            else:
                left_out.append(child_rel)
            if len(entries) > protocol.MAX_FILES_PER_TRANSFER:
                return

    visit(root, root.name)
    return files, entries, left_out


def offer_parts(
    transfer: int, root: Path, entries: list[protocol.FileEntry], total: int
) -> list[protocol.FileOffer]:
    """The offer, cut into messages of at most ``OFFER_BYTES`` of JSON each."""
    parts: list[list[protocol.FileEntry]] = [[]]
    size = 0
    for entry in entries:
        cost = len(json.dumps(entry.path, ensure_ascii=False).encode()) + 48
        if parts[-1] and (size + cost > OFFER_BYTES or len(parts[-1]) >= 1000):
            parts.append([])
            size = 0
        parts[-1].append(entry)
        size += cost
    return [
        protocol.FileOffer(
            transfer=transfer,
            name=root.name,
            from_folder=str(root.parent)[:4096],
            count=len(entries),
            total=total,
            entries=tuple(part),
            more=i < len(parts) - 1,
        )
        for i, part in enumerate(parts)
    ]
