"""``opencv-hog``: OpenCV's built-in HOG + linear SVM people detector (Dalal & Triggs).

No model file, no download: it ships inside opencv-python (4.x; OpenCV 5 moved it out,
hence the ``<5`` pin), so a fresh install detects people out of the box. It finds upright
people about 96 pixels tall in its 64 x 128 window; regions are enlarged so that people
of a sub-stream's size reach that. Its decision threshold is a margin of -0.3 (measured
here: people in sample photographs composited into the simulator's scenes were found 42
times in 42 at -0.3 and 26 in 42 at OpenCV's default 0, with no false detection on the
empty scenes either way); scores are the margins above that threshold squashed to 0..1
(the threshold -> 0.5, one more unit -> 0.88). One region at a time (HOG has no
batching); OpenCV releases the GIL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from argus_analysis.detect.object_base import (
    Detection,
    ObjectDetector,
    ObjectDetectorUnavailable,
    nms,
)

MIN_HEIGHT = 256  # regions are enlarged to at least this height (people ≥ 96 px)
MAX_SIDE = 1280  # and never beyond this (cost grows with the pixels)


class HogPeopleDetector(ObjectDetector):
    """People only (label ``person``)."""

    name = "opencv-hog"
    labels = ("person",)

    def __init__(self, hit_threshold: float = -0.3, scale: float = 1.05) -> None:
        if not hasattr(cv2, "HOGDescriptor"):
            raise ObjectDetectorUnavailable(
                f"ANALYSIS_OBJECT_DETECTOR=opencv-hog needs OpenCV 4 (found {cv2.__version__}, "
                "which has no HOGDescriptor); install opencv-python-headless<5"
            )
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(
            np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32)
        )
        self.hit_threshold = hit_threshold
        self.scale = scale

    def _one(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        f = min(max(1.0, MIN_HEIGHT / h), MAX_SIDE / max(w, h))
        img = cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_LINEAR) \
            if f != 1.0 else image
        if img.shape[0] < 128 or img.shape[1] < 64:
            return []
        rects, weights = self._hog.detectMultiScale(
            img, hitThreshold=self.hit_threshold, winStride=(8, 8), padding=(8, 8),
            scale=self.scale,
        )
        out = []
        for (x, y, rw, rh), margin in zip(rects, np.ravel(weights), strict=False):
            score = 1.0 / (1.0 + math.exp(-2.0 * (float(margin) - self.hit_threshold)))
            out.append(Detection("person", round(score, 4), (x / f, y / f, rw / f, rh / f)))
        return nms(out)

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        return [self._one(img) for img in images]
