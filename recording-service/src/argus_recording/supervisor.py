"""Which cameras this recorder records: desired cameras, leases, and one worker each.

Every ``TTL/3`` the supervisor renews its leases (a lost lease stops that camera at
once), computes its fair share (cameras / live recorders, rounded up), gives back what is
over it and takes free cameras up to it. A taken camera is reconciled (files vs index)
before its worker starts. Without Redis for most of a TTL it stops every worker, since
another recorder may take the cameras as soon as the leases expire.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from argus_common.leases import Leases
from argus_recording.cameras import CameraConfig
from argus_recording.metrics import OWNED_CAMERAS
from argus_recording.window import EventWindow
from argus_recording.worker import CameraWorker

log = structlog.get_logger("argus.recording.supervisor")

StartWorker = Callable[[CameraConfig, EventWindow], CameraWorker]
Prepare = Callable[[CameraConfig, EventWindow], Awaitable[None]]
_JOIN_S = 90.0


@dataclass
class Owned:
    """A camera whose lease we hold, and its worker once started."""

    camera: CameraConfig
    window: EventWindow
    worker: CameraWorker | None = None
    starting: asyncio.Task[None] | None = field(default=None, repr=False)


class Supervisor:
    """Owns cameras through leases and runs their workers."""

    def __init__(
        self, leases: Leases, start_worker: StartWorker, prepare: Prepare,
        make_window: Callable[[], EventWindow], ttl_s: float,
    ) -> None:
        self.leases = leases
        self.start_worker = start_worker
        self.prepare = prepare
        self.make_window = make_window
        self.ttl_s = ttl_s
        self.desired: dict[int, CameraConfig] = {}
        self.owned: dict[int, Owned] = {}
        # Cameras being let go: their leases stay renewed until the worker has exited, so
        # nobody else starts writing the camera before we stopped.
        self.stopping: dict[int, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.loaded = False
        self.live_instances: list[str] = []
        self._last_renew = time.monotonic()

    # -- configuration ---------------------------------------------------------------------
    def set_cameras(self, cameras: list[CameraConfig]) -> None:
        """Replace the desired set (a full reload from management)."""
        self.desired = {c.id: c for c in cameras if c.wants_recording}
        self.loaded = True

    async def camera_changed(self, camera_id: int, camera: CameraConfig | None) -> None:
        """Apply one camera's new configuration (None: deleted)."""
        if camera is None or not camera.wants_recording:
            self.desired.pop(camera_id, None)
            if camera_id in self.owned:
                await self._give_up(camera_id, release=True)
            return
        self.desired[camera_id] = camera
        owned = self.owned.get(camera_id)
        if owned is not None and owned.camera.ingest_key != camera.ingest_key:
            log.info("camera_reconfigured", camera_id=camera_id)
            await self._stop_worker(owned)
            owned.camera = camera
            owned.worker = self.start_worker(camera, owned.window)
        elif owned is not None:
            owned.camera = camera

    # -- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            delay = self.ttl_s / 3
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("supervisor_tick_failed", error=type(exc).__name__)
                delay = self.ttl_s / 10
                if time.monotonic() - self._last_renew > self.ttl_s * 0.7 and self.owned:
                    log.error("leases_unrenewable_stopping_all", cameras=sorted(self.owned))
                    for camera_id in list(self.owned):
                        await self._give_up(camera_id, release=False)
            await asyncio.sleep(delay)

    async def tick(self) -> None:
        """One round: heartbeat, renew, rebalance, acquire."""
        self.live_instances = await self.leases.heartbeat()
        held = await self.leases.renew([str(c) for c in [*self.owned, *self.stopping]])
        self._last_renew = time.monotonic()
        for camera_id in list(self.owned):
            if str(camera_id) not in held:
                log.warning("lease_lost", camera_id=camera_id)
                await self._give_up(camera_id, release=False)
        for camera_id in list(self.owned):
            if camera_id not in self.desired:
                await self._give_up(camera_id, release=True)
        if not self.loaded:
            return
        fair = math.ceil(len(self.desired) / max(1, len(self.live_instances)))
        for camera_id in sorted(self.owned, reverse=True)[: max(0, len(self.owned) - fair)]:
            log.info("rebalance_give_back", camera_id=camera_id, fair_share=fair)
            await self._give_up(camera_id, release=True)
        for camera_id in sorted(self.desired):
            if len(self.owned) >= fair:
                break
            if camera_id in self.owned or camera_id in self.stopping:
                continue
            if not await self.leases.acquire(str(camera_id)):
                continue
            self._take(self.desired[camera_id])
        OWNED_CAMERAS.set(len(self.owned))

    def _take(self, camera: CameraConfig) -> None:
        owned = Owned(camera=camera, window=self.make_window())
        self.owned[camera.id] = owned
        owned.starting = asyncio.create_task(self._start(owned), name=f"start-{camera.id}")
        log.info("camera_taken", camera_id=camera.id)

    async def _start(self, owned: Owned) -> None:
        try:
            await self.prepare(owned.camera, owned.window)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Reconcile failed (management down): record anyway; the next start retries.
            log.warning("prepare_failed", camera_id=owned.camera.id, error=type(exc).__name__)
        if self.owned.get(owned.camera.id) is owned:
            owned.worker = self.start_worker(owned.camera, owned.window)

    async def _stop_worker(self, owned: Owned) -> None:
        if owned.starting is not None and not owned.starting.done():
            owned.starting.cancel()
            await asyncio.gather(owned.starting, return_exceptions=True)
        worker, owned.worker = owned.worker, None
        if worker is not None:
            worker.stop()
            await asyncio.to_thread(worker.join, _JOIN_S)

    async def _give_up(self, camera_id: int, release: bool) -> None:
        """Stop recording a camera. The worker is told at once; joining it (and releasing
        the lease after) runs in the background so renewals of the others never wait."""
        owned = self.owned.pop(camera_id, None)
        if owned is None:
            return
        if owned.worker is not None:
            owned.worker.stop()
        OWNED_CAMERAS.set(len(self.owned))
        task = asyncio.create_task(self._finish(owned, release), name=f"stop-{camera_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        if release:
            self.stopping[camera_id] = task

    async def _finish(self, owned: Owned, release: bool) -> None:
        camera_id = owned.camera.id
        try:
            await self._stop_worker(owned)
            if release:
                await self.leases.release(str(camera_id))
        except Exception as exc:
            log.warning("camera_release_failed", camera_id=camera_id, error=type(exc).__name__)
        finally:
            self.stopping.pop(camera_id, None)
        log.info("camera_released", camera_id=camera_id)

    async def shutdown(self) -> None:
        """Stop every worker (their segments are finished and announced), free leases."""
        for camera_id in list(self.owned):
            await self._give_up(camera_id, release=True)
        pending = list(self._background)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def handle(self, camera_id: int) -> Owned | None:
        return self.owned.get(camera_id)
