"""Which detector runs: ``ANALYSIS_DEVICE`` (auto | cpu | cuda) and ``ANALYSIS_ALGORITHM``.

Chosen once at start. ``auto`` takes CUDA when a device is usable and the CPU otherwise;
``cuda`` refuses to start without one (a misconfiguration should be loud). MOG2 has no
CUDA implementation here and always runs on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from argus_analysis.detect.base import DetectorConfig, MotionDetector
from argus_analysis.detect.cpu import FrameDiffDetector, Mog2Detector
from argus_analysis.detect.cuda import (
    CupyFrameDiffDetector,
    OpenCvCudaFrameDiffDetector,
    cuda_backend,
)

Device = Literal["auto", "cpu", "cuda"]
Probe = Callable[[], tuple[str | None, str]]


class DeviceUnavailable(RuntimeError):
    """``ANALYSIS_DEVICE=cuda`` but no CUDA device can be used."""


@dataclass(frozen=True)
class DeviceChoice:
    """The device detection runs on, the library used for it, and why."""

    device: Literal["cpu", "cuda"]
    backend: Literal["opencv", "cupy", "opencv-cuda"]
    reason: str


def choose_device(requested: Device, probe: Probe = cuda_backend) -> DeviceChoice:
    """Resolve ``requested`` against what this machine has (``probe``: see
    ``cuda_backend``); raises ``DeviceUnavailable`` for ``cuda`` without a device."""
    if requested == "cpu":
        return DeviceChoice("cpu", "opencv", "ANALYSIS_DEVICE=cpu")
    backend, reason = probe()
    if backend == "cupy":
        return DeviceChoice("cuda", "cupy", reason)
    if backend == "opencv":
        return DeviceChoice("cuda", "opencv-cuda", reason)
    if requested == "cuda":
        raise DeviceUnavailable(f"ANALYSIS_DEVICE=cuda but {reason}")
    return DeviceChoice("cpu", "opencv", f"auto: {reason}; using the CPU")


def create_detector(
    choice: DeviceChoice, config: DetectorConfig, width: int, height: int
) -> MotionDetector:
    """A new detector for one camera's ``width`` x ``height`` luma frames."""
    if config.algorithm == "mog2":
        return Mog2Detector(config, width, height)
    if choice.backend == "cupy":
        return CupyFrameDiffDetector(config, width, height)
    if choice.backend == "opencv-cuda":
        return OpenCvCudaFrameDiffDetector(config, width, height)
    return FrameDiffDetector(config, width, height)
