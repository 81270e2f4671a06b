"""A private PulseAudio server for audio tests: a customer's headset with no sound hardware.

    with PulseRig() as rig:               # PULSE_SERVER etc. set in this process and children
        rig.play_tone("src", 1000, 2.0)    # what the customer says into the microphone
        samples = rig.record("spk.monitor", 1.0)   # what the customer's speaker played

The daemon runs as a child process (``--daemonize=no``), in a temporary directory of its own
(runtime dir, state, home, cookie), reachable only through its Unix socket. As root PulseAudio
warns but runs (``--system`` is not needed). Devices, all mono s16 at 48 kHz:

- sink ``spk``: the customer's speakers; ``spk.monitor`` records what they play (default sink);
- sink ``src`` and source ``mic``, a virtual source fed by ``src.monitor``: whatever is played
  into ``src`` is what the customer's microphone hears (default source).

Clients find it through ``PULSE_SERVER=unix:<dir>/native`` (the ALSA ``pulse`` plugin that
PortAudio uses reads it too); ``autospawn = no`` in a client config of the rig's own keeps a
killed daemon dead. PortAudio lists devices once, at initialisation, so ``start()``
re-initialises it (``sd._terminate(); sd._initialize()``) while no stream is open.
``kill()`` SIGKILLs the daemon (every device vanishes mid-stream); ``restart()`` brings it back
at the same socket without touching PortAudio, as a sound server that comes back would.

Two traps handled here:

- a null sink that no client asks for low latency renders in 2 s blocks: the first PortAudio
  stream of a process then got its first callback after ~1.9 s, and an output stream was
  drained in 2 s gulps. The rig keeps a 10 ms ``pacat`` reader on ``spk.monitor`` and ``mic``
  and suspends/resumes both sinks once, which restarts their clocks at that pace;
- the daemon's log (``daemon.log`` in the rig's directory) is what to read when it will not
  start.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

RATE = 48000
SAMPLE_SPEC = "rate=48000 channels=1 format=s16le"
ENV_KEYS = (
    "PULSE_SERVER",
    "PULSE_CLIENTCONFIG",
    "PULSE_COOKIE",
    "PULSE_RUNTIME_PATH",
    "PULSE_STATE_PATH",
)


class RigError(RuntimeError):
    """The PulseAudio daemon did not start, or a helper command failed."""


def have_pulseaudio() -> bool:
    return shutil.which("pulseaudio") is not None and shutil.which("pactl") is not None


def peak_frequency(samples: np.ndarray, rate: int = RATE) -> float:
    """The frequency (Hz) of the strongest bin of ``samples``' spectrum (Hann window)."""
    x = samples.astype(np.float64).ravel()
    if x.size < 2:
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    spectrum[0] = 0.0
    return float(np.argmax(spectrum) * rate / x.size)


def tone(freq: float, seconds: float, amplitude: float = 0.5, rate: int = RATE) -> np.ndarray:
    """A sine as int16 mono."""
    t = np.arange(round(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype(np.int16)


class PulseRig:
    """A private PulseAudio daemon with a speaker sink and a microphone source (see module doc)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.dir = Path(tempfile.mkdtemp(prefix="pulserig-"))
        self.socket = self.dir / "run" / "pulse" / "native"
        self.server = f"unix:{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._players: list[subprocess.Popen[bytes]] = []
        self._keepers: list[subprocess.Popen[bytes]] = []
        self._saved_env: dict[str, str | None] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> PulseRig:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _client_env(self) -> dict[str, str]:
        return {
            "PULSE_SERVER": self.server,
            "PULSE_CLIENTCONFIG": str(self.dir / "client.conf"),
            "PULSE_COOKIE": str(self.dir / "cookie"),
            "PULSE_RUNTIME_PATH": str(self.dir / "run" / "pulse"),
            "PULSE_STATE_PATH": str(self.dir / "state"),
        }

    def env(self) -> dict[str, str]:
        """An environment for child processes (a peer, ``pacat``) that use this server."""
        return {**os.environ, **self._client_env()}

    def start(self) -> None:
        """Start the daemon, point this process at it, make PortAudio list its devices."""
        self._launch()
        reinitialise_portaudio()

    def restart(self) -> None:
        """Start the daemon again after ``kill()``, at the same socket, as a sound server that
        comes back does: PortAudio is left as it was (open streams must reconnect alone)."""
        self._launch()

    def _launch(self) -> None:
        for sub in ("run/pulse", "state", "home"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.dir / "client.conf").write_text("autospawn = no\n")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.dir / "home"),
            "XDG_RUNTIME_DIR": str(self.dir / "run"),
            "XDG_CONFIG_HOME": str(self.dir / "home"),
            **self._client_env(),
        }
        env.pop("PULSE_SERVER")  # the daemon itself must not look for a server
        log = open(self.dir / "daemon.log", "ab")
        self.proc = subprocess.Popen(
            [
                "pulseaudio",
                "--daemonize=no",
                "-n",  # no default.pa: only the modules below
                "--exit-idle-time=-1",
                "--disallow-exit",
                "--use-pid-file=false",
                "--realtime=no",
                "--high-priority=no",
                "--log-target=stderr",
                "--log-level=error",
                f"--load=module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
                f"--load=module-null-sink sink_name=spk {SAMPLE_SPEC}",
                f"--load=module-null-sink sink_name=src {SAMPLE_SPEC}",
                f"--load=module-virtual-source source_name=mic master=src.monitor {SAMPLE_SPEC}",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
        log.close()  # the child has its own copy
        self._set_env()
        self._wait_for("answers", lambda: self.socket.exists() and self._pactl_ok("info"))
        self.pactl("set-default-sink", "spk")
        self.pactl("set-default-source", "mic")
        # A null sink with no client asking for low latency renders in 2 s blocks, so the first
        # stream opened would wait up to 2 s for data (and an output stream would be drained
        # in 2 s gulps). A low-latency reader on each keeps them at real-device pace.
        self._keepers = [self._pacat_record(source, 10) for source in ("spk.monitor", "mic")]
        self._wait_for("has readers", lambda: self._count("source-outputs", "protocol-native") == 2)
        for sink in ("spk", "src"):  # a suspend/resume restarts the sink's clock at that pace
            self.pactl("suspend-sink", sink, "1")
            self.pactl("suspend-sink", sink, "0")

    def _wait_for(self, what: str, predicate: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout
        while not predicate():
            if self.proc is None or self.proc.poll() is not None:
                said = (self.dir / "daemon.log").read_text(errors="replace")[-2000:]
                raise RigError(f"pulseaudio exited before it {what}: {said}")
            if time.monotonic() > deadline:
                raise RigError(f"pulseaudio: not {what} within {self.timeout} s")
            time.sleep(0.02)

    def _count(self, kind: str, driver: str) -> int:
        """How many objects of ``kind`` (``pactl list short <kind>``) ``driver`` made."""
        return self.pactl("list", "short", kind).count(driver)

    def _set_env(self) -> None:
        for key, value in self._client_env().items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def kill(self) -> None:
        """SIGKILL the daemon: every device vanishes at once, as when a headset is pulled."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(self.timeout)
        self.socket.unlink(missing_ok=True)
        for helper in [*self._players, *self._keepers]:
            _end(helper)

    def stop(self) -> None:
        """Stop players and the daemon, restore the environment, remove the directory."""
        for player in [*self._players, *self._keepers]:
            _end(player)
        self._players.clear()
        self._keepers.clear()
        if self.proc is not None:
            _end(self.proc)
            self.proc = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ------------------------------------------------------------------------------

    def _pactl_ok(self, *args: str) -> bool:
        try:
            return self._run(["pactl", *args]).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def _run(self, argv: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(argv, env=self.env(), capture_output=True, timeout=self.timeout, **kw)

    def pactl(self, *args: str) -> str:
        done = self._run(["pactl", *args])
        if done.returncode != 0:
            raise RigError(f"pactl {' '.join(args)}: {done.stderr.decode(errors='replace')}")
        return done.stdout.decode()

    def play(self, sink: str, samples: np.ndarray) -> subprocess.Popen[bytes]:
        """Start playing int16 mono 48 kHz ``samples`` into ``sink``; returns the player."""
        path = self.dir / f"play-{len(self._players)}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
        player = subprocess.Popen(
            ["paplay", f"--device={sink}", "--latency-msec=20", str(path)],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._players.append(player)
        return player

    def play_tone(
        self, sink: str, freq: float, seconds: float, amplitude: float = 0.5
    ) -> subprocess.Popen[bytes]:
        """Start playing a sine into ``sink`` (not waiting for it to end)."""
        return self.play(sink, tone(freq, seconds, amplitude))

    def _pacat_record(
        self, source: str, latency_ms: int, stdout: int = subprocess.DEVNULL
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                "pacat",
                "--record",
                "--raw",
                f"--device={source}",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=1",
                f"--latency-msec={latency_ms}",
            ],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
        )

    def record(self, source: str, seconds: float) -> np.ndarray:
        """Record ``seconds`` of int16 mono 48 kHz from ``source`` (blocks for that long)."""
        want = round(seconds * RATE) * 2
        proc = self._pacat_record(source, 20, subprocess.PIPE)
        assert proc.stdout is not None
        data = bytearray()
        deadline = time.monotonic() + seconds + self.timeout
        try:
            os.set_blocking(proc.stdout.fileno(), False)
            while len(data) < want and time.monotonic() < deadline:
                chunk = proc.stdout.read(want - len(data))
                if chunk:
                    data += chunk
                elif proc.poll() is not None:
                    break
                else:
                    time.sleep(0.01)
        finally:
            _end(proc)
        if len(data) < want:
            raise RigError(f"recorded {len(data)} of {want} bytes from {source}")
        return np.frombuffer(bytes(data), dtype="<i2").astype(np.int16)


def _die_with_parent() -> Callable[[], None] | None:
    """For Popen: the child gets SIGKILL when this process dies (Linux ``PR_SET_PDEATHSIG``),
    so a test run that is killed outright leaves no daemon behind. (It fires when the thread
    that started the child ends: start rigs from the main thread, as fixtures do.)"""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def set_death_signal() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return set_death_signal


def reinitialise_portaudio() -> None:
    """Make PortAudio (in this process) list the devices as they are now."""
    try:
        import sounddevice as sd  # type: ignore[import-untyped]
    except (OSError, ImportError):
        return
    sd._terminate()
    sd._initialize()


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
