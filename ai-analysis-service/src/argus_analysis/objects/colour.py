"""The dominant colour of an object's box, as a name to search by.

The middle of the box (half its width, from 20 % to 70 % of its height: a person's
torso, a car's body) is classified pixel by pixel into a small set of names by hue,
saturation and value (OpenCV HSV, hue 0..180); the most frequent name wins.
"""

from __future__ import annotations

import cv2
import numpy as np

NAMES = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "white",
         "grey", "black")
# Upper hue bounds (OpenCV: 0..180) of the saturated colours, in order.
_HUES = ((8, "red"), (20, "orange"), (34, "yellow"), (85, "green"), (130, "blue"),
         (148, "purple"), (168, "pink"), (181, "red"))


def _hue_names() -> np.ndarray:
    """The name index of every 8-bit hue (0..255; OpenCV uses 0..179) when saturated."""
    out = np.full(256, NAMES.index("grey"), np.uint8)
    low = 0
    for high, name in _HUES:
        out[low:high] = NAMES.index(name)
        low = high
    return out


_HUE_NAMES = _hue_names()
_ORANGE, _BROWN, _GREY, _WHITE, _BLACK = (NAMES.index(n) for n in
                                          ("orange", "brown", "grey", "white", "black"))


def _names(hsv: np.ndarray) -> np.ndarray:
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    out: np.ndarray = _HUE_NAMES[h]  # one table look-up instead of a comparison per hue range
    out[(out == _ORANGE) & (v < 150)] = _BROWN
    grey = s < 45
    out[grey] = _GREY
    out[grey & (v >= 190)] = _WHITE
    out[v < 50] = _BLACK
    return out


def dominant_colour(image: np.ndarray, box: tuple[int, int, int, int]) -> str | None:
    """The colour name of ``box`` (pixels ``x, y, w, h``) in a BGR image; None when the
    box is too small to say."""
    x, y, w, h = box
    x0, x1 = x + w // 4, x + w - w // 4
    y0, y1 = y + h // 5, y + (h * 7) // 10
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(image.shape[1], x1), min(image.shape[0], y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_BGR2HSV)
    counts = np.bincount(_names(hsv).reshape(-1), minlength=len(NAMES))
    return NAMES[int(counts.argmax())]
