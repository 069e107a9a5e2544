"""The recorder's tiering calls, under ``/internal/segments`` (``X-Internal-Api-Key``).

POST /internal/segments/tier-candidates   live local segments to move to the object store
POST /internal/segments/tiered            uploaded and verified: rows point at the objects
GET  /internal/segments/tier-stats        segments and bytes per tier (metrics)
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from argus_common.events import utcnow
from argus_management.deps import SessionDep
from argus_management.rbac.service_scopes import SEGMENTS, require_service_scope
from argus_management.recordings import tiers

router = APIRouter(dependencies=[Depends(require_service_scope(SEGMENTS))])


@router.post("/segments/tier-candidates", response_model=tiers.TierOut)
async def tier_candidates(session: SessionDep, body: tiers.TierRequest) -> tiers.TierOut:
    """Segments the recorder should move to the object store now."""
    return await tiers.tier_candidates(session, body, utcnow())


@router.post("/segments/tiered", response_model=tiers.TieredOut)
async def tiered(session: SessionDep, body: tiers.TieredRequest) -> tiers.TieredOut:
    """These segments were uploaded and verified."""
    return await tiers.mark_tiered(session, body)


@router.get("/segments/tier-stats", response_model=tiers.TierStatsOut)
async def tier_stats(session: SessionDep) -> tiers.TierStatsOut:
    """Live segments and bytes on each tier."""
    return await tiers.tier_stats(session)
