"""Voice through the whole peer: the real signaling server, a real aiortc operator on loopback,
and the customer's microphone and speakers on a private PulseAudio server (``audio_rig``)."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Iterator

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamTrack
from audio_rig import PulseRig, have_pulseaudio, peak_frequency, tone
from conftest import LoopbackOperator, RecordingUI, until
from sigclient import Endpoint
from xvfb import Block, ColourBlocks, virtual_display

from peer.audio.devices import audio_available
from peer.audio.levels import dbfs
from peer.features.voice import VoiceFeature
from peer.session import PeerSession
from peer.settings import PeerSettings
from wire import protocol as p

pytestmark = [
    pytest.mark.usefixtures("loopback_peer"),
    pytest.mark.skipif(
        not have_pulseaudio() or not audio_available(),
        reason="needs pulseaudio and libportaudio2 (scripts/test installs them)",
    ),
]


@pytest.fixture(scope="module")
def rig() -> Iterator[PulseRig]:
    with PulseRig() as r:
        yield r


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(640, 480) as name, ColourBlocks(name, [Block(0, 0, 640, 480, "#00ff00")]):
        yield name


class ToneTrack(MediaStreamTrack):
    """The operator's microphone: a sine, 20 ms frames paced at real time (as aiortc's own
    ``AudioStreamTrack``), s16 mono 48 kHz."""

    kind = "audio"

    def __init__(self, freq: float) -> None:
        super().__init__()
        self.samples = tone(freq, 1.0, 0.5)
        self.pts = 0
        self.start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.pts / 48000 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        chunk = np.roll(self.samples, -(self.pts % 48000))[:960]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, 48000)
        self.pts += 960
        return frame


class Listener:
    """Reads what the operator receives from the customer all the time (as a console does:
    nothing piles up in aiortc's queue), keeping it to be looked at."""

    def __init__(self, track: MediaStreamTrack) -> None:
        from peer.audio.levels import MonoConverter

        self.track = track
        self.convert = MonoConverter()
        self.chunks: list[bytes] = []  # s16 mono samples, as the converter gives them
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        from aiortc.mediastreams import MediaStreamError

        try:
            while True:
                self.chunks.append(self.convert(await self.track.recv()))
        except MediaStreamError:
            return

    async def next(self, seconds: float) -> np.ndarray:
        """The next ``seconds`` of what arrives."""
        start = len(self.chunks)
        need = int(seconds * 48000)
        async with asyncio.timeout(seconds + 5):
            while sum(len(c) for c in self.chunks[start:]) < 2 * need:
                await asyncio.sleep(0.02)
        return np.frombuffer(b"".join(self.chunks[start:]), np.int16)[:need]

    def mark(self) -> int:
        return len(self.chunks)

    def since(self, mark: int) -> np.ndarray:
        return np.frombuffer(b"".join(self.chunks[mark:]), np.int16)

    def close(self) -> None:
        self.task.cancel()


async def recorded(rig: PulseRig, source: str, seconds: float) -> np.ndarray:
    return await asyncio.to_thread(rig.record, source, seconds)


def settings(ep: Endpoint, code: str, allow: frozenset[str]) -> PeerSettings:
    return PeerSettings(server=ep.base, code=code, allow=allow, headless=True, idle_refresh=0.2)


async def test_a_call_carries_voice_both_ways_mutes_hangs_up_and_adds_the_screen_later(
    loopback_endpoint: tuple[Endpoint, str], rig: PulseRig, display: str
) -> None:
    ep, token = loopback_endpoint
    sig = await ep.operator(token)
    created = await sig.create("call")
    ui = RecordingUI()
    session = PeerSession(
        settings(ep, created.code, frozenset({"voice", "view"})), ui, display=display
    )
    run = asyncio.ensure_future(session.run(created.code))
    voice = ToneTrack(440)
    operator = LoopbackOperator(sig, voice=voice)
    player = rig.play_tone("src", 1000, 30)  # the customer talks into the microphone
    try:
        await operator.accept()
        await until(lambda: "control" in operator.channels, 10)
        await until(lambda: operator.channels["control"].readyState == "open", 10)
        operator.send("control", p.ConsentRequest(capability="voice"))  # "Start voice"
        await until(lambda: operator.audio is not None, 10)
        assert operator.audio is not None
        heard = Listener(operator.audio)
        # the customer's 1 kHz reaches the operator
        await heard.next(0.5)  # the first packets, while the path settles
        said = await heard.next(1.0)
        assert abs(peak_frequency(said) - 1000) < 25
        assert dbfs(said) > -30
        # the operator's 440 Hz reaches the customer's speakers
        played = await recorded(rig, "spk.monitor", 1.0)
        assert abs(peak_frequency(played) - 440) < 15
        assert dbfs(played) > -30
        await until(lambda: p.VoiceState(mic="on", speaker="on") in operator.control)

        # a call never grabs the screen, not even opens the X connection for it
        track = session.track
        assert track is not None
        assert track.stats.grabs == 0 and track.stats.opens == 0
        assert operator.track is None  # and no video was offered

        # the customer mutes: the operator hears silence and is told
        session.feature_input("voice", "mute", "on")
        await until(lambda: p.VoiceState(mic="muted", speaker="on") in operator.control)
        await asyncio.sleep(0.3)  # what was on its way
        mark = heard.mark()
        await asyncio.sleep(1.0)
        assert dbfs(heard.since(mark)) < -60
        session.feature_input("voice", "mute", "off")
        await until(lambda: operator.of(p.VoiceState)[-1].mic == "on")

        # the operator asks to see the screen: allowed, the picture comes in the same call
        operator.send("control", p.ConsentRequest(capability="view"))
        await until(lambda: operator.track is not None, 15)
        assert operator.track is not None
        frame = await asyncio.wait_for(operator.track.recv(), 10)
        assert isinstance(frame, av.VideoFrame)
        assert track.stats.grabs > 0
        # and the voice went on through the renegotiation
        assert abs(peak_frequency(await heard.next(0.5)) - 1000) < 25

        # the operator hangs up: nothing of their voice is played any more
        operator.send("control", p.Release(capability="voice"))
        await until(lambda: "voice" not in session.consent.granted)
        feature = session.features["voice"]
        assert isinstance(feature, VoiceFeature)
        await until(lambda: feature.speaker is None and feature.mic is None)
        await asyncio.sleep(0.3)
        assert dbfs(await recorded(rig, "spk.monitor", 0.6)) < -60
        assert not run.done()  # the call (chat, view) goes on
        heard.close()
    finally:
        player.kill()
        session.disconnect()
        await asyncio.wait_for(run, 10)
        await operator.close()
        await sig.close()


async def test_a_microphone_that_vanishes_mid_call_is_a_notice_not_an_end(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    ep, token = loopback_endpoint
    with PulseRig() as rig:  # a rig of its own: this test kills it
        sig = await ep.operator(token)
        created = await sig.create("call")
        ui = RecordingUI()
        session = PeerSession(settings(ep, created.code, frozenset({"voice"})), ui, display=display)
        run = asyncio.ensure_future(session.run(created.code))
        operator = LoopbackOperator(sig, voice=ToneTrack(440))
        try:
            await operator.accept()
            await until(lambda: "control" in operator.channels, 10)
            await until(lambda: operator.channels["control"].readyState == "open", 10)
            operator.send("control", p.ConsentRequest(capability="voice"))
            await until(lambda: p.VoiceState(mic="on", speaker="on") in operator.control, 10)
            rig.kill()  # the headset is gone, with the whole sound server
            await until(
                lambda: (
                    p.VoiceState(mic="lost", speaker="lost") in operator.control
                    or any(
                        m.mic == "lost" or m.speaker == "lost" for m in operator.of(p.VoiceState)
                    )
                ),
                8,
            )
            assert any("unplugged" in line for line in ui.lines)
            await asyncio.sleep(0.5)
            assert not run.done()
            assert operator.audio is not None  # silence still flows: the call is up
            await asyncio.wait_for(operator.audio.recv(), 5)
        finally:
            session.disconnect()
            outcome = await asyncio.wait_for(run, 10)
            await operator.close()
            await sig.close()
        assert outcome.exit_status == 0
