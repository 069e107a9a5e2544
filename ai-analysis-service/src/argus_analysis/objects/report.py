"""``object.*`` events to management, through ``POST /internal/events`` like motion.

The engine thread builds each event's message (``event_report``, ``track_report``); the
loop queues them per camera (in order) and posts them with retries, then uploads the
snapshot (the frame of the event, or a track's best frame) as a JPEG, encoded in a
thread. Field by field: /work/notes/objects_contract.md and the README.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
import structlog

from argus_analysis.management import AnalysisManagement
from argus_analysis.metrics import OBJECT_EVENTS
from argus_analysis.objects.rules import RuleEvent
from argus_analysis.objects.tracker import Track
from argus_common.errors import Unavailable
from argus_common.events import EventMessage
from argus_common.management import Refused
from argus_common.retry import Backoff, retry

log = structlog.get_logger("argus.analysis.objects")

RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 10.0)
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


class ObjectReporter:
    """Posts object events, in order per camera, and their snapshots."""

    def __init__(self, management: AnalysisManagement, snapshot_quality: int) -> None:
        self.management = management
        self.snapshot_quality = snapshot_quality
        self.latency: list[float] = []  # engine -> stored, seconds (the last 1000; bench)
        self._queues: dict[int, asyncio.Queue[ObjectReport]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._snapshots: set[asyncio.Task[None]] = set()

    def submit(self, report: ObjectReport) -> None:
        """Queue an event (on the loop); never blocks."""
        queue = self._queues.get(report.camera_id)
        if queue is None:
            queue = self._queues[report.camera_id] = asyncio.Queue(QUEUE_MAX)
            self._tasks[report.camera_id] = asyncio.create_task(
                self._run(queue), name=f"object-events-{report.camera_id}")
        try:
            queue.put_nowait(report)
        except asyncio.QueueFull:
            log.warning("object_event_dropped", camera_id=report.camera_id,
                        type=report.message.type)

    async def _run(self, queue: asyncio.Queue[ObjectReport]) -> None:
        while True:
            report = await queue.get()
            try:
                await self._post(report)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("object_event_failed", camera_id=report.camera_id)
            finally:
                queue.task_done()

    async def _post(self, report: ObjectReport) -> None:
        msg = report.message
        try:
            event_id = await retry(
                functools.partial(self.management.report_event, msg),
                attempts=len(RETRY_S) + 1, backoff=Backoff(steps=RETRY_S),
                retry_on=(Unavailable,), event="object_event_retry",
                log=log.bind(camera_id=msg.camera_id),
            )
        except (Refused, Unavailable) as exc:
            log.warning("object_event_not_reported", camera_id=msg.camera_id, type=msg.type,
                        error=type(exc).__name__)
            return
        OBJECT_EVENTS.labels(msg.type).inc()
        self.latency.append(time.time() - report.made)
        del self.latency[:-1000]
        log.info("object_event", camera_id=msg.camera_id, type=msg.type, event_id=event_id,
                 label=msg.payload.get("label"), track_id=msg.payload.get("track_id"))
        if report.image is not None and event_id is not None:
            task = asyncio.create_task(self._snapshot(report.camera_id, event_id, report.image))
            self._snapshots.add(task)
            task.add_done_callback(self._snapshots.discard)

    async def _snapshot(self, camera_id: int, event_id: int, image: np.ndarray) -> None:
        try:
            jpeg = await asyncio.to_thread(encode_bgr, image, self.snapshot_quality)
            await retry(
                functools.partial(self.management.upload_snapshot, event_id, jpeg),
                attempts=5, backoff=Backoff(steps=RETRY_S[:4]), retry_on=(Unavailable,),
                event="snapshot_retry", log=log.bind(camera_id=camera_id),
            )
        except Exception as exc:
            log.warning("object_snapshot_failed", camera_id=camera_id, event_id=event_id,
                        error=type(exc).__name__)

    async def drain(self, camera_id: int) -> None:
        """Wait until the camera's queued events were posted (or given up)."""
        queue = self._queues.get(camera_id)
        if queue is not None:
            await queue.join()

    async def close(self) -> None:
        """Let queued events go out (a few seconds at most), then stop."""
        joins = [q.join() for q in self._queues.values()]
        if joins:
            try:
                await asyncio.wait_for(asyncio.gather(*joins), 5.0)
            except TimeoutError:
                log.warning("object_events_unsent_at_stop")
        tasks = [*self._tasks.values(), *self._snapshots]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
