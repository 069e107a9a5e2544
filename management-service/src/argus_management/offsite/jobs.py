"""Off-site copy jobs, the request's side: check what is asked, queue a job (audited
``offsite.request``), show a job to whoever asked for it (or a user manager)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import NotFound
from argus_management.audit import service as audit
from argus_management.config import Settings
from argus_management.holds.service import export_visible
from argus_management.offsite import service
from argus_management.offsite.models import OffsiteCopy
from argus_management.offsite.schemas import OffsiteJobOut
from argus_management.rbac.principal import Actor, Principal


async def queue_copy(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    actor: Actor,
    kind: str,
    target_id: int,
    pre_s: float = 30.0,
    post_s: float = 30.0,
) -> OffsiteCopy:
    """Check the request (404/409/503 as the copy would), then queue the job."""
    if kind == "export":
        await service.check_export(session, settings, principal, target_id)
    else:
        await service.check_hold(session, principal, target_id)
    job = OffsiteCopy(
        kind=kind,
        target_id=target_id,
        pre_s=pre_s,
        post_s=post_s,
        state="queued",
        attempts=0,
        objects=0,
        bytes=0,
        missing=0,
        requested_by=principal.user_id,
        requested_by_name=principal.username,
        requested_ip=actor.ip,
        requested_ua=(actor.user_agent or "")[:256] or None,
    )
    session.add(job)
    await session.flush()
    await audit.record(session, actor, "offsite.request", kind, target_id, {"job_id": job.id})
    await session.refresh(job)  # created_at (the request's commit follows)
    return job


async def visible_job(session: AsyncSession, principal: Principal, job_id: int) -> OffsiteCopy:
    job = await session.get(OffsiteCopy, job_id)
    if job is None or not export_visible(principal, job.requested_by):
        raise NotFound("off-site copy not found")
    return job


def job_out(job: OffsiteCopy) -> OffsiteJobOut:
    return OffsiteJobOut(
        id=job.id,
        kind=job.kind,
        target_id=job.target_id,
        state=job.state,
        attempts=job.attempts,
        error=job.error,
        requested_by=job.requested_by_name,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        bucket=job.bucket,
        folder=job.folder,
        objects=job.objects,
        bytes=job.bytes,
        missing=job.missing,
    )
