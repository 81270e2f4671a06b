"""Offers and answers for one connection: the peer always offers, the console answers.

Offers go one at a time: a later offer (renegotiation: a track added or taken out) is made
only once the one before it was answered, or ``ANSWER_TIMEOUT`` passed. An answer that fits
no waiting offer -- a replay, a late one -- is dropped and counted by the caller, never
applied: the connection keeps the description it has.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .connection import PeerLink

logger = logging.getLogger(__name__)

#: Seconds an offer waits for its answer before the next one may go.
ANSWER_TIMEOUT = 15.0


class Negotiation:
    def __init__(
        self,
        link: PeerLink,
        send_offer: Callable[[str], Awaitable[None]],
        *,
        timeout: float = ANSWER_TIMEOUT,
    ) -> None:
        self.link = link
        self._send_offer = send_offer
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._answered: asyncio.Future[None] | None = None

    async def offer(self) -> str:
        """Make and send an offer once the previous one was answered; its SDP."""
        async with self._lock:
            if self._answered is not None:
                await self._wait(self._answered)
            answered = self._answered = asyncio.get_running_loop().create_future()
            try:
                sdp = await self.link.offer()
                await self._send_offer(sdp)
            except BaseException:
                answered.cancel()
                raise
            return sdp

    async def renegotiate(self) -> None:
        """A new offer for the tracks as they are now, answered (or timed out) on return."""
        await self.offer()
        if self._answered is not None:
            await self._wait(self._answered)

    async def answer(self, sdp: str) -> str | None:
        """Apply the answer to the waiting offer: the verification code, or ``None`` if no
        offer waits for one or it does not fit (dropped)."""
        if self.link.pc.signalingState != "have-local-offer":
            logger.warning("answer dropped: no offer is waiting for one")
            return None
        try:
            return await self.link.accept_answer(sdp)
        except Exception as exc:  # it does not fit the offer: the old description stays
            logger.warning("answer dropped: %s", exc)
            return None
        finally:
            if self._answered is not None and not self._answered.done():
                self._answered.set_result(None)

    async def _wait(self, answered: asyncio.Future[None]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(answered), self._timeout)
        except TimeoutError:
            logger.warning("renegotiation: no answer in %.0f s", self._timeout)
        except asyncio.CancelledError:
            if not answered.cancelled():
                raise
