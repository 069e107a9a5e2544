"""The thread side of a backfill analysis: one backfilled segment file, decoded faster than
real time but at a bounded share of one core, through the camera's motion analyser and
the object engine. Frames get their true capture times (the segment's start in the index
plus their media time), so what is found lands at the moment it happened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from argus_analysis.detect.base import NO_MOTION
from argus_analysis.detect.select import DeviceChoice
from argus_analysis.objects.engine import ObjectEngine, ObjectJob, ObjectOutput
from argus_analysis.objects.report import ObjectReport
from argus_analysis.objects.settings import ObjectSettings
from argus_analysis.pipeline import AnalysisParams, Analyzer, FrameAnalysis
from argus_analysis.reporter import MotionReport
from argus_analysis.source import DecoderOptions, SourceError, open_source

log = structlog.get_logger("argus.analysis.backfill")
EngineFactory = Callable[[Callable[[ObjectOutput], None]], ObjectEngine]

THROTTLE_SLICE_S = 0.1  # CPU seconds of work, then a pause for the rest of the share


@dataclass(frozen=True)
class BackfillSegment:
    """A backfilled segment file of ``camera_id`` whose first frame was captured at
    ``start`` (epoch s)."""

    camera_id: int
    path: Path
    start: float


@dataclass
class BackfillFound:
    """What the analysis of one segment found, in time order per kind."""

    motion: list[MotionReport] = field(default_factory=list)
    objects: list[ObjectReport] = field(default_factory=list)
    frames: int = 0  # decoded
    analysed: int = 0
    media_s: float = 0.0
    busy_s: float = 0.0  # CPU time of the analysing thread (decode included)


class Throttle:
    """Keeps the calling thread's CPU time to ``share`` of the wall time: after each slice
    of CPU work it sleeps until ``cpu / share`` has passed since the slice began (decoding
    runs in this thread: one decoder thread, no frame threads). CPU time, not wall time:
    on a loaded machine the thread is not slowed down further for waiting its turn."""

    def __init__(self, share: float, stop: threading.Event) -> None:
        self.share = share
        self.stop = stop
        self.busy_s = 0.0  # CPU seconds of this thread
        self._cpu = time.thread_time()
        self._wall = time.perf_counter()

    def tick(self) -> None:
        cpu = time.thread_time() - self._cpu
        if cpu < THROTTLE_SLICE_S:
            return
        self.busy_s += cpu
        wait = cpu / self.share - (time.perf_counter() - self._wall)
        if wait > 0:
            self.stop.wait(wait)
        self._cpu, self._wall = time.thread_time(), time.perf_counter()

    def done(self) -> None:
        self.busy_s += time.thread_time() - self._cpu


class Interrupted(Exception):
    """The analyser is stopping: the segment is left for another try."""


def analyse_segment(
    segment: BackfillSegment,
    session_id: str,
    choice: DeviceChoice,
    params: AnalysisParams,
    make_engine: EngineFactory | None,
    objects: ObjectSettings,
    *,
    fps: float,
    cpu_share: float,
    stop: threading.Event,
) -> BackfillFound:
    """Analyse ``segment`` as one session (an object engine of its own, driven from this
    thread, when ``make_engine`` is given and the camera has objects on); raises
    ``SourceError`` when it cannot be read and ``Interrupted`` when ``stop`` is set."""
    found = BackfillFound()
    analyzer = Analyzer(choice, params)
    interval = 1.0 / fps
    due = float("-inf")
    first: float | None = None
    last: FrameAnalysis | None = None
    collected: list[ObjectOutput] = []
    engine = make_engine(collected.append) if make_engine and objects.enabled else None
    throttle = Throttle(cpu_share, stop)
    source = open_source(str(segment.path), live=False, decoder=DecoderOptions(threads=1))
    try:
        for decoded in source.frames():
            if stop.is_set():
                raise Interrupted
            found.frames += 1
            if first is None:
                first = decoded.media_s
            found.media_s = decoded.media_s - first
            wall = segment.start + found.media_s
            throttle.tick()
            if wall < due:
                continue  # decoded (later frames need it), not analysed
            due = wall + interval * 0.9
            last = analyzer.process(decoded.frame, decoded.media_s, wall)
            found.analysed += 1
            t = last.transition
            if t is not None:
                frame = decoded.frame if t.kind == "start" else None
                found.motion.append(
                    MotionReport(
                        segment.camera_id,
                        session_id,
                        t,
                        last.result,
                        last.width,
                        last.height,
                        frame,
                    )
                )
            if engine is not None and engine.wants(
                segment.camera_id, objects, wall, last.result.motion
            ):
                image = decoded.frame.reformat(
                    width=last.width, height=last.height, format="bgr24"
                ).to_ndarray()
                engine.process_now(
                    ObjectJob(
                        segment.camera_id, session_id, wall, image, last.result.boxes, objects, last
                    )
                )
    finally:
        source.close()
        throttle.done()
        found.busy_s = throttle.busy_s
    if last is not None:
        ended = analyzer.stop(last.wall)
        if ended is not None:
            found.motion.append(
                MotionReport(
                    segment.camera_id, session_id, ended, NO_MOTION, last.width, last.height
                )
            )
        if engine is not None:
            engine.finish_now(segment.camera_id, session_id, last.wall)
    elif found.frames == 0:
        raise SourceError("empty", "no frame could be decoded")
    found.objects = [r for out in collected for r in out.reports]
    return found
