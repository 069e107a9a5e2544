"""Motion events to management: ``motion.start`` (with its snapshot) and ``motion.end``.

Each camera's events go out in order through its own queue, so an end is posted only
after its start was stored and carries the start's id (``payload.start_event_id``).
The start is posted first and the snapshot after it: the alert does not wait for the
JPEG. A message id is reused on every retry, so a retried event is stored once.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass
from typing import Any

import structlog

from argus_analysis.detect.base import MotionResult
from argus_analysis.detect.debounce import Transition
from argus_analysis.management import AnalysisManagement
from argus_analysis.metrics import DECODE_TO_EVENT, EVENTS, FRAME_TO_EVENT
from argus_analysis.results import to_datetime
from argus_analysis.snapshot import encode_jpeg
from argus_common.errors import Unavailable
from argus_common.events import EventMessage
from argus_common.management import Refused
from argus_common.retry import Backoff, retry

log = structlog.get_logger("argus.analysis.reporter")

RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 10.0)
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


class EventReporter:
    """Posts the motion events of every camera, in order per camera."""

    def __init__(
        self, management: AnalysisManagement, instance_id: str, snapshot_quality: int,
        snapshot_max_width: int, extra: dict[str, Any] | None = None,
    ) -> None:
        self.management = management
        self.extra = extra or {}  # added to every payload (backfill analysis: backfill true)
        self.instance_id = instance_id
        self.snapshot_quality = snapshot_quality
        self.snapshot_max_width = snapshot_max_width
        self.current: dict[int, int] = {}  # camera -> id of its motion.start in progress
        self._queues: dict[int, asyncio.Queue[MotionReport]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._snapshots: set[asyncio.Task[None]] = set()

    def submit(self, report: MotionReport) -> None:
        """Queue a transition (called on the loop); never blocks."""
        report.submitted = time.time()
        queue = self._queues.get(report.camera_id)
        if queue is None:
            queue = self._queues[report.camera_id] = asyncio.Queue(QUEUE_MAX)
            self._tasks[report.camera_id] = asyncio.create_task(
                self._run(queue), name=f"events-{report.camera_id}"
            )
        try:
            queue.put_nowait(report)
        except asyncio.QueueFull:
            log.warning("motion_event_dropped", camera_id=report.camera_id,
                        kind=report.transition.kind)

    async def _run(self, queue: asyncio.Queue[MotionReport]) -> None:
        while True:
            report = await queue.get()
            try:
                if report.transition.kind == "start":
                    await self._start(report)
                else:
                    await self._end(report)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("motion_event_failed", camera_id=report.camera_id)
            finally:
                queue.task_done()

    async def _post(self, message: EventMessage) -> int | None:
        """Post with retries while management is unavailable; None if it never took it."""
        try:
            return await retry(
                functools.partial(self.management.report_event, message),
                attempts=len(RETRY_S) + 1, backoff=Backoff(steps=RETRY_S),
                retry_on=(Unavailable,), event="motion_event_retry",
                log=log.bind(camera_id=message.camera_id),
            )
        except Refused as exc:
            log.warning("motion_event_refused", camera_id=message.camera_id,
                        type=message.type, status=exc.status)
        except Unavailable:
            log.warning("motion_event_not_reported", camera_id=message.camera_id,
                        type=message.type)
        return None

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
        event_id = await self._post(message)
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
            task = asyncio.create_task(self._snapshot(report.camera_id, event_id, report.frame))
            self._snapshots.add(task)
            task.add_done_callback(self._snapshots.discard)

    async def _snapshot(self, camera_id: int, event_id: int, frame: Any) -> None:
        try:
            jpeg = await asyncio.to_thread(
                encode_jpeg, frame, self.snapshot_quality, self.snapshot_max_width
            )
            await retry(
                functools.partial(self.management.upload_snapshot, event_id, jpeg),
                attempts=5, backoff=Backoff(steps=RETRY_S[:4]), retry_on=(Unavailable,),
                event="snapshot_retry", log=log.bind(camera_id=camera_id),
            )
        except Exception as exc:
            log.warning("snapshot_failed", camera_id=camera_id, event_id=event_id,
                        error=type(exc).__name__)

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
        if await self._post(message) is not None:
            EVENTS.labels("motion.end").inc()
            log.info("motion_ended", camera_id=report.camera_id, start_event_id=start_id)

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
                log.warning("motion_events_unsent_at_stop")
        for task in [*self._tasks.values(), *self._snapshots]:
            task.cancel()
        await asyncio.gather(*self._tasks.values(), *self._snapshots, return_exceptions=True)
