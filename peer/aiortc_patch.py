"""What every patch of aiortc (and aioice) here shares: applied once, only on an aiortc version
it was read against, and put back exactly as it was.

    PATCH = Patch("voice", SUPPORTED, "left as it is (80 ms more delay)")
    PATCH.apply([(RTCRtpReceiver, "__init__", _init), (rtcrtpreceiver, "get_decoder", _get)])
    PATCH.original("get_decoder")(codec)       # what was there before, to call through
    PATCH.installed; PATCH.undo()

``apply`` returns False, logs a warning naming what is lost, and changes nothing when
``aiortc.__version__`` is not in ``supported``; the patch's test fails until the new aiortc is
read against it and its version added.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import aiortc

logger = logging.getLogger(__name__)


class Patch:
    def __init__(self, what: str, supported: frozenset[str], without: str) -> None:
        self.what = what
        self.supported = supported
        self.without = without
        self._saved: list[tuple[Any, str, Any]] = []
        self._originals: dict[str, Any] = {}  # by attribute name, for the patches' calls
        self.installed = False

    def apply(self, changes: Sequence[tuple[Any, str, Any]]) -> bool:
        """Set each (owner, attribute, value) (once); False if this aiortc is not supported."""
        if self.installed:
            return True
        if aiortc.__version__ not in self.supported:
            logger.warning(
                "%s: aiortc %s is not one this patch was read against (%s): %s",
                self.what,
                aiortc.__version__,
                ", ".join(sorted(self.supported)),
                self.without,
            )
            return False
        for owner, name, value in changes:
            self._saved.append((owner, name, getattr(owner, name)))
            self._originals.setdefault(name, getattr(owner, name))
            setattr(owner, name, value)
        self.installed = True
        return True

    def original(self, name: str) -> Any:
        """What attribute ``name`` held before ``apply`` (for a patch that calls through)."""
        return self._originals[name]

    def undo(self) -> None:
        """Put back what ``apply`` changed (tests and benchmarks compare with aiortc's own)."""
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)
        self._saved.clear()
        self._originals.clear()
        self.installed = False
