"""The error family of ``peer.files`` (drawn in the package docstring)."""

from __future__ import annotations


class FilesError(Exception):
    """A transfer problem with a stable ``code`` token and a message for the log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def token(self) -> str:
        """The same as ``code`` (the browser's errors have both)."""
        return self.code


class UnsafeName(FilesError, ValueError):
    """A name (or a set of names) from the other side is refused; see ``names.NAME_CODES``."""


class BadFrame(FilesError, ValueError):
    """A binary chunk frame is malformed; see ``frames.FRAME_CODES``."""


class TransferError(FilesError, ValueError):
    """A chunk or the end of a file breaks the rules; see ``incoming.TRANSFER_CODES``."""


class UnsafeDestination(FilesError, OSError):
    """Our own disk refuses a safe name: a symlink or a file where a folder should be
    (``disk.DISK_CODES``). Not the other side's fault."""
