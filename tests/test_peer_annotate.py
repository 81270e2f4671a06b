"""Drawing on the customer's screen through a whole session: the real server, a real
``PeerSession`` and a real aiortc operator on loopback, Xvfb as the customer's screen. What is
checked is the screen itself (mss reads X), not the video."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import mss
import numpy as np
import pytest
from conftest import start_session, until
from sigclient import Endpoint
from xvfb import Block, ColourBlocks, virtual_display

from peer.features.annotate import AnnotateFeature
from wire import protocol as p

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")

RED = (229, 50, 45)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display(800, 600) as name, ColourBlocks(name, [Block(0, 0, 800, 600, "#808080")]):
        yield name


pytestmark = pytest.mark.usefixtures("loopback_peer", "peer_display")


def red_pixels(display: str) -> int:
    with mss.MSS(display=display) as grabber:
        shot = grabber.grab(grabber.monitors[0])
    img = np.frombuffer(shot.rgb, dtype=np.uint8).reshape(shot.height, shot.width, 3).astype(int)
    near = [abs(img[..., i] - RED[i]) < 40 for i in range(3)]
    return int(np.count_nonzero(near[0] & near[1] & near[2]))


def circle(stroke_id: int = 1, r: float = 0.2) -> p.Stroke:
    return p.Stroke(
        id=stroke_id,
        tool="ellipse",
        color="#e5322d",
        width=10,
        fade=False,
        points=(0.5 - r, 0.5 - r, 0.5 + r, 0.5 + r),
        done=True,
    )


async def test_strokes_show_only_while_allowed_and_go_when_taken_away(
    loopback_endpoint: tuple[Endpoint, str], display: str
) -> None:
    r = await start_session(loopback_endpoint, display, headless=False)
    op, session, ui = r.operator, r.session, r.ui
    feature = session.feature(AnnotateFeature)
    assert feature is not None
    await until(lambda: "annotate" in op.channels)
    # not allowed: dropped by the session, nothing drawn
    op.send("annotate", circle())
    await asyncio.sleep(0.5)
    assert red_pixels(display) == 0 and not feature.board.strokes

    op.send("control", p.ConsentRequest(capability="annotate"))
    await until(lambda: ("annotate", "alice") in ui.asked)
    session.answer("annotate", True)
    await until(lambda: "annotate" in op.states()[-1])
    op.send("annotate", circle())
    await until(lambda: red_pixels(display) > 1000)
    # hostile input: frames that do not parse, an unknown tool, a shape of one point, points
    # past the limit -- dropped, the circle still there, the session fine
    channel = op.channels["annotate"]
    for frame in (
        '{"type":"stroke","id":2,"tool":"spray","color":"#ff0000","width":3,"fade":false,'
        '"points":[],"done":true}',
        '{"type":"stroke","id":2,"tool":"pen","color":"#ff0000","width":3,"fade":false,'
        '"points":[NaN,0],"done":true}',
        "not json",
        '{"type":"laser","x":1e400,"y":0,"shown":true}',
    ):
        channel.send(frame)
    op.send("annotate", p.Stroke(id=3, tool="rect", color="#00ff00", width=3, fade=False,
                                  points=(0.1, 0.1), done=False))  # fmt: skip
    for i in range(20):  # 20 x 256 points: more than a stroke holds
        op.send("annotate", p.Stroke(id=4, tool="pen", color="#0000ff", width=2, fade=False,
                                      points=(0.1, 0.9) * 256, done=i == 19))  # fmt: skip
    await until(lambda: feature.board.dropped["too_many_points"] > 0)
    assert feature.board.dropped["shape_needs_two_points"] == 1
    assert red_pixels(display) > 1000

    # the customer clears: gone from the screen, and the console is told
    session.feature_input("annotate", "clear", "")
    await until(lambda: red_pixels(display) == 0)
    await until(lambda: any(isinstance(m, p.StrokesClear) for m in op.received["annotate"]))

    # drawn again, then the customer switches drawing off: gone at once, later strokes dropped
    op.send("annotate", circle(5))
    await until(lambda: red_pixels(display) > 1000)
    session.revoke("annotate")
    await until(lambda: red_pixels(display) == 0)
    op.send("annotate", circle(6))
    await asyncio.sleep(0.5)
    assert red_pixels(display) == 0
    await r.end()
    assert any(line.startswith("annotate: ") for line in ui.lines)
