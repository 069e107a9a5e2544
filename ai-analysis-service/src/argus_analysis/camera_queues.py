"""What motion and object reporting share: each camera's reports go out in order through a
queue and a task of its own (so one slow camera never holds another's back), and snapshots
are uploaded beside them, after their event was stored, so an alert never waits for a JPEG.

A subclass says how one report is handled (``_handle``); ``submit`` never blocks the loop
(a full queue drops the report, logged), ``drain`` waits for a camera's queue, ``close``
lets queued reports go out for a few seconds and then stops.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Generic, TypeVar

import structlog

from argus_analysis.management import AnalysisManagement
from argus_common.errors import Unavailable
from argus_common.events import EventMessage
from argus_common.management import Refused
from argus_common.retry import Backoff, retry

R = TypeVar("R")

RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 10.0)  # posting an event while management is away
CLOSE_WAIT_S = 5.0


class CameraQueues(Generic[R]):
    """Per-camera ordered queues of reports; ``name`` prefixes the log events."""

    def __init__(self, management: AnalysisManagement, name: str, queue_max: int,
                 log: structlog.typing.FilteringBoundLogger) -> None:
        self.management = management
        self._name = name
        self._queue_max = queue_max
        self._log = log
        self._queues: dict[int, asyncio.Queue[R]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._snapshots: set[asyncio.Task[None]] = set()

    async def _handle(self, report: R) -> None:
        raise NotImplementedError

    def _enqueue(self, camera_id: int, report: R, **dropped: object) -> None:
        """Queue ``report`` for its camera (on the loop); never blocks."""
        queue = self._queues.get(camera_id)
        if queue is None:
            queue = self._queues[camera_id] = asyncio.Queue(self._queue_max)
            self._tasks[camera_id] = asyncio.create_task(
                self._run(camera_id, queue), name=f"{self._name}-events-{camera_id}")
        try:
            queue.put_nowait(report)
        except asyncio.QueueFull:
            self._log.warning(f"{self._name}_event_dropped", camera_id=camera_id, **dropped)

    async def _run(self, camera_id: int, queue: asyncio.Queue[R]) -> None:
        while True:
            report = await queue.get()
            try:
                await self._handle(report)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception(f"{self._name}_event_failed", camera_id=camera_id)
            finally:
                queue.task_done()

    async def _report(self, message: EventMessage) -> int | None:
        """Post an event with retries while management is unavailable; its stored id, or
        None when management refused it or never came back (logged)."""
        try:
            return await retry(
                functools.partial(self.management.report_event, message),
                attempts=len(RETRY_S) + 1, backoff=Backoff(steps=RETRY_S),
                retry_on=(Unavailable,), event=f"{self._name}_event_retry",
                log=self._log.bind(camera_id=message.camera_id),
            )
        except Refused as exc:
            self._log.warning(f"{self._name}_event_refused", camera_id=message.camera_id,
                              type=message.type, status=exc.status)
        except Unavailable:
            self._log.warning(f"{self._name}_event_not_reported", camera_id=message.camera_id,
                              type=message.type)
        return None

    def _upload_snapshot(self, camera_id: int, event_id: int,
                         encode: Callable[[], bytes]) -> None:
        """Encode (in a thread) and upload an event's snapshot beside the queue."""
        task = asyncio.create_task(self._snapshot(camera_id, event_id, encode))
        self._snapshots.add(task)
        task.add_done_callback(self._snapshots.discard)

    async def _snapshot(self, camera_id: int, event_id: int,
                        encode: Callable[[], bytes]) -> None:
        try:
            jpeg = await asyncio.to_thread(encode)
            await retry(
                functools.partial(self.management.upload_snapshot, event_id, jpeg),
                attempts=5, backoff=Backoff(steps=RETRY_S[:4]), retry_on=(Unavailable,),
                event="snapshot_retry", log=self._log.bind(camera_id=camera_id),
            )
        except Exception as exc:
            self._log.warning(f"{self._name}_snapshot_failed", camera_id=camera_id,
                              event_id=event_id, error=type(exc).__name__)

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
                async with asyncio.timeout(CLOSE_WAIT_S):
                    await asyncio.gather(*joins)
            except TimeoutError:
                self._log.warning(f"{self._name}_events_unsent_at_stop")
        tasks = [*self._tasks.values(), *self._snapshots]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
