"""Remote control for one session: the ``InputCore`` and the ``Injector``, on one thread.

``RemoteControl`` is the thin adapter between the ``input`` data channel and the X server:

* ``handle_text(frame)``: the core parses and checks the frame (consent, geometry, limits)
  and what it answers is performed by the injector;
* ``allow(bool)``: the customer allowed or took back ``control``; taking it back releases
  every key and button held for the operator at once;
* ``set_geometry(...)``: what is shared now (a monitor's rect or one window's);
* ``release()``: let go of everything held (disconnect, lost connection, closed channel);
* ``close()``: release, give borrowed keycodes back, close the X connections.

Every X call runs on one private thread, in the order the calls were made, so a release
always comes after the presses that arrived before it and the event loop never blocks on
the X server. The injector (two X connections) is opened the first time control is allowed,
never before. ``injected`` counts the input messages that were performed; the core's
``counters`` count what was dropped, by reason.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from .remote_input import Action, InputCore, Rect

logger = logging.getLogger(__name__)


class InjectorLike(Protocol):
    def perform(self, actions: Iterable[Action]) -> None: ...

    def release_everything(self, actions: Iterable[Action] = ()) -> None: ...

    def close(self) -> None: ...


def default_injector() -> InjectorLike:
    from .inject import Injector

    return Injector()


class RemoteControl:
    def __init__(
        self,
        make_injector: Callable[[], InjectorLike] = default_injector,
        *,
        core: InputCore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core or InputCore()
        self.injected = 0
        self._make_injector = make_injector
        self._injector: InjectorLike | None = None
        self._clock = clock
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "supportlink-inject")
        self._closed = False

    @property
    def allowed(self) -> bool:
        return self.core.allowed

    def allow(self, allowed: bool) -> bool:
        """Allow or stop control; ``False`` if control cannot work here (no X, no XTEST)."""
        if allowed and not self._closed and self._injector is None:
            try:
                self._injector = self._make_injector()
            except Exception as exc:  # no display, no XTEST extension, ...
                logger.warning("remote control: cannot inject input here: %s", exc)
                self.core.set_allowed(False)
                return False
        if allowed and self._closed:
            return False
        actions = self.core.set_allowed(allowed)
        if not allowed:
            self._release(actions)
        return True

    def handle_text(self, data: str | bytes) -> None:
        actions = self.core.handle_text(data, self._clock())
        if actions:
            self.injected += 1
            self._submit(actions)

    def set_geometry(
        self,
        rect: Rect | None,
        *,
        window_id: int | None = None,
        visible: Sequence[Rect] | None = None,
        focused: bool = False,
    ) -> None:
        released = self.core.set_geometry(
            rect, window_id=window_id, visible=visible, focused=focused
        )
        if released:
            self._release(released)
        waited = self.core.set_focused(focused, self._clock())
        if waited:  # keys that came just before the focus reached the window
            self.injected += 1
            self._submit(waited)

    def release(self) -> None:
        """Let go of every key and button held for the operator, now."""
        self._release(self.core.release_all())

    async def flush(self) -> None:
        """Wait until the X server has everything asked of it so far."""
        if not self._closed:
            await asyncio.get_running_loop().run_in_executor(self._executor, lambda: None)

    async def close(self) -> None:
        """Release everything, then close the injector; nothing is injected afterwards."""
        if self._closed:
            return
        self.core.set_allowed(False)
        self.release()
        self._closed = True
        injector, self._injector = self._injector, None
        if injector is not None:
            future = self._executor.submit(injector.close)
            await asyncio.wrap_future(future)
        self._executor.shutdown(wait=False)

    def summary(self) -> str:
        """``injected N, dropped M (reason=count, ...)``."""
        dropped = {k: v for k, v in self.core.counters.items() if v}
        text = f"injected {self.injected}, dropped {sum(dropped.values())}"
        if dropped:
            text += " (" + ", ".join(f"{k}={v}" for k, v in dropped.items()) + ")"
        return text

    # ------------------------------------------------------------------ the X thread

    def _submit(self, actions: list[Action]) -> None:
        injector = self._injector
        if injector is None or self._closed:
            return
        self._executor.submit(self._run, injector.perform, actions)

    def _release(self, actions: list[Action]) -> None:
        injector = self._injector
        if injector is None or self._closed:
            return
        self._executor.submit(self._run, injector.release_everything, actions)

    @staticmethod
    def _run(fn: Callable[[list[Action]], None], actions: list[Action]) -> None:
        try:
            fn(actions)
        except Exception:  # a lost display must not end the session's loop
            logger.exception("remote control: injecting failed")
