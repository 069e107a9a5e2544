"""Video walls under ``/api/v1/walls``.

``walls:view`` lists walls and what each monitor shows (online or not); ``walls:control``
pushes a camera, a layout or a tour to a monitor (within the pusher's own cameras);
``walls:manage`` creates and deletes walls and monitors, sets a monitor's alarm kinds and
issues or revokes its display credential (shown once). Everything is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from argus_management.deps import BusDep, SessionDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal
from argus_management.walls import credentials
from argus_management.walls import service as svc
from argus_management.walls.models import VideoWall, WallMonitor
from argus_management.walls.schemas import (
    MAX_ID,
    CredentialOut,
    MonitorCreate,
    MonitorOut,
    MonitorUpdate,
    PushIn,
    WallCreate,
    WallOut,
    WallUpdate,
)

router = APIRouter()
Viewer = Annotated[Principal, Depends(require_permission("walls:view"))]
Controller = Annotated[Principal, Depends(require_permission("walls:control"))]
Manager = Annotated[Principal, Depends(require_permission("walls:manage"))]
WallId = Annotated[int, Path(ge=1, le=MAX_ID, description="wall id")]
MonitorId = Annotated[int, Path(ge=1, le=MAX_ID, description="monitor id")]


async def _wall(session: SessionDep, wall_id: WallId) -> VideoWall:
    return await svc.get_wall(session, wall_id)


async def _monitor(session: SessionDep, wall_id: WallId, monitor_id: MonitorId) -> WallMonitor:
    return await svc.get_monitor(session, wall_id, monitor_id, for_update=True)


WallDep = Annotated[VideoWall, Depends(_wall)]
MonitorDep = Annotated[WallMonitor, Depends(_monitor)]


@router.get("", response_model=list[WallOut])
async def list_walls(session: SessionDep, principal: Viewer) -> list[WallOut]:
    """Every wall with its monitors: what each shows, who pushed it, whether it is online."""
    return await svc.list_walls(session, principal)


@router.post("", response_model=WallOut, status_code=status.HTTP_201_CREATED)
async def create_wall(
    request: Request, session: SessionDep, principal: Manager, data: WallCreate
) -> WallOut:
    wall = await svc.create_wall(session, data.name, actor_for(request, principal))
    return await svc.describe(session, wall, principal)


@router.get("/{wall_id}", response_model=WallOut)
async def get_wall(session: SessionDep, principal: Viewer, wall: WallDep) -> WallOut:
    return await svc.describe(session, wall, principal)


@router.patch("/{wall_id}", response_model=WallOut)
async def update_wall(
    request: Request, session: SessionDep, principal: Manager, wall: WallDep, data: WallUpdate
) -> WallOut:
    wall = await svc.rename_wall(session, wall, data.name, actor_for(request, principal))
    return await svc.describe(session, wall, principal)


@router.delete("/{wall_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_wall(
    request: Request, session: SessionDep, bus: BusDep, principal: Manager, wall: WallDep
) -> Response:
    await svc.delete_wall(session, bus, wall, actor_for(request, principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{wall_id}/monitors", response_model=MonitorOut, status_code=status.HTTP_201_CREATED)
async def create_monitor(
    request: Request, session: SessionDep, principal: Manager, wall: WallDep, data: MonitorCreate
) -> MonitorOut:
    monitor = await svc.create_monitor(session, wall, data, actor_for(request, principal))
    return svc.monitor_out(monitor, principal)


@router.patch("/{wall_id}/monitors/{monitor_id}", response_model=MonitorOut)
async def update_monitor(
    request: Request,
    session: SessionDep,
    bus: BusDep,
    principal: Manager,
    monitor: MonitorDep,
    data: MonitorUpdate,
) -> MonitorOut:
    """Rename, reorder, or set the alert kinds whose camera is pushed here."""
    monitor = await svc.update_monitor(session, bus, monitor, data, actor_for(request, principal))
    return svc.monitor_out(monitor, principal)


@router.delete("/{wall_id}/monitors/{monitor_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_monitor(
    request: Request, session: SessionDep, bus: BusDep, principal: Manager, monitor: MonitorDep
) -> Response:
    await svc.delete_monitor(session, bus, monitor, actor_for(request, principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{wall_id}/monitors/{monitor_id}/credential",
    response_model=CredentialOut,
    status_code=status.HTTP_201_CREATED,
)
async def issue_credential(
    request: Request, session: SessionDep, bus: BusDep, principal: Manager, monitor: MonitorDep
) -> CredentialOut:
    """A new display credential for the monitor's browser, shown only in this answer; an
    earlier one stops working (and its video ends)."""
    return await credentials.issue_credential(session, bus, monitor, actor_for(request, principal))


@router.delete(
    "/{wall_id}/monitors/{monitor_id}/credential", status_code=status.HTTP_204_NO_CONTENT
)
async def revoke_credential(
    request: Request, session: SessionDep, bus: BusDep, principal: Manager, monitor: MonitorDep
) -> Response:
    await credentials.revoke_credential(session, bus, monitor, actor_for(request, principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{wall_id}/monitors/{monitor_id}/push", response_model=MonitorOut)
async def push(
    request: Request,
    session: SessionDep,
    bus: BusDep,
    principal: Controller,
    monitor: MonitorDep,
    data: PushIn,
) -> MonitorOut:
    """Show a camera, a layout (as the pusher sees it now) or a tour on the monitor, or
    clear it. The monitor picks it up within seconds and keeps it across reloads."""
    monitor = await svc.push(session, bus, principal, actor_for(request, principal), monitor, data)
    return svc.monitor_out(monitor, principal)
