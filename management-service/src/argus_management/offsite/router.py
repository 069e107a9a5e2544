"""``/api/v1/offsite``: copy an export or what a hold protects to the object store now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from argus_common.events import utcnow
from argus_management.deps import SessionDep, SettingsDep
from argus_management.events.schemas import MAX_ID
from argus_management.offsite import service
from argus_management.offsite.schemas import HoldCopyIn, OffsiteCopyOut
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal

router = APIRouter()

Exporter = Annotated[Principal, Depends(require_permission("recordings:export"))]
Holder = Annotated[Principal, Depends(require_permission("recordings:hold"))]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def _out(copied: service.Copied) -> OffsiteCopyOut:
    return OffsiteCopyOut(bucket=copied.bucket, folder=copied.folder,
                          objects=len(copied.entries), bytes=copied.bytes,
                          missing=copied.missing, copied_at=utcnow())


@router.post("/exports/{export_id}", response_model=OffsiteCopyOut)
async def copy_export(
    request: Request, session: SessionDep, settings: SettingsDep, principal: Exporter,
    export_id: Id,
) -> OffsiteCopyOut:
    """Copy a finished export's bundle to the object store (audited ``export.offsite``);
    503 when no store is configured or it refuses, 409 while the export is not done."""
    return _out(await service.copy_export(
        session, settings, principal, actor_for(request, principal), export_id))


@router.post("/holds/{hold_id}", response_model=OffsiteCopyOut)
async def copy_hold(
    request: Request, session: SessionDep, settings: SettingsDep, principal: Holder,
    hold_id: Id, body: HoldCopyIn | None = None,
) -> OffsiteCopyOut:
    """Copy what an active hold protects (its recordings from either tier, or its export's
    bundle) to the object store, with a manifest (audited ``hold.offsite``)."""
    body = body or HoldCopyIn()
    return _out(await service.copy_hold(
        session, settings, principal, actor_for(request, principal), hold_id, body.pre_s,
        body.post_s))
