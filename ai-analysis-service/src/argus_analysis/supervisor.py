"""Which cameras this analyser analyses: desired cameras, leases, one worker each.

Every ``TTL/3`` it renews its leases (a lost lease stops that camera at once), computes
its fair share (cameras / live analysers, rounded up), gives back what is over it and
takes free cameras up to it. So two analysers never both report a camera's motion, and
a dead analyser's cameras move to the others within a TTL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from argus_analysis.cameras import CameraConfig
from argus_analysis.metrics import CAMERAS
from argus_analysis.worker import CameraWorker
from argus_common.leases import Leases, fair_share

log = structlog.get_logger("argus.analysis.supervisor")

StartWorker = Callable[[CameraConfig], CameraWorker]
Reconfigure = Callable[[CameraWorker, CameraConfig], bool]
_JOIN_S = 30.0


class Supervisor:
    """Owns cameras through leases and runs their workers."""

    def __init__(
        self, leases: Leases, start_worker: StartWorker, reconfigure: Reconfigure, ttl_s: float
    ) -> None:
        self.leases = leases
        self.start_worker = start_worker
        self.reconfigure = reconfigure
        self.ttl_s = ttl_s
        self.desired: dict[int, CameraConfig] = {}
        self.owned: dict[int, CameraWorker] = {}
        self.loaded = False
        self.live_instances: list[str] = []
        self._stopping: set[asyncio.Task[None]] = set()
        self._last_renew = time.monotonic()

    def set_cameras(self, cameras: list[CameraConfig]) -> None:
        """Replace the desired set (a full reload from management)."""
        self.desired = {c.id: c for c in cameras if c.wants_analysis}
        self.loaded = True

    async def camera_changed(self, camera_id: int, camera: CameraConfig | None) -> None:
        """Apply one camera's new configuration (None: deleted)."""
        if camera is None or not camera.wants_analysis:
            self.desired.pop(camera_id, None)
            self._give_up(camera_id, release=True)
            return
        self.desired[camera_id] = camera
        worker = self.owned.get(camera_id)
        if worker is not None and not self.reconfigure(worker, camera):
            log.info("camera_reconnecting", camera_id=camera_id)
            self._give_up(camera_id, release=False)
            self.owned[camera_id] = self.start_worker(camera)

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
                if time.monotonic() - self._last_renew > self.ttl_s * 0.7:
                    for camera_id in list(self.owned):  # another analyser may take them now
                        self._give_up(camera_id, release=False)
            await asyncio.sleep(delay)

    async def tick(self) -> None:
        """One round: heartbeat, renew, rebalance, acquire."""
        self.live_instances = await self.leases.heartbeat()
        held = await self.leases.renew([str(c) for c in self.owned])
        self._last_renew = time.monotonic()
        for camera_id in list(self.owned):
            if str(camera_id) not in held:
                log.warning("lease_lost", camera_id=camera_id)
                self._give_up(camera_id, release=False)
            elif camera_id not in self.desired:
                self._give_up(camera_id, release=True)
        if self.loaded:
            fair = fair_share(len(self.desired), len(self.live_instances))
            for camera_id in sorted(self.owned, reverse=True)[: max(0, len(self.owned) - fair)]:
                log.info("rebalance_give_back", camera_id=camera_id, fair_share=fair)
                self._give_up(camera_id, release=True)
            for camera_id in sorted(self.desired):
                if len(self.owned) >= fair:
                    break
                if camera_id in self.owned or not await self.leases.acquire(str(camera_id)):
                    continue
                self.owned[camera_id] = self.start_worker(self.desired[camera_id])
                log.info("camera_taken", camera_id=camera_id)
        CAMERAS.set(len(self.owned))

    def _give_up(self, camera_id: int, release: bool) -> None:
        """Stop analysing a camera: the worker is told at once, joined in the background
        (the lease is released after it has stopped)."""
        worker = self.owned.pop(camera_id, None)
        if worker is None:
            return
        worker.stop()
        CAMERAS.set(len(self.owned))
        task = asyncio.create_task(self._finish(camera_id, worker, release))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _finish(self, camera_id: int, worker: CameraWorker, release: bool) -> None:
        await asyncio.to_thread(worker.join, _JOIN_S)
        if release:
            try:
                await self.leases.release(str(camera_id))
            except Exception as exc:
                log.warning("lease_release_failed", camera_id=camera_id,
                            error=type(exc).__name__)

    async def shutdown(self) -> None:
        """Stop every worker and free the leases."""
        for camera_id in list(self.owned):
            self._give_up(camera_id, release=True)
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)
