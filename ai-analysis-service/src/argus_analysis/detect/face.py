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


def bundled_cascade() -> Path | None:
    """The frontal face cascade of the installed opencv-python, if it ships one."""
    data = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not data:
        return None
    path = Path(data) / CASCADE
    return path if path.is_file() else None


class HaarFaceDetector(ObjectDetector):
    """Faces only (label ``face``)."""

    name = "opencv-face"
    labels = ("face",)

    def __init__(self, cascade: Path | None = None) -> None:
        path = cascade or bundled_cascade()
        if path is None:
            raise ObjectDetectorUnavailable(
                f"ANALYSIS_OBJECT_DETECTOR=opencv-face needs OpenCV's bundled cascade {CASCADE} "
                f"(opencv-python-headless<5; found {cv2.__version__} without it)"
            )
        try:
            self._cascade = cv2.CascadeClassifier(str(path))
            loaded = not self._cascade.empty()
        except (cv2.error, SystemError):  # a malformed file raises from the constructor
            loaded = False
        if not loaded:
            raise ObjectDetectorUnavailable(f"opencv-face: {path} is not a cascade OpenCV loads")

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
        out = []
        for (x, y, rw, rh), weight in zip(rects, np.ravel(weights), strict=False):
            score = 1.0 - math.exp(-max(0.0, float(weight)) / 2.0)
            out.append(Detection("face", round(score, 4), (x / f, y / f, rw / f, rh / f)))
        return nms(out)

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        return [self._one(img) for img in images]
