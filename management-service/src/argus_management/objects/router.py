"""``/api/v1/search``, ``/api/v1/review`` and ``/api/v1/objects``: tracked objects of the
cameras the caller sees (``events:read``); marking them reviewed takes ``events:ack``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError

from argus_common.errors import Unprocessable
from argus_management.deps import SessionDep
from argus_management.events.schemas import MAX_ID, UtcTime
from argus_management.objects import service
from argus_management.objects.schemas import (
    BulkReviewIn,
    BulkReviewOut,
    ObjectDetail,
    ObjectOut,
    ReviewIn,
    ReviewSummary,
    SearchFilters,
    Sort,
)
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal

router = APIRouter()

Reader = Annotated[Principal, Depends(require_permission("events:read"))]
Reviewer = Annotated[Principal, Depends(require_permission("events:ack"))]
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]


def search_filters(
    label: Annotated[list[str] | None, Query(description="person, vehicle … (repeat for any)")]
    = None,
    camera_id: Annotated[list[int] | None, Query(description="repeat for several")] = None,
    zone: Annotated[str | None, Query(description="was in this zone")] = None,
    line: Annotated[str | None, Query(description="crossed this line")] = None,
    start: Annotated[UtcTime | None, Query(description="first seen at or after")] = None,
    end: Annotated[UtcTime | None, Query(description="first seen before")] = None,
    color: Annotated[list[str] | None, Query(description="dominant colour (repeat for any)")]
    = None,
    min_dwell_s: Annotated[float | None, Query()] = None,
    min_score: Annotated[float | None, Query()] = None,
    reviewed: Annotated[bool | None, Query()] = None,
    sort: Annotated[Sort, Query()] = "time",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
) -> SearchFilters:
    """The search filters, checked together (a bad one is a 422, never a 500)."""
    try:
        return SearchFilters.model_validate({
            "labels": label or [], "camera_ids": camera_id or [], "zone": zone, "line": line,
            "start": start, "end": end, "colors": color or [], "min_dwell_s": min_dwell_s,
            "min_score": min_score, "reviewed": reviewed, "sort": sort, "order": order,
        })
    except ValidationError as exc:
        raise Unprocessable("; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )) from None


Filters = Annotated[SearchFilters, Depends(search_filters)]


@router.get("/search", response_model=Page[ObjectOut], tags=["search"])
async def search(
    session: SessionDep, principal: Reader, page: PageDep, filters: Filters
) -> Page[ObjectOut]:
    """Tracked objects matching every given filter, of the cameras the caller sees; newest
    first (``sort=score``: best first). Zone and line filters match the zones an object was
    in and the lines it crossed."""
    items, total = await service.search(session, principal, filters, page)
    return Page[ObjectOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/review", response_model=Page[ObjectOut], tags=["search"])
async def review_queue(
    session: SessionDep, principal: Reader, page: PageDep,
    camera_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    reviewed: Annotated[bool, Query()] = False,
    label: Annotated[list[str] | None, Query()] = None,
) -> Page[ObjectOut]:
    """Objects to review (by default the unreviewed ones), newest first."""
    filters = search_filters(label=label, camera_id=[camera_id] if camera_id else None,
                             reviewed=reviewed)
    items, total = await service.search(session, principal, filters, page)
    return Page[ObjectOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/review/summary", response_model=list[ReviewSummary], tags=["search"])
async def review_summary(session: SessionDep, principal: Reader) -> list[ReviewSummary]:
    """Per camera the caller sees: unreviewed objects and the newest one's time."""
    return await service.review_summary(session, principal)


@router.post("/objects/review", response_model=BulkReviewOut, tags=["search"])
async def review_many(
    request: Request, session: SessionDep, principal: Reviewer, body: BulkReviewIn
) -> BulkReviewOut:
    """Mark several objects reviewed (or not); ids the caller cannot see are skipped.
    Audited (``object.review``)."""
    count = await service.review_many(
        session, principal, actor_for(request, principal), body.ids, body.reviewed
    )
    return BulkReviewOut(count=count)


@router.get("/objects/{object_id}", response_model=ObjectDetail, tags=["search"])
async def get_object(session: SessionDep, principal: Reader, object_id: ObjectId) -> ObjectDetail:
    """One object with its path and events; 404 when its camera is not visible."""
    return await service.object_detail(session, principal, object_id)


@router.post("/objects/{object_id}/review", response_model=ObjectOut, tags=["search"])
async def review_one(
    request: Request, session: SessionDep, principal: Reviewer, object_id: ObjectId,
    body: ReviewIn | None = None,
) -> ObjectOut:
    """Mark one object reviewed (``{"reviewed": false}`` undoes it). Audited."""
    return await service.review(
        session, principal, actor_for(request, principal), object_id,
        body.reviewed if body is not None else True,
    )
