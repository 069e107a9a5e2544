"""PTZ commands and the lock, for the router.

Commands that move the head or change presets need the caller to hold the lock (each one
renews it); reads (status, presets) need only the permission. Lock changes and preset
changes are audited in the request's transaction and announced on ``argus:ptz`` after it
commits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import Conflict
from argus_management.audit import service as audit
from argus_management.db import after_commit
from argus_management.onvif.capabilities import Warnings, optional
from argus_management.onvif.types import PtzStatus, PtzVector
from argus_management.ptz import accounting
from argus_management.ptz.dependencies import PtzContext
from argus_management.ptz.lock import PtzLock, now_ms
from argus_management.ptz.runtime import LockReason
from argus_management.ptz.schemas import (
    AbsoluteMove,
    CommandOut,
    ContinuousMove,
    LockOut,
    PositionOut,
    PresetCreated,
    PresetOut,
    RelativeMove,
    StatusOut,
)
from argus_management.rbac.principal import Actor


def lock_out(lock: PtzLock, user_id: int) -> LockOut:
    return LockOut(
        camera_id=lock.camera_id, holder_user_id=lock.user_id, holder_username=lock.username,
        priority=lock.priority, acquired_at=lock.acquired_at, expires_at=lock.expires_at,
        yours=lock.user_id == user_id,
    )


def held_by(lock: PtzLock) -> Conflict:
    """409 naming the holder and when their lock runs out."""
    return Conflict(
        f"PTZ of this camera is controlled by {lock.username} until "
        f"{lock.expires_at.isoformat(timespec='seconds')}"
    )


def _position(vector: PtzVector | None) -> PositionOut | None:
    if vector is None:
        return None
    return PositionOut(pan=vector.pan, tilt=vector.tilt, zoom=vector.zoom)


def _command(ctx: PtzContext, lock: PtzLock | None, stops_at_ms: int | None = None) -> CommandOut:
    return CommandOut(
        camera_id=ctx.camera_id,
        lock=None if lock is None else lock_out(lock, ctx.principal.user_id),
        stops_at=None if stops_at_ms is None else datetime.fromtimestamp(stops_at_ms / 1000, UTC),
    )


async def _control(ctx: PtzContext, move_until_ms: int | None = None,
                   command: accounting.Command = "move") -> PtzLock:
    """Renew the caller's lock for a command (counted in the lock session's audit row);
    409 naming the holder if it is not theirs."""
    result = await ctx.runtime.locks.renew(
        ctx.camera_id, ctx.principal.user_id, ctx.runtime.ttl_ms, move_until_ms
    )
    if result.outcome == "held" and result.lock is not None:
        raise held_by(result.lock)
    if result.outcome != "renewed" or result.lock is None:
        raise Conflict("take the PTZ lock of this camera first (POST .../ptz/lock)")
    ctx.runtime.watch_lock(result.lock)
    await accounting.count_command(ctx.runtime.bus, result.lock, command)
    return result.lock


# -- moving ------------------------------------------------------------------------------
async def move(ctx: PtzContext, data: ContinuousMove | RelativeMove | AbsoluteMove) -> CommandOut:
    """One move; a continuous one is stopped after ``timeout_s``, here and at the camera."""
    if isinstance(data, ContinuousMove):
        until = now_ms() + data.timeout_s * 1000
        lock = await _control(ctx, move_until_ms=until)
        await ctx.device.continuous_move(data.pan, data.tilt, data.zoom, data.timeout_s)
        ctx.runtime.watch_move(ctx.camera_id, until, lock.token)
        return _command(ctx, lock, until)
    lock = await _control(ctx)
    if isinstance(data, RelativeMove):
        await ctx.device.relative_move(data.pan, data.tilt, data.zoom)
    else:
        await ctx.device.absolute_move(data.pan, data.tilt, data.zoom)
    return _command(ctx, lock)


async def stop(ctx: PtzContext) -> CommandOut:
    """Stop the head. Needs the lock only when someone holds it: stopping a camera nobody
    controls disturbs nobody."""
    result = await ctx.runtime.locks.renew(
        ctx.camera_id, ctx.principal.user_id, ctx.runtime.ttl_ms, move_until_ms=0
    )
    if result.outcome == "held" and result.lock is not None:
        raise held_by(result.lock)
    await ctx.device.stop()
    ctx.runtime.forget_move(ctx.camera_id)
    if result.lock is not None:
        ctx.runtime.watch_lock(result.lock)
    return _command(ctx, result.lock)


async def status(ctx: PtzContext) -> StatusOut:
    """Position and motion from the camera, and the lock holder. A camera that cannot
    tell its position (GetStatus is optional) gives an unknown one and a warning."""
    warnings = Warnings()
    await ctx.device.connect()  # unreachable or refusing our credentials: an error
    state = await optional("PTZ status", ctx.device.status, warnings)
    if state is None:
        state = PtzStatus(PtzVector(None, None, None), False, False)
    lock = await ctx.runtime.locks.current(ctx.camera_id)
    return StatusOut(
        camera_id=ctx.camera_id,
        position=_position(state.position) or PositionOut(pan=None, tilt=None, zoom=None),
        moving=state.moving, pan_tilt_moving=state.pan_tilt_moving,
        zoom_moving=state.zoom_moving,
        lock=None if lock is None else lock_out(lock, ctx.principal.user_id),
        warnings=list(warnings),
    )


# -- presets and home ----------------------------------------------------------------------
async def list_presets(ctx: PtzContext) -> list[PresetOut]:
    """The camera's presets; none (logged) when it cannot list them (an optional operation:
    the PTZ panel still moves the camera)."""
    await ctx.device.connect()  # unreachable or refusing our credentials: an error
    presets = await optional("PTZ presets", ctx.device.presets, Warnings())
    return [
        PresetOut(token=p.token, name=p.name, position=_position(p.position))
        for p in presets or []
    ]


async def set_preset(session: AsyncSession, ctx: PtzContext, actor: Actor,
                     name: str) -> PresetCreated:
    await _control(ctx, command="preset")
    token = await ctx.device.set_preset(name)
    await audit.record(session, actor, "ptz.preset_set", "camera", ctx.camera_id,
                       {"preset_token": token, "name": name})
    return PresetCreated(token=token, name=name)


async def remove_preset(session: AsyncSession, ctx: PtzContext, actor: Actor,
                        token: str) -> None:
    await _control(ctx, command="preset")
    await ctx.device.remove_preset(token)
    await audit.record(session, actor, "ptz.preset_remove", "camera", ctx.camera_id,
                       {"preset_token": token})


async def goto_preset(ctx: PtzContext, token: str) -> CommandOut:
    lock = await _control(ctx)
    await ctx.device.goto_preset(token)
    return _command(ctx, lock)


async def goto_home(ctx: PtzContext) -> CommandOut:
    lock = await _control(ctx)
    await ctx.device.goto_home()
    return _command(ctx, lock)


async def set_home(session: AsyncSession, ctx: PtzContext, actor: Actor) -> CommandOut:
    lock = await _control(ctx, command="preset")
    await ctx.device.set_home()
    await audit.record(session, actor, "ptz.home_set", "camera", ctx.camera_id, {})
    return _command(ctx, lock)


# -- the lock ------------------------------------------------------------------------------
async def acquire_lock(session: AsyncSession, ctx: PtzContext, actor: Actor,
                       takeover: bool) -> LockOut:
    """Take the lock, renew it (the holder's heartbeat), or take it over with a higher
    priority; the previous holder's move stops and it is told on ``/ws/alerts``."""
    runtime, principal = ctx.runtime, ctx.principal
    candidate = PtzLock.new(ctx.camera_id, principal.user_id, principal.username,
                            principal.ptz_priority, runtime.ttl_ms)
    result = await runtime.locks.acquire(candidate, runtime.ttl_ms, takeover)
    if result.outcome == "held" and result.lock is not None and result.lock.user_id < 0:
        # A guard tour (negative holder id, lowest priority) yields to any operator at once;
        # it resumes when their lock ends (guard_tours/runner.py).
        result = await runtime.locks.acquire(candidate, runtime.ttl_ms, True)
    lock = result.lock
    if result.outcome == "held" and lock is not None:
        if takeover:
            raise Conflict(
                f"PTZ of this camera is controlled by {lock.username} (priority "
                f"{lock.priority}) until {lock.expires_at.isoformat(timespec='seconds')}; "
                f"taking over needs a higher priority than yours ({principal.ptz_priority})"
            )
        raise held_by(lock)
    assert lock is not None
    runtime.watch_lock(lock)
    previous = result.previous
    if result.outcome == "acquired":
        await audit.record(session, actor, "ptz.lock", "camera", ctx.camera_id,
                           {"priority": lock.priority, "ttl_s": runtime.ttl_ms / 1000})
        _announce(session, ctx, "acquired", lock, None)
    elif result.outcome == "takeover" and previous is not None:
        await audit.record(session, actor, "ptz.takeover", "camera", ctx.camera_id, {
            "priority": lock.priority, "previous_user_id": previous.user_id,
            "previous_username": previous.username, "previous_priority": previous.priority,
        })
        await accounting.record_session(session, runtime.bus, previous, "takeover",
                                        accounting.holder(previous), by=lock)
        _announce(session, ctx, "takeover", lock, previous)
    return lock_out(lock, principal.user_id)


async def release_lock(session: AsyncSession, ctx: PtzContext, actor: Actor) -> None:
    """Give the lock back (compare-and-delete: only the holder's own lock); a continuous
    move still running is stopped. Releasing a free lock is a no-op."""
    result = await ctx.runtime.locks.release(ctx.camera_id, ctx.principal.user_id)
    if result.outcome == "held" and result.lock is not None:
        raise held_by(result.lock)
    if result.outcome != "released" or result.lock is None:
        return
    ctx.runtime.forget(ctx.camera_id)
    await audit.record(session, actor, "ptz.unlock", "camera", ctx.camera_id, {})
    await accounting.record_session(session, ctx.runtime.bus, result.lock, "released", actor)
    _announce(session, ctx, "released", None, result.lock)


async def current_lock(ctx: PtzContext) -> LockOut | None:
    lock = await ctx.runtime.locks.current(ctx.camera_id)
    return None if lock is None else lock_out(lock, ctx.principal.user_id)


def _announce(session: AsyncSession, ctx: PtzContext, reason: LockReason, lock: PtzLock | None,
              previous: PtzLock | None) -> None:
    """After commit: publish the change; when a lock was lost, stop its running move."""
    runtime, endpoint = ctx.runtime, ctx.endpoint

    async def effects() -> None:
        await runtime.publish(ctx.camera_id, reason, lock, previous)
        if previous is not None:
            await runtime.lock_lost(previous, reason, endpoint)

    after_commit(session, effects)
