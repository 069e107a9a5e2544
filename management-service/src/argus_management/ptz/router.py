"""PTZ API under ``/api/v1/cameras/{camera_id}/ptz`` (permission ``ptz:control``).

A camera the caller may not see is a 404; one without PTZ a 409. Commands need the caller
to hold the camera's PTZ lock (``POST .../ptz/lock``; any command renews it); without it they
are a 409 naming the holder. Requests are rate-limited per user (429).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response, status

from argus_management.deps import SessionDep
from argus_management.ptz import service as svc
from argus_management.ptz.dependencies import PtzDep
from argus_management.ptz.schemas import (
    PRESET_TOKEN,
    CommandOut,
    LockOut,
    LockRequest,
    MoveRequest,
    PresetCreate,
    PresetCreated,
    PresetOut,
    StatusOut,
)
from argus_management.rbac.dependencies import actor_for
from argus_management.responses import CAMERA_DOWN

router = APIRouter()
PresetToken = Annotated[str, PRESET_TOKEN]


@router.post("/{camera_id}/ptz/move", response_model=CommandOut, responses=CAMERA_DOWN)
async def move(ctx: PtzDep, data: MoveRequest) -> CommandOut:
    """``continuous`` (velocities -1..1 for 1..10 s, then stopped), ``relative`` or
    ``absolute`` (pan, tilt -1..1; zoom 0..1)."""
    return await svc.move(ctx, data)


@router.post("/{camera_id}/ptz/stop", response_model=CommandOut, responses=CAMERA_DOWN)
async def stop(ctx: PtzDep) -> CommandOut:
    return await svc.stop(ctx)


@router.get("/{camera_id}/ptz/status", response_model=StatusOut, responses=CAMERA_DOWN)
async def ptz_status(ctx: PtzDep) -> StatusOut:
    """Position, whether the head moves, and who holds the lock."""
    return await svc.status(ctx)


@router.get("/{camera_id}/ptz/presets", response_model=list[PresetOut],
            responses=CAMERA_DOWN)
async def list_presets(ctx: PtzDep) -> list[PresetOut]:
    return await svc.list_presets(ctx)


@router.post("/{camera_id}/ptz/presets", response_model=PresetCreated,
             status_code=status.HTTP_201_CREATED, responses=CAMERA_DOWN)
async def set_preset(
    request: Request, session: SessionDep, ctx: PtzDep, data: PresetCreate
) -> PresetCreated:
    """Store the current position as a preset (the camera picks the token)."""
    return await svc.set_preset(session, ctx, actor_for(request, ctx.principal), data.name)


@router.delete("/{camera_id}/ptz/presets/{token}", status_code=status.HTTP_204_NO_CONTENT,
               responses=CAMERA_DOWN)
async def remove_preset(
    request: Request, session: SessionDep, ctx: PtzDep, token: PresetToken
) -> Response:
    await svc.remove_preset(session, ctx, actor_for(request, ctx.principal), token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{camera_id}/ptz/presets/{token}/goto", response_model=CommandOut,
             responses=CAMERA_DOWN)
async def goto_preset(ctx: PtzDep, token: PresetToken) -> CommandOut:
    return await svc.goto_preset(ctx, token)


@router.post("/{camera_id}/ptz/home/goto", response_model=CommandOut, responses=CAMERA_DOWN)
async def goto_home(ctx: PtzDep) -> CommandOut:
    return await svc.goto_home(ctx)


@router.put("/{camera_id}/ptz/home", response_model=CommandOut, responses=CAMERA_DOWN)
async def set_home(request: Request, session: SessionDep, ctx: PtzDep) -> CommandOut:
    """Make the current position the home position."""
    return await svc.set_home(session, ctx, actor_for(request, ctx.principal))


@router.get("/{camera_id}/ptz/lock", response_model=LockOut | None)
async def get_lock(ctx: PtzDep) -> LockOut | None:
    """The lock holder, or null when the lock is free."""
    return await svc.current_lock(ctx)


@router.post("/{camera_id}/ptz/lock", response_model=LockOut)
async def acquire_lock(
    request: Request, session: SessionDep, ctx: PtzDep,
    data: Annotated[LockRequest | None, Body()] = None,
) -> LockOut:
    """Acquire the lock, or renew it when held (the heartbeat); ``{"takeover": true}``
    takes it from a holder of lower priority."""
    takeover = data.takeover if data is not None else False
    return await svc.acquire_lock(session, ctx, actor_for(request, ctx.principal), takeover)


@router.delete("/{camera_id}/ptz/lock", status_code=status.HTTP_204_NO_CONTENT)
async def release_lock(request: Request, session: SessionDep, ctx: PtzDep) -> Response:
    await svc.release_lock(session, ctx, actor_for(request, ctx.principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
