"""Where object detection looks: regions of the picture around the motion boxes.

A motion box (from the motion detector) is grown by a margin, made at least a minimum
size (a detector needs some context around a small change: a walking person's motion box
may be only the legs), clipped to the picture; regions that mostly overlap are merged
(merging any overlap would make large regions, where a detector with a small input sees
small objects; duplicates across overlapping regions go in the engine's NMS). Many
regions, or regions covering most of the picture, become the whole picture. Each region is then
letterboxed to the detector's input size. The training script of the test model
(``models/train_sim_detector.py``) cuts its training crops with the same functions, so
the model sees at run time what it saw while learning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

NormBox = tuple[float, float, float, float]  # x, y, w, h in [0, 1]
Rect = tuple[int, int, int, int]  # x, y, w, h in pixels

MARGIN = 0.3  # grown by this share of the box's larger side, on every side
MIN_SIDE = 0.4  # of the picture height: the smallest region
MAX_REGIONS = 8
WHOLE_PICTURE = 0.8  # regions adding up to more than this share: the whole picture instead
MERGE_OVERLAP = 0.5  # merged when their intersection covers this share of the smaller
PAD_VALUE = 114  # letterbox border (YOLO's grey)


def _grow(box: NormBox, width: int, height: int, margin: float, min_side: float) -> Rect:
    x, y, w, h = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    m = margin * max(w, h)
    side = min_side * height
    cx, cy = x + w / 2, y + h / 2
    gw, gh = max(w + 2 * m, side), max(h + 2 * m, side)
    x0, y0 = max(0, int(cx - gw / 2)), max(0, int(cy - gh / 2))
    x1, y1 = min(width, math.ceil(cx + gw / 2)), min(height, math.ceil(cy + gh / 2))
    return x0, y0, x1 - x0, y1 - y0


def _overlap(a: Rect, b: Rect) -> bool:
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return False
    return ix * iy >= MERGE_OVERLAP * min(a[2] * a[3], b[2] * b[3])


def _union(a: Rect, b: Rect) -> Rect:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def plan_regions(
    boxes: Sequence[NormBox], width: int, height: int, *, margin: float = MARGIN,
    min_side: float = MIN_SIDE, max_regions: int = MAX_REGIONS,
) -> list[Rect]:
    """The pixel regions of a ``width`` x ``height`` picture to run detection on."""
    rects = [_grow(b, width, height, margin, min_side) for b in boxes]
    rects = [r for r in rects if r[2] > 1 and r[3] > 1]
    # Merge the first overlapping pair (in row order) until none is left. After a merge
    # into ``rects[i]`` only the pairs with it can have changed: rows before ``i`` are
    # checked against it alone, then the scan goes on from row ``i`` (the same merges as
    # rescanning every pair from the start, without the cubic cost).
    i = 0
    while i < len(rects):  # each merge removes a rectangle: bounded by len(rects) merges
        j = next((j for j in range(i + 1, len(rects)) if _overlap(rects[i], rects[j])), 0)
        if not j:
            i += 1
            continue
        rects[i] = _union(rects[i], rects.pop(j))
        back = next((k for k in range(i) if _overlap(rects[k], rects[i])), None)
        while back is not None:  # an earlier row now overlaps the grown one: merge there
            rects[back] = _union(rects[back], rects.pop(i))
            i = back
            back = next((k for k in range(i) if _overlap(rects[k], rects[i])), None)
    if not rects:
        return []
    area = sum(r[2] * r[3] for r in rects)
    if len(rects) > max_regions or area > WHOLE_PICTURE * width * height:
        return [(0, 0, width, height)]
    return rects


def letterbox_geometry(w: int, h: int, size: tuple[int, int]) -> tuple[float, int, int]:
    """``(scale, pad_x, pad_y)`` that fit a ``w`` x ``h`` image into ``size`` (width,
    height), centred, keeping its aspect ratio."""
    tw, th = size
    scale = min(tw / w, th / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    return scale, (tw - nw) // 2, (th - nh) // 2
