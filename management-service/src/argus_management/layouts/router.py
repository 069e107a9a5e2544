"""Live-view layouts under ``/api/v1/layouts``.

Reading needs ``cameras:read`` (a layout is only useful to someone who may watch); creating,
changing and deleting need ``layouts:write``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from argus_management.deps import SessionDep
from argus_management.layouts import service as svc
from argus_management.layouts.models import Layout
from argus_management.layouts.schemas import MAX_ID, LayoutCreate, LayoutOut, LayoutUpdate
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal

router = APIRouter()
Reader = Annotated[Principal, Depends(require_permission("cameras:read"))]
Writer = Annotated[Principal, Depends(require_permission("layouts:write"))]
LayoutId = Annotated[int, Path(ge=1, le=MAX_ID, description="layout id")]


async def readable_layout(session: SessionDep, principal: Reader, layout_id: LayoutId) -> Layout:
    """A layout the user may read (own, shared, or any for an administrator), else 404."""
    return await svc.get_layout(session, principal, layout_id)


async def changeable_layout(
    session: SessionDep, principal: Writer, layout_id: LayoutId
) -> Layout:
    """A layout the user may change (owner or administrator): 404 unreadable, 403 read-only."""
    return await svc.get_layout_for_change(session, principal, layout_id)


@router.get("", response_model=Page[LayoutOut])
async def list_layouts(session: SessionDep, principal: Reader, page: PageDep) -> Page[LayoutOut]:
    """The user's own layouts and every shared one, by name."""
    items, total = await svc.list_layouts(session, principal, page.limit, page.offset)
    return Page[LayoutOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=LayoutOut, status_code=status.HTTP_201_CREATED)
async def create_layout(
    request: Request, session: SessionDep, principal: Writer, data: LayoutCreate
) -> LayoutOut:
    """Save a layout owned by the current user."""
    return await svc.create_layout(session, principal, actor_for(request, principal), data)


@router.get("/{layout_id}", response_model=LayoutOut)
async def get_layout(
    session: SessionDep, principal: Reader,
    layout: Annotated[Layout, Depends(readable_layout)],
) -> LayoutOut:
    return await svc.layout_out(session, principal, layout)


@router.patch("/{layout_id}", response_model=LayoutOut)
async def update_layout(
    request: Request, session: SessionDep, principal: Writer,
    layout: Annotated[Layout, Depends(changeable_layout)], data: LayoutUpdate,
) -> LayoutOut:
    return await svc.update_layout(session, principal, actor_for(request, principal), layout, data)


@router.delete("/{layout_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_layout(
    request: Request, principal: Writer, session: SessionDep,
    layout: Annotated[Layout, Depends(changeable_layout)],
) -> Response:
    await svc.delete_layout(session, actor_for(request, principal), layout)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
