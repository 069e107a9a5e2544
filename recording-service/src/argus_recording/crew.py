"""The recording service's side of the supervisor: what it does for each camera it holds.

``RecordingCrew`` (supervisor.py) calls ``start_worker``, ``prepare`` and ``window``; the
service ticks ``failsafe`` every second and routes heard events through ``route_event``.
A reconcile that could not run when a camera was taken (management down) is retried while
our worker holds the camera's lock (``reconcile_later``). Cameras in ``events`` mode record
while events cannot be heard (the fail-safe event).
"""

from __future__ import annotations

import asyncio
import time

import structlog

from argus_common.events import EventMessage
from argus_common.retry import Backoff
from argus_recording.announce import Announcer
from argus_recording.cameras import CameraConfig
from argus_recording.config import Settings
from argus_recording.fencing import CameraLock
from argus_recording.management import RecordingManagement
from argus_recording.reconcile import reconcile_camera
from argus_recording.supervisor import RecordingSupervisor
from argus_recording.triggers import Triggers, apply_message
from argus_recording.window import EventWindow
from argus_recording.worker import CameraWorker, WorkerHooks, WorkerSettings

log = structlog.get_logger("argus.recording")
_FAILSAFE_AFTER_S = 2.0  # Redis unreachable this long: events-mode cameras record anyway
_SETTLE_S = 10.0  # after an outage: time for management to index what the outbox delivered


class CameraCrew:
    """Per-camera work of one recorder. ``bind`` gives it the supervisor and the event
    triggers, which are built with its callbacks."""

    def __init__(
        self,
        settings: Settings,
        worker_settings: WorkerSettings,
        hooks: WorkerHooks,
        management: RecordingManagement,
        announcer: Announcer,
    ) -> None:
        self.settings = settings
        self.root = settings.recordings_dir
        self.worker_settings = worker_settings
        self.hooks = hooks
        self.management = management
        self.announcer = announcer
        self._supervisor: RecordingSupervisor | None = None
        self._triggers: Triggers | None = None
        self.reconciling: dict[int, asyncio.Task[None]] = {}
        self._failsafe_keys: list[str] = []
        self._failsafe_since = 0.0
        self._redis_down_since: float | None = None
        self._replays: set[asyncio.Task[None]] = set()

    def bind(self, supervisor: RecordingSupervisor, triggers: Triggers) -> None:
        self._supervisor = supervisor
        self._triggers = triggers

    @property
    def supervisor(self) -> RecordingSupervisor:
        assert self._supervisor is not None, "bind() first"
        return self._supervisor

    # -- supervisor callbacks ------------------------------------------------------------
    def window(self) -> EventWindow:
        return EventWindow(self.settings.post_roll_s * 1000, self.settings.event_max_s * 1000)

    def start_worker(
        self, camera: CameraConfig, window: EventWindow, standby: bool = False
    ) -> CameraWorker:
        worker = CameraWorker(camera, self.worker_settings, self.hooks, window, standby=standby)
        if standby and camera.recording_mode == "events":
            # Taking over an events-mode camera: its window must hold the events the giver
            # has heard (a clip open now continues here); live ones reach us through
            # route_event while we stand by.
            worker.events_known.clear()
            task = asyncio.create_task(self._replay(camera.id, window, worker))
            self._replays.add(task)
            task.add_done_callback(self._replays.discard)
        worker.start()
        log.info(
            "recording_started", camera_id=camera.id, mode=camera.recording_mode, standby=standby
        )
        return worker

    async def _replay(self, camera_id: int, window: EventWindow, worker: CameraWorker) -> None:
        """A standby worker's events: ready to take over once they are in its window (a
        failed replay leaves it never ready, and the giver keeps the camera)."""
        assert self._triggers is not None, "bind() first"
        try:
            applied = await self._triggers.replay(camera_id, window)
        except Exception as exc:
            log.warning("standby_replay_failed", camera_id=camera_id, error=type(exc).__name__)
            return
        log.info("standby_events_replayed", camera_id=camera_id, applied=applied)
        worker.events_known.set()

    async def prepare(self, camera: CameraConfig, window: EventWindow) -> None:
        """Before the first worker: wait for the camera's writer lock (a previous holder
        may still be finishing its segment), reconcile the files with the index under it,
        then replay recent events. Without management the reconcile runs later."""
        kind = "event" if camera.recording_mode == "events" else "continuous"
        lock = CameraLock(self.root, camera.id, self.settings.instance_id)
        try:
            await lock.wait()
            try:
                await reconcile_camera(
                    camera.id, kind, self.root, self.management, self.announcer, self.settings.fsync
                )
            except Exception as exc:
                log.warning("reconcile_deferred", camera_id=camera.id, error=type(exc).__name__)
                self.reconcile_later(camera.id, kind)
        finally:
            lock.release()
        if camera.recording_mode == "events":
            assert self._triggers is not None, "bind() first"
            await self._triggers.replay(camera.id, window)

    # -- deferred reconciles -------------------------------------------------------------
    def reconcile_later(self, camera_id: int, kind: str, after_s: float = 0.0) -> None:
        if camera_id in self.reconciling:
            return
        task = asyncio.create_task(self._deferred_reconcile(camera_id, kind, after_s))
        self.reconciling[camera_id] = task
        task.add_done_callback(lambda _t: self.reconciling.pop(camera_id, None))

    async def _deferred_reconcile(self, camera_id: int, kind: str, after_s: float) -> None:
        """Reconcile once management answers, while our worker holds the camera's lock (so
        nobody else writes; our own open files are skipped), after ``after_s`` and once the
        outbox is empty (what it delivers is not an orphan). A camera let go meanwhile is
        reconciled by whoever takes it."""
        backoff = Backoff(steps=[1, 2, 5, 10])
        await asyncio.sleep(after_s)
        for _ in range(100_000):  # ends when done or when the camera is no longer ours
            if self.announcer.backlog:
                await asyncio.sleep(1.0)
                continue
            owned = self.supervisor.get(camera_id)
            if owned is None:
                return
            worker = owned.worker
            if worker is not None and worker.holds_lock:
                try:
                    await reconcile_camera(
                        camera_id,
                        kind,
                        self.root,
                        self.management,
                        self.announcer,
                        self.settings.fsync,
                    )
                    log.info("reconcile_done_late", camera_id=camera_id)
                    return
                except Exception as exc:
                    log.debug("reconcile_waiting", camera_id=camera_id, error=type(exc).__name__)
            await asyncio.sleep(backoff.next())

    # -- events --------------------------------------------------------------------------
    async def failsafe(self) -> None:
        """While Redis (and so ``argus:events``) is out of reach for more than a moment,
        cameras in ``events`` mode record anyway: an event nobody can hear must not go
        unrecorded. The fail-safe event ends (post-roll follows) when Redis is back, and
        every camera held is reconciled then."""
        supervisor = self.supervisor
        now = time.monotonic()
        if supervisor.reachable:
            self._redis_down_since = None
        elif self._redis_down_since is None:
            self._redis_down_since = now
        down = self._redis_down_since is not None and (
            now - self._redis_down_since >= _FAILSAFE_AFTER_S
        )
        wall_ms = time.time() * 1000
        if down:
            max_s = self.settings.event_max_s
            if not self._failsafe_keys or now - self._failsafe_since >= max_s / 2:
                # A new key before the cap ends the previous one: one continuous clip.
                self._failsafe_keys.append(f"failsafe-{self.settings.instance_id}-{wall_ms:.0f}")
                self._failsafe_since = now
                if len(self._failsafe_keys) == 1:
                    log.warning("events_unheard_recording_anyway")
        for owned in list(supervisor.owned.values()):
            if owned.camera.recording_mode != "events":
                continue
            for key in self._failsafe_keys:
                if down:
                    owned.state.open_ended(key, wall_ms)
                else:
                    owned.state.end(key, wall_ms)
        if not down and self._failsafe_keys:
            log.info("events_heard_again")
            self._failsafe_keys.clear()
            # Redis may have restarted without its data: announcements it took but
            # management had not read yet are gone. Reconcile what we hold (idempotent).
            for camera_id, owned in list(supervisor.owned.items()):
                kind = "event" if owned.camera.recording_mode == "events" else "continuous"
                self.reconcile_later(camera_id, kind, after_s=_SETTLE_S)

    def route_event(self, message: EventMessage) -> None:
        assert message.camera_id is not None
        owned = self.supervisor.get(message.camera_id)
        if owned is None:
            # A camera we stand by for (a handover): its window follows the events too.
            incoming = getattr(self.supervisor, "incoming", {})
            owned = incoming.get(message.camera_id)
            if owned is not None and owned.camera.recording_mode == "events":
                apply_message(owned.state, message)
            return
        if message.type == "rtmp.publish" and owned.worker is not None:
            owned.worker.wake()
        if owned.camera.recording_mode == "events":
            apply_message(owned.state, message)

    # -- what the heartbeat and the backfill ask -----------------------------------------
    def camera_lists(self) -> tuple[list[int], list[int]]:
        """Cameras whose lease we hold, and those whose media is flowing now."""
        owned = self.supervisor.owned
        up = [c for c, o in owned.items() if o.worker is not None and o.worker.up]
        return sorted(owned), sorted(up)

    def backfill_cameras(self) -> dict[int, tuple[CameraConfig, bool]]:
        """Cameras held, and whether each may be backfilled now (lock held, media flowing)."""
        return {
            c: (o.camera, o.worker is not None and o.worker.up and o.worker.holds_lock)
            for c, o in self.supervisor.owned.items()
        }
