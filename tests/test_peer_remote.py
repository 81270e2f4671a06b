"""Remote control through the whole peer: consent, injection into a real X client, release.

The real signaling server, the real ``PeerSession`` and a real aiortc "operator" on loopback
only; the peer injects into a Tk recorder window of the tests' own on Xvfb, and what the X
server reports down (``peer.inject.held_keys`` / ``pointer_buttons``) is checked after every
revoke, hand-back, closed channel and disconnect.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from loopback_ice import LOOPBACK, candidate_addresses, loopback_only
from sigclient import Endpoint, SigClient, add_operator, server_settings
from xrecorder import Recorder
from xvfb import virtual_display

from peer import encoder
from peer.cli import HeadlessUI
from peer.inject import held_keys, pointer_buttons
from peer.session import Outcome, PeerSession
from peer.settings import PeerSettings
from peer.windows import WindowInfo
from wire import protocol as p

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")

PASSWORD = "correct horse"
SCREEN = (1280, 720)
WINDOW = (100, 100, 600, 300)  # where the recorder sits


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(*SCREEN) as name:
        yield name


@pytest.fixture(autouse=True)
def loopback(display: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DISPLAY", display)  # the injector (pynput) uses $DISPLAY
    with loopback_only():
        yield
    encoder.uninstall()


@pytest.fixture
async def endpoint(tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[tuple[Endpoint, str]]:
    import aiohttp

    add_operator(tmp_path / "data", "alice", PASSWORD)
    server = await aiohttp_server(create_app_for(tmp_path), host="127.0.0.1")
    http = aiohttp.ClientSession()
    ep = Endpoint(http, str(server.make_url("/")))
    token = await ep.login("alice", PASSWORD)
    yield ep, token
    await http.close()


def create_app_for(tmp_path: Path) -> Any:
    from signaling.app import create_app

    return create_app(server_settings(tmp_path))


@pytest.fixture
def xdisplay(display: str) -> Iterator[Any]:
    import Xlib.display

    d = Xlib.display.Display(display)
    yield d
    d.close()


class RecordingUI(HeadlessUI):
    """The headless printer, keeping its lines; records questions and window pickers."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.asked: list[tuple[str, str]] = []
        self.pickers: list[list[WindowInfo]] = []

    def _line(self, text: str) -> None:
        self.lines.append(text)

    def ask(self, capability: str, operator: str) -> None:
        self.asked.append((capability, operator))

    def pick_window(self, windows: list[WindowInfo]) -> None:
        self.pickers.append(windows)


class Operator:
    """The operator's browser, played by aiortc: answers, sends on ``control`` and ``input``."""

    def __init__(self, sig: SigClient) -> None:
        self.sig = sig
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.received: list[Any] = []
        self.channels: dict[str, Any] = {}
        self.track: MediaStreamTrack | None = None
        self.pc.on("datachannel", self._channel)
        self.pc.on("track", self._track)

    def _channel(self, channel: Any) -> None:
        self.channels[channel.label] = channel
        if channel.label == "control":
            channel.on("message", lambda m: self.received.append(p.parse(m, p.CONTROL)))

    def _track(self, track: MediaStreamTrack) -> None:
        self.track = track

    async def connect(self) -> None:
        request = await self.sig.expect(p.JoinRequest)
        await self.sig.send(p.Accept(session_id=request.session_id))
        await self.sig.expect(p.Paired)
        offer = await self.sig.expect(p.Offer, timeout=10)
        assert "webrtc-datachannel" in offer.sdp
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        answer = self.pc.localDescription.sdp
        assert candidate_addresses(offer.sdp) == {LOOPBACK} == candidate_addresses(answer)
        await self.sig.send(p.Answer(sdp=answer))
        await until(lambda: {"control", "input"} <= set(self.channels), 10)

    def control(self, msg: Any) -> None:
        self.channels["control"].send(p.serialize(msg))

    def input(self, msg: Any) -> None:
        self.channels["input"].send(p.serialize(msg) if not isinstance(msg, str) else msg)

    def key(self, code: str, key: str, down: bool) -> None:
        self.input(p.Key(code=code, key=key, down=down))

    def type_text(self, text: str) -> None:
        for ch in text:
            code = f"Key{ch.upper()}" if ch.isalpha() else ""
            self.key(code, ch, True)
            self.key(code, ch, False)

    def states(self) -> list[tuple[str, ...]]:
        return [m.granted for m in self.received if isinstance(m, p.ConsentState)]

    def of(self, cls: type[Any]) -> list[Any]:
        return [m for m in self.received if isinstance(m, cls)]


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


class Running:
    """One peer session joined to an operator that answered it."""

    def __init__(
        self, session: PeerSession, ui: RecordingUI, operator: Operator, run: Any, sig: SigClient
    ) -> None:
        self.session = session
        self.ui = ui
        self.operator = operator
        self.run = run
        self.sig = sig

    async def settled(self, injected: int) -> None:
        """Wait until ``injected`` messages were injected and the X server has them."""
        await until(lambda: self.session.remote.injected >= injected)
        await self.session.remote.flush()

    async def end(self) -> Outcome:
        if not self.run.done():
            self.session.disconnect()
        outcome: Outcome = await asyncio.wait_for(self.run, 10)
        await self.operator.pc.close()
        await self.sig.close()
        return outcome


async def start(
    endpoint: tuple[Endpoint, str],
    display: str,
    *,
    allow: frozenset[str] = frozenset({"view"}),
    headless: bool = True,
    window: str | None = None,
    **kw: Any,
) -> Running:
    ep, token = endpoint
    sig = await ep.operator(token)
    created = await sig.create("screen")
    settings = PeerSettings(
        server=ep.base,
        code=created.code,
        allow=allow,
        headless=headless,
        idle_refresh=0.2,
        window=window,
        **kw,
    )
    ui = RecordingUI()
    session = PeerSession(settings, ui, display=display)
    run = asyncio.ensure_future(session.run(created.code))
    operator = Operator(sig)
    await operator.connect()
    if "view" in allow and window is None:
        await until(lambda: bool(operator.of(p.ViewState)))  # input geometry known
    return Running(session, ui, operator, run, sig)


def pressed_by_peer(running: Running, d: Any) -> set[int]:
    """Keycodes the X server reports down that the peer's injector pressed."""
    injector = running.session.remote._injector
    codes = set() if injector is None else set(getattr(injector, "pressed_keycodes", ()))
    return codes & held_keys(d)


def keycode(d: Any, name: str) -> int:
    import Xlib.XK

    return int(d.keysym_to_keycode(Xlib.XK.string_to_keysym(name)))


# --------------------------------------------------------------------------- tests


async def test_control_is_asked_injected_revoked_and_handed_back(
    endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    with Recorder(display, *WINDOW) as rec:
        r = await start(endpoint, display, headless=False)
        op, session, ui = r.operator, r.session, r.ui
        # view pre-granted; the window (GUI flow) will ask about control
        await until(lambda: bool(op.of(p.ViewState)))
        assert op.of(p.ViewState)[-1] == p.ViewState(
            monitors=(p.Monitor(index=0, x=0, y=0, width=1280, height=720, primary=False),),
            monitor=0,
            width=1280,
            height=720,
        )
        assert "view: monitor 0 (1280x720)" in ui.lines

        # before consent nothing is injected: dropped and counted
        op.input(p.PointerButton(button="left", down=True, x=0.3, y=0.3))
        op.type_text("no")
        await until(lambda: session.remote.core.counters["not_allowed"] == 5)
        assert session.remote._injector is None  # no X connection for input before consent
        assert rec.events() == []

        # the operator asks, the customer allows
        op.control(p.ConsentRequest(capability="control"))
        await until(lambda: ("control", "alice") in ui.asked)
        session.answer("control", True)
        await until(lambda: ("view", "control", "chat") in op.states())
        assert p.ConsentReply(capability="control", allowed=True) in op.received
        assert "control: press Ctrl+Alt+End to take back control" in ui.lines

        # a click lands where the operator pointed, typing arrives in the recorder
        x, y, w, h = WINDOW
        fx, fy = (x + 50) / SCREEN[0], (y + 40) / SCREEN[1]
        op.input(p.PointerButton(button="left", down=True, x=fx, y=fy))
        op.input(p.PointerButton(button="left", down=False, x=fx, y=fy))
        op.key("ShiftLeft", "Shift", True)
        op.key("KeyH", "H", True)
        op.key("KeyH", "H", False)
        op.key("ShiftLeft", "Shift", False)
        op.type_text("i")
        await r.settled(8)
        clicks = [e for e in rec.events() if e["ev"].startswith("button")]
        assert [(e["ev"], e["num"]) for e in clicks] == [("button_down", 1), ("button_up", 1)]
        assert abs(clicks[0]["x_root"] - (x + 50)) <= 1 and abs(clicks[0]["y_root"] - (y + 40)) <= 1
        assert rec.text() == "Hi"

        # holding Shift and the left button, the customer presses Stop: all let go at once
        op.key("ShiftLeft", "Shift", True)
        op.input(p.PointerButton(button="left", down=True, x=fx, y=fy))
        await r.settled(10)
        assert keycode(xdisplay, "Shift_L") in held_keys(xdisplay)
        assert 1 in pointer_buttons(xdisplay)
        session.revoke("control")
        await session.remote.flush()
        assert keycode(xdisplay, "Shift_L") not in held_keys(xdisplay)
        assert pointer_buttons(xdisplay) == set()
        assert "control: revoked" in ui.lines
        await until(lambda: op.states()[-1] == ("view", "chat"))
        # after the revoke nothing more is injected
        rec.forget()
        before = session.remote.core.counters["not_allowed"]
        op.type_text("zz")
        await until(lambda: session.remote.core.counters["not_allowed"] == before + 4)
        await session.remote.flush()
        assert [e for e in rec.events() if e["ev"] == "key_down"] == []

        # the operator asks again and then hands control back while holding Control
        op.control(p.ConsentRequest(capability="control"))
        await until(lambda: ui.asked.count(("control", "alice")) == 2)
        session.answer("control", True)
        await until(lambda: op.states()[-1] == ("view", "control", "chat"))
        injected = session.remote.injected
        op.key("ControlLeft", "Control", True)
        await r.settled(injected + 1)
        assert keycode(xdisplay, "Control_L") in held_keys(xdisplay)
        op.control(p.Release(capability="control"))
        await until(lambda: op.states()[-1] == ("view", "chat"))
        await session.remote.flush()
        assert keycode(xdisplay, "Control_L") not in held_keys(xdisplay)

        # channels are not interchangeable: input on control, control on input are dropped
        op.channels["control"].send(p.serialize(p.Key(code="KeyA", key="a", down=True)))
        op.input(p.serialize(p.ConsentRequest(capability="control")))
        op.input("{not json")
        await until(lambda: session.link is not None and session.link.dropped["unknown_type"] == 1)
        await until(lambda: session.remote.core.counters["malformed"] == 2)

        outcome = await r.end()
        assert outcome.exit_status == 0
        summary = next(line for line in ui.lines if line.startswith("input: "))
        assert summary.startswith(f"input: injected {session.remote.injected}, dropped ")
        assert "not_allowed=9" in summary and "malformed=2" in summary
        assert ui.lines[-1] == "ended: you ended the session"


async def test_hotkey_takes_control_back_and_releases(
    endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    from Xlib import X
    from Xlib.ext import xtest

    r = await start(endpoint, display, allow=frozenset({"view", "control"}))
    op, session, ui = r.operator, r.session, r.ui
    await until(lambda: ("view", "control", "chat") in op.states())
    assert "consent: control allowed (pre-granted by --allow)" in ui.lines
    assert "operator may now: view, control, chat" in ui.lines
    assert "hotkey: Ctrl+Alt+End takes control back" in ui.lines
    op.key("ShiftRight", "Shift", True)
    op.input(p.PointerButton(button="right", down=True, x=0.9, y=0.9))
    await r.settled(2)
    assert keycode(xdisplay, "Shift_R") in held_keys(xdisplay) and 3 in pointer_buttons(xdisplay)

    # the customer presses Ctrl+Alt+End on their own keyboard
    keys = [keycode(xdisplay, k) for k in ("Control_L", "Alt_L", "End")]
    for code in keys:
        xtest.fake_input(xdisplay, X.KeyPress, code)
    for code in reversed(keys):
        xtest.fake_input(xdisplay, X.KeyRelease, code)
    xdisplay.sync()
    await until(lambda: "control: revoked" in ui.lines)
    await until(lambda: op.states()[-1] == ("view", "chat"))
    await session.remote.flush()
    assert held_keys(xdisplay).isdisjoint({keycode(xdisplay, "Shift_R"), *keys})
    assert pointer_buttons(xdisplay) == set()
    assert "consent: control denied (revoked by the customer)" in ui.lines

    # headless: a second request is denied, a limit request is not available
    op.control(p.ConsentRequest(capability="control"))
    op.control(p.LimitRequest())
    denied = p.ConsentReply(capability="control", allowed=False)
    await until(lambda: denied in op.received)
    await until(lambda: "limit to one application: not available in headless mode" in ui.lines)
    assert "consent: control denied (not in --allow)" in ui.lines
    await r.end()


async def test_closed_input_channel_and_lost_connection_release_everything(
    endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    r = await start(endpoint, display, allow=frozenset({"view", "control"}))
    op, session = r.operator, r.session
    await until(lambda: ("view", "control", "chat") in op.states())
    op.key("AltLeft", "Alt", True)
    op.input(p.PointerButton(button="middle", down=True, x=0.5, y=0.5))
    await r.settled(2)
    assert keycode(xdisplay, "Alt_L") in held_keys(xdisplay) and 2 in pointer_buttons(xdisplay)
    op.channels["input"].close()
    await until(lambda: not session.remote.core.held_keysyms)
    await session.remote.flush()
    assert keycode(xdisplay, "Alt_L") not in held_keys(xdisplay)
    assert pointer_buttons(xdisplay) == set()
    assert pressed_by_peer(r, xdisplay) == set()

    # a key held through the control channel's sibling is gone; now the whole link drops
    await r.end()


async def test_disconnect_releases_keys_held_for_the_operator(
    endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    r = await start(endpoint, display, allow=frozenset({"view", "control"}))
    op, session = r.operator, r.session
    await until(lambda: ("view", "control", "chat") in op.states())
    op.key("ControlRight", "Control", True)
    op.key("KeyQ", "q", True)
    await r.settled(2)
    down = {keycode(xdisplay, "Control_R"), keycode(xdisplay, "q")}
    assert down <= held_keys(xdisplay)
    await op.pc.close()  # the operator's side is gone: nobody will send the key-ups
    await until(lambda: not session.remote.core.held_keysyms, 10)
    await session.remote.flush()
    assert held_keys(xdisplay).isdisjoint(down)
    outcome = await r.end()
    assert outcome.exit_status in (0, 1)
    assert held_keys(xdisplay).isdisjoint(down)
    assert any(line.startswith("input: injected 2, dropped 0") for line in r.ui.lines)


async def test_bad_input_is_dropped_and_counted_never_injected(
    endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    with Recorder(display, *WINDOW) as rec:
        r = await start(endpoint, display, allow=frozenset({"view", "control"}))
        op, session = r.operator, r.session
        await until(lambda: ("view", "control", "chat") in op.states())
        frames = [
            '{"type":"pointer_move","x":1.5,"y":0.5}',  # out of range
            '{"type":"pointer_move","x":-0.1,"y":0.5}',
            '{"type":"key","code":"KeyA","key":"ab","down":true}',  # no keysym
            '{"type":"key","code":"KeyA","key":"a","down":false}',  # not held
            '{"type":"pointer_button","button":"left","down":false,"x":0.1,"y":0.1}',
            '{"type":"wheel","x":0.5,"y":0.5,"dx":0,"dy":99}',
            '{"type":"key","code":"KeyA","key":"' + "a" * 600 + '","down":true}',
            "[1,2,3]",
            "",
        ]
        for frame in frames:
            op.input(frame)
        op.channels["input"].send(b"\x00binary")
        counters = session.remote.core.counters
        await until(lambda: counters["malformed"] == 7 and counters["no_keysym"] == 1)
        assert counters["not_held"] == 2
        # a flood: far more moves than the bucket allows, dropped but never a crash
        before = session.remote.injected
        for i in range(1500):
            op.input(p.PointerMove(x=(i % 100) / 100, y=0.5))
        await until(lambda: session.remote.injected - before + counters["flood"] == 1500, 10)
        assert counters["flood"] > 0
        await asyncio.sleep(0.6)  # the bucket fills again
        injected = session.remote.injected
        op.input(p.PointerButton(button="left", down=True, x=0.2, y=0.2))  # into the recorder
        op.input(p.PointerButton(button="left", down=False, x=0.2, y=0.2))
        op.type_text("ok")
        await r.settled(injected + 6)
        assert rec.text() == "ok"
        assert session.remote.injected < 1500 + 4
        await r.end()
