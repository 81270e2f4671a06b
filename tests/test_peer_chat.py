"""Chat and renegotiation, through the whole peer: the real server, the real session, and the
operator's side played by aiortc, on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import av
import pytest
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from conftest import LoopbackOperator, RecordingUI, chat_of, remote_of, until
from sigclient import Endpoint
from xvfb import Block, ColourBlocks, virtual_display

from peer.cli import one_line
from peer.session import PeerSession
from peer.settings import PeerSettings
from wire import protocol as p

HOSTILE = (
    "<script>alert(1)</script> \u202eevil\u202c e\u0301 \U0001f468\u200d\U0001f469\u200d\U0001f467"
)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(640, 480) as name, ColourBlocks(name, [Block(0, 0, 640, 480, "#2060c0")]):
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer")


async def start(
    endpoint: tuple[Endpoint, str], display: str, mode: str, allow: frozenset[str]
) -> tuple[LoopbackOperator, PeerSession, RecordingUI, asyncio.Future[object]]:
    ep, token = endpoint
    sig = await ep.operator(token)
    created = await sig.create(mode)
    ui = RecordingUI()
    settings = PeerSettings(
        server=ep.base, code=created.code, allow=allow, headless=True, idle_refresh=0.2
    )
    session = PeerSession(settings, ui, display=display)
    run = asyncio.ensure_future(session.run(created.code))
    op = LoopbackOperator(sig)
    await op.accept()
    await until(lambda: "chat" in op.channels and op.channels["chat"].readyState == "open", 10)
    return op, session, ui, run


async def finish(op: LoopbackOperator, session: PeerSession, run: asyncio.Future[object]) -> None:
    session.disconnect()
    await asyncio.wait_for(run, 10)
    await op.close()
    await op.sig.close()


@pytest.mark.parametrize("mode", ["screen", "call"])
async def test_chat_both_ways_without_any_consent(
    loopback_endpoint: tuple[Endpoint, str], display: str, mode: str
) -> None:
    op, session, ui, run = await start(loopback_endpoint, display, mode, frozenset())
    # the peer says first what it can do in this mode, then what is granted: chat, no view
    await until(lambda: len(op.states()) >= 1)
    capabilities = next(m for m in op.control if isinstance(m, p.Capabilities))
    # headless without --accept-files or --send, file transfer is not offered
    assert capabilities.supported == tuple(c for c in p.capabilities_of(mode) if c != "files")
    assert op.control.index(capabilities) < op.control.index(
        next(m for m in op.control if isinstance(m, p.ConsentState))
    )
    assert op.states()[-1] == ("chat",)

    op.send("chat", p.Chat(text=HOSTILE))
    op.send("chat", p.Chat(text="line one\nline two"))
    await until(lambda: chat_of(session) is not None and chat_of(session).counts["received"] == 2)
    # literally, markup and emoji and all; the direction marks only as escapes
    assert "chat: alice: <script>alert(1)</script> \\u202eevil\\u202c e\u0301 " in "\n".join(
        ui.lines
    )
    assert "chat: alice: line one\\nline two" in ui.lines  # one message, one line

    session.feature_input("chat", "send", "Thanks, I see it ✓\n")
    await until(lambda: p.Chat(text="Thanks, I see it ✓") in op.received["chat"])
    await finish(op, session, run)


async def test_too_long_chat_is_refused_with_words_both_ways(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    op, session, ui, run = await start(loopback_endpoint, display, "call", frozenset())
    # 4,001 characters a person sees, but well inside the wire's code-point bound
    op.send("chat", p.Chat(text="e\u0301" * (p.MAX_CHAT_CHARS + 1)))
    op.send("chat", p.Chat(text="e\u0301" * p.MAX_CHAT_CHARS))
    await until(lambda: any(isinstance(m, p.Error) for m in op.received["chat"]))
    error = next(m for m in op.received["chat"] if isinstance(m, p.Error))
    assert error.code == "too_long" and "4000" in error.message
    await until(lambda: chat_of(session) is not None and chat_of(session).counts["received"] == 1)

    session.feature_input("chat", "send", "x" * (p.MAX_CHAT_CHARS + 1))
    await until(
        lambda: any(line.startswith("chat: not sent: 4001 characters") for line in ui.lines)
    )
    # the operator refusing the peer's message is shown as not delivered
    op.send("chat", p.Error(code="too_long", message="Click here: allow control now"))
    await until(lambda: any("not delivered" in line for line in ui.lines))
    # in the peer's own words for the code: the operator cannot put text there
    assert "chat: your last message was not delivered: the text is longer than the limit" in (
        ui.lines
    )
    assert not any("allow control now" in line for line in ui.lines)
    assert [m for m in op.received["chat"] if isinstance(m, p.Chat)] == []
    await finish(op, session, run)


async def test_a_flood_of_chat_is_handled_and_the_session_goes_on(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    op, session, ui, run = await start(loopback_endpoint, display, "screen", frozenset({"view"}))
    for i in range(10_000):
        op.send("chat", p.Chat(text=f"message {i}"))
    await until(
        lambda: chat_of(session) is not None and chat_of(session).counts["received"] == 10_000, 60
    )
    assert ui.lines.count("chat: alice: message 9999") == 1
    # control still answers at once
    op.send("control", p.ConsentRequest(capability="view"))
    await until(lambda: p.ConsentReply(capability="view", allowed=True) in op.control)
    await finish(op, session, run)


async def test_a_track_added_and_removed_mid_session_flows_and_view_and_control_go_on(
    loopback_endpoint: tuple[Endpoint, str], display: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", display)  # the injector's X connection
    op, session, ui, run = await start(
        loopback_endpoint, display, "screen", frozenset({"view", "control"})
    )
    await until(lambda: len(op.tracks) == 1)
    video = op.tracks[0]
    assert isinstance(await asyncio.wait_for(video.recv(), 10), av.VideoFrame)

    sound = AudioStreamTrack()
    session.add_track(sound)
    await session.renegotiate()
    await until(lambda: len(op.offers) == 2 and len(op.tracks) == 2, 10)
    assert "m=audio" in op.offers[1]
    audio = op.tracks[1]
    assert audio.kind == "audio"
    frame = await asyncio.wait_for(audio.recv(), 10)
    assert isinstance(frame, av.AudioFrame)
    # the picture and the other channels are undisturbed
    assert isinstance(await asyncio.wait_for(video.recv(), 10), av.VideoFrame)
    op.send("input", p.PointerMove(x=0.5, y=0.5))
    await until(lambda: remote_of(session).injected >= 1)
    op.send("chat", p.Chat(text="still talking"))
    await until(lambda: "chat: alice: still talking" in ui.lines)

    session.set_direction(sound, "inactive")
    await session.renegotiate()
    await until(lambda: len(op.offers) == 3, 10)
    assert "a=inactive" in op.offers[2]
    for _ in range(3):  # video goes on after the removal
        assert isinstance(await asyncio.wait_for(video.recv(), 10), av.VideoFrame)
    assert session.consent.granted == ("view", "control", "chat")
    await finish(op, session, run)


def test_one_line_keeps_each_message_on_one_line() -> None:
    assert one_line("a\nb\r\nc\\n") == "a\\nb\\r\\nc\\\\n"


def test_one_line_lets_no_operator_text_reach_the_terminal_as_a_command_or_a_fake_line() -> None:
    osc52 = "\x1b]52;c;aGVsbG8=\x07"  # would set the clipboard in some terminals
    assert one_line(osc52) == "\\x1b]52;c;aGVsbG8=\\x07"
    fake = one_line("hi\x85ended: you ended the session\u2028status: connected")
    assert fake.splitlines() == [fake]
    assert one_line("\u202eevil") == "\\u202eevil"
    kept = "e\u0301 \U0001f468\u200d\U0001f469 \u65e5\u672c <b>"  # marks, joiners, CJK, markup
    assert one_line(kept) == kept


async def test_offers_in_a_row_are_answered_in_turn_and_a_stray_answer_harms_nothing(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    op, session, ui, run = await start(loopback_endpoint, display, "call", frozenset())
    # two tracks added at once: the second offer waits for the first answer
    session.add_track(AudioStreamTrack())
    first = asyncio.ensure_future(session.renegotiate())
    session.add_track(VideoStreamTrack())
    await asyncio.gather(first, session.renegotiate())
    await until(lambda: len(op.offers) == 3 and len(op.tracks) == 2, 10)
    for track in op.tracks:
        frame = await asyncio.wait_for(track.recv(), 10)
        assert isinstance(frame, av.AudioFrame if track.kind == "audio" else av.VideoFrame)
    # an answer nobody asked for (a replay of the last one) is dropped and counted
    await op.sig.send(p.Answer(sdp=op.pc.localDescription.sdp))
    await until(lambda: session.refused["answer"] == 1)
    op.send("chat", p.Chat(text="still here"))
    await until(lambda: "chat: alice: still here" in ui.lines)
    assert not run.done()
    await finish(op, session, run)
