"""One input's analysis: luma plane -> downscale -> detector -> debouncer.

Runs in the input's own thread. New settings (a camera edited in the console) are handed
over from the loop thread and picked up at the next frame; a new picture size (the
camera changed resolution) gets a new detector.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from argus_analysis.detect.base import NO_MOTION, DetectorConfig, MotionDetector, MotionResult
from argus_analysis.detect.debounce import Debouncer, Transition
from argus_analysis.detect.select import DeviceChoice, create_detector
from argus_analysis.frames import Downscale, downscale, luma_view

# A gap in media time longer than this (or going backwards) restarts the background.
MAX_GAP_S = 5.0


@dataclass(frozen=True)
class AnalysisParams:
    """Everything that shapes one input's analysis."""

    detector: DetectorConfig
    start_frames: int
    end_quiet_s: float
    max_width: int
    downscale: Downscale


@dataclass(frozen=True)
class FrameAnalysis:
    """The outcome of one frame: capture time (epoch s), media time, analysed size, the
    detector's result and the motion event it started or ended (if any)."""

    wall: float
    media_s: float
    width: int
    height: int
    result: MotionResult
    transition: Transition | None


class Analyzer:
    """The detector and the motion state of one input."""

    def __init__(self, choice: DeviceChoice, params: AnalysisParams) -> None:
        self.choice = choice
        self.params = params
        self.debouncer = Debouncer(params.start_frames, params.end_quiet_s)
        self.detector: MotionDetector | None = None
        self._pending: AnalysisParams | None = None
        self._lock = threading.Lock()
        self._last_media: float | None = None

    def configure(self, params: AnalysisParams) -> None:
        """New settings from another thread; applied before the next frame."""
        with self._lock:
            self._pending = params

    def _apply_pending(self) -> None:
        with self._lock:
            params, self._pending = self._pending, None
        if params is None or params == self.params:
            return
        if params.detector != self.params.detector or params.max_width != self.params.max_width:
            self.detector = None  # rebuilt (masks rasterised again) at the next frame
        self.params = params
        self.debouncer.configure(params.start_frames, params.end_quiet_s)

    def process(self, frame: Any, media_s: float, wall: float) -> FrameAnalysis:
        """Analyse one decoded ``av.VideoFrame`` captured at ``wall``."""
        if self._pending is not None:
            self._apply_pending()
        gray = downscale(luma_view(frame), self.params.max_width, self.params.downscale)
        height, width = gray.shape
        detector = self.detector
        if detector is None or detector.width != width or detector.height != height:
            detector = self.detector = create_detector(
                self.choice, self.params.detector, width, height
            )
            self._last_media = None
        dt = 0.0 if self._last_media is None else media_s - self._last_media
        if self._last_media is not None and not 0.0 < dt <= MAX_GAP_S:
            detector.reset()
        self._last_media = media_s
        result = detector.detect(gray, dt)
        transition = self.debouncer.update(result.motion, wall)
        return FrameAnalysis(wall, media_s, width, height, result, transition)

    def skip(self, media_s: float, wall: float) -> FrameAnalysis:
        """A frame not analysed (analysis behind): counts as no motion for the debouncer
        only if the event's quiet time has passed, so skipping never starts an event."""
        transition = self.debouncer.update(False, wall)
        size = (self.detector.width, self.detector.height) if self.detector else (0, 0)
        if self.detector is not None:
            self.detector.reset()  # the background is stale after skipped frames
        self._last_media = None
        return FrameAnalysis(wall, media_s, size[0], size[1], NO_MOTION, transition)

    def stop(self, wall: float) -> Transition | None:
        """The input ended: close an event in progress."""
        self._last_media = None
        return self.debouncer.stop(wall)
