"""Motion events to management: ``motion.start`` (with its snapshot) and ``motion.end``.

Each camera's events go out in order through its own queue, so an end is posted only
after its start was stored and carries the start's id (``payload.start_event_id``).
The start is posted first and the snapshot after it: the alert does not wait for the
JPEG. A message id is reused on every retry, so a retried event is stored once.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import structlog

from argus_analysis.camera_queues import CameraQueues
from argus_analysis.detect.base import MotionResult
from argus_analysis.detect.debounce import Transition
from argus_analysis.management import AnalysisManagement
from argus_analysis.metrics import DECODE_TO_EVENT, EVENTS, FRAME_TO_EVENT
from argus_analysis.results import to_datetime
from argus_analysis.snapshot import encode_jpeg
from argus_common.events import EventMessage

log = structlog.get_logger("argus.analysis.reporter")

QUEUE_MAX = 100


def _given_id(report: MotionReport) -> dict[str, str]:
    return {"id": report.message_id} if report.message_id else {}


@dataclass
class MotionReport:
    """One transition to report, with what it needs."""

    camera_id: int
    session_id: str
    transition: Transition
    result: MotionResult
    width: int
    height: int
    frame: Any = None
    decode_in: float = 0.0
    submitted: float = 0.0  # when the loop took it from the worker (epoch s)
    message_id: str | None = None  # None: a fresh one (backfill: derived, so a re-run dedups)


class EventReporter(CameraQueues[MotionReport]):
    """Posts the motion events of every camera, in order per camera."""

    def __init__(
        self, management: AnalysisManagement, instance_id: str, snapshot_quality: int,
        snapshot_max_width: int, extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(management, "motion", QUEUE_MAX, log)
        self.extra = extra or {}  # added to every payload (backfill analysis: backfill true)
        self.instance_id = instance_id
        self.snapshot_quality = snapshot_quality
        self.snapshot_max_width = snapshot_max_width
        self.current: dict[int, int] = {}  # camera -> id of its motion.start in progress

    def submit(self, report: MotionReport) -> None:
        """Queue a transition (called on the loop); never blocks."""
        report.submitted = time.time()
        self._enqueue(report.camera_id, report, kind=report.transition.kind)

    async def _handle(self, report: MotionReport) -> None:
        if report.transition.kind == "start":
            await self._start(report)
        else:
            await self._end(report)

    def _payload(self, report: MotionReport) -> dict[str, Any]:
        return {
            "score": report.result.score,
            "boxes": [{"x": b[0], "y": b[1], "w": b[2], "h": b[3]} for b in report.result.boxes],
            "width": report.width, "height": report.height,
            "session_id": report.session_id, "analyser": self.instance_id, **self.extra,
        }

    async def _start(self, report: MotionReport) -> None:
        t = report.transition
        payload = self._payload(report)
        payload.update(trigger_ts=to_datetime(t.trigger_ts).isoformat(), frames=t.frames)
        message = EventMessage(
            type="motion.start", camera_id=report.camera_id, ts=to_datetime(t.ts),
            severity="warning", payload=payload, **_given_id(report),
        )
        posting = time.time()
        event_id = await self._report(message)
        if event_id is None:
            self.current.pop(report.camera_id, None)
            return
        stored = time.time()
        self.current[report.camera_id] = event_id
        EVENTS.labels("motion.start").inc()
        FRAME_TO_EVENT.observe(max(0.0, stored - t.trigger_ts))
        if report.decode_in:
            DECODE_TO_EVENT.observe(max(0.0, stored - report.decode_in))
        log.info(
            "motion_started", camera_id=report.camera_id, event_id=event_id,
            frame_to_event_ms=round((stored - t.trigger_ts) * 1000, 1),
            decode_to_event_ms=round((stored - report.decode_in) * 1000, 1)
            if report.decode_in else None,
            handover_ms=round((report.submitted - report.decode_in) * 1000, 1)
            if report.decode_in else None,
            queued_ms=round((posting - report.submitted) * 1000, 1),
            post_ms=round((stored - posting) * 1000, 1),
        )
        if report.frame is not None:
            self._upload_snapshot(report.camera_id, event_id, functools.partial(
                encode_jpeg, report.frame, self.snapshot_quality, self.snapshot_max_width))

    async def _end(self, report: MotionReport) -> None:
        start_id = self.current.pop(report.camera_id, None)
        if start_id is None:
            return  # its start never reached management: nothing to end
        t = report.transition
        payload = self._payload(report)
        payload.update(start_event_id=start_id, frames=t.frames,
                       ended_by=to_datetime(t.trigger_ts).isoformat())
        message = EventMessage(
            type="motion.end", camera_id=report.camera_id, ts=to_datetime(t.ts),
            severity="info", payload=payload, **_given_id(report),
        )
        if await self._report(message) is not None:
            EVENTS.labels("motion.end").inc()
            log.info("motion_ended", camera_id=report.camera_id, start_event_id=start_id)
