"""``/api/v1/analysis/jobs`` (analysis of files) and ``/api/v1/events/{id}/snapshot``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import ValidationError

from argus_common.errors import ArgusError
from argus_management.analysis import jobs, service, snapshots
from argus_management.analysis.schemas import JOB_ID_PATTERN, JobOut, RangeJobIn, ResultOut
from argus_management.audit import video as video_audit
from argus_management.deps import SessionDep, SettingsDep, StateDep
from argus_management.events import service as events
from argus_management.events.schemas import MAX_ID
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal

router = APIRouter()
snapshot_router = APIRouter()

Analyst = Annotated[Principal, Depends(require_permission("analysis:read"))]
EventReader = Annotated[Principal, Depends(require_permission("events:read"))]
JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN)]
_JSON_LIMIT = 16 * 1024

_CREATE_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": RangeJobIn.model_json_schema()},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary",
                             "description": "an MP4 file (ANALYSIS_UPLOAD_MAX_BYTES at most)"},
                    "camera_id": {"type": "integer",
                                  "description": "use this camera's motion settings"},
                },
            }},
        },
    }
}


class UnsupportedMediaType(ArgusError):
    status_code = 415


async def _json_body(request: Request) -> RangeJobIn:
    body = await snapshots.read_limited(request, _JSON_LIMIT)
    try:
        return RangeJobIn.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        raise RequestValidationError(errors) from None


@router.post("/jobs", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             openapi_extra=_CREATE_DOC)
async def create_job(
    request: Request, session: SessionDep, principal: Analyst, state: StateDep
) -> JobOut:
    """Queue an analysis of files, run by ai-analysis-service.

    JSON ``{"camera_id", "start", "end"}``: the camera's recordings in that range (needs
    ``recordings:read`` too). ``multipart/form-data`` with a ``file`` part: an uploaded
    MP4, at most ``ANALYSIS_UPLOAD_MAX_BYTES`` (413 beyond). Follow it with
    ``GET /api/v1/analysis/jobs/{id}``; its results have the job id as ``session_id``.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    actor = actor_for(request, principal)
    if content_type == "application/json":
        body = await _json_body(request)
        job = await jobs.create_range_job(session, state.bus, state.sessionmaker, state.settings,
                                          principal, actor, body)
    elif content_type == "multipart/form-data":
        job = await jobs.create_upload_job(request, session, state.bus, state.sessionmaker,
                                           state.settings, principal, actor)
    else:
        raise UnsupportedMediaType("send application/json (a recorded range) or "
                                   "multipart/form-data (an MP4 upload)")
    return JobOut.model_validate(job)


@router.get("/jobs", response_model=Page[JobOut])
async def list_jobs(session: SessionDep, principal: Analyst, page: PageDep) -> Page[JobOut]:
    """The caller's analysis jobs (all jobs for admins), newest first."""
    rows, total = await service.list_jobs(session, principal, page)
    return Page[JobOut](items=[JobOut.model_validate(r) for r in rows], total=total,
                        limit=page.limit, offset=page.offset)


@router.get("/jobs/{job_id}", response_model=JobOut)
async def get_job(session: SessionDep, principal: Analyst, job_id: JobId) -> JobOut:
    """A job's state (queued, running, done, failed), progress (0..1) and counts."""
    return JobOut.model_validate(await service.get_job(session, principal, job_id))


@router.get("/jobs/{job_id}/results", response_model=Page[ResultOut])
async def job_results(
    session: SessionDep, principal: Analyst, job_id: JobId, page: PageDep,
    event: Annotated[str | None, Query(pattern=r"^(frame|summary|motion\.start|motion\.end)$",
                                       description="only rows of this kind")] = None,
) -> Page[ResultOut]:
    """The stored results of a job, oldest first."""
    job = await service.get_job(session, principal, job_id)
    rows, total = await service.list_results(session, job.id, page, event)
    return Page[ResultOut](items=[ResultOut.model_validate(r) for r in rows], total=total,
                           limit=page.limit, offset=page.offset)


@snapshot_router.get(
    "/{event_id}/snapshot", response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the JPEG snapshot"}},
)
async def event_snapshot(
    request: Request, session: SessionDep, principal: EventReader, settings: SettingsDep,
    event_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> FileResponse:
    """The snapshot of an event (the frame that triggered a motion event); 404 when the
    event is not visible to the caller or has none. Audited (``video.snapshot``)."""
    event = await events.get_event(session, principal, event_id)
    path = snapshots.existing_snapshot(settings, event)
    await video_audit.record_access(session, actor_for(request, principal), "snapshot",
                                    event.camera_id, event_id=event.id)
    return FileResponse(path, media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=3600"})
