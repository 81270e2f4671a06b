"""Screen-content encoding: VP8 against H.264, as the peer's screen track sends them.

Runs a private Xvfb (1920x1080) with xterms full of text, records a few seconds of real
screen grabs (mss -> a BGRA ``VideoFrame`` -> yuv420p, the conversion the peer makes),
then encodes the same frames with each encoder configuration and prints, per scenario:
encode milliseconds per frame (mean and 95th percentile), bytes per frame, the bitrate that
makes at 30 fps, and PSNR of the decoded luma against the source (higher is sharper; above
~35 dB small text is crisp, below ~30 dB it smears).

Baselines measured in the same run: aiortc's own VP8 and H.264 encoders with their defaults.

    .venv/bin/python bench/encode.py [--frames 60] [--bitrate 2500000]

Nothing leaves the machine: Xvfb listens on a Unix socket only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import mss
import numpy as np
from aiortc.codecs import depayload, get_decoder, get_encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from xvfb import virtual_display  # noqa: E402

from peer.encoder import EncoderTuning, make_encoder  # noqa: E402

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
H264 = RTCRtpCodecParameters(
    mimeType="video/H264",
    clockRate=90000,
    payloadType=99,
    parameters={"packetization-mode": "1", "profile-level-id": "42e01f"},
)


def start_terminals(display: str, scrolling: bool) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "DISPLAY": display}
    procs = []
    text = "find /usr/lib/python3* -name '*.py' | head -3000"
    for i, (x, y) in enumerate([(0, 0), (960, 0), (0, 540), (960, 540)]):
        if scrolling or i == 0:
            cmd = f"while true; do {text}; done" if scrolling else _typing_script()
        else:
            cmd = f"{text} | head -40; sleep 3600"
        procs.append(
            subprocess.Popen(
                ["xterm", "-geometry", f"158x40+{x}+{y}", "-e", "sh", "-c", cmd],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    time.sleep(1.5)
    return procs


def _typing_script() -> str:
    return (
        "ls -l /usr/bin | head -30; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.3; done"
    )


def record(display: str, frames: int, fps: int = 30) -> list[av.VideoFrame]:
    reformatter = av.video.reformatter.VideoReformatter()
    out = []
    with mss.MSS(display=display) as grabber:
        monitor = grabber.monitors[1]
        next_at = time.monotonic()
        for i in range(frames):
            shot = grabber.grab(monitor)
            array = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
            frame = av.VideoFrame.from_numpy_buffer(array, format="bgra")
            yuv = reformatter.reformat(frame, format="yuv420p")
            yuv.pts = i * 3000
            yuv.time_base = __import__("fractions").Fraction(1, 90000)
            out.append(yuv)
            next_at += 1 / fps
            time.sleep(max(0.0, next_at - time.monotonic()))
    return out


def measure(
    name: str,
    make: Callable[[], Any],
    params: RTCRtpCodecParameters,
    frames: list[av.VideoFrame],
) -> None:
    encoder = make()
    decoder = get_decoder(params)
    times: list[float] = []
    sizes: list[int] = []
    psnrs: list[float] = []
    for i, frame in enumerate(frames):
        t0 = time.perf_counter()
        payloads, timestamp = encoder.encode(frame, i == 0)
        times.append((time.perf_counter() - t0) * 1000)
        sizes.append(sum(len(p) for p in payloads))
        if not payloads:
            continue
        data = b"".join(depayload(params, p) for p in payloads)
        for decoded in decoder.decode(JitterFrame(data=data, timestamp=timestamp)):
            psnrs.append(_psnr(frame, decoded))
    steady = times[1:]  # the first frame opens the codec and is a keyframe
    kbps = statistics.mean(sizes[1:]) * 8 * 30 / 1000
    print(
        f"  {name:<34} encode {statistics.mean(steady):6.1f} ms"
        f" (p95 {sorted(steady)[int(len(steady) * 0.95) - 1]:6.1f})"
        f"  keyframe {sizes[0] / 1000:6.1f} kB"
        f"  then {statistics.mean(sizes[1:]) / 1000:6.1f} kB/frame"
        f" = {kbps:6.0f} kbit/s at 30 fps  PSNR-Y {statistics.mean(psnrs) if psnrs else 0:5.1f} dB"
        f" (min {min(psnrs) if psnrs else 0:5.1f})"
    )


def _psnr(source: av.VideoFrame, decoded: av.VideoFrame) -> float:
    a = source.to_ndarray(format="gray").astype(np.float32)
    b = decoded.to_ndarray(format="gray").astype(np.float32)
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255 * 255 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--bitrate", type=int, default=2_500_000)
    args = parser.parse_args()
    tuning = EncoderTuning(max_bitrate=args.bitrate, start_bitrate=args.bitrate)
    print(
        f"cpus: {os.cpu_count()}  frames per scenario: {args.frames}  target {args.bitrate} bit/s"
    )
    for scenario, scrolling in [("typing (small changes)", False), ("scrolling text", True)]:
        with virtual_display(1920, 1080) as display:
            terms = start_terminals(display, scrolling)
            try:
                frames = record(display, args.frames)
            finally:
                for t in terms:
                    t.terminate()
                    t.wait()
        print(f"{scenario}, 1920x1080:")
        measure("aiortc VP8 (defaults, 500k)", lambda: get_encoder(VP8), VP8, frames)
        measure("screen VP8", lambda: make_encoder("vp8", tuning), VP8, frames)
        measure("aiortc H.264 (preset medium, 1M)", lambda: get_encoder(H264), H264, frames)
        for preset in ("ultrafast", "superfast", "veryfast"):
            t = EncoderTuning(
                max_bitrate=args.bitrate, start_bitrate=args.bitrate, x264_preset=preset
            )
            measure(f"screen H.264 {preset}", lambda t=t: make_encoder("h264", t), H264, frames)


if __name__ == "__main__":
    main()
