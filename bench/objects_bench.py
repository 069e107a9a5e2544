"""Object detection cost: raw inference against the analyser's whole object path.

    .venv/bin/python bench/objects_bench.py [--cameras 4] [--seconds 6] [--runs 3]
        [--model FILE] [--detectors onnx,opencv-hog] [--compare]

1. Raw inference, one call at a time, with nothing around it: ONNX Runtime's
   ``session.run`` on the committed test model (``models/sim-detector.onnx``, 160 x 160,
   CPU provider, 1 thread) at batch 1, 4 and 8; OpenCV's HOG ``detectMultiScale`` on a
   256-pixel-high region (what ``opencv-hog`` runs per region).
2. The pipeline on real streams: the camera simulator serves ``--cameras`` cameras
   (640 x 360, 10 fps) with people and cars walking through; their frames are decoded
   first (decode excluded), then each time step goes through what a camera worker and the
   object engine do: motion detector -> BGR conversion -> regions -> letterbox -> one
   batched inference for all cameras -> decode + NMS -> tracker -> rules -> event
   payloads. The raw inference inside it (the time spent in ``session.run`` /
   ``detectMultiScale``) is measured in place, so overhead = (object path - raw) / raw.

Times are CPU time of the calling thread (``time.thread_time``; ONNX Runtime and OpenCV
run in it with one thread), so other load on the machine does not inflate them; wall
times are printed too. The best of ``--runs`` is reported (the run with the least engine
time; the BGR conversion, the same frames in every run, at its best run).

``--compare`` runs the ONNX path twice on the same frames, runs interleaved: regions shrunk
by more than half with OpenCV's area averaging (before) and bilinear (now; see
``letterbox_into``).

``--stages`` also prints the CPU time of each stage of the object path (letterbox and
float input, output decoding, region planning, tracker with its colour and sharpness,
rules, event payloads) in the best run, timed by wrapping those functions.

``--model`` runs another model file instead of the test model, e.g. the heavier copy of
it that ``bench/heavy_model.py`` makes (same detections, about 14 ms per region): the
object path's cost is fixed per region and per detection, so its share depends on the
model's.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import cv2
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "ai-analysis-service" / "tests"))

from anastack import CAM_PASSWORD, CAM_USER, start_simulator  # noqa: E402

from argus_analysis.cameras import MotionSettings  # noqa: E402
from argus_analysis.config import OVERLAY_MASK  # noqa: E402
from argus_analysis.detect.hog import HogPeopleDetector  # noqa: E402
from argus_analysis.detect.object_base import ObjectDetector  # noqa: E402
from argus_analysis.detect.onnx import OnnxDetector, letterbox, to_blob  # noqa: E402
from argus_analysis.detect.select import DeviceChoice  # noqa: E402
from argus_analysis.objects.engine import ObjectEngine, ObjectJob  # noqa: E402
from argus_analysis.objects.settings import ObjectSettings  # noqa: E402
from argus_analysis.pipeline import AnalysisParams, Analyzer  # noqa: E402
from argus_common.media import with_userinfo  # noqa: E402

MODEL = ROOT / "ai-analysis-service" / "models" / "sim-detector.onnx"
W, H, FPS = 640, 360, 10


def cpu(fn: Any, *args: Any) -> tuple[float, float, Any]:
    """``(thread CPU s, wall s, result)`` of one call."""
    c0, w0 = time.thread_time(), time.perf_counter()
    out = fn(*args)
    return time.thread_time() - c0, time.perf_counter() - w0, out


def raw_onnx(runs: int, model: Path) -> dict[int, float]:
    """Best CPU ms per ``session.run`` call at batch 1, 4, 8."""
    det = OnnxDetector(model)
    rng = np.random.default_rng(1)
    crop = (rng.random((200, 180, 3)) * 255).astype(np.uint8)
    canvas = letterbox(crop, det.size)[0]
    out = {}
    for batch in (1, 4, 8):
        feed = {det.input_name: to_blob([canvas] * batch)}
        det.session.run(None, feed)  # warm up
        times = [cpu(det.session.run, None, feed)[0] for _ in range(max(5, runs * 10 // batch))]
        out[batch] = min(times) * 1000
    return out


def raw_hog(runs: int) -> float:
    """Best CPU ms per ``detectMultiScale`` on a 256-pixel-high region."""
    hog = HogPeopleDetector()
    img = (np.random.default_rng(2).random((256, 220, 3)) * 255).astype(np.uint8)
    times = [cpu(hog._hog.detectMultiScale, img, hog.hit_threshold, (8, 8), (8, 8),
                 hog.scale)[0] for _ in range(max(5, runs * 3))]
    return min(times) * 1000


class Timed:
    """Wraps a callable (``session.run``, ``detectMultiScale``): CPU time and calls."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.cpu = 0.0
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        c0 = time.thread_time()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.cpu += time.thread_time() - c0
            self.calls += 1


def record(rtsp: int, cameras: int, frames: int) -> list[list[av.VideoFrame]]:
    """``frames`` decoded frames of each camera's stream, read at the same time."""
    out: list[list[av.VideoFrame]] = [[] for _ in range(cameras)]

    def read(i: int) -> None:
        url = with_userinfo(f"rtsp://127.0.0.1:{rtsp}/cam{i + 1}/main", CAM_USER, CAM_PASSWORD)
        with av.open(url, options={"rtsp_transport": "tcp"}, timeout=10) as container:
            for frame in container.decode(video=0):
                out[i].append(frame)
                if len(out[i]) >= frames:
                    break

    threads = [threading.Thread(target=read, args=(i,)) for i in range(cameras)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def pipeline(streams: list[list[av.VideoFrame]], detector: ObjectDetector,
             raw: Timed) -> dict[str, float]:
    """The object path over the recorded frames; CPU seconds by stage."""
    params = AnalysisParams(
        detector=MotionSettings(enabled=True).detector_config("diff", 0.15, [OVERLAY_MASK]),
        start_frames=3, end_quiet_s=1.0, max_width=W, downscale="stride")
    analyzers = [Analyzer(DeviceChoice("cpu", "opencv", "bench"), params) for _ in streams]
    outputs: list[Any] = []
    engine = ObjectEngine({detector.name: detector}, detector.name, outputs.append, fps=5,
                          max_batch=16)
    settings = ObjectSettings.model_validate({
        "enabled": True, "min_score": 0.5,
        "zones": [{"name": "right", "polygon": [[0.5, 0.3], [1, 0.3], [1, 1], [0.5, 1]]}],
        "lines": [{"name": "mid", "a": [0.5, 0.3], "b": [0.5, 1.0]}]})
    motion_cpu = convert_cpu = engine_cpu = engine_wall = 0.0
    jobs_total = 0
    for step in range(min(len(s) for s in streams)):
        jobs = []
        for cam, (frames, analyzer) in enumerate(zip(streams, analyzers, strict=True)):
            frame = frames[step]
            wall = 1_000_000.0 + step / FPS
            c, _, a = cpu(analyzer.process, frame, step / FPS, wall)
            motion_cpu += c
            if engine.wants(cam, settings, wall, a.result.motion):
                c, _, image = cpu(lambda f=frame, a=a: f.reformat(
                    width=a.width, height=a.height, format="bgr24").to_ndarray())
                convert_cpu += c
                jobs.append(ObjectJob(cam, f"s{cam}", wall, image, a.result.boxes, settings, a))
        if jobs:
            for job in jobs:
                engine._due[job.camera_id] = job.wall + engine.interval_s * 0.9
            c, w, _ = cpu(engine.process, jobs)
            engine_cpu += c
            engine_wall += w
            jobs_total += len(jobs)
    regions = sum(1 for o in outputs if o.objects is not None)
    detections = sum(len(o.objects or []) for o in outputs)
    return {"motion_cpu": motion_cpu, "convert_cpu": convert_cpu, "engine_cpu": engine_cpu,
            "engine_wall": engine_wall, "raw_cpu": raw.cpu, "raw_calls": raw.calls,
            "jobs": jobs_total, "frames_with_detection": regions, "detections": detections,
            "events": sum(len(o.reports) for o in outputs)}


STAGES = (  # (module, attribute, shown as); functions looked up where the engine calls them
    ("argus_analysis.detect.onnx", "BlobBuffers.fill", "letterbox + float input"),
    ("argus_analysis.detect.onnx", "OnnxDetector._decode_batch", "output decoding + NMS"),
    ("argus_analysis.objects.engine", "plan_regions", "region planning"),
    ("argus_analysis.objects.engine", "ObjectEngine._track", "tracking, rules, payloads"),
    ("argus_analysis.objects.tracker", "Tracker.update", "  tracker"),
    ("argus_analysis.objects.tracker", "dominant_colour", "    colour"),
    ("argus_analysis.objects.tracker", "_quality", "    sharpness (snapshot)"),
    ("argus_analysis.objects.engine", "event_report", "  event payloads"),
)


def time_stages(spent: dict[str, float]) -> None:
    """Wrap the ``STAGES`` functions: their thread CPU time adds up in ``spent``."""
    for module, attr, shown in STAGES:
        owner: Any = sys.modules[module]
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        fn = getattr(owner, name)

        def timed(*args: Any, _fn: Any = fn, _shown: str = shown, **kwargs: Any) -> Any:
            c0 = time.thread_time()
            try:
                return _fn(*args, **kwargs)
            finally:
                spent[_shown] = spent.get(_shown, 0.0) + time.thread_time() - c0

        setattr(owner, name, timed)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--model", type=Path, default=MODEL)
    ap.add_argument("--detectors", default="onnx,opencv-hog")
    ap.add_argument("--compare", action="store_true",
                    help="ONNX: area-averaged against bilinear shrinking, side by side")
    ap.add_argument("--stages", action="store_true", help="CPU time of each stage too")
    args = ap.parse_args()
    spent: dict[str, float] = {}
    if args.stages:
        time_stages(spent)
    detectors = args.detectors.split(",")
    cv2.setNumThreads(1)
    machine = platform.processor() or platform.machine()
    print(f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()}")
    print("raw inference (CPU ms per call, best):")
    if "onnx" in detectors:
        for batch, ms in raw_onnx(args.runs, args.model).items():
            print(f"  onnx {args.model.name} batch {batch}: {ms:.2f} ms/call, "
                  f"{ms / batch:.2f} ms/region")
    if "opencv-hog" in detectors:
        print(f"  opencv-hog 256-px region: {raw_hog(args.runs):.1f} ms/call")

    sim, rtsp, control = start_simulator(args.cameras, "--resolution", f"{W}x{H}",
                                         "--sub-resolution", "320x180", "--fps", str(FPS))
    try:
        with httpx.Client(timeout=10) as client:
            for i in range(1, args.cameras + 1):
                client.post(f"http://127.0.0.1:{control}/objects/cam{i}", json={"objects": [
                    {"label": "person", "start": [0.1, 0.62], "end": [0.9, 0.62],
                     "speed": 0.12, "repeat": "bounce", "color": "red"},
                    {"label": "vehicle", "start": [0.9, 0.86], "end": [0.1, 0.86],
                     "speed": 0.2, "repeat": "bounce", "color": "blue"},
                    {"label": "person", "appearance": "photo", "start": [0.8, 0.55],
                     "end": [0.3, 0.55], "speed": 0.05, "repeat": "bounce", "size": 0.5},
                ]}).raise_for_status()
        streams = record(rtsp, args.cameras, int(args.seconds * FPS))
    finally:
        sim.stop()
    print(f"recorded {sum(len(s) for s in streams)} frames of {args.cameras} cameras")
    variants: list[tuple[str, str, int]] = []  # (shown as, detector, shrink interpolation)
    for name in detectors:
        if name == "onnx" and args.compare:
            variants += [("onnx (area shrink)", name, cv2.INTER_AREA),
                         ("onnx (bilinear shrink)", name, cv2.INTER_LINEAR)]
        else:
            variants.append((name, name, cv2.INTER_LINEAR))
    bests: dict[str, dict[str, float]] = {}
    converts: dict[str, float] = {}  # the same frames every run: the best BGR conversion
    for _ in range(args.runs):
        for shown, name, shrink in variants:  # interleaved: load changes hit every variant
            if name == "onnx":
                det: ObjectDetector = OnnxDetector(args.model)
                det._buffers.shrink = shrink  # type: ignore[attr-defined]
                raw = Timed(det.session.run)
                det.session = type("S", (), {"run": raw})()  # type: ignore[assignment]
            else:
                hog_det = HogPeopleDetector()
                raw = Timed(hog_det._hog.detectMultiScale)
                hog_det._hog = type("H", (), {"detectMultiScale": raw})()  # type: ignore[assignment]
                det = hog_det
            spent.clear()
            r = pipeline(streams, det, raw)
            r.update({f"stage:{k}": v for k, v in spent.items()})
            converts[shown] = min(converts.get(shown, float("inf")), r["convert_cpu"])
            if shown not in bests or r["engine_cpu"] < bests[shown]["engine_cpu"]:
                bests[shown] = r
    for shown, _, _ in variants:
        best = bests[shown]
        best["convert_cpu"] = converts[shown]
        path = best["engine_cpu"] + best["convert_cpu"]
        overhead = (path - best["raw_cpu"]) / best["raw_cpu"] * 100 if best["raw_cpu"] else 0.0
        per_call = best["raw_cpu"] / max(1, best["raw_calls"]) * 1000
        print(f"pipeline {shown}: {best['jobs']:.0f} frames to the detector, "
              f"{best['raw_calls']:.0f} raw calls ({per_call:.2f} ms each), "
              f"{best['detections']:.0f} detections, {best['events']:.0f} events")
        print(f"  CPU: raw inference {best['raw_cpu'] * 1000:.0f} ms, object path "
              f"{path * 1000:.0f} ms (BGR {best['convert_cpu'] * 1000:.0f}, engine "
              f"{best['engine_cpu'] * 1000:.0f}; wall {best['engine_wall'] * 1000:.0f}) -> "
              f"overhead {overhead:.1f} % over raw; per detection "
              f"{path / max(1, best['detections']) * 1000:.2f} ms")
        for _, _, stage in STAGES:
            if f"stage:{stage}" in best:
                print(f"  {stage}: {best[f'stage:{stage}'] * 1000:.1f} ms")
        print(f"  motion detector (gating, not in the overhead): "
              f"{best['motion_cpu'] * 1000 / sum(len(s) for s in streams):.2f} ms/frame")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
