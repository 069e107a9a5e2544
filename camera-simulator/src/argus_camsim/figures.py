"""Drawing scripted objects into a YUV 4:2:0 picture: a person, a vehicle, or a real
photograph of a person.

A person is a figure (head, shirt with sleeves, two legs) and a vehicle a car seen from
the side (body, cabin with two windows, two wheels): the parts leave background showing
between them, so neither is a plain rectangle like the ``--motion`` squares, and the two
classes differ in shape as well as in aspect ratio. Each drawing is made once per size
and colour (a small cache) as patches of Y, U and V with a mask, then copied in.

Photographs come from scikit-image's sample images (an optional dependency: the control
API refuses ``appearance: photo`` without it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from argus_camsim.objects import COLOURS, SceneObject

SKIN = (224, 172, 140)
TROUSERS = (45, 45, 70)
GLASS = (150, 185, 205)
TYRE = (20, 20, 20)
# name -> (scikit-image loader, crop (x0, y0, x1, y1) as fractions of the image)
PHOTOS: dict[str, tuple[str, tuple[float, float, float, float]]] = {
    "astronaut": ("astronaut", (0.0, 0.0, 0.75, 1.0)),
}


@dataclass(frozen=True)
class Patch:
    """An object's drawing: planes and masks (luma size ``h x w``; chroma half)."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    mask: np.ndarray
    cmask: np.ndarray


def _paint(rgb: np.ndarray, mask: np.ndarray) -> Patch:
    """A patch from an ``(h, w, 3)`` RGB drawing and its mask (h, w even)."""
    f = rgb.astype(np.float32) / 255.0
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    # Chroma: the mean of each 2x2 block.
    h, w = mask.shape

    def half(p: np.ndarray) -> np.ndarray:
        return np.asarray(p.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)))

    return Patch(
        np.clip(y, 0, 255).astype(np.uint8),
        np.clip(half(u), 0, 255).astype(np.uint8),
        np.clip(half(v), 0, 255).astype(np.uint8),
        mask, mask[::2, ::2].copy(),
    )


def _ellipse(h: int, w: int, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.asarray(((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1.0)


def _rect(h: int, w: int, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    m[int(y0 * h) : max(int(y0 * h) + 1, int(y1 * h)),
      int(x0 * w) : max(int(x0 * w) + 1, int(x1 * w))] = True
    return m


@functools.lru_cache(maxsize=256)
def person_patch(w: int, h: int, color: str) -> Patch:
    """A standing person, ``w`` x ``h`` pixels, in a shirt of ``color``."""
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), dtype=bool)
    parts = [
        (_ellipse(h, w, w / 2, 0.1 * h, max(1.0, 0.2 * w), 0.09 * h), SKIN),
        (_rect(h, w, 0.12, 0.2, 0.88, 0.58), COLOURS[color]),  # shirt and sleeves
        (_rect(h, w, 0.0, 0.22, 0.12, 0.52), SKIN),  # arms
        (_rect(h, w, 0.88, 0.22, 1.0, 0.52), SKIN),
        (_rect(h, w, 0.18, 0.58, 0.46, 1.0), TROUSERS),  # legs
        (_rect(h, w, 0.54, 0.58, 0.82, 1.0), TROUSERS),
    ]
    for part, colour in parts:
        rgb[part] = colour
        mask |= part
    return _paint(rgb, mask)


@functools.lru_cache(maxsize=256)
def vehicle_patch(w: int, h: int, color: str) -> Patch:
    """A car seen from the side, ``w`` x ``h`` pixels, painted ``color``."""
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), dtype=bool)
    body = COLOURS[color]
    parts = [
        (_rect(h, w, 0.2, 0.04, 0.76, 0.42), body),  # cabin
        (_rect(h, w, 0.25, 0.12, 0.46, 0.38), GLASS),  # windows
        (_rect(h, w, 0.51, 0.12, 0.71, 0.38), GLASS),
        (_rect(h, w, 0.0, 0.4, 1.0, 0.8), body),
        (_rect(h, w, 0.95, 0.48, 1.0, 0.58), (250, 240, 150)),  # head light
        (_ellipse(h, w, 0.22 * w, 0.8 * h, 0.1 * w, 0.2 * h), TYRE),
        (_ellipse(h, w, 0.78 * w, 0.8 * h, 0.1 * w, 0.2 * h), TYRE),
    ]
    for part, colour in parts:
        rgb[part] = colour
        mask |= part
    return _paint(rgb, mask)


@functools.lru_cache(maxsize=4)
def photo_rgb(name: str) -> np.ndarray:
    """The crop of a sample photograph (RGB). Needs scikit-image."""
    try:
        import skimage.data
    except ImportError as exc:  # an optional dependency
        raise LookupError("photographs need scikit-image (pip install scikit-image)") from exc
    if name not in PHOTOS:
        raise LookupError(f"no photograph {name!r}; known: {', '.join(sorted(PHOTOS))}")
    loader, (x0, y0, x1, y1) = PHOTOS[name]
    img = np.asarray(getattr(skimage.data, loader)())
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    ih, iw = img.shape[:2]
    return np.ascontiguousarray(img[int(y0 * ih) : int(y1 * ih), int(x0 * iw) : int(x1 * iw), :3])


@functools.lru_cache(maxsize=64)
def photo_patch(w: int, h: int, name: str) -> Patch:
    """The photograph ``name`` scaled to ``w`` x ``h`` (area average, then nearest)."""
    src = photo_rgb(name).astype(np.float32)
    sh, sw = src.shape[:2]
    # Average blocks first when shrinking a lot (less aliasing), then pick pixels.
    k = max(1, min(sh // h, sw // w))
    if k > 1:
        src = src[: sh // k * k, : sw // k * k].reshape(sh // k, k, sw // k, k, 3).mean((1, 3))
        sh, sw = src.shape[:2]
    ys = np.minimum(((np.arange(h) + 0.5) * sh / h).astype(np.intp), sh - 1)
    xs = np.minimum(((np.arange(w) + 0.5) * sw / w).astype(np.intp), sw - 1)
    rgb = src[ys][:, xs].astype(np.uint8)
    return _paint(rgb, np.ones((h, w), dtype=bool))


def patch_of(obj: SceneObject, w: int, h: int) -> Patch:
    """The drawing of ``obj`` at ``w`` x ``h`` pixels."""
    if obj.appearance == "photo" and obj.photo:
        return photo_patch(w, h, obj.photo)
    if obj.label == "vehicle":
        return vehicle_patch(w, h, obj.color)
    return person_patch(w, h, obj.color)


def draw_objects(
    objects: list[SceneObject], y: np.ndarray, u: np.ndarray, v: np.ndarray,
    width: int, height: int, t_ms: int,
) -> None:
    """Draw every object visible at ``t_ms``, in order (later ones in front)."""
    for obj in objects:
        rect = obj.rect_px(t_ms, width, height)
        if rect is None:
            continue
        x0, y0, w, h = rect
        # The visible part of the patch (even offsets keep chroma aligned).
        px0, py0 = max(0, -x0), max(0, -y0)
        px1, py1 = min(w, width - x0), min(h, height - y0)
        if px1 - px0 < 2 or py1 - py0 < 2:
            continue
        p = patch_of(obj, w, h)
        m = p.mask[py0:py1, px0:px1]
        dst = y[y0 + py0 : y0 + py1, x0 + px0 : x0 + px1]
        dst[m] = p.y[py0:py1, px0:px1][m]
        c0x, c0y, c1x, c1y = px0 // 2, py0 // 2, px1 // 2, py1 // 2
        cm = p.cmask[c0y:c1y, c0x:c1x]
        for plane, src in ((u, p.u), (v, p.v)):
            cdst = plane[(y0 // 2) + c0y : (y0 // 2) + c1y, (x0 // 2) + c0x : (x0 // 2) + c1x]
            cdst[cm] = src[c0y:c1y, c0x:c1x][cm]

