"""The real ``supportlink-peer`` with two extra lines it understands on standard input, for
testing renegotiation against the real console: ``/add-audio`` sends one more track (a
silent Opus stream) in the running session, ``/remove-audio`` stops it again; each prints
``rig: ...`` once its new offer is answered. Every other line is chat, as usual.

    python tests/e2e/renegotiating_peer.py --server URL --code CODE ...  (supportlink-peer's)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiortc.mediastreams import AudioStreamTrack  # noqa: E402

import peer.cli  # noqa: E402
import peer.session  # noqa: E402
from peer.session import PeerSession  # noqa: E402


class RenegotiatingSession(PeerSession):
    sound: Any = None

    def feature_input(self, capability: str, action: str, value: str) -> None:
        command = value.strip()
        if command == "/add-audio":
            asyncio.ensure_future(self._add())
        elif command == "/remove-audio":
            asyncio.ensure_future(self._remove())
        else:
            super().feature_input(capability, action, value)

    async def _add(self) -> None:
        self.sound = AudioStreamTrack()
        self.add_track(self.sound)
        await self.renegotiate()
        print("rig: audio added", flush=True)

    async def _remove(self) -> None:
        self.set_direction(self.sound, "inactive")
        await self.renegotiate()
        print("rig: audio removed", flush=True)


peer.session.PeerSession = RenegotiatingSession  # type: ignore[misc]  # cli imports it when a session starts
sys.exit(peer.cli.main())
