"""The customer's headset: the microphone as an aiortc track, the operator's voice played out.

``sounddevice`` (PortAudio) is imported on first use: a machine without libportaudio has
"no audio system", which is a state to show, never a crash. Only its raw streams are used
(samples as ``bytes``, see ``peer.audio.levels``): sounddevice needs numpy only for the others,
and the customer's program leaves numpy out. On PulseAudio and PipeWire desktops
PortAudio reaches the sound server through ALSA's ``pulse`` / ``default`` devices.

Errors::

    AudioError(Exception)        .token: "no_device" | "busy" | "lost" | "no_audio_system"

Only the listing helpers raise it. ``Microphone`` and ``Speaker`` never raise for device
trouble: they report a state token through ``on_state`` (always on the event loop's thread) and
go on (the microphone track keeps producing silence). A device that stops delivering for more
than ``STALL_S`` (or whose stream stops) is "lost": its stream is closed and reopened every
``RETRY_S`` until that works ("on" again); a "busy" device is retried the same way.

PortAudio calls that can block (open, start, close) run in a short-lived worker thread, one at a
time, with a timeout, so a hung sound server never stalls the event loop.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import fractions
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from peer.audio.levels import (
    FRAME_SAMPLES,
    RATE,
    JitterBuffer,
    Meter,
    MonoConverter,
    mono_frame,
    silence,
)

logger = logging.getLogger(__name__)

Kind = Literal["input", "output"]
TOKENS = ("no_device", "busy", "lost", "no_audio_system")
STALL_S = 1.0  # no callback for this long: the device is lost
RETRY_S = 2.0  # how often a lost or busy device is tried again
WATCH_S = 0.2  # how often the watchdog looks
CALL_TIMEOUT_S = 5.0  # longest a PortAudio open/start/close may take
MAX_LAG_S = 0.06  # the microphone track never runs later than this behind real time
GRACE_S = 0.03  # how long past its time a frame waits for the microphone before silence goes
#: Samples per microphone callback: 10 ms, half a frame (what waits for the frame is less).
MIC_BLOCK = FRAME_SAMPLES // 2
SPEAKER_BLOCK = RATE // 100  # 10 ms per output callback
PA_DEVICE_UNAVAILABLE = -9985
PA_INVALID_DEVICE = -9996
PA_INVALID_CHANNELS = -9998
PA_INVALID_RATE = -9997

T = TypeVar("T")
_SILENT_FRAME = silence(FRAME_SAMPLES)


class AudioError(Exception):
    """A device could not be used; ``token`` says why (one of ``TOKENS``)."""

    def __init__(self, token: str, detail: str = "") -> None:
        if token not in TOKENS:
            raise ValueError(f"unknown audio error token {token!r}")
        super().__init__(f"{token}: {detail}" if detail else token)
        self.token = token


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    default: bool


def _sounddevice() -> Any:
    """The ``sounddevice`` module; AudioError("no_audio_system") without PortAudio."""
    try:
        import sounddevice  # type: ignore[import-untyped]
    except (OSError, ImportError) as exc:  # OSError: libportaudio is missing
        raise AudioError("no_audio_system", str(exc)) from exc
    return sounddevice


def audio_available() -> bool:
    try:
        _sounddevice()
    except AudioError:
        return False
    return True


def _channels_key(kind: Kind) -> str:
    return "max_input_channels" if kind == "input" else "max_output_channels"


def _devices(kind: Kind) -> list[dict[str, Any]]:
    """PortAudio's devices that can ``kind``; none when there is no audio system."""
    try:
        sd = _sounddevice()
        every = list(sd.query_devices())
    except AudioError:
        return []
    except Exception as exc:  # PortAudio itself failing: nothing usable
        logger.debug("listing audio devices failed: %s", exc)
        return []
    return [d for d in every if int(d[_channels_key(kind)]) > 0]


def _default_index(kind: Kind) -> int:
    try:
        pair = _sounddevice().default.device
        return int(pair[0] if kind == "input" else pair[1])
    except Exception:
        return -1


def list_devices() -> tuple[list[DeviceInfo], list[DeviceInfo]]:
    """(inputs, outputs) as PortAudio saw them when it started; empty without audio."""

    def infos(kind: Kind) -> list[DeviceInfo]:
        default = _default_index(kind)
        return [
            DeviceInfo(int(d["index"]), str(d["name"]), int(d["index"]) == default)
            for d in _devices(kind)
        ]

    return infos("input"), infos("output")


def find_device(spec: str | None, kind: Kind) -> int | None:
    """The PortAudio index for ``spec``: None or "" → None (PortAudio's default); digits →
    that index; else the first device whose name contains ``spec`` (any case).
    AudioError("no_device") when none fits."""
    if not spec:
        return None
    devices = _devices(kind)
    if spec.strip().isdigit():
        index = int(spec)
        if any(int(d["index"]) == index for d in devices):
            return index
        raise AudioError("no_device", f"no {kind} device number {index}")
    wanted = spec.casefold()
    for d in devices:
        if wanted in str(d["name"]).casefold():
            return int(d["index"])
    raise AudioError("no_device", f"no {kind} device named like {spec!r}")


def _device_name(index: int | None, kind: Kind) -> str:
    try:
        sd = _sounddevice()
        info = sd.query_devices(index) if index is not None else sd.query_devices(kind=kind)
        return str(info["name"])
    except Exception:
        return "default" if index is None else str(index)


def _open_error_token(exc: BaseException) -> str:
    """What a failed open means for the user: "no_device" or "busy" (tried again later)."""
    if isinstance(exc, AudioError):
        return "no_device" if exc.token == "no_audio_system" else exc.token
    if isinstance(exc, ValueError):  # sounddevice: no such device / bad settings for it
        return "no_device"
    args: tuple[Any, ...] = exc.args
    text = str(args[0]).lower() if args else ""
    code = args[1] if len(args) > 1 else None
    if code == PA_DEVICE_UNAVAILABLE or "unavailable" in text or "busy" in text:
        return "busy"
    if code in (PA_INVALID_DEVICE, PA_INVALID_CHANNELS, PA_INVALID_RATE):
        return "no_device"
    if "querying device" in text or "invalid device" in text:
        return "no_device"
    return "busy"  # listed but not openable now (a sound server restarting, …): retried


_portaudio_lock = threading.Lock()  # PortAudio is not safe for concurrent open/close


async def _in_thread(
    fn: Callable[[], T], abandon: Callable[[T], None] | None = None, timeout: float = CALL_TIMEOUT_S
) -> T:
    """Run a blocking PortAudio call in a daemon thread (one call at a time) and await it.

    If the caller stops waiting (timeout: TimeoutError; or cancelled) and the call succeeds
    later, its result goes to ``abandon`` in a thread, so a stream opened too late is closed
    rather than leaked."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(ok: bool, value: Any) -> None:
        if future.cancelled():  # nobody is waiting any more
            if ok and abandon is not None:
                _spawn(lambda: abandon(value))
        elif ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def run() -> None:
        try:
            with _portaudio_lock:
                value: Any = fn()
            ok = True
        except Exception as exc:
            value, ok = exc, False
        try:
            loop.call_soon_threadsafe(deliver, ok, value)
        except RuntimeError:  # the loop is closed
            if ok and abandon is not None:
                with _portaudio_lock:
                    abandon(value)

    _spawn(run, locked=False)
    return await asyncio.wait_for(future, timeout)


def _spawn(fn: Callable[[], object], locked: bool = True) -> None:
    def run() -> None:
        if locked:
            with _portaudio_lock:
                fn()
        else:
            fn()

    threading.Thread(target=run, name="supportlink-audio", daemon=True).start()


def _close_stream(stream: Any) -> None:
    try:
        stream.abort()
    except Exception as exc:
        logger.debug("aborting an audio stream: %s", exc)
    try:
        stream.close()
    except Exception as exc:
        logger.debug("closing an audio stream: %s", exc)


class _Device:
    """One PortAudio stream kept open for ``Microphone`` or ``Speaker``.

    ``build(sd, index)`` makes the (unstarted) stream; its callback calls ``beat()``. State
    (``on``, ``no_device``, ``busy``, ``lost``; None before the first open) changes only on
    the event loop, and each change calls ``changed()``. A watchdog task notices a stream that
    stopped (``lost``) and retries lost and busy devices every ``RETRY_S``."""

    def __init__(
        self,
        kind: Kind,
        what: str,
        spec: str | None,
        build: Callable[[Any, int | None], Any],
        changed: Callable[[], None],
    ) -> None:
        self.kind = kind
        self.what = what  # "microphone" / "speaker", for the log
        self.spec = spec
        self.state: str | None = None
        self.name: str | None = None
        self.last_beat = 0.0
        self._build = build
        self._changed = changed
        self._stream: Any = None
        self._watchdog: asyncio.Task[None] | None = None
        self._next_try = 0.0
        self._closed = False
        self._lock = asyncio.Lock()  # one open/switch/close/retry at a time

    def beat(self) -> None:
        """From the stream's callback: the device is alive."""
        self.last_beat = time.monotonic()

    async def open(self) -> None:
        async with self._lock:
            self._closed = False
            if self._stream is None:
                await self._try_open()
            if self._watchdog is None:
                self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    async def switch(self, spec: str | None) -> None:
        async with self._lock:
            self.spec = spec
            await self._drop_stream()
            if not self._closed:
                await self._try_open()

    async def close(self) -> None:
        self._closed = True
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.cancel()
            try:
                await watchdog
            except asyncio.CancelledError:
                pass
        async with self._lock:
            await self._drop_stream()

    def _set(self, state: str) -> None:
        if state == self.state:
            return
        before, self.state = self.state, state
        level = logging.INFO if state in ("on", "lost") or before == "lost" else logging.DEBUG
        logger.log(level, "%s %s: %s -> %s", self.what, self.name or "-", before, state)
        self._changed()

    async def _try_open(self) -> None:
        """Open and start the stream; on failure set the state (a lost device stays lost)."""
        self._next_try = time.monotonic() + RETRY_S

        def open_and_start() -> tuple[Any, str]:
            sd = _sounddevice()
            index = find_device(self.spec, self.kind)
            stream = self._build(sd, index)
            try:
                stream.start()
            except BaseException:
                _close_stream(stream)
                raise
            return stream, _device_name(index, self.kind)

        try:
            stream, name = await _in_thread(open_and_start, lambda pair: _close_stream(pair[0]))
        except Exception as exc:
            token = "busy" if isinstance(exc, TimeoutError) else _open_error_token(exc)
            logger.debug("%s: cannot open %r: %s", self.what, self.spec, exc)
            self._set("lost" if self.state == "lost" else token)
            return
        self._stream, self.name = stream, name
        if self._closed:  # closed while opening
            await self._drop_stream()
            return
        self.last_beat = time.monotonic()
        self._set("on")

    async def _drop_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                await _in_thread(lambda: _close_stream(stream))
            except TimeoutError:
                logger.warning("%s: closing the stream hung; left behind", self.what)

    def _stalled(self) -> bool:
        if time.monotonic() - self.last_beat > STALL_S:
            return True
        try:
            return not bool(self._stream.active)
        except Exception:
            return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_S)
            async with self._lock:
                if self._stream is not None and self._stalled():
                    self._set("lost")
                    await self._drop_stream()
                    self._next_try = time.monotonic() + RETRY_S
                elif self._stream is None and self.state in ("lost", "busy"):
                    if time.monotonic() >= self._next_try:
                        await self._try_open()


class _StateReporter:
    """Calls ``on_state`` with each new state token, always on the event loop's thread."""

    def __init__(self, on_state: Callable[[str], None] | None) -> None:
        self._on_state = on_state
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reported: str | None = None

    def bind(self) -> None:
        self._loop = asyncio.get_running_loop()

    def report(self, compute: Callable[[], str | None]) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._report_now(compute)
        else:
            try:
                loop.call_soon_threadsafe(self._report_now, compute)
            except RuntimeError:  # the loop is closed: nobody to tell
                pass

    def _report_now(self, compute: Callable[[], str | None]) -> None:
        state = compute()
        if state is None or state == self.reported:
            return
        self.reported = state
        if self._on_state is not None:
            self._on_state(state)


class MicrophoneTrack(MediaStreamTrack):
    """The microphone as aiortc sees it: s16 mono 48 kHz frames of ``FRAME_SAMPLES``.

    ``source(due)`` gives each frame: ``(samples, live)``, ``samples`` being ``FRAME_SAMPLES``
    s16 samples as ``bytes``; it returns as soon as the device has captured a frame (``live``),
    or with silence at ``due`` (monotonic seconds) when there is nothing to send. A live frame
    sets the clock: the next one is due a frame later, so silence never runs ahead of what the
    device gives, and a caller that fell more than ``MAX_LAG_S`` behind gets the clock moved
    on, not a burst."""

    kind = "audio"

    def __init__(self, source: Callable[[float], Awaitable[tuple[bytes, bool]]]) -> None:
        super().__init__()
        self._source = source
        self._start: float | None = None
        self._pts = 0
        self.frames = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            self._pts += FRAME_SAMPLES
            if self._start + self._pts / RATE < now - MAX_LAG_S:  # fell behind: carry on from now
                self._start = now - self._pts / RATE
        samples, live = await self._source(self._start + self._pts / RATE)
        if live:
            self._start = time.monotonic() - self._pts / RATE
        frame = mono_frame(samples)
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self.frames += 1
        return frame


class _Endpoint(abc.ABC):
    """What the microphone and the speakers share: a ``_Device`` (opened, watched, reopened),
    the jitter buffer between it and the track, a meter, mute, and the state reports. A
    subclass names its stream (``_stream``, ``_block`` samples per callback) and its callback."""

    _kind: Kind
    _what: str
    _stream: str  # the sounddevice class: RawInputStream, RawOutputStream
    _block: int

    def __init__(
        self, device: str | None, on_state: Callable[[str], None] | None, buffer: JitterBuffer
    ) -> None:
        self._muted = False
        self.meter = Meter()
        self._buffer = buffer
        self._reporter = _StateReporter(on_state)
        self._device = _Device(self._kind, self._what, device, self._build, self._device_changed)
        self.xruns = 0  # callbacks that reported an overflow or underflow

    @property
    def device(self) -> str | None:
        """The name of the device in use (last opened)."""
        return self._device.name

    @property
    def muted(self) -> bool:
        return self._muted

    @muted.setter
    def muted(self, value: bool) -> None:
        """Settable from any thread."""
        self._muted = bool(value)
        if self._muted:
            self.meter.reset()
        self._mute_changed()

    @abc.abstractmethod
    def _mute_changed(self) -> None:
        """What muting or unmuting does besides silencing the meter."""

    async def open(self) -> None:
        self._reporter.bind()
        await self._device.open()

    async def switch(self, device: str | None) -> None:
        """Use another device (a spec as for ``find_device``) from now on."""
        self._buffer.clear()
        await self._device.switch(device)

    def _device_changed(self) -> None:
        if self._device.state != "on":
            self.meter.reset()
            self._buffer.clear()
        self._reporter.report(lambda: self.state)

    @property
    def state(self) -> str | None:
        return self._device.state

    def _build(self, sd: Any, index: int | None) -> Any:
        return getattr(sd, self._stream)(
            samplerate=RATE,
            channels=1,
            dtype="int16",
            blocksize=self._block,
            latency="low",
            device=index,
            callback=self._callback,
        )

    @abc.abstractmethod
    def _callback(self, data: Any, frames: int, times: Any, status: Any) -> None:
        """PortAudio's callback, on its own thread: ``frames`` samples in or out of ``data``."""


class Microphone(_Endpoint):
    """The customer's microphone. States: "on", "muted", "no_device", "busy", "lost".

    ``await open()`` starts capturing (a failure is a state, not an exception); ``track`` can
    be added to a connection before or after and always yields frames."""

    _kind, _what, _stream, _block = "input", "microphone", "RawInputStream", MIC_BLOCK

    def __init__(
        self, device: str | None = None, on_state: Callable[[str], None] | None = None
    ) -> None:
        # 10 ms capture blocks; a frame goes as soon as two are in (MicrophoneTrack)
        super().__init__(device, on_state, JitterBuffer(target_ms=20, max_ms=80))
        self.track = MicrophoneTrack(self._next_frame)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._captured = asyncio.Event()  # the callback pushed a block since the last look

    @property
    def state(self) -> str | None:
        """The current state token (None before ``open()``)."""
        device = self._device.state
        if device == "on" and self._muted:
            return "muted"
        return device

    def _mute_changed(self) -> None:
        """Muted: the track sends zeros, and the state says "muted"."""
        self._reporter.report(lambda: self.state)

    @property
    def buffered_ms(self) -> float:
        """Captured audio waiting for the track (at most 80 ms: older audio is dropped)."""
        return self._buffer.level_ms

    async def close(self) -> None:
        await self._device.close()
        self.meter.reset()
        self.track.stop()

    def _callback(self, indata: Any, frames: int, times: Any, status: Any) -> None:
        """``indata``: a buffer of ``frames`` s16 mono samples, valid during the call."""
        self._device.beat()
        if status:
            self.xruns += 1
        block = bytes(indata)
        self._buffer.push(block)
        if self._muted:
            self.meter.reset()
        else:
            self.meter.update(block)
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._captured.set)
            except RuntimeError:  # the loop is closed: nobody waits
                pass

    async def _next_frame(self, due: float) -> tuple[bytes, bool]:
        """The next captured frame as soon as it is in (never more than a frame and a block
        old: older audio was a stalled loop's, and goes), or silence if the device gives
        nothing: at ``due`` when muted or without a device, ``GRACE_S`` later when it is on."""
        self._loop = asyncio.get_running_loop()
        while True:
            self._captured.clear()
            samples = self._buffer.take(FRAME_SAMPLES, FRAME_SAMPLES + MIC_BLOCK)
            if samples is not None and not self._muted and self._device.state == "on":
                return samples, True
            live = self._device.state == "on" and not self._muted
            wait = due + (GRACE_S if live else 0) - time.monotonic()
            if wait <= 0:
                return _SILENT_FRAME, False
            try:
                await asyncio.wait_for(self._captured.wait(), wait)
            except TimeoutError:
                pass


class Arrivals:
    """How late the operator's audio frames reach the speaker, against their own clock (RTP
    timestamps, as ``pts``): each frame's arrival minus its media time, less the smallest such
    difference seen. Network queues, the browser's sending and a busy event loop all show
    here; the speaker's own buffer and device do not (``spread()``, ms: p50, p95, max)."""

    KEEP = 3000  # frames: the last minute

    def __init__(self) -> None:
        self._offsets: collections.deque[float] = collections.deque(maxlen=self.KEEP)
        self._least = math.inf

    def add(self, frame: av.AudioFrame, now: float) -> None:
        if frame.pts is None or frame.time_base is None:
            return
        offset = now - float(frame.pts * frame.time_base)
        self._least = min(self._least, offset)
        self._offsets.append(offset)

    def clear(self) -> None:
        """Start a new window (the smallest difference is kept: it is the path's own)."""
        self._offsets.clear()

    def spread(self) -> tuple[float, float, float]:
        if not self._offsets:
            return 0.0, 0.0, 0.0
        late = sorted((o - self._least) * 1000 for o in self._offsets)
        return late[len(late) // 2], late[int(len(late) * 0.95)], late[-1]


class Speaker(_Endpoint):
    """The customer's speakers or headphones. States: "on", "no_device", "busy", "lost".

    ``play(track)`` reads the operator's remote audio track (opening the device if needed)
    into a 40 ms jitter buffer that the output callback plays from. The track is always read,
    even when muted or without a device, so aiortc's receive queue never grows."""

    _kind, _what, _stream, _block = "output", "speaker", "RawOutputStream", SPEAKER_BLOCK

    def __init__(
        self, device: str | None = None, on_state: Callable[[str], None] | None = None
    ) -> None:
        super().__init__(device, on_state, JitterBuffer(target_ms=40, max_ms=200))
        self._convert = MonoConverter()
        self._reader: asyncio.Task[None] | None = None
        self._opening: asyncio.Task[None] | None = None
        self.frames_read = 0  # frames taken from the track (played or not)
        self.arrivals = Arrivals()
        self.played_frames = 0  # frames that went to the device
        self.concealed = 0  # output blocks (10 ms) that were concealment

    def _mute_changed(self) -> None:
        """Muted: the track is still read, nothing is played (unmuting starts afresh)."""
        self._buffer.clear()

    @property
    def underruns(self) -> int:
        return self._buffer.underruns

    def play(self, track: MediaStreamTrack) -> None:
        """Start reading ``track`` (replacing any track being read)."""
        self.stop()
        self._reporter.bind()
        loop = asyncio.get_running_loop()
        if self._opening is None:
            self._opening = loop.create_task(self._device.open())
        self._buffer.clear()
        self._reader = loop.create_task(self._read(track))

    def stop(self) -> None:
        """Stop reading the track (the device stays open)."""
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        for task in (reader, self._opening):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._opening = None
        await self._device.close()
        self.meter.reset()

    async def _read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.frames_read += 1
            if not isinstance(frame, av.AudioFrame):
                continue
            self.arrivals.add(frame, time.monotonic())
            if self._muted or self._device.state != "on":
                continue
            self._buffer.push(self._convert(frame))
            self.played_frames += 1

    def _callback(self, outdata: Any, frames: int, times: Any, status: Any) -> None:
        """``outdata``: a writable buffer for ``frames`` s16 mono samples."""
        self._device.beat()
        if status:
            self.xruns += 1
        if self._muted:
            outdata[:] = silence(frames)
            self.meter.reset()
            return
        samples, concealed = self._buffer.pull(frames)
        outdata[:] = samples
        if concealed:
            self.concealed += 1
        self.meter.update(samples)
