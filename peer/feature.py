"""What every capability of the peer looks like to the session: one ``Feature`` each.

``PeerSession`` knows no capability by name. It builds one feature per row of
``protocol.CAPABILITY_TABLE`` that this peer can carry out (``FEATURES`` below), announces
those to the console, and then only loops over them:

* ``Consent`` decides; the session tells the feature (``set_allowed``), and a feature that
  cannot work on this computer answers ``False`` (the grant is taken back at once);
* a parsed message of a type the feature ``handles`` reaches ``handle`` -- but only while its
  capability is allowed (or needs no consent): everything else is dropped and counted here,
  so that no feature has to remember to check;
* raw frames of the channels it ``reads_raw`` reach ``frame`` whatever is allowed: the
  feature parses them and enforces consent itself (remote control's ``InputCore`` does, and
  counts every drop);
* ``from_ui`` takes what the customer did in the feature's pane (``"send"``, text);
* ``remote_track`` gets what the operator sends of the kind its row carries (voice);
* ``link_lost`` (connection down, a channel closed), ``close`` and ``summary`` at the end.

A feature talks to the customer only through ``FeatureHost.show`` (one ``Shown`` event,
rendered by each UI in its own way), and to the operator through ``FeatureHost.send``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from aiortc.mediastreams import MediaStreamTrack

from wire import protocol

from .windows import WindowInfo


@dataclass(frozen=True)
class Shown:
    """Something a feature shows the customer.

    ``kind`` is ``"line"`` (one status line), ``"progress"`` (a line that the next progress
    line of the feature replaces), ``"mic"`` / ``"speaker"`` (how voice's microphone and
    speakers are now), ``"drawing"`` (a status line while the customer draws on their own
    screen) or ``"message"`` (``who`` wrote ``text``, as in chat; ``mine`` when the customer
    wrote it).
    """

    kind: str
    text: str
    who: str = ""
    mine: bool = False


class FeatureHost(Protocol):
    """What the session offers its features."""

    @property
    def operator(self) -> str: ...

    @property
    def display(self) -> str | None: ...

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None: ...

    def send(self, label: str, msg: Any) -> bool:
        """Send ``msg`` on data channel ``label`` (kept until it opens); ``False`` if it
        cannot go (no connection, the channel closed)."""
        ...

    def send_bytes(self, label: str, data: bytes) -> bool:
        """A binary frame on channel ``label`` (``False`` if it is not open)."""
        ...

    def buffered_amount(self, label: str) -> int:
        """Bytes queued on channel ``label`` and not yet sent."""
        ...

    async def drained(self, label: str, low: int) -> None:
        """Wait until channel ``label`` holds at most ``low`` bytes unsent."""
        ...

    def add_track(self, track: MediaStreamTrack, direction: str = "sendonly") -> None:
        """Send ``track`` on this connection and every fresh one (from the next offer)."""
        ...

    def has_track(self, track: MediaStreamTrack) -> bool: ...

    def set_direction(self, track: MediaStreamTrack, direction: str) -> None:
        """Change what ``track``'s transceiver does (from the next offer)."""
        ...

    async def renegotiate(self) -> None:
        """Offer the media as they are now; returns once answered (or timed out)."""
        ...

    def tell(self, label: str, code: str, message: str) -> None:
        """Tell the operator on ``label`` why something they sent was refused (an ``error``,
        a few per second at most)."""
        ...

    def show(self, capability: str, shown: Shown) -> None: ...

    def notice(self, text: str) -> None: ...

    def revoke(self, capability: str) -> None:
        """The customer takes ``capability`` back (as with its Stop button)."""
        ...

    def start(self, coro: Any) -> None:
        """Run ``coro`` for the rest of the session (cancelled at its end)."""
        ...

    def refuse(self, what: str) -> None:
        """Count a request the feature refused (``refused[what]``)."""
        ...

    def hotkey(self, label: str) -> None: ...

    def view_mode(self, window: str | None) -> None: ...

    def pick_window(self, windows: list[WindowInfo]) -> None: ...

    def ask_whole_screen(self) -> None: ...

    def ask_files(
        self, transfer: int, name: str, count: int, size: str, preview: list[str]
    ) -> None: ...


class Feature:
    """One capability, carried out on the customer's computer."""

    capability: ClassVar[str]
    #: Parsed message types (on any channel of the table) this feature takes.
    handles: ClassVar[frozenset[str]] = frozenset()
    #: Channel labels whose frames this feature reads unparsed (it parses and counts them).
    reads_raw: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, host: FeatureHost) -> None:
        self.host = host
        self.allowed = False

    def start(self) -> None:
        """The session is paired (before the first offer)."""

    def set_allowed(self, allowed: bool) -> bool:
        """Carry out the customer's decision; ``False`` if this computer cannot do it."""
        self.allowed = allowed
        return True

    def handle(self, msg: Any) -> None:
        """A message of a type in ``handles``, while allowed."""

    def frame(self, label: str, data: str | bytes) -> None:
        """A raw frame of a channel in ``reads_raw``, while allowed."""

    def remote_track(self, track: MediaStreamTrack) -> None:
        """The operator sends a track on a transceiver whose sending side is ours
        (``carries``)."""

    def carries(self, track: MediaStreamTrack) -> bool:
        """Whether ``track`` (what a transceiver of the connection sends, or the placeholder
        of one that only receives) is this feature's: the operator's track arriving on that
        transceiver is then for this feature, and for no other."""
        return False

    def refused(self) -> None:
        """A message for this feature was dropped: its capability is not allowed."""

    def from_ui(self, action: str, value: str) -> None:
        """The customer did ``action`` in this feature's pane."""

    def link_lost(self) -> None:
        """The connection or one of the data channels went down."""

    def relinked(self) -> None:
        """A fresh connection replaced a lost one: say again what the operator must know
        (the new channels start empty)."""

    def stop_now(self) -> None:
        """The customer disconnects: stop sending at once, before anything else happens."""

    async def close(self) -> None:
        """The session is over: stop, release everything, close devices."""

    def summary(self) -> str | None:
        """One line for the end of the session, or ``None``."""
        return None

    @classmethod
    def spec(cls) -> protocol.CapabilitySpec:
        return protocol.CAPABILITY_BY_NAME[cls.capability]
