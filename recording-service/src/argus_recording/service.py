"""The recording service: wires Redis, management, the supervisor and the loops.

It rides out its dependencies: the supervisor keeps recording through a Redis outage
(``ride_out``; fencing.py keeps one writer per camera), announcements and events wait in a
durable outbox (outbox.py, announce.py), the camera list is cached on disk for a start
while management is down, the disk guard works locally without management, and cameras
in ``events`` mode record while events cannot be heard (a fail-safe event). What is done
per camera held (the supervisor's callbacks, deferred reconciles, the fail-safe) is in
crew.py; this module keeps the wiring, the events to management, start and shutdown.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

import structlog

from argus_common.bus import RedisBus, redis_client
from argus_common.camera_sync import CameraCache, CameraSync
from argus_common.events import SEGMENTS_GROUP, STREAM_SEGMENTS, EventMessage
from argus_common.leases import Leases
from argus_common.retry import Backoff, every, keep_running, retry_until_done
from argus_common.service_http import camera_service_problems
from argus_recording.announce import (
    Announcer,
    event_record,
    missing_record,
    trim_acknowledged,
)
from argus_recording.backfill.config import BackfillSettings
from argus_recording.backfill.manager import Backfill
from argus_recording.cameras import CameraConfig
from argus_recording.config import Settings
from argus_recording.crew import CameraCrew
from argus_recording.heartbeat import Heartbeat
from argus_recording.management import RecordingManagement
from argus_recording.outbox import Outbox
from argus_recording.retention import Retention
from argus_recording.stills import StillMaker
from argus_recording.supervisor import RecordingCrew, recording_supervisor
from argus_recording.tiering.runner import tiering_for
from argus_recording.triggers import Triggers
from argus_recording.worker import WorkerSettings
from argus_recording.writer import ClosedSegment

log = structlog.get_logger("argus.recording")
_RETRY_S = 2.0
STATE_DIR = ".argus"  # under RECORDINGS_DIR: the outbox and the camera cache


class RecordingService:
    """Everything one recorder process runs on its asyncio loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.recordings_dir
        self.redis = redis_client(settings)
        self.bus = RedisBus(self.redis, settings.redis_namespace)
        self.management = RecordingManagement(
            settings.management_url, settings.service_credential()
        )
        self.outbox = Outbox.for_instance(self.root, settings.instance_id, settings.fsync)
        self.announcer = Announcer(self.bus, self.outbox, self.management, self.root)
        self.worker_settings = WorkerSettings(
            root=self.root,
            segment_s=settings.segment_seconds,
            pre_roll_s=settings.pre_roll_s,
            event_max_s=settings.event_max_s,
            backoff_s=tuple(settings.backoff_steps),
            probe_interval_s=settings.probe_interval_s,
            max_clock_drift_ms=settings.max_clock_drift_ms,
            durable=settings.fsync,
            instance_id=settings.instance_id,
            allowed_networks=tuple(settings.camera_networks() or ()),
        )
        # What is done per camera held: the supervisor's callbacks, the fail-safe (crew.py).
        self.crew = CameraCrew(
            settings, self.worker_settings, self, self.management, self.announcer
        )
        # Outages filled from the cameras' own storage (ONVIF Profile G), backfill/.
        self.backfill = Backfill(
            BackfillSettings(),
            self.root,
            self.root / STATE_DIR / "backfill",
            settings.segment_seconds,
            settings.fsync,
            self.announcer.segment_closed,
            self.crew.backfill_cameras,
        )
        self.announcer.listeners.append(self.backfill.observe)
        # Preview stills of each closed segment, in a thread of their own (stills.py).
        self.stills = StillMaker(self.root, settings.still_interval_s, settings.still_width)
        self.announcer.listeners.append(self.stills.observe)
        self.leases = Leases(
            self.redis,
            settings.redis_namespace,
            "recording",
            settings.instance_id,
            settings.lease_ttl_s,
        )
        self.supervisor = recording_supervisor(
            self.leases,
            RecordingCrew(self.crew.start_worker, self.crew.prepare, self.crew.window),
            settings.lease_ttl_s,
            settings.self_fence_s,
            settings.handover,
        )
        self.cameras = CameraSync(
            self.management,
            self.supervisor,
            self.bus,
            settings.camera_refresh_s,
            cache=CameraCache(self.root / STATE_DIR / "cameras.json", CameraConfig),
        )
        self.triggers = Triggers(
            self.bus,
            settings.instance_id,
            self.crew.route_event,
            lookback_s=settings.event_max_s + settings.post_roll_s + settings.pre_roll_s,
        )
        self.retention = Retention(
            settings,
            self.management,
            self.leases,
            self._queue_event,
            forget=self._forget,
            holder_tick=self._trim_segments,
        )
        self.crew.bind(self.supervisor, self.triggers)
        # Segments to the object store (tiering/), when ARGUS_S3_BUCKET is set.
        self.tiering = tiering_for(settings, self.management, self.leases, self.retention)
        self.heartbeat = Heartbeat(
            self.redis, settings.redis_namespace, settings.instance_id, self.crew.camera_lists
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._announcing: asyncio.Task[None] | None = None
        self._posting: asyncio.Task[None] | None = None
        # Events for management (stream.up/down, disk.low/ok), written to the outbox one at
        # a time so a camera's down and up never arrive swapped.
        self._events: asyncio.Queue[EventMessage] = asyncio.Queue(maxsize=10_000)

    # -- hooks called from worker threads ------------------------------------------------
    def segment_closed(self, segment: ClosedSegment) -> None:
        # In the worker's (or the closer's) thread: the outbox write and fsync stay off
        # the loop.
        self.announcer.segment_closed(segment)

    def stream_state(self, camera_id: int, up: bool, reason: str) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._report_state, camera_id, up, reason)

    def _report_state(self, camera_id: int, up: bool, reason: str) -> None:
        self._enqueue(
            EventMessage(
                type="stream.up" if up else "stream.down",
                camera_id=camera_id,
                severity="info" if up else "warning",
                payload={"reason": reason, "recorder": self.settings.instance_id},
            )
        )

    def _enqueue(self, message: EventMessage) -> None:
        try:
            self._events.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("event_dropped", type=message.type, camera_id=message.camera_id)

    async def _queue_event(self, message: EventMessage) -> None:
        self._enqueue(message)

    async def _post_events(self) -> None:
        """Write queued events to the outbox in order; the announcer delivers them to
        management whenever it answers (an event is never dropped for an outage)."""
        while True:
            message = await self._events.get()
            try:
                await self.announcer.notice(event_record(message))
            finally:
                self._events.task_done()

    async def _forget(self, camera_id: int, paths: list[str]) -> None:
        await self.announcer.notice(missing_record(camera_id, paths))

    async def _trim_segments(self) -> None:
        """Trim ``argus:segments`` below what management acknowledged (the retention
        holder does it, one recorder at a time)."""
        removed = await trim_acknowledged(self.redis, self.bus.key(STREAM_SEGMENTS))
        if removed:
            log.info("segments_stream_trimmed", removed=removed)

    # -- loops ---------------------------------------------------------------------------
    async def _consume_events(self) -> None:
        async def consume() -> None:
            # The live list comes straight from Redis: at start the supervisor has not
            # looked yet, and an empty list would remove every other recorder's group.
            await self.triggers.remove_stale_groups(await self.leases.heartbeat())
            await self.triggers.run()

        await keep_running(
            consume, event="event_consumer_failed", log=log, backoff=Backoff(steps=[_RETRY_S])
        )

    async def _ensure_index_group(self) -> None:
        # From the stream's start: segments announced before management first ran are kept.
        await retry_until_done(
            lambda: self.bus.ensure_group(STREAM_SEGMENTS, SEGMENTS_GROUP, start="0"),
            event="redis_unavailable",
            backoff=Backoff(steps=[_RETRY_S]),
            log=log,
        )

    async def readiness(self) -> list[str]:
        """What keeps the recorder from being ready (empty: ready)."""
        problems = await camera_service_problems(self.redis, self.supervisor.loaded)
        if not await asyncio.to_thread(_writable, self.root):
            problems.append("recordings directory not writable")
        return problems

    def status(self) -> dict[str, Any]:
        return {
            "instance_id": self.settings.instance_id,
            "owned": sorted(self.supervisor.owned),
            # Recording: its worker holds the camera's writer lock (fencing.py).
            "recording": sorted(
                c
                for c, o in self.supervisor.owned.items()
                if o.worker is not None and o.worker.holds_lock
            ),
            "desired": sorted(self.supervisor.desired),
            "live_instances": self.supervisor.live_instances,
            "redis_reachable": self.supervisor.reachable,
            "cameras_from_cache": self.cameras.from_cache,
            "outbox_pending": self.announcer.backlog,
            "backfill": self.backfill.status(),
        }

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.announcer.bind(self._loop)
        self.root.mkdir(parents=True, exist_ok=True)
        self.stills.start()
        await self._open_outbox()
        self._announcing = asyncio.create_task(self.announcer.run())
        self._posting = asyncio.create_task(self._post_events())
        for coro in (
            self._ensure_index_group(),
            self.cameras.reload_forever(),
            self.cameras.follow_changes(),
            self.supervisor.run(),
            self._consume_events(),
            self.retention.run(),
            self.heartbeat.run(),
            self.backfill.run(),
            every(1.0, self.crew.failsafe, event="failsafe_failed", log=log),
            *([self.tiering.run(), self.tiering.run_sidecars()] if self.tiering is not None
              else []),
        ):
            self._tasks.append(asyncio.create_task(coro))

    async def _open_outbox(self) -> None:
        # Another recorder may be adopting our brand-new (empty) directory this instant.
        for _ in range(50):
            if await asyncio.to_thread(self.outbox.open):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"outbox {self.outbox.directory} is locked by another process")

    async def stop(self) -> None:
        """Finish and announce open segments, give back leases, leave."""
        await self.backfill.stop()
        reconciling = list(self.crew.reconciling.values())
        for task in [*self._tasks, *reconciling]:
            task.cancel()
        await asyncio.gather(*self._tasks, *reconciling, return_exceptions=True)
        await self.supervisor.shutdown()
        try:  # the stream.down of stopped cameras, into the outbox
            async with asyncio.timeout(5.0):
                await self._events.join()
        except TimeoutError:
            log.warning("events_left_unwritten", pending=self._events.qsize())
        await self.announcer.drain(15.0)
        for helper in (self._announcing, self._posting):
            if helper is not None:
                helper.cancel()
                await asyncio.gather(helper, return_exceptions=True)
        for coro in (
            self.retention.release(),
            self.triggers.leave(),
            self.leases.leave(),
            *([self.tiering.release()] if self.tiering is not None else []),
            self.heartbeat.leave(),
        ):
            try:
                async with asyncio.timeout(5.0):
                    await coro
            except Exception as exc:
                log.warning("shutdown_step_failed", error=type(exc).__name__)
        self.outbox.close()
        await asyncio.to_thread(self.stills.stop)
        await self.management.aclose()
        await self.redis.aclose()


def _writable(root: os.PathLike[str]) -> bool:
    try:
        with tempfile.TemporaryFile(dir=root):
            return True
    except OSError:
        return False
