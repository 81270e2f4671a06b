"""The operator shows the customer their screen (``show_screen``): the real peer session, an
aiortc operator on loopback sending a picture of known colour blocks, the picture checked in
an X screenshot of the customer's display (Xvfb)."""

from __future__ import annotations

import asyncio
import fractions
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamTrack
from conftest import start_session, until
from sigclient import Endpoint
from xshow import close_window, shows_blocks, window_id_of, window_of
from xvfb import Block, ColourBlocks, virtual_display

from peer.features.show import ShowCameraFeature, ShowScreenFeature
from wire import protocol as p

#: The operator's picture: four blocks, left to right.
COLOURS = ((220, 40, 40), (40, 180, 60), (40, 80, 220), (240, 220, 40))
WIDTH, HEIGHT = 640, 360


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    grey = [Block(0, 0, 1024, 768, "#808080")]
    with virtual_display(1024, 768) as name, ColourBlocks(name, grey):
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer", "peer_display")


def picture() -> np.ndarray:
    img = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    for i, colour in enumerate(COLOURS):
        img[:, i * WIDTH // 4 : (i + 1) * WIDTH // 4] = colour
    return img


class Blocks(MediaStreamTrack):
    """The operator's screen: the four blocks at 15 frames a second."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.frame = av.VideoFrame.from_ndarray(picture(), format="rgb24").reformat(
            format="yuv420p"
        )
        self.pts = 0
        self.sent = 0

    async def recv(self) -> av.VideoFrame:
        await asyncio.sleep(1 / 15)
        frame = av.VideoFrame.from_ndarray(picture(), format="rgb24").reformat(format="yuv420p")
        frame.pts, self.pts = self.pts, self.pts + 6000
        frame.time_base = fractions.Fraction(1, 90000)
        self.sent += 1
        return frame


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0]
    return width, height


async def test_the_operator_shows_their_screen_and_the_customer_closes_the_window(
    loopback_endpoint: tuple[Endpoint, str], display: str, tmp_path: Path
) -> None:
    png = tmp_path / "operator.png"
    r = await start_session(
        loopback_endpoint,
        display,
        allow=frozenset({"view", "show_screen"}),
        show_operator_screen=png,
    )
    op, session = r.operator, r.session
    feature = session.feature(ShowScreenFeature)
    assert feature is not None and feature.window is None
    blocks = Blocks()
    op.show["show_screen"] = blocks
    try:
        op.send("control", p.ConsentRequest(capability="show_screen"))
        await until(lambda: any("show_screen" in g for g in op.states()), 10)
        # the consent came with a receiving m-line named in the next offer
        await until(lambda: blocks.sent > 0, 10)
        box: tuple[int, int, int, int] | None = None

        def seen() -> bool:
            nonlocal box
            box = window_of(display, "screen — SupportLink")
            return box is not None and shows_blocks(display, box, COLOURS)

        await until(seen, 15)
        assert feature.frames > 0
        await until(lambda: png.exists(), 5)
        assert png_size(png) == (WIDTH, HEIGHT)

        # the customer closes the window: the operator learns it, the window is gone
        xid = window_id_of(display, "screen — SupportLink")
        assert xid is not None
        close_window(display, xid)
        await until(lambda: not any("show_screen" in g for g in op.states()[-1:]), 10)
        assert feature.window is None
        await until(lambda: window_of(display, "screen — SupportLink") is None, 5)
        # and from now on nothing is shown: no window opens again
        await asyncio.sleep(0.5)
        assert feature.window is None and window_of(display, "screen — SupportLink") is None
    finally:
        await r.end()


async def test_without_the_customers_consent_nothing_is_received_or_shown(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(loopback_endpoint, display, allow=frozenset({"view"}))
    op, session = r.operator, r.session
    feature = session.feature(ShowScreenFeature)
    assert feature is not None
    op.show["show_screen"] = blocks = Blocks()
    try:
        op.send("control", p.ConsentRequest(capability="show_screen"))
        await until(
            lambda: any(
                m.capability == "show_screen" and not m.allowed for m in op.of(p.ConsentReply)
            ),
            10,
        )
        await asyncio.sleep(1.0)
        assert blocks.sent == 0 and feature.frames == 0 and feature.window is None
        assert all(m.show_screen_mid is None for m in op.offer_msgs)
        assert not session.has_track(feature.slot)
    finally:
        await r.end()


async def test_the_operator_stops_showing_and_the_window_closes(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(loopback_endpoint, display, allow=frozenset({"view", "show_screen"}))
    op, session = r.operator, r.session
    feature = session.feature(ShowScreenFeature)
    assert feature is not None
    op.show["show_screen"] = Blocks()
    try:
        op.send("control", p.ConsentRequest(capability="show_screen"))
        await until(lambda: feature.frames > 0, 15)
        assert window_of(display, "screen — SupportLink") is not None
        started = time.monotonic()
        op.send("control", p.Release(capability="show_screen"))
        await until(lambda: feature.window is None, 5)
        await until(lambda: window_of(display, "screen — SupportLink") is None, 5)
        assert time.monotonic() - started < 5
        # an offer names a receiving m-line for it while allowed, and none after
        assert any(m.show_screen_mid is not None for m in op.offer_msgs)
        await until(lambda: op.offer_msgs[-1].show_screen_mid is None, 10)
    finally:
        await r.end()


async def test_the_operators_camera_shows_in_a_window_of_its_own(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(loopback_endpoint, display, allow=frozenset({"view", "show_camera"}))
    op, session = r.operator, r.session
    feature = session.feature(ShowCameraFeature)
    assert feature is not None
    op.show["show_camera"] = Blocks()
    try:
        op.send("control", p.ConsentRequest(capability="show_camera"))

        def seen() -> bool:
            box = window_of(display, "camera — SupportLink")
            return box is not None and shows_blocks(display, box, COLOURS)

        await until(seen, 15)
        assert any(m.show_camera_mid is not None for m in op.offer_msgs)
        assert window_of(display, "screen — SupportLink") is None  # nothing of show_screen
        op.send("control", p.Release(capability="show_camera"))
        await until(lambda: window_of(display, "camera — SupportLink") is None, 5)
    finally:
        await r.end()
