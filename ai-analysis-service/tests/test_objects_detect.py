"""Object detection on real decoded frames of the camera simulator, scored against its
ground truth (``GET /cameras/camN/objects?at_ms=<the frame's stamp>``).

The frames go through the analyser's own path: motion detector -> regions around the
motion -> detector -> tracker (``ObjectEngine.process``), as in a camera worker.
- ``onnx`` with the committed test model (``models/sim-detector.onnx``) on drawn people and
  vehicles: precision and recall at IoU 0.5 of at least 0.8 each;
- ``opencv-hog`` on a real photograph of a person (scikit-image's astronaut) composited
  into the scene: found where she is, nothing elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from anastack import CAM_PASSWORD, CAM_USER, Proc, start_simulator

from argus_analysis.cameras import MotionSettings
from argus_analysis.config import OVERLAY_MASK
from argus_analysis.detect.hog import HogPeopleDetector
from argus_analysis.detect.object_base import ObjectDetector
from argus_analysis.detect.onnx import OnnxDetector
from argus_analysis.detect.select import DeviceChoice
from argus_analysis.objects.engine import ObjectEngine, ObjectJob, ObjectOutput
from argus_analysis.objects.settings import ObjectSettings
from argus_analysis.objects.tracker import iou
from argus_analysis.pipeline import AnalysisParams, Analyzer
from argus_camsim.stamp import read_timestamp_ms
from argus_common.media import with_userinfo

MODEL = Path(__file__).resolve().parents[1] / "models" / "sim-detector.onnx"
W, H = 640, 360
FRAMES = 70  # 7 s at 10 fps


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[Proc, int, int]]:
    proc, rtsp, control = start_simulator(2, "--resolution", f"{W}x{H}", "--sub-resolution",
                                          "320x180", "--fps", "10")
    yield proc, rtsp, control
    proc.stop()


def script(control: int, camera: int, objects: list[dict[str, Any]]) -> None:
    resp = httpx.post(f"http://127.0.0.1:{control}/objects/cam{camera}",
                      json={"objects": objects}, timeout=10)
    assert resp.status_code == 200, resp.text


def record(rtsp: int, camera: int, count: int) -> list[av.VideoFrame]:
    url = with_userinfo(f"rtsp://127.0.0.1:{rtsp}/cam{camera}/main", CAM_USER, CAM_PASSWORD)
    frames: list[av.VideoFrame] = []
    with av.open(url, options={"rtsp_transport": "tcp", "timeout": "10000000"},
                 timeout=10) as container:
        for frame in container.decode(video=0):
            frames.append(frame)
            if len(frames) >= count:
                break
    return frames


def run(frames: list[av.VideoFrame], detector: ObjectDetector, control: int,
        camera: int) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """(detections, ground truth) of every frame the detector ran on."""
    params = AnalysisParams(
        detector=MotionSettings(enabled=True).detector_config("diff", 0.15, [OVERLAY_MASK]),
        start_frames=3, end_quiet_s=1.0, max_width=W, downscale="stride")
    analyzer = Analyzer(DeviceChoice("cpu", "opencv", "test"), params)
    outputs: list[ObjectOutput] = []
    engine = ObjectEngine({detector.name: detector}, detector.name, outputs.append, fps=100)
    settings = ObjectSettings(enabled=True, min_score=0.5)
    pairs = []
    with httpx.Client(timeout=10) as client:
        for i, frame in enumerate(frames):
            stamp = read_timestamp_ms(frame.to_ndarray(format="gray"), W, H)
            assert stamp is not None
            a = analyzer.process(frame, i / 10, stamp / 1000)
            if not engine.wants(1, settings, a.wall, a.result.motion):
                continue
            image = frame.reformat(format="bgr24").to_ndarray()
            outputs.clear()
            engine.process([ObjectJob(1, "s", a.wall, image, a.result.boxes, settings, a)])
            truth = client.get(f"http://127.0.0.1:{control}/cameras/cam{camera}/objects",
                               params={"at_ms": stamp}).json()["objects"]
            assert len(outputs) == 1 and outputs[0].objects is not None
            pairs.append((outputs[0].objects, truth))
    return pairs


def _box(b: dict[str, float]) -> tuple[float, float, float, float]:
    return b["x"], b["y"], b["w"], b["h"]


def _at_edge(b: dict[str, float]) -> bool:
    return b["x"] <= 0.005 or b["x"] + b["w"] >= 0.995


def test_onnx_test_model_finds_the_simulators_people_and_vehicles(sim: Any) -> None:
    _, rtsp, control = sim
    script(control, 1, [
        {"label": "person", "start": [0.15, 0.62], "end": [0.85, 0.62], "speed": 0.12,
         "repeat": "bounce", "color": "red", "size": 0.3},
        {"label": "vehicle", "start": [0.9, 0.86], "end": [0.1, 0.86], "speed": 0.15,
         "repeat": "bounce", "color": "blue", "size": 0.18},
        {"label": "person", "start": [0.95, 0.5], "end": [0.6, 0.5], "speed": 0.06,
         "repeat": "bounce", "color": "green", "size": 0.24},
    ])
    frames = record(rtsp, 1, FRAMES)
    pairs = run(frames, OnnxDetector(MODEL), control, 1)
    assert len(pairs) >= 30
    tp = fp = fn = 0
    colours: dict[tuple[str, str], int] = {}
    for found, truth in pairs:
        used: set[int] = set()
        for det in found:
            best, best_iou = None, 0.0
            for j, gt in enumerate(truth):
                overlap = iou(_box(det["box"]), _box(gt["box"]))
                if gt["label"] == det["label"] and j not in used and overlap > best_iou:
                    best, best_iou = j, overlap
            if best is not None and best_iou >= 0.5:
                used.add(best)
                tp += 1
                key = (truth[best]["color"], det["color"])
                colours[key] = colours.get(key, 0) + 1
            elif best is None or not _at_edge(truth[best]["box"]):
                fp += 1
        fn += sum(1 for j, gt in enumerate(truth) if j not in used and not _at_edge(gt["box"]))
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    assert precision >= 0.8 and recall >= 0.8, (tp, fp, fn)
    # The tracks' colours are the objects' colours.
    right = sum(n for (gt, got), n in colours.items() if gt == got)
    assert right >= 0.8 * sum(colours.values()), colours


def test_hog_finds_a_photograph_of_a_person_in_the_scene(sim: Any) -> None:
    _, rtsp, control = sim
    script(control, 2, [
        {"label": "person", "appearance": "photo", "photo": "astronaut", "start": [0.3, 0.6],
         "end": [0.7, 0.6], "speed": 0.06, "repeat": "bounce", "size": 0.6},
    ])
    frames = record(rtsp, 2, FRAMES)
    pairs = run(frames, HogPeopleDetector(), control, 2)
    assert len(pairs) >= 20
    hits = misses = wrong = 0
    for found, truth in pairs:
        gt = truth[0]["box"]
        inside = [d for d in found if gt["x"] <= d["box"]["x"] + d["box"]["w"] / 2
                  <= gt["x"] + gt["w"] and gt["y"] <= d["box"]["y"] + d["box"]["h"] / 2
                  <= gt["y"] + gt["h"]]
        wrong += len(found) - len(inside)
        if inside:
            hits += 1
        else:
            misses += 1
    assert hits >= 0.7 * len(pairs), (hits, misses, wrong)
    assert wrong <= 0.1 * max(1, hits), (hits, misses, wrong)
