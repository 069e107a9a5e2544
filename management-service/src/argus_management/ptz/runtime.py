"""Per-process PTZ machinery: the device pool, the lock store and the timers that end moves.

Every move is bounded, whatever the client does:

- a continuous move carries the camera-side ``Timeout`` and, here, a timer that sends Stop
  when it runs out (unless a later move by the same holder extended it);
- losing the lock stops a move still running: release and takeover stop it in the request
  that changed the lock; expiry is noticed by a timer set, in the process that handled the
  holder's last command, at the lock's expiry, and by a periodic sweep in every process (for
  a process that died). ``PtzLocks.check_expired`` lets exactly one of them act.

Keyspace notifications would tell us about expiry too, but they are off by default and are a
server setting we do not want to require; a timer plus a sweep needs nothing from Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.errors import ArgusError
from argus_common.events import CHANNEL_PTZ, PtzLockChanged
from argus_management.config import Settings
from argus_management.onvif.pool import CameraEndpoint, DevicePool, load_endpoint
from argus_management.ptz import accounting
from argus_management.ptz.lock import LockResult, PtzLock, PtzLocks, now_ms

log = structlog.get_logger("argus.ptz")

LockReason = Literal["acquired", "released", "expired", "takeover"]

_EXPIRY_GRACE_MS = 20  # fire just after the key's PX has run out
_EXTENDED_MARGIN_MS = 50  # a move ending later than this was extended: wait for it


class PtzRuntime:
    """The PTZ state of one process (built in the lifespan: ``AppState.ptz``)."""

    def __init__(
        self, settings: Settings, bus: RedisBus, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.locks = PtzLocks(self.bus)
        self.pool = DevicePool(allow_foreign_xaddrs=settings.onvif_allow_foreign_xaddrs)
        self._move_timers: dict[int, asyncio.TimerHandle] = {}
        self._lock_timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def ttl_ms(self) -> int:
        # Read at each use: the setting may be changed at run time (tests shorten it).
        return int(self.settings.ptz_lock_ttl_s * 1000)

    # -- timers -------------------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _arm(self, timers: dict[int, asyncio.TimerHandle], camera_id: int, at_ms: int,
             coro_factory: Any) -> None:
        old = timers.pop(camera_id, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, (at_ms - now_ms()) / 1000)

        def fire() -> None:
            timers.pop(camera_id, None)
            self._spawn(coro_factory())

        timers[camera_id] = loop.call_later(delay, fire)

    def watch_move(self, camera_id: int, until_ms: int, token: str) -> None:
        """Send Stop at ``until_ms`` unless the move was extended or the lock changed hands."""
        self._arm(self._move_timers, camera_id, until_ms,
                  lambda: self._move_deadline(camera_id, token))

    def watch_lock(self, lock: PtzLock) -> None:
        """Check the lock just after it would expire (renewals move the check along)."""
        self._arm(self._lock_timers, lock.camera_id, lock.expires_at_ms + _EXPIRY_GRACE_MS,
                  lambda: self.check_lock(lock.camera_id, rearm=True))

    def forget_move(self, camera_id: int) -> None:
        """Drop the camera's move timer (it was stopped explicitly)."""
        handle = self._move_timers.pop(camera_id, None)
        if handle is not None:
            handle.cancel()

    def forget(self, camera_id: int) -> None:
        """Drop this process's timers of a camera (its lock was released here)."""
        for timers in (self._move_timers, self._lock_timers):
            handle = timers.pop(camera_id, None)
            if handle is not None:
                handle.cancel()

    async def _move_deadline(self, camera_id: int, token: str) -> None:
        lock = await self.locks.current(camera_id)
        if lock is not None and lock.token != token:
            return  # taken over: the takeover stopped our move
        if lock is not None and lock.moving(now_ms() + _EXTENDED_MARGIN_MS):
            self.watch_move(camera_id, lock.move_until_ms, token)
            return
        await self.stop_camera(camera_id, why="move timeout")

    async def check_lock(self, camera_id: int, *, rearm: bool = False) -> LockResult:
        """Act on an expired lock (once, whichever process sees it first)."""
        result = await self.locks.check_expired(camera_id)
        if result.outcome == "held" and result.lock is not None and rearm:
            self.watch_lock(result.lock)
        elif result.outcome == "expired" and result.lock is not None:
            await self.lock_lost(result.lock, "expired")
        return result

    async def sweep(self) -> None:
        """Check every known lock (finds expiries whose timer died with its process)."""
        for camera_id in await self.locks.known_cameras():
            await self.check_lock(camera_id)

    # -- effects -----------------------------------------------------------------------
    async def lock_lost(self, lock: PtzLock, reason: LockReason,
                        endpoint: CameraEndpoint | None = None) -> None:
        """``lock`` ended (released, expired or taken over): stop its running move, and
        announce an expiry (releases and takeovers are announced by their request)."""
        handle = self._move_timers.pop(lock.camera_id, None)
        if handle is not None:
            handle.cancel()
        if reason == "expired":
            log.info("ptz_lock_expired", camera_id=lock.camera_id, user_id=lock.user_id)
            await self.publish(lock.camera_id, "expired", None, lock)
            await self._audit_expiry(lock)
        if lock.moving():
            await self.stop_camera(lock.camera_id, endpoint, why=reason)

    async def _audit_expiry(self, lock: PtzLock) -> None:
        """The ``ptz_session`` row of a lock that ran out (there is no request to carry it:
        its own transaction); ended at the lock's expiry, not when it was noticed."""
        try:
            async with self.sessionmaker() as session:
                await accounting.record_session(session, self.bus, lock, "expired",
                                                accounting.holder(lock),
                                                ended_at_ms=lock.expires_at_ms)
                await session.commit()
        except Exception as exc:
            log.warning("ptz_session_audit_failed", camera_id=lock.camera_id,
                        error=type(exc).__name__)

    async def stop_camera(self, camera_id: int, endpoint: CameraEndpoint | None = None,
                          *, why: str) -> None:
        """Send Stop; failures are logged (there is no request to answer)."""
        try:
            if endpoint is None:
                endpoint = await load_endpoint(self.sessionmaker, self.settings.secret_key,
                                               camera_id)
            await self.pool.get(endpoint).stop()
            log.info("ptz_stopped", camera_id=camera_id, why=why)
        except ArgusError as exc:
            log.warning("ptz_stop_failed", camera_id=camera_id, why=why, error=exc.detail)

    async def publish(self, camera_id: int, reason: LockReason, lock: PtzLock | None,
                      previous: PtzLock | None) -> None:
        """Announce a lock change on ``argus:ptz`` (live only: a lost message is logged)."""
        message = PtzLockChanged(
            camera_id=camera_id,
            reason=reason,
            holder_user_id=lock.user_id if lock else None,
            holder_username=lock.username if lock else None,
            priority=lock.priority if lock else None,
            expires_at=lock.expires_at if lock else None,
            previous_user_id=previous.user_id if previous else None,
        )
        try:
            await self.bus.publish(CHANNEL_PTZ, message)
        except Exception as exc:
            log.warning("ptz_publish_failed", camera_id=camera_id, error=type(exc).__name__)

    async def close(self) -> None:
        for timers in (self._move_timers, self._lock_timers):
            for handle in timers.values():
                handle.cancel()
            timers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pool.close()

