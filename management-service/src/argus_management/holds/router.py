"""``/api/v1/holds``: legal holds on events, camera ranges and exports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status

from argus_management.deps import SessionDep
from argus_management.events.schemas import MAX_ID
from argus_management.holds import service
from argus_management.holds.schemas import HoldCreate, HoldOut, HoldPage, HoldRelease
from argus_management.pagination import PageDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal

router = APIRouter()

Holder = Annotated[Principal, Depends(require_permission("recordings:hold"))]
Reader = Annotated[Principal, Depends(require_permission("recordings:read"))]
HoldId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", response_model=HoldPage)
async def list_holds(
    session: SessionDep, principal: Reader, page: PageDep,
    active: Annotated[bool | None, Query()] = True,
    kind: Annotated[Literal["event", "range", "export"] | None, Query()] = None,
    camera_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    event_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    export_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HoldPage:
    """Holds the caller may see (active ones by default), newest first."""
    rows, total = await service.list_holds(
        session, principal, active=active, kind=kind, camera_id=camera_id, event_id=event_id,
        export_id=export_id, limit=page.limit, offset=page.offset,
    )
    return HoldPage(items=[service.hold_out(h) for h in rows], total=total)


@router.post("", response_model=HoldOut, status_code=status.HTTP_201_CREATED)
async def create_hold(
    request: Request, session: SessionDep, principal: Holder, body: HoldCreate
) -> HoldOut:
    """Put an event, a range or an export on hold: retention and the disk guard keep it."""
    hold = await service.create_hold(session, principal, actor_for(request, principal), body)
    return service.hold_out(hold)


@router.post("/{hold_id}/release", response_model=HoldOut)
async def release_hold(
    request: Request, session: SessionDep, principal: Holder, hold_id: HoldId,
    body: HoldRelease,
) -> HoldOut:
    """Release a hold, with the reason; the row stays as the record of the hold."""
    hold = await service.release_hold(
        session, principal, actor_for(request, principal), hold_id, body.reason
    )
    return service.hold_out(hold)
