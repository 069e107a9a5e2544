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


def _names(hsv: np.ndarray) -> np.ndarray:
    h, s, v = (hsv[..., i].astype(np.int16) for i in range(3))
    out = np.full(h.shape, NAMES.index("grey"), np.int8)
    low = 0
    for high, name in _HUES:
        out[(h >= low) & (h < high)] = NAMES.index(name)
        low = high
    out[(out == NAMES.index("orange")) & (v < 150)] = NAMES.index("brown")
    grey = s < 45
    out[grey] = NAMES.index("grey")
    out[grey & (v >= 190)] = NAMES.index("white")
    out[v < 50] = NAMES.index("black")
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
