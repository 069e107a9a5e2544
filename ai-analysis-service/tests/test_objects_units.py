"""Objects without streams: regions, tracker, rules, colour, settings, detector selection,
the ONNX output layouts and the engine with a scripted detector."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argus_analysis.config import Settings
from argus_analysis.detect.face import HaarFaceDetector
from argus_analysis.detect.object_base import Detection, ObjectDetector, ObjectDetectorUnavailable
from argus_analysis.detect.onnx import (
    BlobBuffers,
    OnnxDetector,
    choose_providers,
    letterbox,
    to_blob,
)
from argus_analysis.objects.colour import dominant_colour
from argus_analysis.objects.engine import ObjectEngine, ObjectJob, ObjectOutput
from argus_analysis.objects.regions import plan_regions
from argus_analysis.objects.rules import Rules, crossing
from argus_analysis.objects.select import build_detectors
from argus_analysis.objects.settings import LineRule, ObjectSettings
from argus_analysis.objects.tracker import Seen, Tracker

MODEL = Path(__file__).resolve().parents[1] / "models" / "sim-detector.onnx"
DOOR = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]  # the right half


def test_regions_grow_merge_and_become_the_whole_picture() -> None:
    one = plan_regions([(0.5, 0.5, 0.02, 0.05)], 640, 360)
    assert len(one) == 1
    x, y, w, h = one[0]
    assert w >= 0.4 * 360 - 1 and h >= 0.4 * 360 - 1  # small changes get context
    assert x <= 320 <= x + w and y <= 180 <= y + h
    assert len(plan_regions([(0.1, 0.5, 0.05, 0.1), (0.15, 0.5, 0.05, 0.1)], 640, 360)) == 1
    apart = plan_regions([(0.05, 0.6, 0.05, 0.1), (0.85, 0.6, 0.05, 0.1)], 640, 360)
    assert len(apart) == 2
    assert plan_regions([(0.0, 0.0, 0.9, 0.9)], 640, 360) == [(0, 0, 640, 360)]
    assert plan_regions([], 640, 360) == []
    # A merge can make a region overlap an earlier one that overlapped neither part: the
    # small box below overlaps neither square alone, but their union covers it.
    chain = [(0.5, 0.7, 0.05, 0.05), (0.5, 0.5, 0.2, 0.2), (0.55, 0.55, 0.2, 0.2)]
    assert plan_regions(chain, 1000, 1000, margin=0, min_side=0) == [(500, 500, 250, 250)]


def test_tracker_keeps_ids_confirms_and_ends_tracks() -> None:
    tracker = Tracker("abcd", ttl_s=1.0)
    ids = []
    for i in range(5):  # a person walking right, a little each frame
        matched, ended = tracker.update([Seen("person", 0.9, (0.1 + 0.03 * i, 0.5, 0.06, 0.3))],
                                        100.0 + i * 0.2)
        ids.append(matched[0][0].track_id)
        assert ended == []
    assert ids == ["abcd-1"] * 5
    track = tracker.tracks[0]
    assert track.confirmed and track.hits == 5
    speed, direction, heading = track.motion()
    assert heading == 0.0 and direction == "right" and speed == pytest.approx(0.15, rel=0.05)
    # A vehicle at the same place is another object; a person far away another one.
    matched, _ = tracker.update([Seen("vehicle", 0.8, (0.22, 0.5, 0.2, 0.1)),
                                 Seen("person", 0.7, (0.8, 0.2, 0.06, 0.3))], 101.0)
    assert {t.track_id for t, _ in matched} == {"abcd-2", "abcd-3"}
    _, ended = tracker.update([], 102.5)
    assert {t.track_id for t in ended} == {"abcd-1", "abcd-2", "abcd-3"}
    assert tracker.tracks == []


def test_a_fast_object_is_followed_by_its_centre() -> None:
    tracker = Tracker("f", ttl_s=1.0)
    tracker.update([Seen("vehicle", 0.9, (0.1, 0.7, 0.1, 0.05))], 0.0)
    matched, _ = tracker.update([Seen("vehicle", 0.9, (0.19, 0.7, 0.1, 0.05))], 0.2)  # no overlap
    assert matched[0][0].track_id == "f-1"


def test_colour_names() -> None:
    img = np.zeros((100, 100, 3), np.uint8)
    for bgr, name in [((40, 40, 200), "red"), ((200, 60, 30), "blue"), ((40, 160, 40), "green"),
                      ((40, 210, 230), "yellow"), ((235, 235, 235), "white"), ((20, 20, 20), "black"),
                      ((128, 128, 128), "grey")]:
        img[:] = bgr
        assert dominant_colour(img, (10, 10, 80, 80)) == name
    assert dominant_colour(img, (0, 0, 1, 1)) is None


def _walk(rules: Rules, tracker: Tracker, xs: Sequence[float], t0: float = 0.0,
          label: str = "person", y: float = 0.4) -> list[str]:
    types = []
    for i, x in enumerate(xs):
        matched, _ = tracker.update([Seen(label, 0.9, (x, y, 0.06, 0.3))], t0 + i)
        for track, _det in matched:
            types += [f"{e.type}:{e.extra.get('zone') or e.extra.get('line')}"
                      for e in rules.update(track, t0 + i)]
    return types


def test_zone_enter_dwell_leave_and_labels() -> None:
    settings = ObjectSettings.model_validate({
        "enabled": True, "labels": ["person"],
        "zones": [{"name": "door", "polygon": DOOR, "dwell_s": 2}]})
    rules, tracker = Rules(settings), Tracker("z", ttl_s=5)
    # Walks into the right half, stays 3 s, walks out.
    types = _walk(rules, tracker, [0.2, 0.3, 0.45, 0.6, 0.62, 0.64, 0.66, 0.45])
    assert types == ["object.zone_enter:door", "object.zone_dwell:door", "object.zone_leave:door"]
    # A vehicle is not among the camera's labels.
    assert _walk(rules, Tracker("v", ttl_s=5), [0.2, 0.6, 0.3], label="vehicle") == []
    # A track that ends inside leaves the zone.
    tracker = Tracker("e", ttl_s=5)
    assert _walk(rules, tracker, [0.6, 0.62]) == ["object.zone_enter:door"]
    ended = tracker.end_all()
    assert [e.type for e in rules.end(ended[0], 9.0)] == ["object.zone_leave"]


def test_zone_count_fires_once_above_the_limit() -> None:
    settings = ObjectSettings.model_validate({
        "enabled": True, "zones": [{"name": "yard", "polygon": DOOR, "max_count": 1}]})
    rules, tracker = Rules(settings), Tracker("c", ttl_s=5)
    events = []
    for t in range(4):
        matched, _ = tracker.update([Seen("person", 0.9, (0.6, 0.2, 0.05, 0.3)),
                                     Seen("person", 0.9, (0.8, 0.5, 0.05, 0.3))], float(t))
        for track, _ in matched:
            rules.update(track, float(t))
        events += rules.counts(tracker.tracks, float(t))
    assert [(e.type, e.extra["count"]) for e in events] == [("object.zone_count", 2)]


def test_line_crossing_directions() -> None:
    line = LineRule(name="gate", a=[0.0, 0.5], b=[1.0, 0.5])  # pointing right
    assert crossing(line, (0.5, 0.4), (0.5, 0.6)) == "left_to_right"  # moving down
    assert crossing(line, (0.5, 0.6), (0.5, 0.4)) == "right_to_left"
    assert crossing(line, (0.5, 0.4), (0.6, 0.45)) is None
    short = LineRule(name="g", a=[0.0, 0.5], b=[0.3, 0.5])
    assert crossing(short, (0.5, 0.4), (0.5, 0.6)) is None  # beyond the segment's end
    settings = ObjectSettings.model_validate({"enabled": True, "lines": [
        {"name": "gate", "a": [0.5, 0.0], "b": [0.5, 1.0], "direction": "right_to_left"}]})
    # a -> b points down the picture: facing that way, the left hand is the right half
    # (x > 0.5). Walking right goes from its right side to its left: right_to_left.
    rules = Rules(settings)
    assert _walk(rules, Tracker("l", ttl_s=5), [0.3, 0.4, 0.5, 0.6]) == ["object.line_cross:gate"]
    assert _walk(rules, Tracker("m", ttl_s=5), [0.6, 0.5, 0.4, 0.3]) == []


def test_settings_parse_and_defaults() -> None:
    defaults = ObjectSettings(enabled=True, min_score=0.7)
    assert ObjectSettings.parse(None, defaults) is defaults
    assert ObjectSettings.parse({"enabled": True}).enabled
    assert not ObjectSettings.parse({"enabled": True, "min_score": 3}).enabled  # malformed: off
    assert not ObjectSettings.parse({"enabled": True, "zones": [
        {"name": "a", "polygon": DOOR}, {"name": "a", "polygon": DOOR}]}).enabled


def test_detector_selection_and_start_up_errors(tmp_path: Path) -> None:
    base = {"REDIS_URL": "redis://127.0.0.1:6379/0"}
    detectors, default = build_detectors(Settings(**base))  # type: ignore[arg-type]
    # opencv-python-headless<5 ships the frontal face cascade: faces are there too.
    assert default == "opencv-hog" and set(detectors) == {"opencv-hog", "opencv-face"}
    assert detectors["opencv-face"].labels == ("face",)
    _, default = build_detectors(Settings(**base, ANALYSIS_OBJECT_DETECTOR="opencv-face"))  # type: ignore[arg-type]
    assert default == "opencv-face"
    bad_cascade = tmp_path / "bad.xml"
    bad_cascade.write_text("<opencv_storage></opencv_storage>")
    with pytest.raises(ObjectDetectorUnavailable, match="not a cascade"):
        HaarFaceDetector(bad_cascade)
    with pytest.raises(ObjectDetectorUnavailable, match="ANALYSIS_OBJECT_MODEL"):
        build_detectors(Settings(**base, ANALYSIS_OBJECT_DETECTOR="onnx"))  # type: ignore[arg-type]
    with pytest.raises(ObjectDetectorUnavailable, match=r"ANALYSIS_OBJECT_MODEL=.*no such file"):
        build_detectors(Settings(**base, ANALYSIS_OBJECT_MODEL=str(tmp_path / "x.onnx")))  # type: ignore[arg-type]
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ObjectDetectorUnavailable, match="cannot load"):
        build_detectors(Settings(**base, ANALYSIS_OBJECT_MODEL=str(bad)))  # type: ignore[arg-type]
    detectors, default = build_detectors(Settings(**base, ANALYSIS_OBJECT_MODEL=str(MODEL)))  # type: ignore[arg-type]
    assert default == "onnx" and detectors["onnx"].labels == ("person", "vehicle")
    assert detectors["onnx"].provider == "CPUExecutionProvider"


def test_providers_prefer_tensorrt_then_cuda() -> None:
    gpu = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(gpu) == gpu
    assert choose_providers(["CUDAExecutionProvider", "CPUExecutionProvider"])[0] == \
        "CUDAExecutionProvider"
    assert choose_providers(["AzureExecutionProvider", "CPUExecutionProvider"]) == \
        ["CPUExecutionProvider"]
    with pytest.raises(ObjectDetectorUnavailable, match="ANALYSIS_OBJECT_PROVIDERS"):
        choose_providers(["CPUExecutionProvider"], ["CUDAExecutionProvider"])


def test_the_detector_asks_onnx_runtime_for_tensorrt_and_cuda_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for the GPU this machine does not have (no CUDA or TensorRT build of ONNX
    Runtime runs here): ONNX Runtime is made to report GPU providers, and the session is
    opened through a recorder that opens the real session on the CPU. The detector asks for
    TensorRT, then CUDA, then the CPU, and reports the provider its session runs on."""
    import onnxruntime as ort

    asked: list[list[str]] = []
    real = ort.InferenceSession

    def recorder(path: str, options: Any, providers: Sequence[str]) -> Any:
        asked.append(list(providers))
        return real(path, options, providers=["CPUExecutionProvider"])

    monkeypatch.setattr(ort, "InferenceSession", recorder)
    gpu = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    for available, wanted in ((["CPUExecutionProvider", *gpu[:2]], gpu),
                              (["CUDAExecutionProvider", "CPUExecutionProvider"], gpu[1:]),
                              (["CPUExecutionProvider"], gpu[2:])):
        monkeypatch.setattr(ort, "get_available_providers", lambda a=available: a)
        detector = OnnxDetector(MODEL)
        assert asked.pop() == wanted
        assert detector.provider == "CPUExecutionProvider"  # what the session really runs on


def test_reused_blob_buffers_give_what_fresh_letterboxes_give() -> None:
    """The detector's reused buffers (borders repainted, planes shuffled in place) hold,
    batch after batch of other sizes, exactly the fresh letterbox + blob of each image."""
    rng = np.random.default_rng(3)
    buffers = BlobBuffers((160, 160))
    batches = [[(360, 640), (200, 180)], [(150, 300), (90, 400), (160, 160)], [(400, 120)],
               [(311, 452), (144, 256), (360, 640), (20, 30)]]
    for sizes in batches:
        images = [(rng.random((h, w, 3)) * 255).astype(np.uint8) for h, w in sizes]
        blob, geometry = buffers.fill(images)
        fresh = [letterbox(img, (160, 160)) for img in images]
        assert np.array_equal(blob, to_blob([f[0] for f in fresh]))
        assert geometry == [f[1:] for f in fresh]
    # The planes are RGB: a pure blue picture is 1.0 in the third plane only.
    blob, _ = buffers.fill([np.full((160, 160, 3), (255, 0, 0), np.uint8)])
    assert blob[0, 2].min() == 1.0 and blob[0, :2].max() == 0.0


def test_onnx_output_layouts_decode_to_the_same_boxes() -> None:
    det = OnnxDetector(MODEL)
    assert det.size == (160, 160) and det.max_batch > 1  # dynamic batch
    # Two candidates: a person at (80, 80) 20x60 and a weak vehicle; letterbox scale 0.5,
    # offsets (0, 35): the box maps back to (140, 30, 40, 120).
    obj = np.array([[80, 80, 20, 60, 0.9, 0.95, 0.05], [40, 40, 30, 10, 0.1, 0.1, 0.9]],
                   np.float32)
    found = det._decode(obj, 0.5, 0, 35)
    assert [(d.label, round(d.score, 3)) for d in found] == [("person", 0.855)]
    assert found[0].box == pytest.approx((140, 30, 40, 120))
    det.layout = "yolo"  # [4 + C, N], YOLOv8-style: class scores without objectness
    plain = np.array([[80, 80, 20, 60, 0.9, 0.05], [40, 40, 30, 10, 0.1, 0.15]], np.float32).T
    found = det._decode(plain, 0.5, 0, 35)
    assert [(d.label, d.score) for d in found] == [("person", pytest.approx(0.9))]
    assert found[0].box == pytest.approx((140, 30, 40, 120))


class Scripted(ObjectDetector):
    """Finds a 40 x 120 person in the middle of every region it is given."""

    name = "scripted"
    labels = ("person",)

    def __init__(self) -> None:
        self.batches: list[int] = []

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        self.batches.append(len(images))
        return [[Detection("person", 0.9, (img.shape[1] / 2 - 20, img.shape[0] / 2 - 60,
                                           40.0, 120.0))] for img in images]


def test_engine_batches_cameras_tracks_and_reports() -> None:
    det = Scripted()
    outputs: list[ObjectOutput] = []
    settings = ObjectSettings.model_validate({
        "enabled": True, "zones": [{"name": "door", "polygon": DOOR}]})
    engine = ObjectEngine({"scripted": det}, "scripted", outputs.append, fps=5,
                          instance_id="ana-1")
    image = np.full((360, 640, 3), 90, np.uint8)

    def job(camera: int, t: float, motion: Any) -> ObjectJob:
        return ObjectJob(camera, f"session{camera}", t, image, motion, settings, analysis=t)

    for i in range(4):  # a person walking into the right half on two cameras at once
        x = 250 + i * 40
        engine.process([job(1, 10.0 + i * 0.2, ((x / 640, 100 / 360, 40 / 640, 120 / 360),)),
                        job(2, 10.0 + i * 0.2, ((x / 640, 100 / 360, 40 / 640, 120 / 360),))])
    assert det.batches == [2, 2, 2, 2]  # both cameras' regions in one call
    types = [r.message.type for o in outputs for r in o.reports if o.camera_id == 1]
    assert types == ["object.zone_enter"]
    enter = next(r for o in outputs for r in o.reports if o.camera_id == 1)
    p = enter.message.payload
    assert p["zone"] == "door" and p["label"] == "person" and p["track_id"] == "session1-1"
    assert enter.image is not None and p["analyser"] == "ana-1"
    last = [o for o in outputs if o.camera_id == 1][-1]
    assert last.analysis == pytest.approx(10.6)
    assert last.objects and last.objects[0]["track_id"] == "session1-1"
    assert engine.wants(1, settings, 20.0, motion=False)  # tracked: looked at without motion
    outputs.clear()
    engine.start()
    engine.end_session(1, "session1", 11.0)
    engine.stop()
    reports = [r for o in outputs for r in o.reports]
    assert [r.message.type for r in reports] == ["object.zone_leave", "object.track"]
    summary = reports[1].message.payload
    assert summary["direction"] == "right" and summary["zones"] == ["door"]
    assert summary["hits"] == 4 and len(summary["path"]) == 4 and reports[1].image is not None
    assert reports[1].message.ends_at is not None


def test_two_people_crossing_keep_their_ids() -> None:
    tracker = Tracker("x", ttl_s=1.0)
    ids: dict[str, set[str]] = {"right": set(), "left": set()}
    for i in range(12):  # one walks right, one left, their boxes overlapping mid-way
        t = i * 0.2
        a, b = 0.2 + 0.05 * i, 0.75 - 0.05 * i
        matched, _ = tracker.update([Seen("person", 0.9, (a, 0.40, 0.07, 0.3)),
                                     Seen("person", 0.9, (b, 0.45, 0.07, 0.3))], t)
        ids["right"].add(matched[0][0].track_id)
        ids["left"].add(matched[1][0].track_id)
    assert ids == {"right": {"x-1"}, "left": {"x-2"}}
    assert [t.motion()[1] for t in tracker.tracks] == ["right", "left"]


def test_new_rules_keep_the_state_of_unchanged_zones() -> None:
    door = {"name": "door", "polygon": DOOR}
    rules, tracker = Rules(ObjectSettings.model_validate({"enabled": True, "zones": [door]})), \
        Tracker("k", ttl_s=5)
    assert _walk(rules, tracker, [0.6, 0.62]) == ["object.zone_enter:door"]
    # A line added: the person already inside the door zone does not enter it again.
    rules.configure(ObjectSettings.model_validate({"enabled": True, "zones": [door], "lines": [
        {"name": "gate", "a": [0.0, 0.9], "b": [1.0, 0.9]}]}))
    assert _walk(rules, tracker, [0.64], t0=2.0) == []
    # The zone redrawn: its state starts afresh.
    rules.configure(ObjectSettings.model_validate({"enabled": True, "zones": [
        {"name": "door", "polygon": [[0.4, 0.0], [1.0, 0.0], [1.0, 1.0], [0.4, 1.0]]}]}))
    assert _walk(rules, tracker, [0.66], t0=3.0) == ["object.zone_enter:door"]


class Blobs(ObjectDetector):
    """Stands in for a detector that also fires on still background (as HOG does on lit
    windows): a "person" wherever its crop shows pixels of value 30 (the walker) or 200 (a
    still post), boxed around those pixels."""

    name = "blobs"
    labels = ("person",)

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        out = []
        for img in images:
            found = []
            for value in (30, 200):
                ys, xs = np.nonzero(img[:, :, 0] == value)
                if len(xs):
                    found.append(Detection("person", 0.9, (float(xs.min()), float(ys.min()),
                                                           float(xs.max() - xs.min() + 1),
                                                           float(ys.max() - ys.min() + 1))))
            out.append(found)
        return out


def test_new_tracks_start_only_where_something_moved() -> None:
    outputs: list[ObjectOutput] = []
    settings = ObjectSettings(enabled=True)
    engine = ObjectEngine({"blobs": Blobs()}, "blobs", outputs.append, fps=5)
    walker = []
    for i in range(8):  # walking left, away from a still post at x 560..600
        image = np.full((360, 640, 3), 90, np.uint8)
        image[60:180, 560:600] = 200
        x = 480 - i * 30
        image[40:190, x : x + 60] = 30
        motion = ((x / 640, 40 / 360, 60 / 640, 150 / 360),)  # the region also cuts the post
        engine.process([ObjectJob(1, "s", 10.0 + i * 0.2, image, motion, settings)])
        objects = outputs[-1].objects
        assert objects is not None and len(objects) == 1, objects
        assert objects[0]["box"]["x"] == pytest.approx(x / 640, abs=0.002)
        walker.append(objects[0]["track_id"])
    assert walker == [None] + ["s-1"] * 7  # confirmed on its second detection
    # A tracked object that stops moving is still followed (it matches its track).
    tracker = Tracker("t", ttl_s=1.0)
    here = Seen("person", 0.9, (0.4, 0.3, 0.1, 0.4))
    assert len(tracker.update([here], 0.0, motion=[(0.38, 0.3, 0.14, 0.4)])[0]) == 1
    matched, _ = tracker.update([here, Seen("person", 0.8, (0.8, 0.1, 0.1, 0.4))], 0.2,
                                motion=[])
    assert [(t.track_id, s) for t, s in matched] == [("t-1", here)]
    # Still background beside a track that was not found this time does not take it over
    # by its centre (within one box size, no overlap); a mover there does.
    beside = Seen("person", 0.8, (0.55, 0.3, 0.1, 0.4))
    assert tracker.update([beside], 0.4, motion=[(0.4, 0.3, 0.1, 0.4)])[0] == []
    matched, _ = tracker.update([beside], 0.6, motion=[(0.5, 0.3, 0.2, 0.4)])
    assert [(t.track_id, s) for t, s in matched] == [("t-1", beside)]
    # A plain figure moving slowly changes only its edges: two motion boxes, its centre in
    # neither, in the box around both.
    edges = [(0.2, 0.3, 0.01, 0.4), (0.29, 0.3, 0.01, 0.4)]
    matched, _ = tracker.update([Seen("vehicle", 0.9, (0.2, 0.3, 0.1, 0.4))], 0.8, motion=edges)
    assert [t.track_id for t, _ in matched] == ["t-2"]
