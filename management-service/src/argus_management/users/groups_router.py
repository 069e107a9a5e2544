"""Camera groups under ``/api/v1/camera-groups`` (permission ``users:manage``).

A group bundles cameras so a user can be granted all of them at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from argus_management.deps import BusDep, SessionDep
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.models import CameraGroup
from argus_management.rbac.principal import Principal
from argus_management.users import groups_service as svc
from argus_management.users.schemas import (
    MAX_ID,
    GroupCreate,
    GroupMembersIn,
    GroupOut,
    GroupUpdate,
)

_manage = require_permission("users:manage")
Manager = Annotated[Principal, Depends(_manage)]

router = APIRouter(dependencies=[Depends(_manage)])


async def valid_group(
    _: Manager, session: SessionDep, group_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> CameraGroup:
    """The group named in the path (404 if missing), after the permission check."""
    return await svc.get_group(session, group_id)


TargetGroup = Annotated[CameraGroup, Depends(valid_group)]


@router.get("", response_model=Page[GroupOut])
async def list_groups(session: SessionDep, _: Manager, page: PageDep) -> Page[GroupOut]:
    """Camera groups with their cameras, ordered by name."""
    items, total = await svc.list_groups(session, page.limit, page.offset)
    return Page[GroupOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=GroupOut, status_code=status.HTTP_201_CREATED)
async def create_group(
    request: Request, session: SessionDep, principal: Manager, data: GroupCreate
) -> GroupOut:
    return await svc.create_group(session, actor_for(request, principal), data)


@router.get("/{group_id}", response_model=GroupOut)
async def get_group(session: SessionDep, group: TargetGroup) -> GroupOut:
    return await svc.group_out(session, group)


@router.patch("/{group_id}", response_model=GroupOut)
async def update_group(
    request: Request, session: SessionDep, principal: Manager, group: TargetGroup,
    data: GroupUpdate,
) -> GroupOut:
    return await svc.update_group(session, actor_for(request, principal), group, data)


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(
    request: Request, bus: BusDep, session: SessionDep, principal: Manager, group: TargetGroup
) -> Response:
    await svc.delete_group(session, bus, actor_for(request, principal), group)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{group_id}/cameras", response_model=GroupOut)
async def set_group_cameras(
    request: Request, bus: BusDep, session: SessionDep, principal: Manager, group: TargetGroup,
    data: GroupMembersIn,
) -> GroupOut:
    """Replace the cameras of the group."""
    return await svc.set_members(
        session, bus, actor_for(request, principal), group, data.camera_ids
    )
