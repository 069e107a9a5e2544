"""The large synthetic panorama a virtual PTZ camera looks at.

Generated once per camera (deterministic per seed) in YUV 4:2:0: a sky, a skyline of
buildings with windows, a road, and numbered posts every few hundred pixels, so any pan,
tilt or zoom visibly changes the picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from argus_camsim.font import draw_text

PANORAMA_W = 3840
PANORAMA_H = 1440


@dataclass(frozen=True)
class Panorama:
    """Luma plane and half-resolution chroma planes of the panorama."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.y.shape[0])


def _fill(p: Panorama, x: int, y: int, w: int, h: int, yuv: tuple[int, int, int]) -> None:
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(p.width, x + w), min(p.height, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    p.y[y0:y1, x0:x1] = yuv[0]
    p.u[y0 // 2 : (y1 + 1) // 2, x0 // 2 : (x1 + 1) // 2] = yuv[1]
    p.v[y0 // 2 : (y1 + 1) // 2, x0 // 2 : (x1 + 1) // 2] = yuv[2]


def make_panorama(seed: int, width: int = PANORAMA_W, height: int = PANORAMA_H) -> Panorama:
    """Build the panorama for a camera; the same seed always gives the same picture."""
    rng = np.random.default_rng(seed)
    p = Panorama(
        y=np.empty((height, width), dtype=np.uint8),
        u=np.empty((height // 2, width // 2), dtype=np.uint8),
        v=np.empty((height // 2, width // 2), dtype=np.uint8),
    )
    horizon = int(height * 0.55)
    # Sky: a vertical gradient, bluish; ground: darker, greenish grey.
    sky = np.linspace(205, 150, horizon).astype(np.uint8)
    p.y[:horizon] = sky[:, None]
    p.y[horizon:] = np.linspace(110, 70, height - horizon).astype(np.uint8)[:, None]
    p.u[: horizon // 2] = 150
    p.v[: horizon // 2] = 112
    p.u[horizon // 2 :] = 115
    p.v[horizon // 2 :] = 122

    # Skyline: buildings standing on the horizon, each with a grid of windows.
    x = 0
    while x < width:
        bw = int(rng.integers(120, 340))
        bh = int(rng.integers(180, int(horizon * 0.9)))
        luma = int(rng.integers(45, 190))
        tint = (int(rng.integers(100, 156)), int(rng.integers(100, 156)))
        _fill(p, x, horizon - bh, bw, bh, (luma, *tint))
        win = 24
        lit = 230 if luma < 120 else 40
        for wy in range(horizon - bh + 20, horizon - 40, win * 2):
            for wx in range(x + 16, x + bw - win, win * 2):
                if rng.random() < 0.6:
                    _fill(p, wx, wy, win, win, (lit, 128, 128))
        x += bw + int(rng.integers(10, 60))

    # Road with a dashed centre line.
    road_y = horizon + int((height - horizon) * 0.45)
    _fill(p, 0, road_y, width, 220, (50, 128, 128))
    for dx in range(0, width, 160):
        _fill(p, dx, road_y + 100, 90, 16, (220, 128, 128))

    # Numbered posts: the number under the view tells where the camera points.
    for k, px in enumerate(range(120, width, 480)):
        _fill(p, px, horizon - 40, 24, road_y - horizon + 40, (230, 128, 128))
        draw_text(p.y, px - 60, horizon + 60, f"{k:02d}", scale=12, ink=240, background=30)
    return p
