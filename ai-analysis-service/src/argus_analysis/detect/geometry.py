"""Zones and masks: normalized polygons rasterised onto the analysed picture, and the
bounding boxes of changed regions normalized back.

A pixel is watched when it lies inside a zone (or there are no zones) and inside no mask.
Polygons use the picture's normalized coordinates: (0, 0) top-left, (1, 1) bottom-right.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Polygon = tuple[tuple[float, float], ...]


def to_polygons(raw: Sequence[Sequence[Sequence[float]]]) -> tuple[Polygon, ...]:
    """Settings (lists of ``[x, y]``) to hashable polygons; points clamped to [0, 1]."""
    out = []
    for poly in raw:
        points = tuple(
            (min(max(float(p[0]), 0.0), 1.0), min(max(float(p[1]), 0.0), 1.0)) for p in poly
        )
        if len(points) >= 3:
            out.append(points)
    return tuple(out)


def _pixels(poly: Polygon, width: int, height: int) -> np.ndarray:
    # Corner coordinates: x=1.0 is the right edge of the last column, so it maps to
    # width - 1 for fillPoly, which includes the polygon's boundary pixels.
    pts = [(round(x * width - 0.5), round(y * height - 0.5)) for x, y in poly]
    arr = np.array(pts, dtype=np.int32)
    arr[:, 0] = np.clip(arr[:, 0], 0, width - 1)
    arr[:, 1] = np.clip(arr[:, 1], 0, height - 1)
    return arr


def rasterise(polys: Sequence[Polygon], width: int, height: int) -> np.ndarray:
    """A ``(height, width)`` uint8 image: 255 inside any of ``polys``, 0 elsewhere."""
    img = np.zeros((height, width), dtype=np.uint8)
    if polys:
        cv2.fillPoly(img, [_pixels(p, width, height) for p in polys], 255)
    return img


def active_mask(
    width: int, height: int, zones: Sequence[Polygon], masks: Sequence[Polygon]
) -> np.ndarray:
    """Watched pixels (255) of a ``width`` x ``height`` picture: in a zone (every pixel when
    there are no zones) and in no mask."""
    watched = rasterise(zones, width, height) if zones else np.full(
        (height, width), 255, dtype=np.uint8
    )
    if masks:
        watched[rasterise(masks, width, height) > 0] = 0
    return watched


def normalized_box(
    x: int, y: int, w: int, h: int, width: int, height: int
) -> tuple[float, float, float, float]:
    """A pixel rectangle as normalized ``(x, y, w, h)``, rounded to 4 decimals."""
    return (
        round(x / width, 4), round(y / height, 4), round(w / width, 4), round(h / height, 4)
    )
