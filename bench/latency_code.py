"""The frame counter drawn on the customer's screen for ``bench/latency.py``: layout and bits.

A row of square blocks in a grey band across the top of the screen:

    [white marker] [black marker] [16 counter bits, MSB first] [8 CRC-8 bits]

White is 1, black is 0. The markers give the reader its black and white levels; the CRC-8
(polynomial 0x07) over the counter's two bytes rejects frames whose blocks were half updated
or smeared by the encoder. 40-pixel blocks survive VP8 at any bitrate the benchmark uses.
The page-side reader (``latency_probe.js``) mirrors ``decode``; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence

SCREEN_W = 1920
SCREEN_H = 1080
BAND_H = 64  # grey band at the top that only the counter is drawn in
BLOCK = 40  # block side, pixels
X0 = 40  # left edge of the first block
Y0 = 12  # top edge of the blocks
DATA_BITS = 16
CHECK_BITS = 8
BLOCKS = 2 + DATA_BITS + CHECK_BITS
BAND_RGB = 0x404040
WHITE = 0xFFFFFF
BLACK = 0x000000
MODULO = 1 << DATA_BITS
# Text fidelity: every SAMPLE_EVERY-th counter value the screen client keeps the luma of this
# region (x, y, width, height) as drawn, and the pages copy it out of the frame that shows it.
TEXT_REGION = (100, 530, 384, 120)
SAMPLE_EVERY = 15


def luma(bgrx: bytes, width: int, height: int) -> bytes:
    """BT.601 luma, rounded, of 32-bit BGRX pixels (as XGetImage gives them on a depth-24
    screen); the pages compute it the same way from RGBA."""
    import numpy as np

    pixels = np.frombuffer(bgrx, np.uint8)[: width * height * 4].reshape(height, width, 4)
    y = 0.299 * pixels[..., 2] + 0.587 * pixels[..., 1] + 0.114 * pixels[..., 0]
    return bytes(np.rint(y).astype(np.uint8))


def psnr(a: bytes, b: bytes) -> float:
    """PSNR in dB of two luma planes of the same size; 99 when they are identical."""
    import numpy as np

    x = np.frombuffer(a, np.uint8).astype(np.float64)
    y = np.frombuffer(b, np.uint8).astype(np.float64)
    mse = float(np.mean((x - y) ** 2))
    return 99.0 if mse == 0 else min(99.0, 10 * float(np.log10(255**2 / mse)))


def crc8(value: int) -> int:
    crc = 0
    for byte in ((value >> 8) & 0xFF, value & 0xFF):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def bits(value: int) -> list[int]:
    """The block colours (1 white, 0 black), left to right, for ``value``."""
    value %= MODULO
    data = [(value >> (DATA_BITS - 1 - i)) & 1 for i in range(DATA_BITS)]
    check = crc8(value)
    return [1, 0, *data, *[(check >> (CHECK_BITS - 1 - i)) & 1 for i in range(CHECK_BITS)]]


def block_rect(index: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) of block ``index`` on the screen."""
    return (X0 + index * BLOCK, Y0, BLOCK, BLOCK)


def decode(levels: Sequence[float]) -> int | None:
    """The counter from the mean brightness (0..255) of each block, or None if it fails."""
    if len(levels) != BLOCKS:
        return None
    white, black = levels[0], levels[1]
    if white - black < 80:
        return None
    middle = (white + black) / 2
    got = [1 if level > middle else 0 for level in levels]
    value = 0
    for bit in got[2 : 2 + DATA_BITS]:
        value = (value << 1) | bit
    check = 0
    for bit in got[2 + DATA_BITS :]:
        check = (check << 1) | bit
    return value if check == crc8(value) else None
