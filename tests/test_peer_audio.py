"""Voice for headsets: the pure helpers, then microphone and speaker against a real PulseAudio.

The device tests run a private PulseAudio daemon (``audio_rig.PulseRig``): what is played into
its sink ``src`` is what the customer's microphone hears, and ``spk.monitor`` records what the
customer's speaker played. No mocks: frames go through PortAudio and the sound server.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import math
import os
import subprocess
import sys
import threading
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from audio_rig import PulseRig, have_pulseaudio, peak_frequency, tone

from peer.audio import devices
from peer.audio.devices import AudioError, Microphone, Speaker, find_device, list_devices
from peer.audio.levels import (
    FRAME_SAMPLES,
    RATE,
    JitterBuffer,
    Meter,
    MonoConverter,
    dbfs,
    mono_frame,
    to_mono_s16,
)

pytestmark = pytest.mark.timeout(30)


# -- pure helpers ---------------------------------------------------------------------------


def frame_of(data: np.ndarray, fmt: str, layout: str, rate: int = RATE) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(data, format=fmt, layout=layout)
    frame.sample_rate = rate
    return frame


def s16(samples: bytes) -> np.ndarray:
    """Samples as the audio code hands them out (``bytes``), as numpy to look at."""
    assert isinstance(samples, bytes) and len(samples) % 2 == 0
    return np.frombuffer(samples, np.int16)


def full(n: int, value: int) -> bytes:
    return np.full(n, value, np.int16).tobytes()


def test_dbfs() -> None:
    assert dbfs(bytes(1920)) == -100.0
    assert dbfs(b"") == -100.0
    assert dbfs(tone(1000, 0.1, amplitude=1.0).tobytes()) == pytest.approx(-3.01, abs=0.05)
    assert dbfs(tone(1000, 0.1, amplitude=0.5).tobytes()) == pytest.approx(-9.03, abs=0.05)
    assert dbfs(full(960, -32768)) == pytest.approx(0.0, abs=1e-9)
    assert dbfs(full(960, 1)) == pytest.approx(-90.3, abs=0.1)
    # any bytes-like holding s16 samples
    assert dbfs(array("h", [16384, -16384] * 480)) == pytest.approx(-6.02, abs=0.01)
    assert dbfs(bytearray(full(960, 1))) == dbfs(memoryview(full(960, 1))) == dbfs(full(960, 1))


def test_dbfs_is_cheap_enough_for_every_frame() -> None:
    """50 frames a second, several levels each (microphone, speaker, DTX): well under 1 %
    of a core even in pure Python (~50 µs a frame on Python 3.11)."""
    frame = tone(440, 0.02, amplitude=0.5).tobytes()
    dbfs(frame)
    start = time.perf_counter()
    for _ in range(200):
        dbfs(frame)
    per_frame = (time.perf_counter() - start) / 200
    assert per_frame < 0.0005, per_frame  # generous: a loaded test machine


def test_meter_keeps_the_latest_level() -> None:
    meter = Meter()
    assert meter.value == -100.0
    meter.update(tone(440, 0.02, 0.5).tobytes())
    assert meter.value == pytest.approx(-9.0, abs=0.2)
    assert meter.value == pytest.approx(-9.0, abs=0.2)  # read again: the same
    meter.update(bytearray(full(960, 0)))
    assert float(meter) == -100.0
    meter.update(full(960, 1000))
    meter.reset()  # before anyone read the level: the samples are forgotten
    assert float(meter) == -100.0


def test_mono_frame_holds_the_samples() -> None:
    ramp = (np.arange(-480, 480, dtype=np.int16) * 60).tobytes()
    frame = mono_frame(ramp)
    assert (frame.format.name, frame.layout.name, frame.sample_rate) == ("s16", "mono", RATE)
    assert frame.samples == FRAME_SAMPLES
    assert to_mono_s16(frame) == ramp
    assert mono_frame(array("h", [1, 2, 3])).samples == 3


def test_to_mono_from_aiortc_decoder_frames() -> None:
    """aiortc's Opus decoder: s16, packed stereo, 960 samples at 48 kHz."""
    left = np.full(960, 1000, np.int16)
    right = np.full(960, 3001, np.int16)
    packed = np.stack((left, right), axis=1).reshape(1, -1)
    mono = to_mono_s16(frame_of(packed, "s16", "stereo"))
    assert isinstance(mono, bytes) and len(mono) == 2 * 960
    assert set(s16(mono).tolist()) == {2001}  # the mean, 2000.5, rounded


def test_to_mono_from_mono_planar_and_float_frames() -> None:
    ramp = np.arange(-480, 480, dtype=np.int16) * 60
    mono = to_mono_s16(frame_of(ramp.reshape(1, -1), "s16", "mono"))
    assert np.array_equal(s16(mono), ramp)
    no_rate = frame_of(ramp.reshape(1, -1), "s16p", "mono", rate=0)  # taken to be at RATE
    assert np.array_equal(s16(MonoConverter()(no_rate)), ramp)

    planar = np.stack((ramp, -ramp))
    assert not s16(to_mono_s16(frame_of(planar, "s16p", "stereo"))).any()

    floats = np.stack((np.full(960, 0.5, np.float32), np.full(960, 0.25, np.float32)))
    fltp = s16(to_mono_s16(frame_of(floats, "fltp", "stereo")))
    assert fltp.size == 960 and set(fltp.tolist()) == {round(0.375 * 32767)}

    loud = np.full((1, 960), 2.0, np.float32)  # out of range: clipped, not wrapped
    assert set(s16(to_mono_s16(frame_of(loud, "flt", "mono"))).tolist()) == {32767}


def test_to_mono_resamples_other_rates_to_48k() -> None:
    convert = MonoConverter()
    source = tone(1000, 0.5, rate=16000)
    out = [
        convert(frame_of(chunk.reshape(1, -1), "s16", "mono", rate=16000))
        for chunk in source.reshape(-1, 320)  # 20 ms frames at 16 kHz
    ]
    assert all(isinstance(o, bytes) for o in out)
    joined = s16(b"".join(out))
    assert abs(joined.size - 0.5 * RATE) <= 2 * FRAME_SAMPLES  # the resampler holds a little
    assert peak_frequency(joined[FRAME_SAMPLES:], RATE) == pytest.approx(1000, abs=20)
    one_off = to_mono_s16(frame_of(source[:320].reshape(1, -1), "s16", "mono", rate=16000))
    assert 800 <= len(one_off) // 2 <= 960
    # the same converter follows a stream that changes format on the way
    stereo = np.repeat(tone(440, 0.02), 2).reshape(1, -1)
    assert len(convert(frame_of(stereo, "s16", "stereo"))) == 2 * 960


def test_jitter_buffer_silent_until_filled_to_target() -> None:
    jb = JitterBuffer(target_ms=40, max_ms=200)
    jb.push(full(960, 7))  # 20 ms: below target
    out, concealed = jb.pull(480)
    assert out == bytes(960) and not concealed  # nothing expected yet: plain silence
    assert jb.level_ms == pytest.approx(20.0)
    jb.push(array("h", [8] * 960))  # 40 ms: target reached
    out, concealed = jb.pull(480)
    assert set(s16(out).tolist()) == {7} and not concealed
    assert jb.level_ms == pytest.approx(30.0)
    assert jb.underruns == 0


def test_jitter_buffer_underrun_conceals_then_refills() -> None:
    jb = JitterBuffer(target_ms=40, max_ms=200)
    played = tone(1000, 0.04, amplitude=0.5)  # exactly target
    jb.push(played.tobytes())
    first, _ = jb.pull(960)
    assert np.array_equal(s16(first), played[:960])
    out, concealed = jb.pull(1440)  # 30 ms asked, 20 ms there: an underrun
    assert concealed and jb.underruns == 1
    samples = s16(out)
    assert samples.size == 1440
    assert np.array_equal(samples[:960], played[960:])
    fade = samples[960:]
    last_10ms = played[-480:].astype(np.float64)
    # the last 10 ms again, fading from full to nothing
    assert np.abs(fade[:48] - last_10ms[:48]).max() <= 0.1 * 16384
    assert np.abs(fade[-48:]).max() < 0.1 * 16384
    assert dbfs(fade[:240].tobytes()) > dbfs(fade[240:].tobytes())
    out, concealed = jb.pull(480)  # still refilling: silence, concealed
    assert concealed and out == bytes(960)
    jb.push(full(960, 5))  # 20 ms: below target, still concealing
    out, concealed = jb.pull(480)
    assert concealed and out == bytes(960)
    jb.push(full(960, 6))  # refilled to target: playing again
    out, concealed = jb.pull(960)
    assert not concealed and set(s16(out).tolist()) == {5}
    assert jb.underruns == 1


def test_jitter_buffer_overflow_drops_the_oldest() -> None:
    jb = JitterBuffer(target_ms=20, max_ms=100)
    for i in range(8):  # 160 ms pushed into 100 ms
        jb.push(full(960, i))
    assert jb.level_ms == pytest.approx(100.0)
    assert jb.dropped == 3 * 960
    out, _ = jb.pull(960)
    assert set(s16(out).tolist()) == {3}  # frames 0-2 were dropped: latency stayed bounded


def test_jitter_buffer_clear_is_a_fresh_start() -> None:
    jb = JitterBuffer(target_ms=20, max_ms=100)
    jb.push(full(960, 9))
    assert s16(jb.pull(960)[0])[0] == 9
    jb.clear()
    out, concealed = jb.pull(480)
    assert out == bytes(960) and not concealed and jb.underruns == 0


def test_jitter_buffer_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="target_ms"):
        JitterBuffer(target_ms=300, max_ms=200)
    with pytest.raises(ValueError, match="3 bytes"):
        JitterBuffer().push(b"abc")


def test_the_audio_path_costs_little_cpu() -> None:
    """What runs per 20 ms of a call besides Opus: the speaker's conversion of a decoded
    frame and its buffer (in, and out in 10 ms blocks), the microphone's buffer and frame,
    one level. Pure Python and PyAV: a fraction of a millisecond per frame (the CPU use is
    about this times 50 per second)."""
    convert, speaker, mic = MonoConverter(), JitterBuffer(), JitterBuffer(30, 70)
    decoded = frame_of(np.repeat(tone(440, 0.02), 2).reshape(1, -1), "s16", "stereo")
    block = tone(1000, 0.02).tobytes()

    def one_frame() -> None:
        speaker.push(convert(decoded))
        speaker.pull(480)
        speaker.pull(480)
        mic.push(block)
        mono_frame(mic.pull(FRAME_SAMPLES)[0])
        dbfs(block)

    for _ in range(5):
        one_frame()
    start = time.perf_counter()
    for _ in range(100):
        one_frame()
    per_frame = (time.perf_counter() - start) / 100
    assert per_frame < 0.002, per_frame  # 10 % of a core at most, on a loaded test machine


def test_open_errors_map_to_states() -> None:
    if not devices.audio_available():
        pytest.skip("PortAudio (libportaudio2) is not installed: sounddevice cannot load")
    import sounddevice as sd  # type: ignore[import-untyped]

    token = devices._open_error_token
    unavailable = sd.PortAudioError("Error opening InputStream: Device unavailable", -9985)
    assert token(unavailable) == "busy"
    assert token(sd.PortAudioError("Error querying device -1")) == "no_device"
    assert token(sd.PortAudioError("Error opening: Invalid device", -9996)) == "no_device"
    assert token(ValueError("No input device matching 'usb'")) == "no_device"
    assert token(AudioError("no_audio_system")) == "no_device"
    server_gone = sd.PortAudioError("Illegal combination of I/O devices", -9993)
    assert token(server_gone) == "busy"  # listed but not openable now: tried again


def test_audio_error_tokens() -> None:
    assert AudioError("busy", "in use").token == "busy"
    with pytest.raises(ValueError, match="'broken'"):
        AudioError("broken")


NO_SERVER_SCRIPT = """
import asyncio, json
from peer.audio.devices import Microphone, Speaker, audio_available, list_devices

async def main():
    mic_states, speaker_states = [], []
    mic = Microphone(None, mic_states.append)
    await mic.open()
    frames = [await mic.track.recv() for _ in range(3)]
    speaker = Speaker(None, speaker_states.append)
    await speaker.open()
    inputs, outputs = list_devices()
    await mic.close()
    await speaker.close()
    await mic.close()
    print(json.dumps({
        "available": audio_available(), "inputs": len(inputs), "outputs": len(outputs),
        "mic": mic_states, "speaker": speaker_states,
        "silent": all(f.samples == 960 and not f.to_ndarray().any() for f in frames),
    }))

asyncio.run(main())
"""


def test_without_a_sound_server_there_is_no_device(tmp_path: Path) -> None:
    """A desktop whose sound server is not running (or no PortAudio at all): states, silence,
    no exception. In a child process, so that PortAudio starts up finding no server."""
    (tmp_path / "client.conf").write_text("autospawn = no\n")
    env = {
        **os.environ,
        "PULSE_SERVER": f"unix:{tmp_path}/no-server",
        "PULSE_CLIENTCONFIG": str(tmp_path / "client.conf"),
        "PULSE_COOKIE": str(tmp_path / "cookie"),
        "PULSE_RUNTIME_PATH": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", NO_SERVER_SCRIPT],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["silent"]
    if seen["inputs"] == 0:  # no sound hardware here, as on CI
        assert seen["mic"] == ["no_device"]
    if seen["outputs"] == 0:
        assert seen["speaker"] == ["no_device"]


# -- against a real PulseAudio --------------------------------------------------------------


@pytest.fixture(scope="module")
def rig() -> Iterator[PulseRig]:
    if not have_pulseaudio():
        pytest.skip("the pulseaudio and pactl programs are not installed")
    if not devices.audio_available():
        pytest.skip("PortAudio (libportaudio2) is not installed: sounddevice cannot load")
    with PulseRig() as running:
        yield running


class StateLog:
    """An ``on_state`` callback that remembers what it was told, and on which thread."""

    def __init__(self) -> None:
        self.states: list[str] = []
        self.threads: set[int] = set()

    def __call__(self, state: str) -> None:
        self.states.append(state)
        self.threads.add(threading.get_ident())

    async def until(self, state: str, timeout: float) -> float:
        start = time.monotonic()
        async with asyncio.timeout(timeout):
            while not self.states or self.states[-1] != state:
                await asyncio.sleep(0.02)
        return time.monotonic() - start


class DecodedVoice(MediaStreamTrack):
    """Plays the part of aiortc's remote audio track: frames as its Opus decoder gives them
    (s16, packed stereo, 960 samples, 48 kHz) arrive on a queue in real time; ``recv`` waits
    for the next, and raises MediaStreamError after the end."""

    kind = "audio"

    def __init__(self, freq: float, seconds: float) -> None:
        super().__init__()
        self.samples = tone(freq, seconds, amplitude=0.5)
        self.queue: asyncio.Queue[av.AudioFrame | None] = asyncio.Queue()
        self._sent = 0

    def frame(self, i: int) -> av.AudioFrame:
        mono = self.samples[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]
        stereo = np.repeat(mono, 2).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = i * FRAME_SAMPLES
        frame.time_base = fractions.Fraction(1, RATE)
        return frame

    @property
    def count(self) -> int:
        return self.samples.size // FRAME_SAMPLES

    def backlog(self, n: int) -> None:
        """Queue ``n`` frames at once (a receive queue that backed up)."""
        for _ in range(n):
            self.queue.put_nowait(self.frame(self._sent))
            self._sent += 1

    async def arrive(self) -> None:
        """Queue the remaining frames in real time, then the end."""
        start = time.monotonic()
        first = self._sent
        while self._sent < self.count:
            await asyncio.sleep(max(0.0, start + (self._sent - first) * 0.02 - time.monotonic()))
            self.queue.put_nowait(self.frame(self._sent))
            self._sent += 1
        self.queue.put_nowait(None)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self.queue.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        return frame


def samples_of(frame: av.AudioFrame) -> np.ndarray:
    data: np.ndarray = frame.to_ndarray().reshape(-1)
    return data


async def test_devices_are_listed_and_found(rig: PulseRig) -> None:
    inputs, outputs = list_devices()
    names = [d.name for d in inputs]
    assert "pulse" in names and "default" in names, names
    assert sum(d.default for d in inputs) == 1 and sum(d.default for d in outputs) == 1
    pulse = next(d.index for d in inputs if d.name == "pulse")
    assert find_device("PULSE", "input") == pulse
    assert find_device(str(pulse), "output") == pulse
    assert find_device(None, "input") is None and find_device("", "output") is None
    with pytest.raises(AudioError) as caught:
        find_device("no such headset", "input")
    assert caught.value.token == "no_device"
    with pytest.raises(AudioError):
        find_device("999", "output")


async def test_microphone_track_captures_the_tone_in_real_time(rig: PulseRig) -> None:
    log = StateLog()
    mic = Microphone(None, log)
    await mic.open()
    assert log.states == ["on"] and mic.state == "on" and mic.device == "default"
    player = rig.play_tone("src", 1000, 3.0)
    try:
        for _ in range(10):  # the tone reaches the microphone
            await mic.track.recv()
        start = time.monotonic()
        frames = [await mic.track.recv() for _ in range(50)]
        elapsed = time.monotonic() - start
        meter = mic.meter.value
    finally:
        player.terminate()
        await mic.close()
    assert elapsed == pytest.approx(1.0, rel=0.15)
    start_pts = frames[0].pts
    assert start_pts is not None
    assert [f.pts for f in frames] == [start_pts + i * FRAME_SAMPLES for i in range(50)]
    first = frames[0]
    assert (first.format.name, first.layout.name, first.sample_rate) == ("s16", "mono", RATE)
    assert first.time_base == fractions.Fraction(1, RATE)
    assert all(f.samples == FRAME_SAMPLES for f in frames)
    heard = np.concatenate([samples_of(f) for f in frames])
    assert peak_frequency(heard) == pytest.approx(1000, abs=20)
    assert meter > -40.0
    assert dbfs(heard) > -40.0
    assert mic.track.readyState == "ended"
    await mic.close()  # idempotent
    assert log.threads == {threading.get_ident()}  # always on the loop's thread


async def test_microphone_track_never_bursts_after_a_stalled_loop(rig: PulseRig) -> None:
    mic = Microphone(None, StateLog())
    await mic.open()
    try:
        first = [await mic.track.recv() for _ in range(10)]
        time.sleep(0.3)  # the event loop stalls (this test blocks it on purpose)
        assert mic.buffered_ms <= 80.0  # the capture queue dropped the oldest audio
        late = await mic.track.recv()  # due long ago: at once
        start = time.monotonic()
        after = [await mic.track.recv() for _ in range(10)]
        elapsed = time.monotonic() - start
    finally:
        await mic.close()
    assert elapsed >= 0.17  # paced from the new start, not a burst of 15 frames
    pts = [f.pts for f in [*first, late, *after]]
    assert pts == [i * FRAME_SAMPLES for i in range(len(pts))]  # no gap in the timestamps


async def test_muted_microphone_sends_zeros(rig: PulseRig) -> None:
    log = StateLog()
    mic = Microphone(None, log)
    await mic.open()
    player = rig.play_tone("src", 1000, 3.0)
    try:
        for _ in range(10):
            await mic.track.recv()
        mic.muted = True
        await log.until("muted", 1.0)
        muted = [samples_of(await mic.track.recv()) for _ in range(10)]
        assert not np.concatenate(muted).any()
        assert mic.meter.value == -100.0
        mic.muted = False
        await log.until("on", 1.0)
        for _ in range(5):
            await mic.track.recv()
        live = [samples_of(await mic.track.recv()) for _ in range(10)]
        assert dbfs(np.concatenate(live)) > -40.0
    finally:
        player.terminate()
        await mic.close()
    assert log.states == ["on", "muted", "on"]


async def test_unknown_device_is_no_device_and_the_track_still_runs(rig: PulseRig) -> None:
    log = StateLog()
    mic = Microphone("no such headset", log)
    await mic.open()
    assert log.states == ["no_device"] and mic.state == "no_device"
    start = time.monotonic()
    frames = [await mic.track.recv() for _ in range(10)]
    assert time.monotonic() - start >= 0.15  # still paced
    assert all(f.samples == FRAME_SAMPLES and not samples_of(f).any() for f in frames)
    assert mic.meter.value == -100.0
    await mic.switch(None)  # a headset that is there after all
    assert mic.state == "on" and log.states == ["no_device", "on"]
    await mic.close()

    speaker_log = StateLog()
    speaker = Speaker("no such headset", speaker_log)
    voice = DecodedVoice(440, 0.4)
    speaker.play(voice)
    await voice.arrive()
    async with asyncio.timeout(2):
        while speaker.frames_read < voice.count:
            await asyncio.sleep(0.02)
    assert speaker_log.states == ["no_device"] and speaker.played_frames == 0
    await speaker.close()
    await speaker.close()


async def test_speaker_plays_the_operators_voice(rig: PulseRig) -> None:
    log = StateLog()
    speaker = Speaker(None, log)
    voice = DecodedVoice(440, 2.5)
    speaker.play(voice)
    arriving = asyncio.ensure_future(voice.arrive())
    try:
        await log.until("on", 2.0)
        await asyncio.sleep(0.3)
        heard = await asyncio.to_thread(rig.record, "spk.monitor", 1.0)
        meter = speaker.meter.value
        await arriving
        async with asyncio.timeout(2):
            while speaker.frames_read < voice.count:
                await asyncio.sleep(0.02)
    finally:
        arriving.cancel()
        await speaker.close()
    assert peak_frequency(heard) == pytest.approx(440, abs=10)
    assert dbfs(heard) > -20.0
    assert meter > -20.0
    assert speaker.frames_read == voice.count
    assert speaker.played_frames >= voice.count - 3  # frames before the device opened: dropped
    assert speaker.underruns <= 2  # the end of the voice is one
    assert speaker.state == "on"
    await speaker.close()


async def test_speaker_drains_the_track_while_muted(rig: PulseRig) -> None:
    speaker = Speaker(None, StateLog())
    speaker.muted = True
    voice = DecodedVoice(440, 2.0)
    voice.backlog(50)  # a second of frames already waiting
    speaker.play(voice)
    arriving = asyncio.ensure_future(voice.arrive())
    try:
        async with asyncio.timeout(1):
            while voice.queue.qsize() > 1:
                await asyncio.sleep(0.01)
        heard = await asyncio.to_thread(rig.record, "spk.monitor", 0.5)
        assert voice.queue.qsize() <= 1  # read as it arrives
        assert speaker.meter.value == -100.0
        await arriving
    finally:
        arriving.cancel()
        await speaker.close()
    assert dbfs(heard) < -80.0  # nothing audible
    assert speaker.frames_read == voice.count and speaker.played_frames == 0


async def test_sound_server_killed_mid_call_then_back(rig: PulseRig) -> None:
    mic_log, speaker_log = StateLog(), StateLog()
    mic = Microphone(None, mic_log)
    speaker = Speaker(None, speaker_log)
    await mic.open()
    voice = DecodedVoice(440, 8.0)
    speaker.play(voice)
    arriving = asyncio.ensure_future(voice.arrive())
    frames = 0

    async def keep_reading() -> None:
        nonlocal frames
        while True:
            await mic.track.recv()
            frames += 1

    reading = asyncio.ensure_future(keep_reading())
    try:
        await speaker_log.until("on", 2.0)
        await asyncio.sleep(0.3)
        rig.kill()
        killed_at, frames_then = time.monotonic(), frames
        lost_after = await mic_log.until("lost", 3.0)
        await speaker_log.until("lost", 3.0)
        assert lost_after < 2.0
        assert mic.meter.value == -100.0
        await asyncio.sleep(0.5)
        assert frames - frames_then >= math.floor((time.monotonic() - killed_at) / 0.02) - 5
        rig.restart()
        await mic_log.until("on", 4.0)
        await speaker_log.until("on", 4.0)
        assert not reading.done() and not arriving.done()
        assert speaker.frames_read > 0
    finally:
        reading.cancel()
        arriving.cancel()
        await mic.close()
        await speaker.close()
        if rig.proc is None or rig.proc.poll() is not None:
            rig.restart()
    assert mic_log.states == ["on", "lost", "on"]
    assert speaker_log.states == ["on", "lost", "on"]


WITHOUT_NUMPY_SCRIPT = """
import sys

sys.modules["numpy"] = None  # as in the customer's program, which leaves numpy out

import asyncio, fractions, json, math, time
from array import array

import av
from aiortc.mediastreams import MediaStreamTrack

import peer.connection, peer.features  # the whole peer, voice and Opus tuning included
from peer.audio.devices import Microphone, Speaker, audio_available, list_devices
from peer.audio.levels import FRAME_SAMPLES, RATE, MonoConverter, dbfs


class Voice(MediaStreamTrack):
    # 440 Hz as aiortc's Opus decoder gives it: s16, packed stereo, 960 samples, real time
    kind = "audio"

    def __init__(self):
        super().__init__()
        self.pts, self.start = 0, time.monotonic()

    async def recv(self):
        await asyncio.sleep(max(0.0, self.start + self.pts / RATE - time.monotonic()))
        wave = [round(16000 * math.sin(2 * math.pi * 440 * (self.pts + i) / RATE))
                for i in range(FRAME_SAMPLES)]
        frame = av.AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES)
        frame.planes[0].update(array("h", [s for s in wave for _ in (0, 1)]))
        frame.sample_rate, frame.pts = RATE, self.pts
        frame.time_base = fractions.Fraction(1, RATE)
        self.pts += FRAME_SAMPLES
        return frame


async def main():
    states = []
    mic = Microphone(None, states.append)
    await mic.open()
    frames = [await mic.track.recv() for _ in range(40)]  # the rig plays 1 kHz into it
    convert = MonoConverter()
    heard = b"".join(convert(f) for f in frames[15:])
    level = float(mic.meter)
    await mic.close()
    speaker = Speaker(None, states.append)
    speaker.play(Voice())
    while speaker.state != "on":
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    print("playing", flush=True)
    await asyncio.sleep(1.5)  # the test records the speaker meanwhile
    played = speaker.played_frames
    await speaker.close()
    print(json.dumps({
        "heard": heard.hex(),
        "available": audio_available(),
        "inputs": len(list_devices()[0]),
        "states": states,
        "meter": level,
        "heard_dbfs": dbfs(heard),
        "played": played,
        "numpy": sys.modules.get("numpy") is not None,
    }), flush=True)

asyncio.run(main())
"""


def test_voice_works_without_numpy(rig: PulseRig) -> None:
    """The customer's program is built without numpy (scripts/supportlink-peer.spec): the
    peer, microphone and speaker included, must import and work without it."""
    child = subprocess.Popen(
        [sys.executable, "-c", WITHOUT_NUMPY_SCRIPT],
        env=rig.env(),
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    player = rig.play_tone("src", 1000, 20.0)
    try:
        assert child.stdout is not None
        started = child.stdout.readline()
        assert started == b"playing\n", started + (child.stderr.read() if child.stderr else b"")
        played = rig.record("spk.monitor", 0.6)
        out, err = child.communicate(timeout=20)
    finally:
        player.terminate()
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err.decode(errors="replace")[-2000:]
    seen = json.loads(out.splitlines()[-1])
    assert seen["available"] and seen["inputs"] > 0 and not seen["numpy"]
    assert seen["states"] == ["on", "on"]  # the microphone, then the speaker
    assert seen["meter"] > -40.0 and seen["heard_dbfs"] > -40.0
    heard = np.frombuffer(bytes.fromhex(seen["heard"]), np.int16)
    assert peak_frequency(heard) == pytest.approx(1000, abs=20)
    assert seen["played"] > 50
    assert peak_frequency(played) == pytest.approx(440, abs=10)
    assert dbfs(played) > -20.0


def test_arrivals_measure_how_late_frames_come_against_their_own_clock() -> None:
    import fractions

    from peer.audio.devices import Arrivals

    arrivals = Arrivals()
    for i, late in enumerate([0.0, 0.0, 0.005, 0.0, 0.250, 0.0]):  # one frame 250 ms late
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.pts, frame.time_base = i * 960, fractions.Fraction(1, 48000)
        arrivals.add(frame, 100.0 + i * 0.02 + late)
    p50, p95, worst = arrivals.spread()
    assert p50 == pytest.approx(0.0, abs=0.5) and worst == pytest.approx(250.0, abs=0.5)
    arrivals.clear()
    assert arrivals.spread() == (0.0, 0.0, 0.0)
