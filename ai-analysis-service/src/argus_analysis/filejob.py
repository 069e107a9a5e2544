"""The thread side of an analysis job: decode files, analyse every frame in the range.

A recorded segment's frames get wall-clock times from the segment's start in the index
plus their media time; an upload's from the job's creation time. Frames before the range
are decoded (later frames refer to them) but not analysed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from argus_analysis.detect.base import NO_MOTION
from argus_analysis.detect.select import DeviceChoice
from argus_analysis.pipeline import AnalysisParams, Analyzer, FrameAnalysis
from argus_analysis.source import DecoderOptions, SourceError, open_source
from argus_analysis.worker import Output
from argus_common.events import AnalysisJobRequest

log = structlog.get_logger("argus.analysis.filejob")


class JobFailed(Exception):
    """The job cannot complete; ``reason`` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class JobInput:
    """One file: ``base_wall`` is the capture time of its first frame; ``lo``/``hi``
    bound the analysed range (epoch s); ``span_s`` its length when known up front."""

    path: Path
    base_wall: float
    lo: float | None = None
    hi: float | None = None
    span_s: float | None = None


class JobProgress:
    """Counters written by the job's thread and read by the loop (plain attributes: each
    write is atomic under the GIL)."""

    def __init__(self) -> None:
        self.total_s = 0.0
        self.done_s = 0.0
        self.frames = 0
        self.motion_frames = 0
        self.events = 0
        self.files_failed = 0

    def fraction(self) -> float:
        if self.total_s <= 0:
            return 0.0
        return round(min(0.99, self.done_s / self.total_s), 4)

    def counts(self) -> dict[str, int]:
        return {"frames": self.frames, "motion_frames": self.motion_frames,
                "events": self.events}


def _overlap(inp: JobInput) -> float:
    if inp.span_s is None:
        return 0.0
    start, end = inp.base_wall, inp.base_wall + inp.span_s
    if inp.lo is not None:
        start = max(start, inp.lo)
    if inp.hi is not None:
        end = min(end, inp.hi)
    return max(0.0, end - start)


def analyse_inputs(
    req: AnalysisJobRequest, inputs: list[JobInput], choice: DeviceChoice,
    params: AnalysisParams, decoder: DecoderOptions, sink: Callable[[Output], None],
    progress: JobProgress, stop: threading.Event,
) -> None:
    """Analyse ``inputs`` in order as one session (``req.job_id``); raises ``JobFailed``."""
    analyzer = Analyzer(choice, params)
    progress.total_s = sum(_overlap(i) for i in inputs)
    done_before = 0.0
    last: FrameAnalysis | None = None
    for inp in inputs:
        try:
            source = open_source(str(inp.path), live=False, decoder=decoder)
        except SourceError as exc:
            progress.files_failed += 1
            log.warning("job_file_unreadable", job_id=req.job_id, reason=exc.reason)
            continue
        if inp.span_s is None and source.duration_s:
            progress.total_s += source.duration_s  # an upload: its length is known now
        first: float | None = None
        try:
            for decoded in source.frames():
                if stop.is_set():
                    raise JobFailed("interrupted: the analyser stopped")
                if first is None:
                    first = decoded.media_s
                wall = inp.base_wall + (decoded.media_s - first)
                if inp.lo is not None and wall < inp.lo:
                    continue
                if inp.hi is not None and wall > inp.hi:
                    break
                last = analyzer.process(decoded.frame, decoded.media_s, wall)
                _count(progress, last)
                sink(Output(req.camera_id, req.job_id, last, last.transition, job=True))
                progress.done_s = done_before + max(
                    0.0, wall - max(inp.base_wall, inp.lo or inp.base_wall)
                )
        except SourceError as exc:
            progress.files_failed += 1
            log.warning("job_file_broken", job_id=req.job_id, reason=exc.reason)
        finally:
            source.close()
        done_before += _overlap(inp) if inp.span_s is not None else (
            source.duration_s or 0.0
        )
        progress.done_s = done_before
    if last is None:
        raise JobFailed("no frame could be decoded in the range")
    ended = analyzer.stop(last.wall)
    if ended is not None:
        final = FrameAnalysis(last.wall, last.media_s, last.width, last.height, NO_MOTION, ended)
        sink(Output(req.camera_id, req.job_id, final, ended, job=True))


def _count(progress: JobProgress, analysis: FrameAnalysis) -> None:
    progress.frames += 1
    if analysis.result.motion:
        progress.motion_frames += 1
    if analysis.transition is not None and analysis.transition.kind == "start":
        progress.events += 1
