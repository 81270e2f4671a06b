"""The x11vnc + websockify + noVNC pipeline of ``bench/latency.py``, on the rig's screen.

x11vnc polls the rig's Xvfb and serves RFB on the namespace's loopback only; websockify
bridges it to a WebSocket on the namespace's address (where the browser reaches it, as it
reaches the customer peer) and serves ``latency_novnc.html`` with noVNC's modules from
/usr/share/novnc (Debian packages x11vnc, websockify, novnc).

x11vnc is run as a support desk would tune it for the lowest latency:

* ``-wait 5 -defer 5``: poll the screen every 5 ms and send an update 5 ms after a change
  (defaults 20 and 20: up to 40 ms before a change even leaves);
* DAMAGE kept on (the default; Xvfb has the extension): it points the poller at small changed
  areas sooner and keeps an idle screen cheap, where ``-noxdamage`` only polls scanlines;
* ``-threads``: libvncserver's per-client output thread, so encoding and sending a large
  update do not hold up the next screen poll;
* ``-nonap -nowait_bog``: no longer naps when the screen is quiet, and no backing off for up to
  1.5 s when polling "bogs down" (the heavy scroll would trigger it);
* ``-shared -forever -nopw -localhost -noipv6``: several viewers, stay up, no password (the
  namespace is the run's own), RFB on 127.0.0.1 only.

noVNC itself runs with its own defaults (Tight, JPEG quality 6, compression level 2).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from rig import Rig

from tests.e2e.procs import Proc
from tests.e2e.services import wait_http

BENCH = Path(__file__).resolve().parent
NOVNC_DIR = Path("/usr/share/novnc")
VNC_PORT = 5901
WS_PORT = 6080
PAGE = "latency_novnc.html"
X11VNC_OPTIONS = (
    "-wait", "5", "-defer", "5", "-threads", "-nonap", "-nowait_bog",
    "-shared", "-forever", "-nopw", "-localhost", "-noipv6",
)  # fmt: skip


def missing() -> str | None:
    """What the pipeline needs and this machine lacks, or None."""
    if shutil.which("x11vnc") is None or shutil.which("websockify") is None:
        return "x11vnc and websockify (apt-get install x11vnc websockify)"
    if not (NOVNC_DIR / "core" / "rfb.js").exists():
        return f"noVNC under {NOVNC_DIR} (apt-get install novnc)"
    return None


@dataclass
class NoVNC:
    x11vnc: Proc
    websockify: Proc
    url: str  # the page, as the browser in the namespace opens it


def web_dir(work: Path) -> Path:
    """A directory for websockify's --web: the page, and links to noVNC's modules."""
    web = work / "novnc-web"
    web.mkdir(exist_ok=True)
    for name in ("core", "vendor"):
        link = web / name
        if not link.exists():
            link.symlink_to(NOVNC_DIR / name)
    shutil.copyfile(BENCH / PAGE, web / PAGE)
    return web


def start(r: Rig, name: str = "novnc") -> NoVNC:
    """x11vnc on the rig's display and websockify in front of it, both answering."""
    x11vnc = r.start(
        f"{name}-x11vnc",
        ["x11vnc", "-display", r.screen.display, "-rfbport", str(VNC_PORT), *X11VNC_OPTIONS],
    )
    x11vnc.wait_for_line(rf"^PORT={VNC_PORT}", timeout=20)
    host = r.ns.addr_a
    websockify = r.start(
        f"{name}-websockify",
        [
            "websockify",
            "--web",
            str(web_dir(r.work)),
            f"{host}:{WS_PORT}",
            f"127.0.0.1:{VNC_PORT}",
        ],
    )
    url = f"http://{host}:{WS_PORT}/{PAGE}"
    wait_http(r.ns, url)
    return NoVNC(x11vnc, websockify, url)


def stop(novnc: NoVNC) -> None:
    novnc.websockify.stop()
    novnc.x11vnc.stop()
