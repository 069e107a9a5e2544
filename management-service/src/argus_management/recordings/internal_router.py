"""The recorder's side of the index, under ``/internal/segments`` (``X-Internal-Api-Key``).

    GET  /internal/segments/index?camera_id=N   live paths + rows marked deleted (reconcile)
    POST /internal/segments/purge-candidates    choose and mark segments to delete
    POST /internal/segments/purged              files unlinked: remove the marked rows
    POST /internal/segments/missing             indexed files that do not exist: forget them
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
