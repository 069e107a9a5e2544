"""``/api/v1/offsite``: copy an export or what a hold protects to the object store, as a
background job (202 and the job; follow it with ``GET /offsite/jobs/{id}``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from argus_management.deps import SessionDep, SettingsDep
from argus_management.events.schemas import MAX_ID
from argus_management.offsite import jobs
from argus_management.offsite.schemas import HoldCopyIn, OffsiteJobOut
from argus_management.rbac.dependencies import (
    actor_for,
    require_authenticated,
    require_permission,
)
from argus_management.rbac.principal import Principal

router = APIRouter()

Exporter = Annotated[Principal, Depends(require_permission("recordings:export"))]
Holder = Annotated[Principal, Depends(require_permission("recordings:hold"))]
Anyone = Annotated[Principal, Depends(require_authenticated())]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def _location(response: Response, job_id: int) -> None:
    response.headers["Location"] = f"/api/v1/offsite/jobs/{job_id}"


@router.post(
    "/exports/{export_id}", response_model=OffsiteJobOut, status_code=status.HTTP_202_ACCEPTED
)
async def copy_export(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Exporter,
    export_id: Id,
) -> OffsiteJobOut:
    """Queue a copy of a finished export's bundle to the object store (audited
    ``offsite.request``, then ``export.offsite`` when copied); 503 when no store is
    configured, 409 while the export is not done."""
    job = await jobs.queue_copy(
        session, settings, principal, actor_for(request, principal), "export", export_id
    )
    _location(response, job.id)
    return jobs.job_out(job)


@router.post("/holds/{hold_id}", response_model=OffsiteJobOut, status_code=status.HTTP_202_ACCEPTED)
async def copy_hold(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Holder,
    hold_id: Id,
    body: HoldCopyIn | None = None,
) -> OffsiteJobOut:
    """Queue a copy of what an active hold protects (its recordings from either tier, or
    its export's bundle) to the object store, with a manifest (audited ``offsite.request``,
    then ``hold.offsite`` when copied)."""
    body = body or HoldCopyIn()
    job = await jobs.queue_copy(
        session,
        settings,
        principal,
        actor_for(request, principal),
        "hold",
        hold_id,
        body.pre_s,
        body.post_s,
    )
    _location(response, job.id)
    return jobs.job_out(job)


@router.get("/jobs/{job_id}", response_model=OffsiteJobOut)
async def get_job(session: SessionDep, principal: Anyone, job_id: Id) -> OffsiteJobOut:
    """An off-site copy job (the caller's own; every one for user managers)."""
    return jobs.job_out(await jobs.visible_job(session, principal, job_id))
