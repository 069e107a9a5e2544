"""The object engine: one thread that runs the detector for every camera, in batches.

Camera workers hand it a frame (BGR, the analysed size) with its motion boxes when the
camera has motion or live tracks and its detection interval (``ANALYSIS_OBJECT_FPS``) has
passed. Each camera has at most one frame waiting: a newer one replaces it (counted as
dropped), so a slow detector lags by one frame per camera, never by a growing queue.
The thread takes everything waiting, cuts the regions (``regions.py``), runs each
detector once over the regions of all those cameras, then per camera: tracker, rules,
and one ``ObjectOutput`` to the loop (the frame's detections, the events to report).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import structlog

from argus_analysis.detect.object_base import Detection, ObjectDetector, nms
from argus_analysis.metrics import (
    OBJECT_DROPPED,
    OBJECT_INFERENCE_S,
    OBJECT_INFERENCES,
    OBJECT_QUEUE,
    OBJECT_REGIONS,
    OBJECT_TRACKS,
)
from argus_analysis.objects.regions import NormBox, plan_regions
from argus_analysis.objects.report import ObjectReport, event_report, track_report
from argus_analysis.objects.rules import Rules
from argus_analysis.objects.settings import ObjectSettings
from argus_analysis.objects.tracker import Seen, Track, Tracker

log = structlog.get_logger("argus.analysis.objects")


@dataclass
class ObjectJob:
    """A frame for the detector. ``analysis`` is the worker's ``FrameAnalysis`` (its
    results are published with the detections)."""

    camera_id: int
    session_id: str
    wall: float
    image: np.ndarray
    motion: tuple[NormBox, ...]
    settings: ObjectSettings
    analysis: Any = None
    end: bool = False  # the session ended: close its tracks


@dataclass
class ObjectOutput:
    """What the engine hands to the loop for one job."""

    camera_id: int
    session_id: str
    analysis: Any
    objects: list[dict[str, Any]] | None  # None: the detector did not run on this frame
    reports: list[ObjectReport] = field(default_factory=list)


@dataclass
class _Camera:
    session_id: str
    tracker: Tracker
    rules: Rules
    detector: str = ""


class ObjectEngine:
    """Detection, tracking and rules for every camera of this analyser."""

    def __init__(
        self, detectors: dict[str, ObjectDetector], default: str,
        sink: Callable[[ObjectOutput], None], *, fps: float = 5.0, ttl_s: float = 2.0,
        max_batch: int = 16, instance_id: str = "", defaults: ObjectSettings | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        self.defaults = defaults if defaults is not None else ObjectSettings()
        self._settings: dict[int, tuple[Any, ObjectSettings]] = {}
        self.detectors = detectors
        self.default = default
        self.sink = sink
        self.interval_s = 1.0 / fps if fps > 0 else 0.0
        self.ttl_s = ttl_s
        self.max_batch = max_batch
        self.instance_id = instance_id
        self._pending: dict[int, ObjectJob] = {}
        self._ends: list[ObjectJob] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._due: dict[int, float] = {}
        self._tracking: dict[int, bool] = {}
        self._cameras: dict[int, _Camera] = {}
        self._thread = threading.Thread(target=self._run, name="objects", daemon=True)
        self.busy_s = 0.0  # time spent in detector calls (bench, status)
        self.calls = 0
        # Held around each detector call: an engine that shares its detectors with another
        # (backfill analysis) shares this lock, since a detector serves one thread at a time.
        self.lock = lock if lock is not None else threading.Lock()

    # -- worker side (any thread) --------------------------------------------------------
    def settings_for(self, camera: Any) -> ObjectSettings:
        """A camera's object settings (``analysis.objects``, else the defaults), parsed
        once per camera object (a changed camera is a new object)."""
        cached = self._settings.get(camera.id)
        if cached is not None and cached[0] is camera:
            return cached[1]
        parsed = ObjectSettings.parse(camera.objects, self.defaults)
        self._settings[camera.id] = (camera, parsed)
        return parsed

    def wants(self, camera_id: int, settings: ObjectSettings, wall: float, motion: bool) -> bool:
        """Whether this camera's frame at ``wall`` should go to the detector."""
        if not settings.enabled or not (motion or self._tracking.get(camera_id)):
            return False
        return wall >= self._due.get(camera_id, 0.0)

    def submit(self, job: ObjectJob) -> None:
        """Queue a frame; a frame of the same camera still waiting is dropped."""
        self._due[job.camera_id] = job.wall + self.interval_s * 0.9
        with self._cond:
            old = self._pending.get(job.camera_id)
            self._pending[job.camera_id] = job
            OBJECT_QUEUE.set(len(self._pending))
            self._cond.notify()
        if old is not None:
            OBJECT_DROPPED.labels(str(job.camera_id)).inc()
            self.sink(ObjectOutput(old.camera_id, old.session_id, old.analysis, None))

    def process_now(self, job: ObjectJob) -> None:
        """Detect, track and apply the rules on ``job`` in the calling thread (an engine
        whose thread is not started: backfill analysis); outputs go to the sink."""
        self._due[job.camera_id] = job.wall + self.interval_s * 0.9
        self.process([job])

    def finish_now(self, camera_id: int, session_id: str, wall: float) -> None:
        """End a session's tracks in the calling thread (see ``process_now``)."""
        self._end(camera_id, session_id, wall)

    def end_session(self, camera_id: int, session_id: str, wall: float) -> None:
        """The camera's stream ended: its tracks end (zone leaves, track summaries)."""
        with self._cond:
            self._ends.append(ObjectJob(camera_id, session_id, wall, np.zeros((1, 1, 3), np.uint8),
                                        (), ObjectSettings(), end=True))
            self._cond.notify()

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Finish what is queued (ends included), then stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._pending or self._ends or self._stopping):
                    self._cond.wait(1.0)
                jobs, self._pending = list(self._pending.values()), {}
                ends, self._ends = self._ends, []
                stopping = self._stopping
                OBJECT_QUEUE.set(0)
            try:
                self.process(jobs)
                for end in ends:
                    self._end(end.camera_id, end.session_id, end.wall)
            except Exception:
                log.exception("object_detection_failed")
                for job in jobs:
                    self.sink(ObjectOutput(job.camera_id, job.session_id, job.analysis, None))
            if stopping and not self._pending and not self._ends:
                return

    # -- the work (engine thread; ``process`` is public for the benchmark) ---------------
    def detector_for(self, settings: ObjectSettings) -> str:
        name = settings.detector if settings.detector != "auto" else self.default
        return name if name in self.detectors else self.default

    def process(self, jobs: list[ObjectJob]) -> None:
        """Detect on the regions of ``jobs`` (one batch per detector), then track."""
        plans: list[tuple[ObjectJob, list[tuple[int, int, int, int]]]] = []
        for job in jobs:
            cam = self._camera(job)
            h, w = job.image.shape[:2]
            plans.append((job, plan_regions([*job.motion, *cam.tracker.boxes()], w, h)))
        found: dict[int, list[list[Detection]]] = {}
        by_detector: dict[str, list[int]] = {}
        for i, (job, _) in enumerate(plans):
            by_detector.setdefault(self.detector_for(job.settings), []).append(i)
        for name, idxs in by_detector.items():
            crops = [plans[i][0].image[y : y + rh, x : x + rw]
                     for i in idxs for (x, y, rw, rh) in plans[i][1]]
            results = self._infer(name, crops) if crops else []
            at = 0
            for i in idxs:
                n = len(plans[i][1])
                found[i], at = results[at : at + n], at + n
        for i, (job, regions) in enumerate(plans):
            self._track(job, regions, found.get(i, []))

    def _infer(self, name: str, crops: list[np.ndarray]) -> list[list[Detection]]:
        detector = self.detectors[name]
        results: list[list[Detection]] = []
        for start in range(0, len(crops), self.max_batch):
            chunk = crops[start : start + self.max_batch]
            with self.lock:
                t0 = time.perf_counter()
                results.extend(detector.detect_batch(chunk))
                spent = time.perf_counter() - t0
            self.busy_s += spent
            self.calls += 1
            OBJECT_INFERENCE_S.labels(name).observe(spent)
            OBJECT_INFERENCES.labels(name).inc()
            OBJECT_REGIONS.labels(name).inc(len(chunk))
        return results

    def _camera(self, job: ObjectJob) -> _Camera:
        cam = self._cameras.get(job.camera_id)
        if cam is not None and cam.session_id != job.session_id:
            self._end(job.camera_id, cam.session_id, job.wall)
            cam = None
        if cam is None:
            cam = self._cameras[job.camera_id] = _Camera(
                job.session_id, Tracker(job.session_id[:8], self.ttl_s), Rules(job.settings))
        elif cam.rules.settings != job.settings:
            cam.rules.configure(job.settings)
        cam.detector = self.detector_for(job.settings)
        return cam

    def _track(self, job: ObjectJob, regions: list[tuple[int, int, int, int]],
               found: list[list[Detection]]) -> None:
        cam = self._cameras[job.camera_id]
        h, w = job.image.shape[:2]
        s = job.settings
        placed: list[Detection] = []
        for (rx, ry, _, _), dets in zip(regions, found, strict=True):
            for d in dets:
                if d.score < s.min_score or not s.wants(d.label):
                    continue
                bx, by, bw, bh = d.box
                x0, y0 = max(0.0, bx + rx), max(0.0, by + ry)
                x1, y1 = min(float(w), bx + bw + rx), min(float(h), by + bh + ry)
                if x1 - x0 < 2 or y1 - y0 < 2:
                    continue
                placed.append(Detection(d.label, d.score, (x0, y0, x1 - x0, y1 - y0)))
        # Regions may overlap: one object found in two of them is one detection.
        seen = [Seen(d.label, d.score, (round(d.box[0] / w, 4), round(d.box[1] / h, 4),
                                        round(d.box[2] / w, 4), round(d.box[3] / h, 4)))
                for d in (nms(placed) if len(regions) > 1 else placed)]
        matched, ended = cam.tracker.update(seen, job.wall, job.image, job.motion)
        reports: list[ObjectReport] = []
        objects = []
        for track, det in matched:
            for ev in cam.rules.update(track, job.wall):
                reports.append(event_report(job.camera_id, cam.session_id, ev, job.image, w, h,
                                            cam.detector, self.instance_id))
            if det is not None:
                objects.append({
                    "track_id": track.track_id if track.confirmed else None,
                    "label": track.label, "score": det.score,
                    "box": dict(zip("xywh", det.box, strict=True)), "color": track.colour,
                })
        for ev in cam.rules.counts(cam.tracker.tracks, job.wall):
            reports.append(event_report(job.camera_id, cam.session_id, ev, job.image, w, h,
                                        cam.detector, self.instance_id))
        reports.extend(self._finish(job.camera_id, cam, ended, job.wall, (w, h)))
        self._tracking[job.camera_id] = bool(cam.tracker.tracks)
        OBJECT_TRACKS.labels(str(job.camera_id)).set(len(cam.tracker.tracks))
        self.sink(ObjectOutput(job.camera_id, job.session_id, job.analysis, objects, reports))

    def _finish(self, camera_id: int, cam: _Camera, ended: list[Track], wall: float,
                size: tuple[int, int]) -> list[ObjectReport]:
        reports = []
        for track in ended:
            if not track.confirmed:
                continue
            for ev in cam.rules.end(track, wall):
                reports.append(event_report(camera_id, cam.session_id, ev, None, *size,
                                            cam.detector, self.instance_id))
            reports.append(track_report(camera_id, cam.session_id, track, size, cam.detector,
                                        self.instance_id))
        return reports

    def _end(self, camera_id: int, session_id: str, wall: float) -> None:
        cam = self._cameras.get(camera_id)
        if cam is None or cam.session_id != session_id:
            return
        del self._cameras[camera_id]
        self._tracking.pop(camera_id, None)
        OBJECT_TRACKS.labels(str(camera_id)).set(0)
        size = (0, 0)
        ended = cam.tracker.end_all()
        if ended and ended[0].best_frame is not None:
            size = (ended[0].best_frame.shape[1], ended[0].best_frame.shape[0])
        reports = self._finish(camera_id, cam, ended, wall, size)
        if reports:
            self.sink(ObjectOutput(camera_id, session_id, None, None, reports))
