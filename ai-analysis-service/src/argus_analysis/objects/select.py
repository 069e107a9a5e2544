"""Which object detectors this analyser loads, from its settings (at start).

``opencv-hog`` is always there (it needs no file), and ``opencv-face`` (faces, with the Haar
cascade bundled in opencv-python 4.x) wherever the installed OpenCV ships that cascade;
asking for it where it does not stops the analyser at start. ``onnx`` is loaded when
``ANALYSIS_OBJECT_MODEL`` names a file; asking for it without one, or naming a file that
is not there, stops the analyser at start with the setting named: a misconfiguration
should be loud, never a silent fall-back to another detector.
"""

from __future__ import annotations

from argus_analysis.config import Settings
from argus_analysis.detect.face import HaarFaceDetector, bundled_cascade
from argus_analysis.detect.hog import HogPeopleDetector
from argus_analysis.detect.object_base import ObjectDetector, ObjectDetectorUnavailable
from argus_analysis.objects.settings import ObjectSettings


def _split(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def build_detectors(settings: Settings) -> tuple[dict[str, ObjectDetector], str]:
    """The detectors by name and the default one's name (raises
    ``ObjectDetectorUnavailable``)."""
    detectors: dict[str, ObjectDetector] = {"opencv-hog": HogPeopleDetector()}
    if bundled_cascade() is not None or settings.object_detector == "opencv-face":
        detectors["opencv-face"] = HaarFaceDetector()  # raises, naming the setting, if absent
    if settings.object_model is not None:
        from argus_analysis.detect.onnx import OnnxDetector

        detectors["onnx"] = OnnxDetector(
            settings.object_model, labels=_split(settings.object_labels),
            layout=settings.object_layout, providers=_split(settings.object_providers),
            input_size=settings.object_input_size, threads=settings.object_threads,
            max_batch=settings.object_max_batch,
        )
    elif settings.object_detector == "onnx":
        raise ObjectDetectorUnavailable(
            "ANALYSIS_OBJECT_DETECTOR=onnx needs ANALYSIS_OBJECT_MODEL (the path of an .onnx "
            "model file; nothing is downloaded)"
        )
    if settings.object_detector != "auto":
        default = settings.object_detector
    else:
        default = "onnx" if "onnx" in detectors else "opencv-hog"
    return detectors, default


def object_defaults(settings: Settings) -> ObjectSettings:
    """``ANALYSIS_OBJECT_DEFAULTS`` parsed (malformed: off)."""
    return ObjectSettings.parse(settings.object_defaults)
