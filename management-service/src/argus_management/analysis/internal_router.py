"""Internal analysis API for ai-analysis-service (``X-Internal-Api-Key``, under ``/internal``).

- ``POST /internal/events/{id}/snapshot``: the JPEG of an event (``image/jpeg`` body, at
  most ``ANALYSIS_SNAPSHOT_MAX_BYTES``);
- ``GET /internal/analysis/jobs/{id}``, ``PUT /internal/analysis/jobs/{id}``: a job's
  state, and progress reports;
- ``GET /internal/analysis/jobs/{id}/upload``: the uploaded file of a job.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse

from argus_common.errors import NotFound, Unprocessable
from argus_management.analysis import jobs, service, snapshots
from argus_management.analysis.models import AnalysisJob
from argus_management.analysis.schemas import JOB_ID_PATTERN, JobOut, JobUpdateIn
from argus_management.db import after_commit
from argus_management.deps import SessionDep, SettingsDep
from argus_management.events.schemas import MAX_ID, EventOut
from argus_management.rbac.service_scopes import ANALYSIS, require_service_scope

router = APIRouter(dependencies=[Depends(require_service_scope(ANALYSIS))])

JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN)]
_SNAPSHOT_DOC: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"image/jpeg": {"schema": {
        "type": "string", "format": "binary"}}}},
}


@router.post("/events/{event_id}/snapshot", response_model=EventOut,
             openapi_extra=_SNAPSHOT_DOC)
async def upload_snapshot(
    request: Request, session: SessionDep, settings: SettingsDep,
    event_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> EventOut:
    """Store the JPEG snapshot of an event (replacing an earlier one)."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "image/jpeg":
        raise Unprocessable("Content-Type must be image/jpeg")
    limit = settings.analysis_snapshot_max_bytes
    data = await snapshots.read_limited(request, limit, "snapshot")
    event = await snapshots.store_snapshot(session, settings, event_id, data)
    return EventOut.model_validate(event)


@router.get("/analysis/jobs/{job_id}", response_model=JobOut)
async def internal_job(session: SessionDep, job_id: JobId) -> JobOut:
    """A job's state (the analyser checks it before running a job)."""
    job = await session.get(AnalysisJob, job_id)
    if job is None:
        raise NotFound("analysis job not found")
    return JobOut.model_validate(job)


@router.put("/analysis/jobs/{job_id}", response_model=JobOut)
async def report_job(
    request: Request, settings: SettingsDep, session: SessionDep, job_id: JobId, body: JobUpdateIn
) -> JobOut:
    """Progress, counts and the final state of a job; a finished upload job's file is
    removed after the commit."""
    job = await service.update_job(session, job_id, body)
    if job.state in service.FINISHED and job.upload_path:

        async def remove() -> None:
            jobs.remove_upload(settings, job)

        after_commit(session, remove)
    return JobOut.model_validate(job)


@router.get("/analysis/jobs/{job_id}/upload", response_class=FileResponse,
            responses={200: {"content": {"video/mp4": {}}}})
async def job_upload(
    session: SessionDep, settings: SettingsDep, job_id: JobId
) -> FileResponse:
    """The MP4 uploaded for a job (until the job is finished)."""
    job = await session.get(AnalysisJob, job_id)
    if job is None or not job.upload_path:
        raise NotFound("no upload for this job")
    path = jobs.upload_file(settings, job.upload_path)
    if not path.is_file():
        raise NotFound("no upload for this job")
    return FileResponse(path, media_type="video/mp4")
