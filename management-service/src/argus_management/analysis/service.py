"""Analysis jobs and results in the database: who may see a job, progress reported by
ai-analysis-service, and the results of a session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import Conflict, NotFound
from argus_common.events import utcnow
from argus_management.analysis.models import AnalysisJob, AnalysisResult
from argus_management.analysis.schemas import JobUpdateIn
from argus_management.pagination import PageParams
from argus_management.rbac.principal import Principal
from argus_management.recordings.models import RecordingSegment
from argus_management.recordings.service import MAX_SEGMENT_SPAN

FINISHED = frozenset({"done", "failed"})
MAX_JOB_SEGMENTS = 10_000


def may_see_job(principal: Principal, job: AnalysisJob) -> bool:
    """A job is its creator's; principals who see every camera (admins) see all jobs."""
    return principal.sees_all_cameras or job.user_id == principal.user_id


async def get_job(session: AsyncSession, principal: Principal, job_id: str) -> AnalysisJob:
    """The job if ``principal`` may see it; 404 otherwise (no existence leak)."""
    job = await session.get(AnalysisJob, job_id)
    if job is None or not may_see_job(principal, job):
        raise NotFound("analysis job not found")
    return job


async def list_jobs(
    session: AsyncSession, principal: Principal, page: PageParams
) -> tuple[list[AnalysisJob], int]:
    """The caller's jobs (every job for admins), newest first."""
    conditions = [] if principal.sees_all_cameras else [AnalysisJob.user_id == principal.user_id]
    total = await session.scalar(select(func.count()).select_from(AnalysisJob).where(*conditions))
    rows = await session.scalars(
        select(AnalysisJob).where(*conditions)
        .order_by(AnalysisJob.created_at.desc(), AnalysisJob.id)
        .limit(page.limit).offset(page.offset)
    )
    return list(rows), int(total or 0)


async def segments_in_range(
    session: AsyncSession, camera_id: int, start: datetime, end: datetime
) -> list[RecordingSegment]:
    """The camera's indexed (not deleted) segments overlapping ``[start, end]``, in order."""
    rows = await session.scalars(
        select(RecordingSegment)
        .where(
            RecordingSegment.camera_id == camera_id,
            RecordingSegment.deleted_at.is_(None),
            RecordingSegment.started_at <= end,
            RecordingSegment.started_at >= start - MAX_SEGMENT_SPAN,
            RecordingSegment.ended_at >= start,
        )
        .order_by(RecordingSegment.started_at, RecordingSegment.id)
        .limit(MAX_JOB_SEGMENTS)
    )
    return list(rows)


async def update_job(session: AsyncSession, job_id: str, update: JobUpdateIn) -> AnalysisJob:
    """Apply what the analyser reports. A finished job stays finished (a late progress
    report from a slow analyser cannot reopen it): 409."""
    job = await session.get(AnalysisJob, job_id)
    if job is None:
        raise NotFound("analysis job not found")
    if job.state in FINISHED:
        if update.state == job.state:
            return job  # a retried final report
        raise Conflict(f"job already {job.state}")
    job.state = update.state
    if update.progress is not None:
        job.progress = 1.0 if update.state == "done" else update.progress
    elif update.state == "done":
        job.progress = 1.0
    for name in ("frames", "motion_frames", "events"):
        value = getattr(update, name)
        if value is not None:
            setattr(job, name, value)
    if update.error is not None:
        job.error = update.error
    job.updated_at = utcnow()
    if update.state in FINISHED:
        job.finished_at = job.updated_at
    await session.flush()
    return job


async def list_results(
    session: AsyncSession, session_id: str, page: PageParams, event: str | None = None
) -> tuple[list[AnalysisResult], int]:
    """Stored results of one analysis session (a job's id), oldest first."""
    conditions = [AnalysisResult.session_id == session_id]
    if event is not None:
        conditions.append(AnalysisResult.event == event)
    total = await session.scalar(
        select(func.count()).select_from(AnalysisResult).where(*conditions)
    )
    rows = await session.scalars(
        select(AnalysisResult).where(*conditions)
        .order_by(AnalysisResult.timestamp, AnalysisResult.id)
        .limit(page.limit).offset(page.offset)
    )
    return list(rows), int(total or 0)
