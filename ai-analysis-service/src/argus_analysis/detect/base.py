"""The motion detector interface and what every implementation shares.

A detector sees one camera's frames as 8-bit luma (already downscaled) and answers, per
frame, which share of the watched pixels changed and where. Whether that is "motion" in
the sense of an event (it lasted long enough, it ended) is the debouncer's business
(``debounce.py``), not the detector's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np

from argus_analysis.detect.geometry import Polygon, active_mask

Algorithm = Literal["diff", "mog2"]


@dataclass(frozen=True)
class DetectorConfig:
    """Per-camera detection settings (from the camera's ``analysis`` settings).

    ``sensitivity`` 1..100 maps to the luma change a pixel needs to count (100: the
    smallest change); ``min_area`` is the smallest changed region, as a fraction of the
    picture; ``zones`` (include) and ``masks`` (exclude) are normalized polygons.
    ``tau_s`` is the time constant of the running-average background (frame difference).
    """

    sensitivity: int = 50
    min_area: float = 0.002
    zones: tuple[Polygon, ...] = ()
    masks: tuple[Polygon, ...] = ()
    algorithm: Algorithm = "diff"
    tau_s: float = 0.15

    @property
    def pixel_threshold(self) -> int:
        """Luma difference (0..255) a pixel needs to count as changed: 54 at sensitivity 1,
        30 at 50, 5 at 100."""
        return max(1, round(5 + (100 - self.sensitivity) * 0.5))


@dataclass(frozen=True)
class MotionResult:
    """What one frame showed: ``score`` is the changed share of the watched pixels,
    ``boxes`` the changed regions at least ``min_area`` large, normalized ``(x, y, w, h)``.
    ``motion`` is true when there is at least one such region."""

    motion: bool
    score: float
    boxes: tuple[tuple[float, float, float, float], ...] = field(default_factory=tuple)


NO_MOTION = MotionResult(False, 0.0)


class MotionDetector(ABC):
    """One camera's detector for frames of a fixed ``width`` x ``height``.

    Implementations keep their background model between calls; a new picture size needs a
    new detector. ``detect`` is called from one thread only.
    """

    device: ClassVar[str] = "cpu"

    def __init__(self, config: DetectorConfig, width: int, height: int) -> None:
        self.config = config
        self.width = width
        self.height = height
        self.mask = active_mask(width, height, config.zones, config.masks)
        self.watched = int(np.count_nonzero(self.mask))
        self.min_area_px = max(1.0, config.min_area * width * height)

    @abstractmethod
    def detect(self, gray: np.ndarray, dt_s: float) -> MotionResult:
        """Analyse one ``(height, width)`` uint8 luma frame, ``dt_s`` seconds after the
        previous one (for frame-rate independent background updates)."""

    def reset(self) -> None:  # noqa: B027 - optional hook, most detectors need nothing
        """Forget the background (after a gap in the stream)."""

    def alpha(self, dt_s: float) -> float:
        """Weight of a new frame in the running average for a gap of ``dt_s``: the same
        time constant whatever the frame rate (5 fps or 60 fps)."""
        dt = min(max(dt_s, 0.001), 10.0)
        return float(1.0 - np.exp(-dt / self.config.tau_s))
