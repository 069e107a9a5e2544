"""The guard tour runner: enabled tours run by one process, under each camera's PTZ lock.

A tour holds its camera's PTZ lock like an operator, as the holder ``guard tour <name>``
(user id ``-tour_id``: no user) at ``TOUR_PRIORITY``, below every role. Any operator who
takes the lock gets it at once (``ptz/service.py`` takes over a tour's lock without the
``takeover`` flag): the tour sees the lock held by someone else and pauses. When the
operator's lock ends (released or expired), the tour takes the lock back and resumes at the
preset it was at. Pauses and resumptions are audited (``ptz.guard_tour_paused`` /
``ptz.guard_tour_resumed``), and the lock changes are announced on ``argus:ptz`` like an
operator's.

One runner for all workers and replicas: the process holding the ``guard-tours`` lease
(``argus_common.leases.Leader``). Every tick it re-reads the enabled tours, renews their
locks (a renewal is a take-back after a pause) and moves cameras whose dwell is over. A new
leader renews the locks the old one held (same holder id), so a failover does not pause a
tour.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.errors import ArgusError
from argus_common.leases import Leader, Leases
from argus_common.retry import Backoff, keep_running
from argus_management.audit import service as audit
from argus_management.config import Settings
from argus_management.guard_tours import state
from argus_management.guard_tours.models import GuardTour
from argus_management.guard_tours.schemas import GuardTourStatus, Step
from argus_management.guard_tours.service import steps_of
from argus_management.onvif.pool import load_endpoint
from argus_management.ptz import accounting
from argus_management.ptz.lock import PtzLock
from argus_management.ptz.runtime import PtzRuntime
from argus_management.rbac.principal import Actor

log = structlog.get_logger("argus.guard_tours")

TOUR_PRIORITY = -1  # below every role (roles' ptz_priority is 0 or more)


def holder_id(tour_id: int) -> int:
    """The lock holder id of a tour: negative, so it is never a user's."""
    return -tour_id


def is_tour(lock: PtzLock) -> bool:
    return lock.user_id < 0


@dataclass
class Progress:
    """Where a tour is: the step it is at and when it moves on (monotonic)."""

    camera_id: int
    steps: list[Step]
    step: int = 0
    move_at: float = 0.0  # 0: go to the current step now
    paused_by: str | None = None
    running: bool = False
    since: datetime | None = None


class GuardTourRunner:
    """Runs the enabled tours while holding the lease; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        maker: async_sessionmaker[AsyncSession],
        ptz: PtzRuntime,
        tick_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.maker = maker
        self.ptz = ptz
        self.tick_s = tick_s if tick_s is not None else settings.guard_tour_tick_s
        instance = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        leases = Leases(
            ptz.bus.redis,
            ptz.bus.namespace,
            "guard-tours",
            instance,
            ttl_s=max(5 * self.tick_s, 10.0),
        )
        self.lease = Leader(leases)
        self.progress: dict[int, Progress] = {}

    @property
    def ttl_ms(self) -> int:
        # The tour's lock outlives a few missed ticks, never less than an operator's.
        return max(self.ptz.ttl_ms, int(self.tick_s * 3000))

    async def run(self) -> None:
        async def ticks() -> None:
            while True:
                if await self.lease.acquire_or_renew():
                    await self.tick()
                else:
                    self.progress.clear()
                await asyncio.sleep(self.tick_s)

        try:
            await keep_running(
                ticks,
                event="guard_tour_tick_failed",
                log=log,
                backoff=Backoff(steps=[self.tick_s, 5.0]),
            )
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.lease.release())

    async def _tours(self) -> list[GuardTour]:
        async with self.maker() as session:
            return list(
                (await session.scalars(select(GuardTour).where(GuardTour.enabled.is_(True)))).all()
            )

    async def tick(self) -> None:
        """One pass over the enabled tours."""
        tours = await self._tours()
        wanted = {t.id for t in tours}
        for tour_id in [t for t in self.progress if t not in wanted]:
            await self._stop(tour_id)
        for tour in tours:
            steps = steps_of(tour)
            progress = self.progress.get(tour.id)
            if progress is None or progress.steps != steps or progress.camera_id != tour.camera_id:
                progress = Progress(tour.camera_id, steps)
                self.progress[tour.id] = progress
            try:
                await self._advance(tour, progress)
            except ArgusError as exc:
                log.warning(
                    "guard_tour_step_failed",
                    tour_id=tour.id,
                    camera_id=tour.camera_id,
                    error=exc.detail,
                )
                progress.move_at = time.monotonic() + progress.steps[progress.step].dwell_s

    async def _advance(self, tour: GuardTour, progress: Progress) -> None:
        camera_id = tour.camera_id
        if await self.ptz.locks.current(camera_id) is None:
            # An operator's lock ran out: let its expiry be handled (audited, announced)
            # before the tour takes the camera back.
            await self.ptz.check_lock(camera_id)
        candidate = PtzLock.new(
            camera_id, holder_id(tour.id), f"guard tour {tour.name}", TOUR_PRIORITY, self.ttl_ms
        )
        result = await self.ptz.locks.acquire(candidate, self.ttl_ms, takeover=False)
        if result.outcome == "held" and result.lock is not None:
            await self._pause(tour, progress, result.lock)
            return
        if result.outcome == "acquired" and result.lock is not None:
            await self.ptz.publish(camera_id, "acquired", result.lock, None)
            await self._resume(tour, progress)
        elif not progress.running:  # our lock from before (another leader held it)
            progress.running, progress.since = True, datetime.now(UTC)
        now = time.monotonic()
        if now >= progress.move_at:
            step = progress.steps[progress.step]
            if progress.move_at:  # the dwell at the previous step is over
                progress.step = (progress.step + 1) % len(progress.steps)
                step = progress.steps[progress.step]
            endpoint = await load_endpoint(self.maker, self.settings.secret_key, camera_id)
            await self.ptz.pool.get(endpoint).goto_preset(step.preset)
            progress.move_at = now + step.dwell_s
            if result.lock is not None:
                await accounting.count_command(self.ptz.bus, result.lock, "move")
        await state.write(
            self.ptz.bus,
            tour.id,
            GuardTourStatus(state="running", step=progress.step, since=progress.since),
        )

    async def _pause(self, tour: GuardTour, progress: Progress, lock: PtzLock) -> None:
        if progress.paused_by != lock.username or progress.running:
            progress.running = False
            progress.paused_by = lock.username
            progress.since = datetime.now(UTC)
            progress.move_at = 0.0  # back at the same preset when it resumes
            log.info(
                "guard_tour_paused",
                tour_id=tour.id,
                camera_id=tour.camera_id,
                held_by=lock.username,
            )
            await self._audit(
                tour,
                "ptz.guard_tour_paused",
                {"held_by": lock.username, "held_by_user_id": lock.user_id, "step": progress.step},
            )
        await state.write(
            self.ptz.bus,
            tour.id,
            GuardTourStatus(
                state="paused", step=progress.step, held_by=lock.username, since=progress.since
            ),
        )

    async def _resume(self, tour: GuardTour, progress: Progress) -> None:
        was_paused = progress.paused_by is not None
        progress.running, progress.paused_by = True, None
        progress.since = datetime.now(UTC)
        progress.move_at = 0.0
        action = "ptz.guard_tour_resumed" if was_paused else "ptz.guard_tour_started"
        log.info(action.removeprefix("ptz."), tour_id=tour.id, camera_id=tour.camera_id)
        await self._audit(tour, action, {"step": progress.step})

    async def _stop(self, tour_id: int) -> None:
        """A tour disabled or deleted: give its lock back."""
        progress = self.progress.pop(tour_id)
        result = await self.ptz.locks.release(progress.camera_id, holder_id(tour_id))
        await state.forget(self.ptz.bus, tour_id)
        if result.outcome == "released" and result.lock is not None:
            await self.ptz.publish(progress.camera_id, "released", None, result.lock)
            async with self.maker() as session:
                await accounting.record_session(
                    session, self.ptz.bus, result.lock, "released", accounting.holder(result.lock)
                )
                await session.commit()

    async def _audit(self, tour: GuardTour, action: str, summary: dict[str, object]) -> None:
        actor = Actor(user_id=None, username=f"guard tour {tour.name}", ip=None, user_agent=None)
        try:
            async with self.maker() as session:
                await audit.record(
                    session,
                    actor,
                    action,
                    "camera",
                    tour.camera_id,
                    {"tour_id": tour.id, **summary},
                )
                await session.commit()
        except Exception as exc:
            log.warning("guard_tour_audit_failed", tour_id=tour.id, error=type(exc).__name__)
