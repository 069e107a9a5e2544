"""The recording service: wires Redis, management, the supervisor and the loops."""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from typing import Any

import structlog
from redis.asyncio import Redis

from argus_common.bus import RedisBus
from argus_common.camera_sync import CameraSync
from argus_common.errors import Unavailable
from argus_common.events import SEGMENTS_GROUP, STREAM_SEGMENTS, EventMessage
from argus_common.leases import Leases
from argus_common.management import Refused
from argus_common.retry import Backoff, keep_running, retry, retry_until_done
from argus_common.service_http import camera_service_problems
from argus_recording.announce import Announcer
from argus_recording.cameras import CameraConfig
from argus_recording.config import Settings
from argus_recording.heartbeat import Heartbeat
from argus_recording.management import RecordingManagement
from argus_recording.reconcile import reconcile_camera
from argus_recording.retention import Retention
from argus_recording.supervisor import RecordingCrew, recording_supervisor
from argus_recording.triggers import Triggers, apply_message
from argus_recording.window import EventWindow
from argus_recording.worker import CameraWorker, WorkerSettings
from argus_recording.writer import ClosedSegment

log = structlog.get_logger("argus.recording")
_RETRY_S = 2.0


class RecordingService:
    """Everything one recorder process runs on its asyncio loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.recordings_dir
        self.redis = Redis.from_url(settings.redis_url)
        self.bus = RedisBus(self.redis, settings.redis_namespace)
        self.management = RecordingManagement(settings.management_url,
                                              settings.service_credential())
        self.announcer = Announcer(self.bus)
        self.leases = Leases(self.redis, settings.redis_namespace, "recording",
                             settings.instance_id, settings.lease_ttl_s)
        self.supervisor = recording_supervisor(
            self.leases, RecordingCrew(self._start_worker, self._prepare, self._window),
            settings.lease_ttl_s,
        )
        self.cameras = CameraSync(self.management, self.supervisor, self.bus,
                                  settings.camera_refresh_s)
        self.triggers = Triggers(
            self.bus, settings.instance_id, self._route_event,
            lookback_s=settings.event_max_s + settings.post_roll_s + settings.pre_roll_s,
        )
        self.retention = Retention(settings, self.management, self.leases, self._queue_event)
        self.heartbeat = Heartbeat(self.redis, settings.redis_namespace, settings.instance_id,
                                   self._camera_lists)
        self.worker_settings = WorkerSettings(
            root=self.root, segment_s=settings.segment_seconds, pre_roll_s=settings.pre_roll_s,
            event_max_s=settings.event_max_s, backoff_s=tuple(settings.backoff_steps),
            probe_interval_s=settings.probe_interval_s,
            max_clock_drift_ms=settings.max_clock_drift_ms, durable=settings.fsync,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._announcing: asyncio.Task[None] | None = None
        self._posting: asyncio.Task[None] | None = None
        # Events for management (stream.up/down, disk.low/ok), posted one at a time so a
        # camera's down and up never arrive swapped.
        self._events: asyncio.Queue[EventMessage] = asyncio.Queue(maxsize=10_000)

    # -- hooks called from worker threads ------------------------------------------------
    def segment_closed(self, segment: ClosedSegment) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.announcer.submit, segment)

    def stream_state(self, camera_id: int, up: bool, reason: str) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._report_state, camera_id, up, reason)

    def _report_state(self, camera_id: int, up: bool, reason: str) -> None:
        self._enqueue(EventMessage(
            type="stream.up" if up else "stream.down", camera_id=camera_id,
            severity="info" if up else "warning",
            payload={"reason": reason, "recorder": self.settings.instance_id},
        ))

    def _enqueue(self, message: EventMessage) -> None:
        try:
            self._events.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("event_dropped", type=message.type, camera_id=message.camera_id)

    async def _queue_event(self, message: EventMessage) -> None:
        self._enqueue(message)

    async def _post_events(self) -> None:
        """Post queued events in order; each is retried a few times while management is
        away (an event is a notice, not a record: the recording itself never waits)."""
        while True:
            message = await self._events.get()
            try:
                await retry(
                    functools.partial(self.management.report_event, message), attempts=5,
                    backoff=Backoff(steps=[1, 2, 3, 4]), retry_on=(Unavailable,),
                    event="event_post_retry", log=log,
                )
            except Unavailable:
                log.warning("event_not_reported", type=message.type, camera_id=message.camera_id)
            except Refused as exc:
                log.warning("event_refused", status=exc.status, type=message.type)
            self._events.task_done()

    def _camera_lists(self) -> tuple[list[int], list[int]]:
        """Cameras whose lease we hold, and those whose media is flowing now."""
        owned = self.supervisor.owned
        up = [c for c, o in owned.items() if o.worker is not None and o.worker.up]
        return sorted(owned), sorted(up)

    # -- supervisor callbacks ------------------------------------------------------------
    def _window(self) -> EventWindow:
        return EventWindow(self.settings.post_roll_s * 1000, self.settings.event_max_s * 1000)

    def _start_worker(self, camera: CameraConfig, window: EventWindow) -> CameraWorker:
        worker = CameraWorker(camera, self.worker_settings, self, window)
        worker.start()
        log.info("recording_started", camera_id=camera.id, mode=camera.recording_mode)
        return worker

    async def _prepare(self, camera: CameraConfig, window: EventWindow) -> None:
        kind = "event" if camera.recording_mode == "events" else "continuous"
        await reconcile_camera(camera.id, kind, self.root, self.management, self.announcer,
                               self.settings.fsync)
        if camera.recording_mode == "events":
            await self.triggers.replay(camera.id, window)

    def _route_event(self, message: EventMessage) -> None:
        assert message.camera_id is not None
        owned = self.supervisor.get(message.camera_id)
        if owned is None:
            return
        if message.type == "rtmp.publish" and owned.worker is not None:
            owned.worker.wake()
        if owned.camera.recording_mode == "events":
            apply_message(owned.state, message)

    # -- loops ---------------------------------------------------------------------------
    async def _consume_events(self) -> None:
        async def consume() -> None:
            # The live list comes straight from Redis: at start the supervisor has not
            # looked yet, and an empty list would remove every other recorder's group.
            await self.triggers.remove_stale_groups(await self.leases.heartbeat())
            await self.triggers.run()

        await keep_running(consume, event="event_consumer_failed", log=log,
                           backoff=Backoff(steps=[_RETRY_S]))

    async def _ensure_index_group(self) -> None:
        # From the stream's start: segments announced before management first ran are kept.
        await retry_until_done(
            lambda: self.bus.ensure_group(STREAM_SEGMENTS, SEGMENTS_GROUP, start="0"),
            event="redis_unavailable", backoff=Backoff(steps=[_RETRY_S]), log=log,
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
            "recording": sorted(
                c for c, o in self.supervisor.owned.items() if o.worker is not None
            ),
            "desired": sorted(self.supervisor.desired),
            "live_instances": self.supervisor.live_instances,
        }

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.root.mkdir(parents=True, exist_ok=True)
        await self._ensure_index_group()
        self._announcing = asyncio.create_task(self.announcer.run())
        self._posting = asyncio.create_task(self._post_events())
        for coro in (
            self.cameras.reload_forever(), self.cameras.follow_changes(), self.supervisor.run(),
            self._consume_events(), self.retention.run(), self.heartbeat.run(),
        ):
            self._tasks.append(asyncio.create_task(coro))

    async def stop(self) -> None:
        """Finish and announce open segments, give back leases, leave."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.supervisor.shutdown()
        await self.announcer.drain(15.0)
        try:  # the stream.down of stopped cameras
            await asyncio.wait_for(self._events.join(), 5.0)
        except TimeoutError:
            log.warning("events_left_unposted", pending=self._events.qsize())
        for helper in (self._announcing, self._posting):
            if helper is not None:
                helper.cancel()
                await asyncio.gather(helper, return_exceptions=True)
        for coro in (
            self.retention.release(), self.triggers.leave(), self.leases.leave(),
            self.heartbeat.leave(),
        ):
            try:
                await coro
            except Exception as exc:
                log.warning("shutdown_step_failed", error=type(exc).__name__)
        await self.management.aclose()
        await self.redis.aclose()


def _writable(root: os.PathLike[str]) -> bool:
    try:
        with tempfile.TemporaryFile(dir=root):
            return True
    except OSError:
        return False
