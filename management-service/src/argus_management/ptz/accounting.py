"""PTZ control in the audit log: one ``ptz_session`` row per lock session.

A lock session runs from acquire to release, expiry or takeover. Commands under it are
counted in Redis (``<ns>:ptz:session:<lock token>``, a hash: ``move`` for moves and
goto, ``preset`` for preset and home changes), because they may be served by any worker;
the row written when the session ends carries its span, its duration and the counts.
The lock's own ``ptz.lock`` / ``ptz.unlock`` / ``ptz.takeover`` rows are kept as they are;
the session row's action is ``ptz_session`` (outside the ``ptz.`` events of the lock).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_management.audit import service as audit
from argus_management.ptz.lock import PtzLock, now_ms
from argus_management.rbac.principal import Actor

Command = Literal["move", "preset"]
End = Literal["released", "expired", "takeover"]

# The counts outlive the lock by this much, so an expiry noticed late still finds them.
_KEEP_MS = 10 * 60 * 1000


def _key(bus: RedisBus, lock: PtzLock) -> str:
    return bus.key(f"ptz:session:{lock.token}")


async def count_command(bus: RedisBus, lock: PtzLock, command: Command) -> None:
    """Count one command of ``lock``'s session."""
    key = _key(bus, lock)
    async with bus.redis.pipeline(transaction=True) as pipe:
        pipe.hincrby(key, command, 1)
        pipe.pexpire(key, max(lock.expires_at_ms - now_ms(), 0) + _KEEP_MS)
        await pipe.execute()


async def _take_counts(bus: RedisBus, lock: PtzLock) -> dict[str, int]:
    key = _key(bus, lock)
    async with bus.redis.pipeline(transaction=True) as pipe:
        pipe.hgetall(key)
        pipe.delete(key)
        raw, _ = await pipe.execute()
    counts: dict[str, int] = {}
    for name, value in (raw or {}).items():
        name = name.decode() if isinstance(name, bytes) else str(name)
        counts[name] = int(value)
    return counts


async def session_summary(
    bus: RedisBus, lock: PtzLock, end: End, ended_at_ms: int | None = None,
    by: PtzLock | None = None,
) -> dict[str, Any]:
    """The summary of ``lock``'s session, ending now (its counts are taken: once only)."""
    ended = ended_at_ms if ended_at_ms is not None else now_ms()
    counts = await _take_counts(bus, lock)
    summary: dict[str, Any] = {
        "end": end,
        "acquired_at": lock.acquired_at.isoformat(),
        "ended_at": datetime.fromtimestamp(ended / 1000, UTC).isoformat(),
        "duration_s": round(max(ended - lock.acquired_at_ms, 0) / 1000, 3),
        "moves": counts.get("move", 0),
        "preset_changes": counts.get("preset", 0),
        "priority": lock.priority,
    }
    if by is not None:
        summary["taken_by_user_id"], summary["taken_by"] = by.user_id, by.username
    return summary


def holder(lock: PtzLock, ip: str | None = None, user_agent: str | None = None) -> Actor:
    """The audit identity of the lock's holder (who controlled the camera); a guard tour
    (negative holder id, ``guard_tours/runner.py``) is no user."""
    user_id = lock.user_id if lock.user_id > 0 else None
    return Actor(user_id=user_id, username=lock.username, ip=ip, user_agent=user_agent)


async def record_session(
    session: AsyncSession, bus: RedisBus, lock: PtzLock, end: End, actor: Actor,
    by: PtzLock | None = None, ended_at_ms: int | None = None,
) -> None:
    """Write ``lock``'s ``ptz_session`` row into ``session``'s transaction."""
    summary = await session_summary(bus, lock, end, ended_at_ms, by)
    await audit.record(session, actor, "ptz_session", "camera", lock.camera_id, summary)
