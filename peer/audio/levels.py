"""Samples, levels and playout buffering for voice: no devices, no event loop, and no numpy
(the customer's program leaves numpy out: see ``peer/capture.py``).

Samples are ``bytes``: signed 16-bit, native byte order, mono, at ``RATE`` (48 kHz, what Opus
and aiortc use), moved in ``FRAME_SAMPLES`` frames (20 ms, 1920 bytes). Functions that take
samples accept any bytes-like object (``bytes``, ``bytearray``, ``memoryview``,
``array.array("h")``). PyAV converts decoded frames (``MonoConverter``); levels are computed
in plain Python, about 50 µs per 20 ms frame. ``JitterBuffer`` and ``Meter`` are the only
stateful parts; both may be used from an audio callback thread and from the event loop at once.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeAlias

import av

if TYPE_CHECKING:
    #: What functions here take as samples (``collections.abc.Buffer`` from Python 3.12 on).
    Samples: TypeAlias = bytes | bytearray | memoryview | array[int]

RATE = 48000
FRAME_SAMPLES = 960  # 20 ms at RATE
SAMPLE_BYTES = 2
SILENCE_DBFS = -100.0
FULL_SCALE = 32768.0

# math.sumprod (Python 3.12) sums in C; a generator is the fallback (~50 µs per 960 samples).
_sumprod: Callable[[Iterable[int], Iterable[int]], int] | None = getattr(math, "sumprod", None)


def _as_s16(samples: Samples) -> array[int]:
    if isinstance(samples, array) and samples.typecode == "h":
        return samples
    out = array("h")
    out.frombytes(memoryview(samples).cast("B"))  # any C-contiguous buffer of s16 samples
    return out


def dbfs(samples: Samples) -> float:
    """RMS level of s16 ``samples`` (bytes-like) in dBFS (a full-scale square wave is 0);
    −100 for silence or nothing."""
    values = _as_s16(samples)
    if not values:
        return SILENCE_DBFS
    energy = _sumprod(values, values) if _sumprod is not None else sum(x * x for x in values)
    if energy <= 0:
        return SILENCE_DBFS
    rms = math.sqrt(energy / len(values))
    return max(SILENCE_DBFS, 20.0 * math.log10(rms / FULL_SCALE))


def silence(samples: int) -> bytes:
    """``samples`` of digital silence."""
    return bytes(samples * SAMPLE_BYTES)


def mono_frame(samples: Samples) -> av.AudioFrame:
    """An s16 mono frame at ``RATE`` holding ``samples`` (bytes-like); pts and time base are
    the caller's."""
    data = samples if isinstance(samples, bytes) else bytes(samples)
    frame = av.AudioFrame(format="s16", layout="mono", samples=len(data) // SAMPLE_BYTES)
    frame.planes[0].update(data)
    frame.sample_rate = RATE
    return frame


def _plane_bytes(frame: av.AudioFrame) -> bytes:
    """The samples of a packed s16 mono frame (a plane may be padded beyond them)."""
    return bytes(frame.planes[0])[: frame.samples * SAMPLE_BYTES]


def _is_ours(frame: av.AudioFrame) -> bool:
    return (
        frame.format.name == "s16"
        and frame.layout.name == "mono"
        and frame.sample_rate in (RATE, 0)
    )


def _resampler() -> av.AudioResampler:
    return av.AudioResampler(format="s16", layout="mono", rate=RATE)


def _resampled(resampler: av.AudioResampler, frame: av.AudioFrame) -> bytes:
    if frame.sample_rate == 0:
        frame.sample_rate = RATE
    return b"".join(_plane_bytes(f) for f in resampler.resample(frame))


def to_mono_s16(frame: av.AudioFrame) -> bytes:
    """Any decoded audio frame (aiortc's Opus decoder gives s16 packed stereo, 960 samples at
    48 kHz; mono, planar and float work too) as s16 mono samples at ``RATE``, in ``bytes``.

    PyAV converts: channels are mixed down, floats scaled and clipped. A frame without a
    rate (0) is taken to be at ``RATE`` (and given that rate). A frame at another rate goes
    through a one-off ``av.AudioResampler``, which keeps a few samples back: for a stream of
    such frames use ``MonoConverter``."""
    if _is_ours(frame):
        return _plane_bytes(frame)
    return _resampled(_resampler(), frame)


class MonoConverter:
    """``to_mono_s16`` for a stream of frames: one resampler kept while the input's rate,
    format and layout stay the same, so nothing is lost between frames."""

    def __init__(self) -> None:
        self._resampler: av.AudioResampler | None = None
        self._setup: tuple[int, str, str] | None = None

    def __call__(self, frame: av.AudioFrame) -> bytes:
        if _is_ours(frame):
            return _plane_bytes(frame)
        setup = (frame.sample_rate or RATE, frame.format.name, frame.layout.name)
        if self._resampler is None or setup != self._setup:
            self._resampler, self._setup = _resampler(), setup
        return _resampled(self._resampler, frame)


def _faded(samples: bytes) -> bytes:
    """``samples`` fading linearly from full to nothing (truncated towards zero)."""
    values = _as_s16(samples)
    n = len(values)
    return array("h", (int(x * (n - i) / n) for i, x in enumerate(values))).tobytes()


class JitterBuffer:
    """s16 mono samples (``bytes``) between a producer and a real-time consumer, at a steady
    latency.

    ``push()`` (the asyncio side) appends and, above ``max_ms``, drops the oldest samples so the
    latency can never grow. ``pull(n)`` (the audio callback) returns ``(samples, concealed)``,
    ``samples`` being ``n`` samples (``2 * n`` bytes):

    - until the buffer has once held ``target_ms``, silence (``concealed`` False: nothing was
      expected yet);
    - then the samples, in order;
    - when fewer than ``n`` are there (an underrun, counted in ``underruns``): what there is,
      then the last 10 ms played, repeated once fading to nothing, then silence
      (``concealed`` True) until the buffer holds ``target_ms`` again.

    Sizes below are in bytes (``SAMPLE_BYTES`` per sample).
    """

    def __init__(self, target_ms: float = 40, max_ms: float = 200, rate: int = RATE) -> None:
        if not 0 < target_ms <= max_ms:
            raise ValueError(f"need 0 < target_ms <= max_ms, got {target_ms} and {max_ms}")
        self.rate = rate
        self.target = round(target_ms * rate / 1000)  # samples
        self.max = round(max_ms * rate / 1000)  # samples
        self._conceal = rate // 100 * SAMPLE_BYTES  # 10 ms
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._primed = False  # holds (or held, since the last underrun) target samples
        self._started = False  # real samples came out since the last clear()
        self._last = bytes(self._conceal)  # the last 10 ms that came out
        self._fade = b""  # concealment still to play after an underrun
        self.underruns = 0
        self.dropped = 0  # samples dropped because the buffer was above max

    @property
    def level_ms(self) -> float:
        """How much audio is buffered, in milliseconds."""
        return len(self._buf) / SAMPLE_BYTES * 1000.0 / self.rate

    def push(self, samples: Samples) -> None:
        incoming = memoryview(samples).cast("B")
        if len(incoming) % SAMPLE_BYTES:
            raise ValueError(f"s16 samples come in whole samples, got {len(incoming)} bytes")
        with self._lock:
            self._buf += incoming
            excess = len(self._buf) - self.max * SAMPLE_BYTES
            if excess > 0:
                self.dropped += excess // SAMPLE_BYTES
                del self._buf[:excess]

    def pull(self, n: int) -> tuple[bytes, bool]:
        want = n * SAMPLE_BYTES
        with self._lock:
            if not self._primed and len(self._buf) >= self.target * SAMPLE_BYTES:
                self._primed = True
                self._fade = b""
            if not self._primed:
                return self._concealment(want), self._started
            if len(self._buf) >= want:
                out = bytes(self._buf[:want])
                del self._buf[:want]
                self._remember(out)
                return out, False
            # underrun: play what there is, then conceal
            have = bytes(self._buf)
            self._buf.clear()
            self._primed = False
            self.underruns += 1
            self._remember(have)
            self._fade = _faded(self._last)
            return have + self._concealment(want - len(have)), True

    def take(self, n: int, most: int) -> bytes | None:
        """For a consumer that follows the producer instead of a clock: ``n`` samples when
        there are, else None. Above ``most`` samples buffered (a consumer that fell behind),
        the oldest go first, so what is taken is never more than ``most`` samples old."""
        want = n * SAMPLE_BYTES
        with self._lock:
            excess = len(self._buf) - max(most, n) * SAMPLE_BYTES
            if excess > 0:
                self.dropped += excess // SAMPLE_BYTES
                del self._buf[:excess]
            if len(self._buf) < want:
                return None
            out = bytes(self._buf[:want])
            del self._buf[:want]
            self._remember(out)
            return out

    def clear(self) -> None:
        """Forget everything (a mute, a new device): silence until refilled to target."""
        with self._lock:
            self._buf.clear()
            self._primed = self._started = False
            self._fade = b""

    def _remember(self, out: bytes) -> None:
        if out:
            self._started = True
            self._last = (self._last + out)[-self._conceal :]

    def _concealment(self, size: int) -> bytes:
        """``size`` bytes: the rest of the fade, then silence."""
        head, self._fade = self._fade[:size], self._fade[size:]
        return head + bytes(size - len(head))


class Meter:
    """The latest level in dBFS: written from audio callbacks, read from any thread.

    ``update()`` only keeps the samples, so an audio callback stays short; the level is
    worked out when read, once per update (a window polling at 10 Hz pays for 10 levels a
    second, not one per audio block)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: bytes | None = None  # updated, not measured yet
        self._value = SILENCE_DBFS

    @property
    def value(self) -> float:
        samples = self._samples
        if samples is None:
            return self._value
        level = dbfs(samples)  # outside the lock: update() never waits for it
        with self._lock:
            if self._samples is samples:  # not updated or reset meanwhile
                self._samples, self._value = None, level
        return level

    def update(self, samples: Samples) -> None:
        """Keep the latest samples (bytes-like; copied unless ``bytes``)."""
        kept = samples if isinstance(samples, bytes) else bytes(samples)
        with self._lock:
            self._samples = kept

    def reset(self) -> None:
        with self._lock:
            self._samples = None
            self._value = SILENCE_DBFS

    def __float__(self) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"Meter({self.value:.1f} dBFS)"
