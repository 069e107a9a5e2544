"""CPU motion detectors in OpenCV: frame difference against a running average (default)
and MOG2 (option).

Both end the same way: a binary "changed" image, restricted to the watched pixels, whose
connected regions at least ``min_area`` large are the motion boxes. Every OpenCV call
releases the GIL, so one thread per camera runs in parallel with the others.
"""

from __future__ import annotations

import cv2
import numpy as np

from argus_analysis.detect.base import NO_MOTION, DetectorConfig, MotionDetector, MotionResult
from argus_analysis.detect.geometry import normalized_box

# A frame where this share of the watched pixels changed at once is a light change (lamp
# switched, IR cut filter, auto exposure), not motion: the background restarts from it.
GLOBAL_CHANGE = 0.7
MAX_BOXES = 32
_BLUR = (5, 5)
_KERNEL = np.ones((3, 3), dtype=np.uint8)


def motion_regions(detector: MotionDetector, changed: np.ndarray) -> MotionResult:
    """Score and boxes of a binary ``changed`` image already limited to watched pixels."""
    count = cv2.countNonZero(changed)
    if count == 0 or detector.watched == 0:
        return NO_MOTION
    score = min(1.0, count / detector.watched)
    # Dilation joins the pieces of one object (an edge split by noise) into one region.
    grown = cv2.dilate(changed, _KERNEL, iterations=2)
    contours, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    regions = []
    for contour in contours:
        area = cv2.contourArea(contour)
        if area >= detector.min_area_px:
            regions.append((area, cv2.boundingRect(contour)))
    if not regions:
        return MotionResult(False, round(score, 5))
    regions.sort(key=lambda r: r[0], reverse=True)
    boxes = tuple(
        normalized_box(x, y, w, h, detector.width, detector.height)
        for _, (x, y, w, h) in regions[:MAX_BOXES]
    )
    return MotionResult(True, round(score, 5), boxes)


class FrameDiffDetector(MotionDetector):
    """Absolute difference between the (blurred) frame and a running average of the past
    frames (``cv2.accumulateWeighted``). The blur and the average absorb sensor noise and
    compression flicker; slow light changes move the average along with them."""

    def __init__(self, config: DetectorConfig, width: int, height: int) -> None:
        super().__init__(config, width, height)
        self._avg: np.ndarray | None = None
        self._bg = np.empty((height, width), dtype=np.uint8)
        self._blurred = np.empty((height, width), dtype=np.uint8)
        self._diff = np.empty((height, width), dtype=np.uint8)
        self._threshold = config.pixel_threshold

    def reset(self) -> None:
        self._avg = None

    def detect(self, gray: np.ndarray, dt_s: float) -> MotionResult:
        blurred = cv2.blur(gray, _BLUR, dst=self._blurred)
        if self._avg is None:
            self._avg = blurred.astype(np.float32)
            return NO_MOTION
        cv2.convertScaleAbs(self._avg, dst=self._bg)
        cv2.absdiff(blurred, self._bg, dst=self._diff)
        # THRESH_BINARY keeps values above the threshold: "at least pixel_threshold".
        _, changed = cv2.threshold(self._diff, self._threshold - 1, 255, cv2.THRESH_BINARY)
        cv2.bitwise_and(changed, self.mask, dst=changed)
        result = motion_regions(self, changed)
        if result.score >= GLOBAL_CHANGE:
            self._avg = blurred.astype(np.float32)
            return NO_MOTION
        cv2.accumulateWeighted(blurred, self._avg, self.alpha(dt_s))
        return result


class Mog2Detector(MotionDetector):
    """OpenCV's Gaussian-mixture background subtractor (MOG2): learns a few modes per pixel,
    so repetitive movement (leaves, water) becomes background; costs about ten times the
    frame difference."""

    def __init__(self, config: DetectorConfig, width: int, height: int) -> None:
        super().__init__(config, width, height)
        self._blurred = np.empty((height, width), dtype=np.uint8)
        self._started = False
        self._mog = self._create()

    def _create(self) -> cv2.BackgroundSubtractorMOG2:
        # varThreshold is a squared distance in units of each pixel's learnt deviation.
        var_threshold = 8.0 + (100 - self.config.sensitivity) * 0.5
        return cv2.createBackgroundSubtractorMOG2(
            history=500, varThreshold=var_threshold, detectShadows=False
        )

    def reset(self) -> None:
        self._mog = self._create()
        self._started = False

    def detect(self, gray: np.ndarray, dt_s: float) -> MotionResult:
        blurred = cv2.blur(gray, _BLUR, dst=self._blurred)
        if not self._started:
            self._mog.apply(blurred, learningRate=1.0)
            self._started = True
            return NO_MOTION
        foreground = self._mog.apply(blurred, learningRate=self.alpha(dt_s))
        _, changed = cv2.threshold(foreground, 127, 255, cv2.THRESH_BINARY)
        cv2.bitwise_and(changed, self.mask, dst=changed)
        result = motion_regions(self, changed)
        if result.score >= GLOBAL_CHANGE:
            self.reset()
            return NO_MOTION
        return result
