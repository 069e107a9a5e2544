"""The recorder's side of the index, under ``/internal/segments`` (``X-Internal-Api-Key``).

    GET  /internal/segments/index?camera_id=N   live paths + rows marked deleted (reconcile)
    POST /internal/segments/purge-candidates    choose and mark segments to delete
    POST /internal/segments/purged              files unlinked: remove the marked rows
    POST /internal/segments/missing             indexed files that do not exist: forget them
    GET  /internal/segments/protected           kept/held ranges and kept paths (local guard)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from argus_common.events import utcnow
from argus_management.deps import SessionDep
from argus_management.events.schemas import MAX_ID
from argus_management.rbac.service_scopes import SEGMENTS, require_service_scope
from argus_management.recordings import purge, service
from argus_management.recordings.schemas import (
    CountOut,
    MissingRequest,
    ProtectedOut,
    ProtectedRangeOut,
    PurgedRequest,
    PurgeOut,
    PurgeRequest,
    SegmentIndexOut,
)

# Only recorders: purge marking decides which recordings are deleted.
router = APIRouter(dependencies=[Depends(require_service_scope(SEGMENTS))])


@router.get("/segments/index", response_model=SegmentIndexOut)
async def segment_index(
    session: SessionDep, camera_id: Annotated[int, Query(ge=1, le=MAX_ID)]
) -> SegmentIndexOut:
    """What the index holds for one camera."""
    return await service.segment_index(session, camera_id)


@router.post("/segments/purge-candidates", response_model=PurgeOut)
async def purge_candidates(session: SessionDep, body: PurgeRequest) -> PurgeOut:
    """Segments to delete, already marked deleted (they are off the timeline from now)."""
    return PurgeOut(items=await purge.purge_candidates(session, body, utcnow()))


@router.post("/segments/purged", response_model=CountOut)
async def purged(session: SessionDep, body: PurgedRequest) -> CountOut:
    """The recorder unlinked these files and fsynced their directories."""
    return CountOut(count=await purge.confirm_purged(session, body.ids))


@router.post("/segments/missing", response_model=CountOut)
async def missing(session: SessionDep, body: MissingRequest) -> CountOut:
    """The recorder found these indexed files missing on disk."""
    return CountOut(count=await service.forget_missing(session, body.camera_id, body.paths))


@router.get("/segments/protected", response_model=ProtectedOut)
async def protected(
    session: SessionDep,
    pre_roll_s: Annotated[float, Query(ge=0, le=3600)] = 0.0,
    post_roll_s: Annotated[float, Query(ge=0, le=3600)] = 0.0,
) -> ProtectedOut:
    """What the recorder's local disk guard must leave alone (kept events, legal holds,
    kept segments)."""
    ranges, kept = await purge.protected_for_recorder(session, pre_roll_s, post_roll_s,
                                                      utcnow())
    return ProtectedOut(
        ranges=[ProtectedRangeOut(camera_id=c, start=lo, end=hi)
                for c, spans in ranges.items() for lo, hi in spans],
        kept_paths=kept,
    )
