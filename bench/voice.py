"""Voice through the whole product: mouth-to-ear latency each way and audio continuity, with
the operator's console in headless Chromium and the customer's headless peer on a private
PulseAudio server, alone, while 1080p video and a file transfer load the link, and on a
512 kbit/s link.

    sudo .venv/bin/python bench/voice.py [--seconds 15] [--json out.json]

Everything runs in a network namespace of the run's own (``rig.py``); the PulseAudio server is
``tests/audio_rig.py``'s (Unix socket only). Tone bursts (150 ms every 600 ms, 2 ms ramps):

* **operator -> customer**, 700 Hz: Chromium's fake microphone plays them from a WAV. *Mouth*:
  their onset in the page's own microphone stream (an ``AudioWorklet``, context time mapped to
  the page's clock by ``getOutputTimestamp``); *ear*: their onset in what the customer's
  speakers play (``pacat`` recording ``spk.monitor``).
* **customer -> operator**, 1300 Hz: played into the sink that feeds the customer's microphone.
  *Mouth*: their onset in what that microphone (the source ``mic``) delivers, recorded the same
  way as the ear above; *ear*: their onset in the customer's voice as the console plays it (the same
  worklet on the ``<audio>`` element's stream, after Chromium's jitter buffer).

Recorded streams are timed from the earliest bound of every read (time of the read minus the
audio read so far), so a late read does not shift them; the page clock is tied to this
process's by the fastest of 20 round trips. **Continuity**: in each burst heard by the
customer, 5 ms windows more than 20 dB below the burst's level (gaps); on the operator's side
Chromium's ``concealedSamples`` share of what it played (less the comfort noise of DTX). The
audio kbit/s each way, and how long the operator's audio waited in Chromium before it was sent
(``totalPacketSendDelay``), come from Chromium's RTP statistics.

Rows: **alone** (a still screen, no transfer); **video** (the whole 1080p screen scrolling at
60 Hz); **video + file** (and a file going to the customer); **512k: video+file** (the same
load, ``tbf`` on the namespace's loopback, which every packet of the session crosses: both
directions share the 512 kbit/s); **512k: file** (the screen still again, the file going on).

Goals (issue: voice): p50 <= 100 ms each way on loopback, no gap while video and
files share the link, intelligible at 512 kbit/s. Needs root, Xvfb, chromium and pulseaudio.
Exits 0 whether or not the goals are met.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH.parent / "tests"))

from audio_rig import PulseRig  # noqa: E402
from rig import cannot_run, conditions, end_peer, fmt, page_clock_offset, pct, rig  # noqa: E402

from tests.e2e.browser import secure_origin  # noqa: E402

RATE = 48000
PERIOD = 0.6  # s between burst onsets
BURST = 0.15  # s
TO_CUSTOMER_HZ = 700.0
TO_OPERATOR_HZ = 1300.0

#: In the page: an onset detector on the operator's microphone and on the customer's voice.
INIT_SCRIPT = r"""
(() => {
  const worklet = `
    class Onsets extends AudioWorkletProcessor {
      constructor() { super(); this.quiet = 0; this.threshold = 0.05; }
      process(inputs) {
        const ch = inputs[0] && inputs[0][0];
        if (!ch) return true;
        for (let i = 0; i < ch.length; i++) {
          if (Math.abs(ch[i]) > this.threshold) {
            if (this.quiet > sampleRate * 0.1) this.port.postMessage(currentTime + i / sampleRate);
            this.quiet = 0;
          } else this.quiet++;
        }
        return true;
      }
    }
    registerProcessor("onsets", Onsets);`;
  const url = URL.createObjectURL(new Blob([worklet], {type: "text/javascript"}));
  window.__onsets = {mouth: [], ear: []};
  async function watch(stream, into) {
    const ctx = new AudioContext();
    await ctx.audioWorklet.addModule(url);
    const node = new AudioWorkletNode(ctx, "onsets");
    node.port.onmessage = (e) => {
      const ts = ctx.getOutputTimestamp();
      const perf = ts.performanceTime + (e.data - ts.contextTime) * 1000;
      into.push(performance.timeOrigin + perf);
    };
    ctx.createMediaStreamSource(stream).connect(node);
    window.__onsetContexts = (window.__onsetContexts || []).concat([ctx]);
  }
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    const stream = await gum(c);
    watch(stream, window.__onsets.mouth);
    return stream;
  };
  window.__pcs = [];
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    const pc = new PC(...args);
    window.__pcs.push(pc);
    pc.addEventListener("track", (e) => {
      if (e.track.kind === "audio") watch(new MediaStream([e.track]), window.__onsets.ear);
    });
    return pc;
  };
  window.RTCPeerConnection.prototype = PC.prototype;
  window.RTCPeerConnection.generateCertificate = PC.generateCertificate;
  window.__audioStats = async () => {
    const contexts = (window.__onsetContexts || []).map((c) => c.state);
    const out = {sent: 0, received: 0, concealed: 0, samples: 0, sendDelay: 0, packets: 0,
                 video: 0, data: 0};
    out.contexts = contexts;
    for (const pc of window.__pcs) {
      if (pc.connectionState === "closed") continue;
      for (const s of (await pc.getStats()).values()) {
        if (s.type === "inbound-rtp" && s.kind === "video") out.video += s.bytesReceived || 0;
        if (s.type === "data-channel") out.data += s.bytesSent || 0;
        if (s.kind !== "audio") continue;
        if (s.type === "outbound-rtp") {
          out.sent += s.bytesSent || 0;
          out.sendDelay += s.totalPacketSendDelay || 0; // waiting in the browser's pacer
          out.packets += s.packetsSent || 0;
        }
        if (s.type === "inbound-rtp") {
          out.received += s.bytesReceived || 0;
          // concealed for loss, not the comfort noise of DTX silence
          out.concealed += (s.concealedSamples || 0) - (s.silentConcealedSamples || 0);
          out.samples += s.totalSamplesReceived || 0;
        }
      }
    }
    return out;
  };
})();
"""


def bursts(freq: float, seconds: float) -> np.ndarray:
    """150 ms bursts of ``freq`` every 600 ms, 2 ms ramps, int16 mono 48 kHz."""
    t = np.arange(int(BURST * RATE)) / RATE
    burst = 0.5 * np.sin(2 * np.pi * freq * t)
    ramp = int(0.002 * RATE)
    burst[:ramp] *= np.linspace(0, 1, ramp)
    burst[-ramp:] *= np.linspace(1, 0, ramp)
    period = np.zeros(int(PERIOD * RATE))
    period[: len(burst)] = burst
    return (np.tile(period, int(seconds / PERIOD) + 1) * 32767).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())


class Recorder:
    """``pacat --record`` of one PulseAudio source, timed (see the module's docstring)."""

    def __init__(self, audio: PulseRig, source: str) -> None:
        self.proc = subprocess.Popen(
            ["pacat", "--record", "--raw", f"--device={source}", "--format=s16le",
             f"--rate={RATE}", "--channels=1", "--latency-msec=10"],
            env={**os.environ, **audio.env()},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.data = bytearray()
        self.start = float("inf")  # time.time() of the first sample
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            now = time.time()
            if not chunk:
                return
            with self.lock:
                self.data += chunk
                self.start = min(self.start, now - len(self.data) / 2 / RATE)

    def onsets(self, since: float, until: float) -> tuple[list[float], list[float]]:
        """Burst onsets (time.time()) between ``since`` and ``until``, and the gap share of
        each burst that started there (5 ms windows 20 dB under the burst's level)."""
        with self.lock:
            samples = np.frombuffer(bytes(self.data), dtype="<i2").astype(np.float64) / 32768
            start = self.start
        first = max(0, int((since - start) * RATE))
        last = min(len(samples), int((until - start) * RATE))
        found, gaps = [], []
        quiet = 0
        i = first
        threshold = 0.05
        while i < last:
            if abs(samples[i]) > threshold:
                if quiet > 0.1 * RATE:
                    found.append(start + i / RATE)
                    gaps.append(gap_share(samples[i : i + int(BURST * RATE)]))
                    i += int(0.1 * RATE)  # inside the burst now
                quiet = 0
            else:
                quiet += 1
            i += 1
        return found, gaps

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


def gap_share(burst: np.ndarray) -> float:
    """Share of 5 ms windows inside a burst (ramps left out) 20 dB below its loudest."""
    win = int(0.005 * RATE)
    body = burst[2 * win : len(burst) - 2 * win]
    if len(body) < win:
        return 0.0
    rms = np.sqrt(np.mean(body[: len(body) // win * win].reshape(-1, win) ** 2, axis=1))
    return float(np.mean(rms < rms.max() / 10))


def delays(mouths: list[float], ears: list[float]) -> list[float]:
    """Each ear onset against the latest mouth onset before it (less than a period)."""
    out = []
    for ear in ears:
        before = [m for m in mouths if 0 <= ear - m < PERIOD]
        if before:
            out.append((ear - max(before)) * 1000)
    return out


@dataclass
class Row:
    name: str
    to_customer_ms: list[float] = field(default_factory=list)
    to_operator_ms: list[float] = field(default_factory=list)
    customer_gaps: float = 0.0  # share of 5 ms windows in bursts
    bursts_heard: int = 0
    bursts_sent: int = 0
    operator_concealed: float = 0.0
    kbit_sent: float = 0.0  # operator -> customer audio
    kbit_received: float = 0.0
    pacer_ms: float = 0.0  # the operator's audio packets' mean wait in Chromium before sending
    queue_ms: list[float] = field(default_factory=list)  # the shaped link's queue, sampled
    link_drops: int = 0  # packets the shaped link dropped during the row
    kbit_video: float = 0.0  # the customer's screen, as the console received it
    kbit_data: float = 0.0  # everything the console sent on data channels (the file)

    def line(self) -> str:
        def lat(values: list[float]) -> str:
            if not values:
                return "      -        -  "
            return f"{fmt(pct(values, 50)):>7} {fmt(pct(values, 95)):>7} ms"

        return (
            f"{self.name:<16} {lat(self.to_customer_ms)}  {lat(self.to_operator_ms)}  "
            f"{self.bursts_heard:>3}/{self.bursts_sent:<3} {100 * self.customer_gaps:6.2f} %  "
            f"{100 * self.operator_concealed:6.2f} %  "
            f"{self.kbit_sent:5.1f}/{self.kbit_received:<5.1f}  {self.pacer_ms:6.1f} ms"
            + (
                f"  video {self.kbit_video:.0f} data {self.kbit_data:.0f} kbit/s,"
                f" link queue p50 {fmt(pct(self.queue_ms, 50))} max {fmt(max(self.queue_ms))} ms,"
                f" {self.link_drops} dropped"
                if self.queue_ms
                else ""
            )
        )


def measure(
    name: str, page: Any, ear: Recorder, mouth: Recorder, seconds: float, offset: float
) -> Row:
    row = Row(name)
    stats0 = page.evaluate("() => window.__audioStats()")
    t0 = time.time()
    marks = page.evaluate("() => [window.__onsets.mouth.length, window.__onsets.ear.length]")
    time.sleep(seconds)
    t1 = time.time()
    time.sleep(0.8)  # the last bursts on their way
    stats1 = page.evaluate("() => window.__audioStats()")
    if any(state != "running" for state in stats1["contexts"]):
        print(f"  (onset detectors not running: {stats1['contexts']})", flush=True)
    got = page.evaluate(
        "(m) => [window.__onsets.mouth.slice(m[0]), window.__onsets.ear.slice(m[1])]", marks
    )
    op_mouth = [t / 1000 - offset for t in got[0]]
    op_ear = [t / 1000 - offset for t in got[1]]
    op_mouth = [t for t in op_mouth if t0 <= t < t1]
    heard, gaps = ear.onsets(t0, t1 + 0.8)
    said, _ = mouth.onsets(t0, t1)
    row.to_customer_ms = delays(op_mouth, heard)
    row.to_operator_ms = delays(said, op_ear)
    row.bursts_sent = len(op_mouth)
    row.bursts_heard = len(row.to_customer_ms)
    row.customer_gaps = float(np.mean(gaps)) if gaps else 1.0
    dt = t1 + 0.8 - t0
    row.kbit_sent = (stats1["sent"] - stats0["sent"]) * 8 / dt / 1000
    row.kbit_received = (stats1["received"] - stats0["received"]) * 8 / dt / 1000
    row.kbit_video = (stats1["video"] - stats0["video"]) * 8 / dt / 1000
    row.kbit_data = (stats1["data"] - stats0["data"]) * 8 / dt / 1000
    packets = stats1["packets"] - stats0["packets"]
    if packets:
        row.pacer_ms = (stats1["sendDelay"] - stats0["sendDelay"]) / packets * 1000
    samples = stats1["samples"] - stats0["samples"]
    row.operator_concealed = (stats1["concealed"] - stats0["concealed"]) / samples if samples else 1
    return row


class LinkQueue:
    """Samples the shaped link's queue (``tc -s qdisc``) every 100 ms while a row runs: how
    long a packet joining it waits, and how many packets it dropped."""

    def __init__(self, ns: Any, bits_per_s: int) -> None:
        self._ns, self._rate = ns, bits_per_s
        self.waits_ms: list[float] = []
        self._stop = threading.Event()
        self._drops0 = self._sample()[1]
        self.drops = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> tuple[int, int]:
        out = subprocess.run(
            self._ns.argv(["tc", "-s", "-j", "qdisc", "show", "dev", "lo"]),
            capture_output=True,
            text=True,
        ).stdout
        qdisc = (json.loads(out) or [{}])[0]
        return int(qdisc.get("backlog", 0)), int(qdisc.get("drops", 0))

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            backlog, dropped = self._sample()
            self.waits_ms.append(backlog * 8 / self._rate * 1000)
            self.drops = dropped - self._drops0

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def shape(ns: Any, bits_per_s: int | None) -> None:
    subprocess.run(ns.argv(["tc", "qdisc", "del", "dev", "lo", "root"]), capture_output=True)
    if bits_per_s is not None:
        burst = max(3200, bits_per_s // 8 // 250)
        ns.run(
            ["tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", f"{bits_per_s}bit",
             "burst", str(burst), "latency", "400ms"]
        )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="each row's measuring time")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args(argv)
    problem = cannot_run("voice.py")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"sl-voice-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    mic_wav = work / "operator-bursts.wav"
    write_wav(mic_wav, bursts(TO_CUSTOMER_HZ, 20))
    customer_says = bursts(TO_OPERATOR_HZ, 600)
    payload = work / "payload.bin"
    with payload.open("wb") as f:  # bigger than a row can move, even on the open link
        for _ in range(600):
            f.write(os.urandom(1 << 20))
    inbox = work / "inbox"
    inbox.mkdir(exist_ok=True)

    def browser_args(server: Any) -> list[str]:
        return [
            f"--use-file-for-fake-audio-capture={mic_wav}",
            "--autoplay-policy=no-user-gesture-required",
            secure_origin(server.url),
        ]

    rows: list[Row] = []
    print("conditions:", json.dumps(conditions()), flush=True)
    with PulseRig() as audio, rig("voice", time_limit_s=900, browser_args=browser_args) as r:
        ear = Recorder(audio, "spk.monitor")
        mouth = Recorder(audio, "mic")  # what the customer's microphone device delivers
        player = audio.play("src", customer_says)
        try:
            with r.console(INIT_SCRIPT, bypass_csp=True) as console:
                peer = console.connect(
                    r.start_peer,
                    allow=("view", "voice", "files"),
                    extra_args=["--accept-files", str(inbox), "-v"],
                    env=audio.env(),
                )
                page = console.page
                page.locator("#voice-start").click()
                peer.wait_for_line(r"^voice: Your microphone is on", timeout=20)
                time.sleep(3)  # both jitter buffers settle
                offset = page_clock_offset(page)

                def row(name: str, settle: float, shaped: int | None = None) -> None:
                    time.sleep(settle)
                    queue = LinkQueue(r.ns, shaped) if shaped else None
                    rows.append(measure(name, page, ear, mouth, args.seconds, offset))
                    if queue:
                        queue.stop()
                        rows[-1].queue_ms, rows[-1].link_drops = queue.waits_ms, queue.drops
                    print(rows[-1].line(), flush=True)

                row("alone", 0)
                r.drawer.mode("heavy")
                row("video", 2)
                page.locator("#send-files-input").set_input_files(str(payload))
                peer.wait_for_line(r"^files: accepting", timeout=30)
                row("video + file", 2)
                shape(r.ns, 512_000)
                row("512k: video+file", 4, 512_000)
                r.drawer.mode("still")
                row("512k: file", 4, 512_000)
                shape(r.ns, None)
                end_peer(peer)
                said = [
                    line.split(" INFO peer.features.voice: ", 1)[-1]
                    for line in peer.output().splitlines()
                    if "voice: played" in line or "arrived late" in line
                ]
                print("peer (every 10 s, rows in order):", *said, sep="\n  ")
        finally:
            player.kill()
            ear.close()
            mouth.close()
    print()
    print(f"{'row':<16} {'to customer p50 p95':>19}  {'to operator p50 p95':>19}  heard  gaps      "
          "op conc.  kbit/s out/in  op pacer")  # fmt: skip
    for row in rows:
        print(row.line())
    alone = rows[0] if rows else None
    if alone and alone.to_customer_ms and alone.to_operator_ms:
        ok = pct(alone.to_customer_ms, 50) <= 100 and pct(alone.to_operator_ms, 50) <= 100
        print(f"goal p50 <= 100 ms each way alone: {'met' if ok else 'NOT met'}")
    if len(rows) > 2:
        print(f"gaps with video + file: {100 * rows[2].customer_gaps:.2f} % of 5 ms windows")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
