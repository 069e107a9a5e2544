"""``/api/v1/events``: the events of the cameras the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import ValidationError

from argus_common.errors import Unprocessable
from argus_management.deps import SessionDep
from argus_management.events import service
from argus_management.events.schemas import (
    MAX_ID,
    TYPE_PATTERN,
    EventFilters,
    EventOut,
    UtcTime,
)
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import require_permission
from argus_management.rbac.principal import Principal

router = APIRouter()

Reader = Annotated[Principal, Depends(require_permission("events:read"))]


def event_filters(
    camera_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    type: Annotated[str | None, Query(pattern=TYPE_PATTERN, description="motion.start …")] = None,
    start: Annotated[UtcTime | None, Query(description="events starting at or after")] = None,
    end: Annotated[UtcTime | None, Query(description="events starting before")] = None,
) -> EventFilters:
    """The list filters, checked together (``end`` not before ``start``)."""
    try:
        return EventFilters(camera_id=camera_id, type=type, start=start, end=end)
    except ValidationError as exc:
        raise Unprocessable("; ".join(str(e["msg"]) for e in exc.errors())) from None


@router.get("", response_model=Page[EventOut])
async def list_events(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    filters: Annotated[EventFilters, Depends(event_filters)],
) -> Page[EventOut]:
    """Events of the cameras the caller may see, newest first."""
    rows, total = await service.list_events(session, principal, filters, page)
    return Page[EventOut](
        items=[EventOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{event_id}", response_model=EventOut)
async def get_event(
    session: SessionDep, principal: Reader, event_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> EventOut:
    """One event; 404 when it does not exist or its camera is not visible to the caller."""
    return EventOut.model_validate(await service.get_event(session, principal, event_id))
