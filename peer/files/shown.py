"""What file transfer shows the customer: a ``Shown`` that also carries what the window's files
pane draws besides the words. The headless peer prints the words and ignores the rest.

Kinds, besides ``"line"`` and ``"progress"``:

* ``"activity"``: no words, only ``moving`` and ``fraction`` changed (the window only);
* ``"question"``: ask the customer ``text`` (Send / Decline); the answer goes back to the
  feature as ``from_ui("request_send" | "request_decline", text)``;
* ``"question_over"``: how a request ended: close its question if it is still on the
  screen (unanswered, or answered elsewhere), and show ``text`` as a line.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..feature import Shown


@dataclass(frozen=True)
class FilesShown(Shown):
    """``moving``: something arrives or leaves now (Stop transfers can stop it). ``fraction``:
    how far, 0..1 of its bytes, the transfer that moved last is; ``None`` leaves the bar as
    it is."""

    moving: bool = False
    fraction: float | None = None
