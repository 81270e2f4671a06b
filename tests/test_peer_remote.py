"""Remote control through the whole peer: consent, injection into a real X client, release.

The real signaling server, the real ``PeerSession`` and a real aiortc "operator" on loopback
only; the peer injects into a Tk recorder window of the tests' own on Xvfb, and what the X
server reports down (``peer.inject.held_keys`` / ``pointer_buttons``) is checked after every
revoke, hand-back, closed channel and disconnect.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Running, remote_of, start_session, until
from sigclient import Endpoint
from xrecorder import Recorder
from xvfb import virtual_display

from peer.inject import held_keys, pointer_buttons
from wire import protocol as p

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")

SCREEN = (1280, 720)
WINDOW = (100, 100, 600, 300)  # where the recorder sits


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(*SCREEN) as name:
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer", "peer_display")


def pressed_by_peer(running: Running, d: Any) -> set[int]:
    """Keycodes the X server reports down that the peer's injector pressed."""
    injector = remote_of(running.session)._injector
    codes = set() if injector is None else set(getattr(injector, "pressed_keycodes", ()))
    return codes & held_keys(d)


def keycode(d: Any, name: str) -> int:
    import Xlib.XK

    return int(d.keysym_to_keycode(Xlib.XK.string_to_keysym(name)))


# --------------------------------------------------------------------------- tests


async def test_control_is_asked_injected_revoked_and_handed_back(
    loopback_endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    with Recorder(display, *WINDOW) as rec:
        r = await start_session(loopback_endpoint, display, headless=False)
        op, session, ui = r.operator, r.session, r.ui
        # view pre-granted; the window (GUI flow) will ask about control
        await until(lambda: bool(op.of(p.ViewState)))
        assert op.of(p.ViewState)[-1] == p.ViewState(
            monitors=(p.Monitor(index=0, x=0, y=0, width=1280, height=720, primary=False),),
            monitor=0,
            width=1280,
            height=720,
        )
        assert "view: monitor 1 of 1 (1280x720)" in ui.lines

        # before consent nothing is injected: dropped and counted
        op.input(p.PointerButton(button="left", down=True, x=0.3, y=0.3))
        op.type_text("no")
        await until(lambda: remote_of(session).core.counters["not_allowed"] == 5)
        assert remote_of(session)._injector is None  # no X connection for input before consent
        assert rec.events() == []

        # the operator asks, the customer allows
        op.send("control", p.ConsentRequest(capability="control"))
        await until(lambda: ("control", "alice") in ui.asked)
        session.answer("control", True)
        await until(lambda: ("view", "control", "chat") in op.states())
        assert p.ConsentReply(capability="control", allowed=True) in op.control
        assert "control: press Ctrl+Alt+End to take back control" in ui.lines
        # the window keeps a line for the hotkey: no status notice says it a second time
        assert not [n for n in ui.notices if "Ctrl+Alt+End" in n]

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
        await remote_of(session).flush()
        assert keycode(xdisplay, "Shift_L") not in held_keys(xdisplay)
        assert pointer_buttons(xdisplay) == set()
        assert "control: revoked" in ui.lines
        await until(lambda: op.states()[-1] == ("view", "chat"))
        # after the revoke nothing more is injected
        rec.forget()
        before = remote_of(session).core.counters["not_allowed"]
        op.type_text("zz")
        await until(lambda: remote_of(session).core.counters["not_allowed"] == before + 4)
        await remote_of(session).flush()
        assert [e for e in rec.events() if e["ev"] == "key_down"] == []

        # the operator asks again and then hands control back while holding Control
        op.send("control", p.ConsentRequest(capability="control"))
        await until(lambda: ui.asked.count(("control", "alice")) == 2)
        session.answer("control", True)
        await until(lambda: op.states()[-1] == ("view", "control", "chat"))
        injected = remote_of(session).injected
        op.key("ControlLeft", "Control", True)
        await r.settled(injected + 1)
        assert keycode(xdisplay, "Control_L") in held_keys(xdisplay)
        op.send("control", p.Release(capability="control"))
        await until(lambda: op.states()[-1] == ("view", "chat"))
        await remote_of(session).flush()
        assert keycode(xdisplay, "Control_L") not in held_keys(xdisplay)

        # channels are not interchangeable: input on control, control on input are dropped
        op.channels["control"].send(p.serialize(p.Key(code="KeyA", key="a", down=True)))
        op.input(p.serialize(p.ConsentRequest(capability="control")))
        op.input("{not json")
        await until(lambda: session.link is not None and session.link.dropped["unknown_type"] == 1)
        await until(lambda: remote_of(session).core.counters["malformed"] == 2)

        outcome = await r.end()
        assert outcome.exit_status == 0
        summary = next(line for line in ui.lines if line.startswith("input: "))
        assert summary.startswith(f"input: injected {remote_of(session).injected}, dropped ")
        assert "not_allowed=9" in summary and "malformed=2" in summary
        assert ui.lines[-1] == "ended: you ended the session"


async def test_hotkey_takes_control_back_and_releases(
    loopback_endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    from Xlib import X
    from Xlib.ext import xtest

    r = await start_session(loopback_endpoint, display, allow=frozenset({"view", "control"}))
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
    await remote_of(session).flush()
    assert held_keys(xdisplay).isdisjoint({keycode(xdisplay, "Shift_R"), *keys})
    assert pointer_buttons(xdisplay) == set()
    assert "consent: control stopped (revoked by the customer)" in ui.lines

    # headless: a second request is denied, a limit request is not available
    op.send("control", p.ConsentRequest(capability="control"))
    op.send("control", p.LimitRequest())
    denied = p.ConsentReply(capability="control", allowed=False)
    await until(lambda: denied in op.control)
    await until(lambda: "limit to one application: not available in headless mode" in ui.lines)
    assert "consent: control denied (not in --allow)" in ui.lines
    await r.end()


async def test_closed_input_channel_and_lost_connection_release_everything(
    loopback_endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    r = await start_session(loopback_endpoint, display, allow=frozenset({"view", "control"}))
    op, session = r.operator, r.session
    await until(lambda: ("view", "control", "chat") in op.states())
    op.key("AltLeft", "Alt", True)
    op.input(p.PointerButton(button="middle", down=True, x=0.5, y=0.5))
    await r.settled(2)
    assert keycode(xdisplay, "Alt_L") in held_keys(xdisplay) and 2 in pointer_buttons(xdisplay)
    op.channels["input"].close()
    await until(lambda: not remote_of(session).core.held_keysyms)
    await remote_of(session).flush()
    assert keycode(xdisplay, "Alt_L") not in held_keys(xdisplay)
    assert pointer_buttons(xdisplay) == set()
    assert pressed_by_peer(r, xdisplay) == set()

    # a key held through the control channel's sibling is gone; now the whole link drops
    await r.end()


async def test_disconnect_releases_keys_held_for_the_operator(
    loopback_endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    r = await start_session(loopback_endpoint, display, allow=frozenset({"view", "control"}))
    op, session = r.operator, r.session
    await until(lambda: ("view", "control", "chat") in op.states())
    op.key("ControlRight", "Control", True)
    op.key("KeyQ", "q", True)
    await r.settled(2)
    down = {keycode(xdisplay, "Control_R"), keycode(xdisplay, "q")}
    assert down <= held_keys(xdisplay)
    await op.pc.close()  # the operator's side is gone: nobody will send the key-ups
    await until(lambda: not remote_of(session).core.held_keysyms, 10)
    await remote_of(session).flush()
    assert held_keys(xdisplay).isdisjoint(down)
    outcome = await r.end()
    assert outcome.exit_status in (0, 1)
    assert held_keys(xdisplay).isdisjoint(down)
    assert any(line.startswith("input: injected 2, dropped 0") for line in r.ui.lines)


async def test_bad_input_is_dropped_and_counted_never_injected(
    loopback_endpoint: tuple[Endpoint, str], display: str, xdisplay: Any
) -> None:
    with Recorder(display, *WINDOW) as rec:
        r = await start_session(loopback_endpoint, display, allow=frozenset({"view", "control"}))
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
        counters = remote_of(session).core.counters
        await until(lambda: counters["malformed"] == 7 and counters["no_keysym"] == 1)
        assert counters["not_held"] == 2
        # a flood: far more moves than the bucket allows, dropped but never a crash
        before = remote_of(session).injected
        for i in range(1500):
            op.input(p.PointerMove(x=(i % 100) / 100, y=0.5))
        await until(lambda: remote_of(session).injected - before + counters["flood"] == 1500, 10)
        assert counters["flood"] > 0
        await asyncio.sleep(0.6)  # the bucket fills again
        injected = remote_of(session).injected
        op.input(p.PointerButton(button="left", down=True, x=0.2, y=0.2))  # into the recorder
        op.input(p.PointerButton(button="left", down=False, x=0.2, y=0.2))
        op.type_text("ok")
        await r.settled(injected + 6)
        assert rec.text() == "ok"
        assert remote_of(session).injected < 1500 + 4
        await r.end()
