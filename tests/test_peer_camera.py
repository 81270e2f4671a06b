"""The customer's camera for the operator (``camera``): the real peer session with a camera
from a generated source (``lavfi:``, through the same ``MediaPlayer`` path that opens V4L2
devices), an aiortc operator on loopback that receives it and checks its colour."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import start_session, until
from sigclient import Endpoint
from xvfb import Block, ColourBlocks, virtual_display

from peer.features.camera import CameraFeature
from wire import protocol as p

#: The camera's picture: one colour (RGB), as lavfi's color source makes it.
BLUE = (32, 96, 224)
SOURCE = "lavfi:color=c=0x2060e0:size=320x240:rate=15"


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(640, 480) as name, ColourBlocks(name, [Block(0, 0, 640, 480, "#808080")]):
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer", "peer_display")


def states(op: object) -> list[str]:
    return [m.state for m in op.of(p.CameraState)]  # type: ignore[attr-defined]


async def test_the_operator_sees_the_camera_once_allowed_and_stopping_releases_it(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(
        loopback_endpoint, display, allow=frozenset({"view", "camera"}), camera=SOURCE
    )
    op, session = r.operator, r.session
    feature = session.feature(CameraFeature)
    assert feature is not None
    try:
        await asyncio.sleep(0.5)
        # nothing is opened before the operator asks and the customer allows
        assert feature.out.state == "off" and not session.has_track(feature.out)
        op.send("control", p.ConsentRequest(capability="camera"))
        await until(lambda: "on" in states(op), 10)
        # the camera comes in a stream of its own, by a new offer
        assert any(f"msid:{p.CAMERA_STREAM} " in sdp for sdp in op.offers)
        await until(lambda: len([t for t in op.tracks if t.kind == "video"]) >= 2, 10)
        camera = [t for t in op.tracks if t.kind == "video"][-1]
        frame = await asyncio.wait_for(camera.recv(), 10)
        for _ in range(5):  # the first frames of a stream may still be converging
            frame = await asyncio.wait_for(camera.recv(), 5)
        rgb = frame.to_ndarray(format="rgb24")
        assert rgb.shape[:2] == (240, 320)
        centre = rgb[120, 160].astype(int)
        assert np.abs(centre - np.array(BLUE)).max() <= 25, centre
        # the operator stops it: the camera is closed at once
        op.send("control", p.Release(capability="camera"))
        await until(lambda: feature.out.state == "off", 5)
        await until(lambda: "camera" not in op.states()[-1], 5)
    finally:
        await r.end()


async def test_without_consent_no_camera_is_opened(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(loopback_endpoint, display, allow=frozenset({"view"}), camera=SOURCE)
    op, session = r.operator, r.session
    feature = session.feature(CameraFeature)
    assert feature is not None
    try:
        op.send("control", p.ConsentRequest(capability="camera"))
        await until(
            lambda: any(m.capability == "camera" and not m.allowed for m in op.of(p.ConsentReply)),
            10,
        )
        await asyncio.sleep(0.5)
        assert feature.out.state == "off" and feature.opened == 0
        assert not session.has_track(feature.out) and not states(op)
    finally:
        await r.end()


async def test_a_camera_that_goes_away_mid_session_is_said_and_the_session_goes_on(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(
        loopback_endpoint,
        display,
        allow=frozenset({"view", "camera"}),
        camera="lavfi:color=c=0x2060e0:size=320x240:rate=15:duration=1.5",
    )
    op = r.operator
    try:
        op.send("control", p.ConsentRequest(capability="camera"))
        await until(lambda: "on" in states(op), 10)
        await until(lambda: "lost" in states(op), 10)
        assert any(line.startswith("camera: Your camera stopped") for line in r.ui.lines)
        assert "camera" in op.states()[-1]  # still allowed: picking a camera again resumes
        assert not r.run.done()
    finally:
        await r.end()


async def test_no_camera_there_is_said_not_raised(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(
        loopback_endpoint, display, allow=frozenset({"view", "camera"}), camera="/dev/video99"
    )
    op = r.operator
    try:
        op.send("control", p.ConsentRequest(capability="camera"))
        await until(lambda: "no_camera" in states(op), 10)
        assert any("No camera found" in line for line in r.ui.lines)
        assert not r.run.done()
    finally:
        await r.end()
