"""CUDA motion detectors: the frame difference on the GPU, with CuPy or OpenCV's CUDA module.

Neither CuPy nor a CUDA build of OpenCV is a hard dependency: this module imports them
only when asked and reports why CUDA cannot be used instead of failing. The pixel work
(blur, difference, threshold, mask, background update) runs on the GPU; the small binary
result comes back for the region search on the CPU (``motion_regions``), which costs
little at the analysed size.

Not exercised on a GPU by the test suite (no GPU on the CI machines): the selection logic
is unit-tested, these classes are not.
"""

from __future__ import annotations

import importlib
from typing import Any

import cv2
import numpy as np

from argus_analysis.detect.base import NO_MOTION, DetectorConfig, MotionDetector, MotionResult
from argus_analysis.detect.cpu import GLOBAL_CHANGE, motion_regions

# OpenCV's CUDA module exists only in CUDA builds (the PyPI wheels have a stub).
_cv: Any = cv2


def load_cupy() -> Any | None:
    """The ``cupy`` module, or None when it is not installed or cannot load its CUDA libs."""
    try:
        return importlib.import_module("cupy")
    except Exception:  # ImportError, or a CUDA library missing at import time
        return None


def cuda_backend() -> tuple[str | None, str]:
    """``(backend, reason)``: ``"cupy"`` or ``"opencv"`` when a CUDA device can be used,
    else None and why not (for the log line)."""
    cupy = load_cupy()
    if cupy is not None:
        try:
            if int(cupy.cuda.runtime.getDeviceCount()) > 0:
                return "cupy", "CuPy sees a CUDA device"
            reason = "CuPy sees no CUDA device"
        except Exception as exc:
            reason = f"CuPy cannot reach the CUDA runtime ({type(exc).__name__})"
    else:
        reason = "CuPy is not installed"
    try:
        if int(_cv.cuda.getCudaEnabledDeviceCount()) > 0:
            return "opencv", "OpenCV was built with CUDA and sees a device"
    except (AttributeError, cv2.error):
        pass
    return None, f"{reason}; OpenCV has no usable CUDA device"


class CupyFrameDiffDetector(MotionDetector):
    """The frame difference of ``FrameDiffDetector`` with CuPy arrays."""

    device = "cuda"

    def __init__(self, config: DetectorConfig, width: int, height: int) -> None:
        super().__init__(config, width, height)
        cupy = load_cupy()
        if cupy is None:
            raise RuntimeError("CuPy is not available")
        self._cp = cupy
        self._ndimage = importlib.import_module("cupyx.scipy.ndimage")
        self._mask = cupy.asarray(self.mask > 0)
        self._avg: Any = None
        self._threshold = float(config.pixel_threshold)

    def reset(self) -> None:
        self._avg = None

    def detect(self, gray: np.ndarray, dt_s: float) -> MotionResult:
        cp = self._cp
        frame = self._ndimage.uniform_filter(cp.asarray(gray, dtype=cp.float32), size=5)
        if self._avg is None:
            self._avg = frame
            return NO_MOTION
        changed = (cp.abs(frame - self._avg) >= self._threshold) & self._mask
        host = cp.asnumpy(changed.astype(cp.uint8) * 255)
        result = motion_regions(self, host)
        if result.score >= GLOBAL_CHANGE:
            self._avg = frame
            return NO_MOTION
        alpha = self.alpha(dt_s)
        self._avg *= 1.0 - alpha
        self._avg += alpha * frame
        return result


class OpenCvCudaFrameDiffDetector(MotionDetector):
    """The frame difference with OpenCV's ``cv2.cuda`` module (a CUDA build of OpenCV)."""

    device = "cuda"

    def __init__(self, config: DetectorConfig, width: int, height: int) -> None:
        super().__init__(config, width, height)
        self._frame = _cv.cuda_GpuMat()
        self._mask = _cv.cuda_GpuMat()
        self._mask.upload(self.mask)
        self._blur = _cv.cuda.createBoxFilter(cv2.CV_8UC1, cv2.CV_8UC1, (5, 5))
        self._avg: Any = None
        self._threshold = config.pixel_threshold

    def reset(self) -> None:
        self._avg = None

    def detect(self, gray: np.ndarray, dt_s: float) -> MotionResult:
        self._frame.upload(np.ascontiguousarray(gray))
        blurred = self._blur.apply(self._frame)
        as_float = blurred.convertTo(cv2.CV_32F)
        if self._avg is None:
            self._avg = as_float
            return NO_MOTION
        background = self._avg.convertTo(cv2.CV_8U)
        diff = _cv.cuda.absdiff(blurred, background)
        _, changed = _cv.cuda.threshold(diff, self._threshold - 1, 255, cv2.THRESH_BINARY)
        changed = _cv.cuda.bitwise_and(changed, self._mask)
        result = motion_regions(self, changed.download())
        if result.score >= GLOBAL_CHANGE:
            self._avg = as_float
            return NO_MOTION
        alpha = self.alpha(dt_s)
        self._avg = _cv.cuda.addWeighted(self._avg, 1.0 - alpha, as_float, alpha, 0.0)
        return result
