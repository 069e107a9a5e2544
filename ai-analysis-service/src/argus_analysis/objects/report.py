"""``object.*`` events to management, through ``POST /internal/events`` like motion.

The engine thread builds each event's message (``event_report``, ``track_report``); the
loop queues them per camera (in order) and posts them with retries, then uploads the
snapshot (the frame of the event, or a track's best frame) as a JPEG, encoded in a
thread. Field by field: /work/notes/objects_contract.md and the README.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
import structlog

from argus_analysis.camera_queues import CameraQueues
from argus_analysis.management import AnalysisManagement
from argus_analysis.metrics import OBJECT_EVENTS
from argus_analysis.objects.rules import RuleEvent
from argus_analysis.objects.tracker import Track
from argus_common.events import EventMessage

log = structlog.get_logger("argus.analysis.objects")

QUEUE_MAX = 200
SEVERITY = {"object.zone_enter": "warning", "object.zone_dwell": "warning",
            "object.zone_count": "warning", "object.line_cross": "warning",
            "object.zone_leave": "info", "object.track": "info"}


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat()


@dataclass
class ObjectReport:
    """One event to post, and the BGR frame for its snapshot (None: no snapshot)."""

    camera_id: int
    message: EventMessage
    image: np.ndarray | None = None
    made: float = 0.0  # when the engine built it (epoch s)


def _box(box: tuple[float, float, float, float]) -> dict[str, float]:
    return {"x": box[0], "y": box[1], "w": box[2], "h": box[3]}


def _common(track: Track, session_id: str, width: int, height: int, detector: str,
            analyser: str) -> dict[str, Any]:
    return {
        "label": track.label, "track_id": track.track_id, "score": track.score,
        "box": _box(track.box), "width": width, "height": height, "color": track.colour,
        "detector": detector, "session_id": session_id, "analyser": analyser,
    }


def event_report(camera_id: int, session_id: str, ev: RuleEvent, image: np.ndarray | None,
                 width: int, height: int, detector: str, analyser: str) -> ObjectReport:
    """A zone or line event of a rule."""
    payload = _common(ev.track, session_id, width, height, detector, analyser)
    payload.update(ev.extra)
    message = EventMessage(type=ev.type, camera_id=camera_id,
                           ts=datetime.fromtimestamp(ev.ts, tz=UTC),
                           severity=SEVERITY.get(ev.type, "info"), payload=payload)
    return ObjectReport(camera_id, message, image, time.time())


def track_report(camera_id: int, session_id: str, track: Track, size: tuple[int, int],
                 detector: str, analyser: str) -> ObjectReport:
    """``object.track``: the summary of a track that ended, with its best snapshot."""
    payload = _common(track, session_id, size[0], size[1], detector, analyser)
    speed, direction, heading = track.motion()
    t0 = track.first
    payload.update(
        score=track.max_score, box=_box(track.best_box),
        first_seen=_iso(track.first), last_seen=_iso(track.last),
        dwell_s=round(track.dwell_s, 2), mean_score=round(track.score_sum / track.hits, 4),
        speed=speed, direction=direction, heading_deg=heading,
        path=[[round(t - t0, 2), x, y] for t, x, y in track.path],
        zones=sorted(track.zones), lines=sorted(track.lines), hits=track.hits,
        snapshot_ts=_iso(track.best_ts) if track.best_ts else None,
    )
    message = EventMessage(type="object.track", camera_id=camera_id,
                           ts=datetime.fromtimestamp(track.first, tz=UTC),
                           ends_at=datetime.fromtimestamp(track.last, tz=UTC),
                           severity="info", payload=payload)
    return ObjectReport(camera_id, message, track.best_frame, time.time())


def encode_bgr(image: np.ndarray, quality: int) -> bytes:
    """JPEG of a BGR image."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buf)


class ObjectReporter(CameraQueues[ObjectReport]):
    """Posts object events, in order per camera, and their snapshots."""

    def __init__(self, management: AnalysisManagement, snapshot_quality: int) -> None:
        super().__init__(management, "object", QUEUE_MAX, log)
        self.snapshot_quality = snapshot_quality
        self.latency: list[float] = []  # engine -> stored, seconds (the last 1000; bench)

    def submit(self, report: ObjectReport) -> None:
        """Queue an event (on the loop); never blocks."""
        self._enqueue(report.camera_id, report, type=report.message.type)

    async def _handle(self, report: ObjectReport) -> None:
        await self._post(report)

    async def _post(self, report: ObjectReport) -> None:
        msg = report.message
        event_id = await self._report(msg)
        if event_id is None:
            return
        OBJECT_EVENTS.labels(msg.type).inc()
        self.latency.append(time.time() - report.made)
        del self.latency[:-1000]
        log.info("object_event", camera_id=msg.camera_id, type=msg.type, event_id=event_id,
                 label=msg.payload.get("label"), track_id=msg.payload.get("track_id"))
        if report.image is not None:
            self._upload_snapshot(report.camera_id, event_id, functools.partial(
                encode_bgr, report.image, self.snapshot_quality))
