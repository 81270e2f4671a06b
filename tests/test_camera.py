"""The customer's camera track with real sources: FFmpeg test graphs (``lavfi:``), short video
files written here with PyAV, missing devices, and a made-up sysfs tree for the listing."""

from __future__ import annotations

import asyncio
import errno
import fractions
import logging
import os
import time
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from peer.camera import V4L2_OPTIONS, CameraTrack, error_state, list_cameras, player_args

pytestmark = pytest.mark.timeout(20)

RED = "lavfi:color=c=red:size=320x240:rate=15"
BLUE = "lavfi:color=c=blue:size=320x240:rate=15"
GREEN = (40, 200, 60)

MakeCamera = Callable[..., tuple[CameraTrack, list[str]]]


@pytest.fixture
async def camera() -> AsyncIterator[MakeCamera]:
    """Makes camera tracks that record their states; all of them are stopped after."""
    made: list[CameraTrack] = []

    def make(**kwargs: Any) -> tuple[CameraTrack, list[str]]:
        states: list[str] = []
        track = CameraTrack(states.append, **kwargs)
        made.append(track)
        return track, states

    yield make
    for track in made:
        track.stop()


def write_video(path: Path, codec: str, frames: int = 10, rate: int = 30) -> Path:
    """A short video of ``frames`` solid ``GREEN`` pictures, 160x120."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        picture = np.empty((120, 160, 3), np.uint8)
        picture[:] = GREEN
        for _ in range(frames):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def open_files(path: Path) -> int:
    """How many of this process's file descriptors lead to ``path``."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                count += 1
        except OSError:
            pass
    return count


def pts(frame: av.VideoFrame) -> int:
    assert frame.pts is not None
    return frame.pts


def colour(frame: av.VideoFrame) -> tuple[int, int, int]:
    pixels = frame.to_ndarray(format="rgb24")
    r, g, b = (int(v) for v in pixels[frame.height // 2, frame.width // 2])
    return r, g, b


def near(got: tuple[int, int, int], want: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 10 for a, b in zip(got, want, strict=True))


async def until(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def waits(track: CameraTrack, seconds: float = 0.3) -> bool:
    """Whether ``recv`` gives nothing for ``seconds``."""
    try:
        await asyncio.wait_for(track.recv(), seconds)
    except TimeoutError:
        return True
    return False


# ---------------------------------------------------------------------- frames


async def test_colour_graph_gives_frames_of_its_size_and_colour(camera: MakeCamera) -> None:
    track, states = camera()
    assert track.kind == "video" and track.state == "off"
    await track.open(RED)
    assert track.state == "on" and track.source == RED and states == ["on"]
    stamps: list[int] = []
    for _ in range(4):
        frame = await asyncio.wait_for(track.recv(), 2)
        assert (frame.width, frame.height) == (320, 240)
        assert near(colour(frame), (255, 0, 0))
        assert frame.time_base == fractions.Fraction(1, 90_000)
        stamps.append(pts(frame))
    assert stamps == sorted(set(stamps))
    # at 15 frames a second, four frames span about 3/15 s of the 90 kHz clock
    assert 0.1 < (stamps[-1] - stamps[0]) / 90_000 < 0.5


async def test_test_pattern_has_the_size_asked_for(camera: MakeCamera) -> None:
    track, _ = camera()
    await track.open("lavfi:testsrc2=size=640x480:rate=15")
    frame = await asyncio.wait_for(track.recv(), 2)
    assert (frame.width, frame.height) == (640, 480)


async def test_opening_another_source_replaces_the_first(camera: MakeCamera) -> None:
    track, states = camera()
    await track.open(RED)
    first = await asyncio.wait_for(track.recv(), 2)
    await track.open(BLUE)
    frame = await asyncio.wait_for(track.recv(), 2)
    assert near(colour(frame), (0, 0, 255))
    assert pts(frame) > pts(first)
    assert states == ["on"]  # a switch is not an "off"


# ---------------------------------------------------------------------- releasing the device


async def test_close_releases_the_file_at_once(camera: MakeCamera, tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.webm", "libvpx")
    track, states = camera()
    await track.open(str(video))
    frame = await asyncio.wait_for(track.recv(), 2)
    assert (frame.width, frame.height) == (160, 120)
    assert near(colour(frame), GREEN)
    assert open_files(video) == 1
    track.close()
    assert open_files(video) == 0
    assert track.state == "off" and states == ["on", "off"]
    assert await waits(track)  # nothing is sent while closed: no black frames
    track.close()
    assert states == ["on", "off"]


async def test_a_file_ending_is_lost_once_and_open_resumes(
    camera: MakeCamera, tmp_path: Path
) -> None:
    video = write_video(tmp_path / "clip.webm", "libvpx", frames=10, rate=30)
    track, states = camera(loop=False)
    await track.open(str(video))
    first = await asyncio.wait_for(track.recv(), 2)
    await until(lambda: track.state == "lost")
    assert states == ["on", "lost"]
    assert open_files(video) == 0
    while not await waits(track, 0.3):  # the last picture may still be waiting
        pass
    assert states == ["on", "lost"]
    await track.open(str(video))
    assert states == ["on", "lost", "on"]
    frame = await asyncio.wait_for(track.recv(), 2)
    assert near(colour(frame), GREEN)
    assert pts(frame) > pts(first)
    assert open_files(video) == 1
    await until(lambda: track.state == "lost")
    assert states == ["on", "lost", "on", "lost"]
    assert open_files(video) == 0


async def test_a_looping_file_plays_on_in_real_time(camera: MakeCamera, tmp_path: Path) -> None:
    # H.264 in MP4: the decoder holds pictures back, which MediaPlayer's own looping trips on
    video = write_video(tmp_path / "clip.mp4", "libx264", frames=10, rate=30)
    track, states = camera()
    await track.open(str(video))
    started = time.monotonic()
    for _ in range(25):
        frame = await asyncio.wait_for(track.recv(), 2)
        assert near(colour(frame), GREEN)
    assert time.monotonic() - started > 0.5  # 25 pictures at 30 a second, not all at once
    assert states == ["on"]
    assert open_files(video) == 1
    track.close()
    assert open_files(video) == 0


async def test_stop_ends_a_waiting_recv(camera: MakeCamera) -> None:
    track, _ = camera()
    waiting = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    track.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(waiting, 1)
    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_stop_closes_an_open_camera(camera: MakeCamera, tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.webm", "libvpx")
    track, states = camera()
    await track.open(str(video))
    await asyncio.wait_for(track.recv(), 2)
    track.stop()
    assert open_files(video) == 0 and states == ["on", "off"]


async def test_close_while_opening_leaves_it_closed(camera: MakeCamera, tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.webm", "libvpx")
    track, states = camera()
    opening = asyncio.ensure_future(track.open(str(video)))
    await asyncio.sleep(0)
    track.close()
    await asyncio.wait_for(opening, 2)
    assert track.state == "off" and states == []
    assert open_files(video) == 0
    assert await waits(track, 0.2)


# ---------------------------------------------------------------------- trouble as states


async def test_missing_device_is_no_camera(camera: MakeCamera, tmp_path: Path) -> None:
    track, states = camera()
    await track.open("/dev/video99")
    assert track.state == "no_camera" and states == ["no_camera"]
    await track.open(str(tmp_path / "gone.webm"))
    assert track.state == "no_camera" and states == ["no_camera"]
    assert await waits(track, 0.1)


async def test_a_file_without_video_fails_with_a_warning(
    camera: MakeCamera, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    junk = tmp_path / "sound.wav"
    with wave.open(str(junk), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(bytes(1600))
    track, states = camera()
    with caplog.at_level(logging.WARNING, logger="peer.camera"):
        await track.open(str(junk))
    assert track.state == "failed" and states == ["failed"]
    assert any("sound.wav" in r.getMessage() for r in caplog.records)
    assert open_files(junk) == 0


def test_error_states() -> None:
    busy = av.error.OSError(errno.EBUSY, "Device or resource busy", "/dev/video0")
    assert error_state(busy) == "busy"
    assert error_state(OSError(errno.EBUSY, "Device or resource busy")) == "busy"
    missing = av.error.FileNotFoundError(errno.ENOENT, "No such file or directory", "/dev/x")
    assert error_state(missing) == "no_camera"
    assert error_state(OSError(errno.ENODEV, "No such device")) == "no_camera"
    assert error_state(PermissionError(errno.EACCES, "Permission denied")) == "failed"
    assert error_state(ValueError("no video")) == "failed"


async def test_first_camera_when_none_is_named(camera: MakeCamera, tmp_path: Path) -> None:
    track, states = camera(sysfs_root=tmp_path / "none")
    await track.open(None)
    assert track.state == "no_camera" and track.source is None and states == ["no_camera"]

    root = tmp_path / "video4linux"
    (root / "video98").mkdir(parents=True)
    (root / "video98" / "name").write_text("Gone Camera\n")
    track, states = camera(sysfs_root=root)
    await track.open(None)
    assert track.source == "/dev/video98"  # listed, but not there
    assert track.state == "no_camera"


# ---------------------------------------------------------------------- listing and sources


def test_list_cameras_reads_names_and_skips_extra_nodes(tmp_path: Path) -> None:
    root = tmp_path / "video4linux"
    for node, name, index in [
        ("video10", "USB Camera", "0"),
        ("video0", "Integrated Camera: Integrated C", "0"),
        ("video1", "Integrated Camera: Integrated C", "1"),  # its metadata node
        ("video2", "Old Driver Camera", None),
    ]:
        (root / node).mkdir(parents=True)
        (root / node / "name").write_text(name + "\n")
        if index is not None:
            (root / node / "index").write_text(index + "\n")
    (root / "v4l-subdev0").mkdir()
    assert list_cameras(root) == [
        ("/dev/video0", "Integrated Camera: Integrated C"),
        ("/dev/video2", "Old Driver Camera"),
        ("/dev/video10", "USB Camera"),
    ]
    assert list_cameras(tmp_path / "missing") == []
    assert isinstance(list_cameras(), list)


def test_player_args_for_each_kind_of_source() -> None:
    path, format, options = player_args("/dev/video0")
    assert (path, format) == ("/dev/video0", "v4l2")
    assert options == V4L2_OPTIONS and "input_format" not in options
    assert player_args("lavfi:testsrc2=size=640x480:rate=15") == (
        "testsrc2=size=640x480:rate=15",
        "lavfi",
        {},
    )
    assert player_args("/home/me/clip.mp4") == ("/home/me/clip.mp4", None, {})
