"""Machine-readable wall-clock stamp burnt into every frame of the live source.

64 bits are drawn as a 32x2 grid of black/white square blocks at a fixed place near the
top-left corner: 48 bits of Unix epoch milliseconds followed by a CRC-16 of those 6 bytes,
most significant bit first, left to right, top row first. Blocks are at least 8 px (16 px
from 720p, 24 px at 1080p) and aligned to the 8x8 transform grid, so each block is almost
pure DC for the H.264 transform and survives heavy quantisation.

The layout depends only on the frame size, so a reader that knows the width and height of
a decoded frame finds the stamp without any other information::

    from argus_camsim.stamp import read_timestamp_ms
    y = frame.to_ndarray(format="gray")          # PyAV VideoFrame
    ms = read_timestamp_ms(y, frame.width, frame.height)   # int, or None if unreadable

Everything the simulator draws over the scene (stamp, clock, camera name) stays inside
:data:`OVERLAY_RECT_NORM`; motion detectors should mask that rectangle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLS = 32
ROWS = 2
BITS = COLS * ROWS
MS_BITS = 48
BLACK = 16
WHITE = 235

# (x, y, width, height) in normalized frame coordinates: the top quarter of the frame.
OVERLAY_RECT_NORM: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 0.25)


@dataclass(frozen=True)
class StampLayout:
    """Pixel position of the stamp grid in a frame of a given size."""

    block: int
    x0: int
    y0: int

    @property
    def width(self) -> int:
        """Width of the whole grid in pixels."""
        return COLS * self.block

    @property
    def height(self) -> int:
        """Height of the whole grid in pixels."""
        return ROWS * self.block

    @property
    def bottom(self) -> int:
        """First pixel row below the grid."""
        return self.y0 + self.height


def stamp_layout(width: int, height: int) -> StampLayout:
    """Where the stamp sits in a ``width`` x ``height`` frame."""
    block = 8 * max(1, height // 360)
    # Narrow frames get smaller blocks so the grid (plus margins) still fits.
    while block > 4 and (COLS + 2) * block > width:
        block -= 4
    margin = max(8, (block + 7) // 8 * 8)
    return StampLayout(block=block, x0=margin, y0=margin)


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _bits_for(ms: int) -> np.ndarray:
    ms &= (1 << MS_BITS) - 1
    word = (ms << 16) | crc16(ms.to_bytes(6, "big"))
    bits = [(word >> (BITS - 1 - i)) & 1 for i in range(BITS)]
    return np.array(bits, dtype=np.uint8).reshape(ROWS, COLS)


def draw_stamp(y_plane: np.ndarray, ms: int, layout: StampLayout) -> None:
    """Draw the stamp for epoch-ms ``ms`` into a luma plane, in place."""
    bits = _bits_for(ms)
    values = np.where(bits == 1, WHITE, BLACK).astype(np.uint8)
    b = layout.block
    grid = np.repeat(np.repeat(values, b, axis=0), b, axis=1)
    y_plane[layout.y0 : layout.bottom, layout.x0 : layout.x0 + layout.width] = grid


def read_timestamp_ms(y_plane: np.ndarray, width: int, height: int) -> int | None:
    """Decode the burnt-in wall-clock time (epoch ms) from a luma plane.

    ``y_plane`` is the 2-D uint8 luma (Y) plane of a decoded frame (extra padding columns
    are ignored); ``width``/``height`` are the frame's picture size. Returns None when the
    frame carries no valid stamp (checksum mismatch).
    """
    layout = stamp_layout(width, height)
    b = layout.block
    if y_plane.ndim != 2 or y_plane.shape[0] < layout.bottom:
        return None
    if y_plane.shape[1] < layout.x0 + layout.width:
        return None
    region = y_plane[layout.y0 : layout.bottom, layout.x0 : layout.x0 + layout.width]
    cells = region.reshape(ROWS, b, COLS, b).astype(np.float32)
    # Sample the inner half of each block: edges ring after compression, centres do not.
    lo, hi = b // 4, b - b // 4
    means = cells[:, lo:hi, :, lo:hi].mean(axis=(1, 3))
    bits = (means > (BLACK + WHITE) / 2).reshape(-1)
    word = 0
    for bit in bits:
        word = (word << 1) | int(bit)
    ms, check = word >> 16, word & 0xFFFF
    if crc16(ms.to_bytes(6, "big")) != check:
        return None
    return ms
