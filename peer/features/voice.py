"""Voice for headsets (``voice``): the customer's microphone to the operator, the operator's
voice to the customer's speakers or headset, both ways on one Opus transceiver.

* Nothing is opened before the customer allows voice: no microphone, no output stream, no
  audio transceiver. Allowed, the transceiver joins the connection (a new offer, the screen,
  control and transfers go on undisturbed); hung up, it goes ``inactive`` (another offer),
  the devices close and the microphone's place is taken by silence.
* The operator's track reaches ``remote_track``; it is played only while voice is allowed.
  Otherwise (and while the speaker is muted or gone) it is read and thrown away, so that
  aiortc's receive side never backs up: a voice track without consent is never heard.
* Device trouble never ends the call: "no microphone", "device busy", "unplugged mid-call"
  become ``voice_state`` for the operator and a line for the customer; what still works
  goes on (``peer.audio.devices`` retries a lost device).
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from typing import Any, cast

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from wire import protocol

from .. import encoder
from ..audio.devices import Microphone, Speaker, audio_available
from ..audio.levels import FRAME_SAMPLES, RATE, mono_frame, silence
from ..feature import Feature, Shown
from ..files import flow
from ..i18n import t
from ..settings import PeerSettings

logger = logging.getLogger(__name__)

_TIME_BASE = fractions.Fraction(1, RATE)
#: Seconds between log lines on how late the operator's audio arrives.
REPORT_EVERY = 10.0
_SILENCE = silence(FRAME_SAMPLES)


class VoiceOut(MediaStreamTrack):
    """What the operator hears: the microphone's track while there is one, else silence paced
    at 20 ms (the sender keeps a steady clock; Opus DTX makes silence nearly free)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.source: MediaStreamTrack | None = None
        self._pts = 0
        self._next = 0.0

    async def recv(self) -> av.AudioFrame:
        source = self.source
        if source is not None:
            try:
                frame = cast(av.AudioFrame, await source.recv())
            except MediaStreamError:
                self.source = None
            else:
                frame.pts, self._pts = self._pts, self._pts + frame.samples
                frame.time_base = _TIME_BASE
                self._next = time.monotonic() + frame.samples / RATE
                return frame
        now = time.monotonic()
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(self._next, now) + FRAME_SAMPLES / RATE
        frame = mono_frame(_SILENCE)
        frame.pts, self._pts = self._pts, self._pts + FRAME_SAMPLES
        frame.time_base = _TIME_BASE
        return frame


class VoiceFeature(Feature):
    capability = "voice"

    def __init__(self, host: Any, settings: PeerSettings) -> None:
        super().__init__(host)
        self.settings = settings
        self.out = VoiceOut()
        self.mic: Microphone | None = None
        self.speaker: Speaker | None = None
        self.remote: MediaStreamTrack | None = None
        self.mic_device = settings.audio_in
        self.speaker_device = settings.audio_out
        self.mic_muted = False
        self.mic_state = "no_device"
        self.speaker_state = "no_device"
        self._said: tuple[str, str] | None = None
        self._drain: asyncio.Task[None] | None = None
        self._started_at: float | None = None
        self._talked = 0.0

    # ------------------------------------------------------------------ consent

    def set_allowed(self, allowed: bool) -> bool:
        if allowed == self.allowed:
            return True
        if allowed and not audio_available():
            return False  # no audio system on this computer: nothing would work
        self.allowed = allowed
        encoder.voice_on(allowed)  # the screen leaves voice room on a thin link
        flow.voice_on(allowed)  # and files go slower: voice must not wait behind them
        if allowed:
            self._open()
            self.host.add_track(self.out, "sendrecv")
            self.host.start(self.host.renegotiate())
        else:
            self._close_devices()
            if self.host.has_track(self.out):
                self.host.set_direction(self.out, "inactive")
                self.host.start(self.host.renegotiate())
            self.host.show(self.capability, Shown("line", t("voice.ended")))
        return True

    def _open(self) -> None:
        self._started_at = time.monotonic()
        self._said = None
        mic = self.mic = Microphone(self.mic_device, on_state=self._mic_changed)
        mic.muted = self.mic_muted
        speaker = self.speaker = Speaker(self.speaker_device, on_state=self._speaker_changed)
        self.host.start(self._open_devices(mic, speaker))
        self.host.start(self._report(speaker))

    async def _report(self, speaker: Speaker) -> None:
        """Every ``REPORT_EVERY`` s of a call, how late the operator's audio arrived (log)."""
        while self.speaker is speaker:
            await asyncio.sleep(REPORT_EVERY)
            if self.speaker is speaker and speaker.frames_read:
                logger.info(
                    "voice: the operator's audio arrived late by p50 %.0f, p95 %.0f, max %.0f ms",
                    *speaker.arrivals.spread(),
                )
                speaker.arrivals.clear()

    async def _open_devices(self, mic: Microphone, speaker: Speaker) -> None:
        """Open both (PortAudio opens off the event loop); the call is up meanwhile, silent."""
        await mic.open()
        if self.mic is not mic:  # hung up meanwhile
            await mic.close()
        else:
            self.out.source = mic.track
        await speaker.open()
        if self.speaker is not speaker:
            await speaker.close()
        elif self.remote is not None:
            self._play(self.remote)

    def _close_devices(self) -> None:
        """Hang up: the devices close, the operator hears silence, their voice is not played."""
        for device in self._release():
            self.host.start(device.close())

    def _release(self) -> list[Microphone | Speaker]:
        if self._started_at is not None:
            self._talked += time.monotonic() - self._started_at
            self._started_at = None
        self.out.source = None
        if self.speaker is not None:
            s = self.speaker
            logger.info(
                "voice: played %d frames, %d underruns, %d ms concealed",
                s.played_frames, s.underruns, s.concealed * 10,
            )  # fmt: skip
        devices: list[Microphone | Speaker] = [d for d in (self.mic, self.speaker) if d]
        self.mic = self.speaker = None
        if self.remote is not None:
            self._start_drain(self.remote)
        return devices

    # ------------------------------------------------------------------ the operator's voice

    def carries(self, track: MediaStreamTrack) -> bool:
        return track is self.out

    def remote_track(self, track: MediaStreamTrack) -> None:
        self.remote = track
        if self.allowed and self.speaker is not None:
            self._play(track)
        else:
            self._start_drain(track)

    def _play(self, track: MediaStreamTrack) -> None:
        self._stop_drain()
        assert self.speaker is not None
        self.speaker.play(track)

    def _start_drain(self, track: MediaStreamTrack) -> None:
        self._stop_drain()
        self._drain = asyncio.ensure_future(self._drain_track(track))

    def _stop_drain(self) -> None:
        if self._drain is not None:
            self._drain.cancel()
            self._drain = None

    async def _drain_track(self, track: MediaStreamTrack) -> None:
        """Read the operator's voice and throw it away (not allowed, or no speakers)."""
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()

    # ------------------------------------------------------------------ states

    def _mic_changed(self, state: str) -> None:
        self.mic_state = state
        self._tell()

    def _speaker_changed(self, state: str) -> None:
        self.speaker_state = state
        self._tell()

    def _tell(self) -> None:
        """Say how both devices are, once both have said (``voice_state`` and the pane)."""
        if not self.allowed or self.mic is None or self.speaker is None:
            return
        if self.mic.state is None or self.speaker.state is None:
            return
        now = (self.mic_state, self.speaker_state)
        if now == self._said:
            return
        before, self._said = self._said, now
        self.host.send("control", protocol.VoiceState(mic=now[0], speaker=now[1]))
        if before is None or before[0] != now[0]:
            self.host.show(self.capability, Shown("mic", t(f"voice.mic.{now[0]}")))
        if before is None or before[1] != now[1]:
            self.host.show(self.capability, Shown("speaker", t(f"voice.speaker.{now[1]}")))

    def relinked(self) -> None:
        self.remote = None  # the old connection's track ends; the fresh one brings its own
        self._stop_drain()
        if self.speaker is not None:
            self.speaker.stop()
        if self.allowed:
            self._said = None
            self._tell()

    # ------------------------------------------------------------------ the customer's pane

    def from_ui(self, action: str, value: str) -> None:
        if action == "mute":
            self.mic_muted = value == "on"
            if self.mic is not None:
                self.mic.muted = self.mic_muted
        elif action == "mic":
            self.mic_device = value or None
            if self.mic is not None:
                self.host.start(self.mic.switch(self.mic_device))
        elif action == "speaker":
            self.speaker_device = value or None
            if self.speaker is not None:
                self.host.start(self.speaker.switch(self.speaker_device))
        elif action == "hangup":
            self.host.revoke(self.capability)

    def levels(self) -> tuple[float, float]:
        """The microphone's and the speaker's level now, in dBFS (−100: nothing)."""
        mic = float(self.mic.meter) if self.mic is not None else -100.0
        out = float(self.speaker.meter) if self.speaker is not None else -100.0
        return mic, out

    # ------------------------------------------------------------------ the end

    def stop_now(self) -> None:
        self.out.source = None  # nothing more of the microphone goes out

    async def close(self) -> None:
        for device in self._release():
            await device.close()
        self._stop_drain()

    def summary(self) -> str | None:
        if self._started_at is None and self._talked == 0:
            return None
        talked = self._talked + (
            time.monotonic() - self._started_at if self._started_at is not None else 0.0
        )
        return t("voice.summary", minutes=f"{talked / 60:.1f}")
