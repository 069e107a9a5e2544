"""The object detector interface: images in, labelled and scored boxes out.

Unlike a ``MotionDetector`` an object detector keeps no state between calls, so one
instance serves every camera: the analyser hands it the regions of several cameras' frames
at once (``detect_batch``) and a detector that can batch (ONNX) runs them as one
inference. Images are BGR ``uint8`` arrays of any size (the regions around motion);
boxes come back in the pixels of the image they were found in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np

NMS_IOU = 0.45


@dataclass(frozen=True)
class Detection:
    """One object: ``label``, ``score`` in 0..1 and its box ``(x, y, w, h)`` in pixels."""

    label: str
    score: float
    box: tuple[float, float, float, float]


class ObjectDetectorUnavailable(RuntimeError):
    """The configured object detector cannot run (names the setting to fix)."""


class ObjectDetector(ABC):
    """A detector of ``labels``; ``detect_batch`` may be called from one thread at a time."""

    name: ClassVar[str] = "base"
    labels: tuple[str, ...] = ()
    provider: str = "cpu"  # where it runs (ONNX Runtime's execution provider)

    @abstractmethod
    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """The detections of each image (BGR uint8), in the same order."""

    def detect(self, image: np.ndarray) -> list[Detection]:
        """The detections of one image."""
        return self.detect_batch([image])[0]


def nms(detections: list[Detection], iou: float = NMS_IOU) -> list[Detection]:
    """Non-maximum suppression per label (OpenCV's ``NMSBoxes``), best first."""
    if len(detections) < 2:
        return list(detections)
    kept: list[Detection] = []
    for label in sorted({d.label for d in detections}):
        group = [d for d in detections if d.label == label]
        if len(group) == 1:  # nothing to suppress
            kept.extend(group)
            continue
        boxes = [[float(v) for v in d.box] for d in group]
        scores = [d.score for d in group]
        idx = cv2.dnn.NMSBoxes(boxes, scores, 0.0, iou)
        kept.extend(group[int(i)] for i in np.asarray(idx).reshape(-1))
    kept.sort(key=lambda d: d.score, reverse=True)
    return kept
