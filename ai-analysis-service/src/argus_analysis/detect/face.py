"""``opencv-face``: faces (label ``face``) with the Viola-Jones Haar cascade that ships
inside opencv-python 4.x (``cv2.data.haarcascades``; OpenCV 5 moved the cascades out, hence
the ``<5`` pin). Detection only, no identification. No model file, no download.

It finds frontal faces of at least ``MIN_FACE`` pixels; regions are enlarged to at least
``MIN_HEIGHT`` pixels high so that the faces of a sub-stream's people grow past that, and
never beyond ``MAX_SIDE`` (cost grows with the pixels). No histogram equalisation: on
regions with much flat background it hid faces (scikit-image's astronaut, 180-230 px, on
16 padded backgrounds: found 8 of 16 with it, 16 of 16 without). A face is kept when
``MIN_NEIGHBORS`` overlapping windows agree; its score is the cascade's last stage weight
squashed to 0..1 (``1 - exp(-w / 2)``: w 1.4 -> 0.5, w 3.4 -> 0.82; a false face on her
suit scored 0.38-0.45). One region at a time; OpenCV releases the GIL.

Skin check: the cascade also answers, with the scores of real faces (0.72-0.90), on two dark
windows above a light post (the camera simulator's cameras 2 and 16 at 320x180 to 1280x720),
a weakness of the Haar features on flat geometric patterns that no score or size threshold
separates. In a colour picture a face is kept only when at least ``MIN_SKIN`` of its box's
centre (the middle half each way: cheeks, nose) is skin-coloured (YCrCb: Cr 133-173, Cb
77-127, Chai and Ngan; the range holds across skin tones, which differ mostly in luma).

Second look in pictures without colour: a region with almost no colour (infrared,
monochrome: mean |Cr-128|+|Cb-128| under ``MIN_CHROMA``; an IR camera's stream has neutral
chroma, so the analyser's BGR frame has three equal channels) cannot be judged by colour.
There a face is kept only when OpenCV's other frontal cascade
(``haarcascade_frontalface_alt2.xml``, Lienhart's tree-stage cascade, trained apart from the
default one) also finds a face in it: the box with a quarter of its width around it,
scaled to ``CONFIRM_SIDE`` pixels wide, a face of at least 60 % of that, ``CONFIRM_NEIGHBORS``
windows. Measured on grey pictures (neutral chroma): the default cascade's 8 false faces on
the simulator's backgrounds (camera 2 whole and in 63 regions; the 16 cameras' panoramas at
3 pans, 640x360 and 320x180) and its 190 finds on real faces (scikit-image's ``lfw_subset``:
100 faces pasted at 80 and 50 px into that background; the astronaut at full size to 0.15):
with 1, 2, 3-6 neighbours the second cascade kept 2, 1, 0 of the false and all 190 real
ones; 4 leaves room both ways. (A wider first sweep, 9,216 regions of 48 panoramas up to
1280x720: 32 false faces, 4 kept at 2 neighbours.) Eye cascades inside the upper part of
the box rejected false faces too but also 4-46 of the 190 real ones (small, blurred eyes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from argus_analysis.detect.object_base import (
    Detection,
    ObjectDetector,
    ObjectDetectorUnavailable,
    nms,
)

CASCADE = "haarcascade_frontalface_default.xml"
MIN_HEIGHT = 360
MAX_SIDE = 960
MIN_FACE = 20
MIN_NEIGHBORS = 8
SKIN_CR = (133, 173)
SKIN_CB = (77, 127)
MIN_SKIN = 0.3
MIN_CHROMA = 6.0
CONFIRM = "haarcascade_frontalface_alt2.xml"
CONFIRM_SIDE = 120
CONFIRM_MARGIN = 0.25
CONFIRM_NEIGHBORS = 4


def bundled_cascade(name: str = CASCADE) -> Path | None:
    """A cascade of the installed opencv-python (the frontal face one by default), if it
    ships it."""
    data = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not data:
        return None
    path = Path(data) / name
    return path if path.is_file() else None


def _load(path: Path) -> cv2.CascadeClassifier:
    try:
        cascade = cv2.CascadeClassifier(str(path))
        loaded = not cascade.empty()
    except (cv2.error, SystemError):  # a malformed file raises from the constructor
        loaded = False
    if not loaded:
        raise ObjectDetectorUnavailable(f"opencv-face: {path} is not a cascade OpenCV loads")
    return cascade


def _chroma(ycrcb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ycrcb[..., 1].astype(np.int16), ycrcb[..., 2].astype(np.int16)


def colourless(image: np.ndarray) -> bool:
    """Whether a BGR picture has almost no colour (infrared, monochrome), judged on every
    fourth pixel each way."""
    cr, cb = _chroma(cv2.cvtColor(np.ascontiguousarray(image[::4, ::4]), cv2.COLOR_BGR2YCrCb))
    return float(np.mean(np.abs(cr - 128) + np.abs(cb - 128))) < MIN_CHROMA


def skin_share(image: np.ndarray, box: Sequence[int]) -> float:
    """The share of skin-coloured pixels in the middle half (each way) of ``box`` (x, y, w,
    h)."""
    x, y, w, h = (int(v) for v in box)
    centre = image[y + h // 4 : y + (3 * h) // 4, x + w // 4 : x + (3 * w) // 4]
    if centre.size == 0:
        return 0.0
    cr, cb = _chroma(cv2.cvtColor(np.ascontiguousarray(centre), cv2.COLOR_BGR2YCrCb))
    skin = (cr >= SKIN_CR[0]) & (cr <= SKIN_CR[1]) & (cb >= SKIN_CB[0]) & (cb <= SKIN_CB[1])
    return float(skin.mean())


class HaarFaceDetector(ObjectDetector):
    """Faces only (label ``face``)."""

    name = "opencv-face"
    labels = ("face",)

    def __init__(self, cascade: Path | None = None) -> None:
        path = cascade or bundled_cascade()
        confirm = bundled_cascade(CONFIRM)
        if path is None or confirm is None:
            raise ObjectDetectorUnavailable(
                f"ANALYSIS_OBJECT_DETECTOR=opencv-face needs OpenCV's bundled cascades {CASCADE} "
                f"and {CONFIRM} (opencv-python-headless<5; found {cv2.__version__} without them)"
            )
        self._cascade = _load(path)
        self._confirm = _load(confirm)

    def confirmed(self, gray: np.ndarray, box: Sequence[int]) -> bool:
        """Whether the second cascade finds a face at ``box`` (x, y, w, h) of ``gray``."""
        x, y, w, h = (int(v) for v in box)
        m = int(CONFIRM_MARGIN * w)
        crop = gray[max(0, y - m) : y + h + m, max(0, x - m) : x + w + m]
        f = CONFIRM_SIDE / w
        crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR)
        side = int(0.6 * CONFIRM_SIDE)
        found = self._confirm.detectMultiScale(crop, 1.1, CONFIRM_NEIGHBORS, minSize=(side, side))
        return len(found) > 0

    def _one(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        f = min(max(1.0, MIN_HEIGHT / h), MAX_SIDE / max(w, h))
        img = (
            cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_LINEAR)
            if f != 1.0
            else image
        )
        if min(img.shape[:2]) < MIN_FACE:
            return []
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        rects, _levels, weights = self._cascade.detectMultiScale3(
            gray,
            scaleFactor=1.1,
            minNeighbors=MIN_NEIGHBORS,
            minSize=(MIN_FACE, MIN_FACE),
            outputRejectLevels=True,
        )
        out: list[Detection] = []
        if len(rects):
            # colour: skin in the middle; no colour (infrared): the second cascade agrees
            grey = colourless(img)
            kept = [self.confirmed(gray, r) if grey else skin_share(img, r) >= MIN_SKIN
                    for r in rects]
            rects = [r for r, k in zip(rects, kept, strict=True) if k]
            weights = [w for w, k in zip(np.ravel(weights), kept, strict=True) if k]
        for (x, y, rw, rh), weight in zip(rects, np.ravel(weights), strict=False):
            score = 1.0 - math.exp(-max(0.0, float(weight)) / 2.0)
            out.append(Detection("face", round(score, 4), (x / f, y / f, rw / f, rh / f)))
        return nms(out)

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        return [self._one(img) for img in images]
