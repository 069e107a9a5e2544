"""Creating analysis jobs: a camera's recorded range, or an uploaded MP4.

Management only stores and queues a job; ai-analysis-service runs it (never in this
request). The job request goes on ``argus:analysis_jobs`` after the commit, so the
analyser never sees a job that does not exist yet; if Redis refuses it then, the job is
marked failed rather than left queued forever.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, BinaryIO

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from argus_common.bus import RedisBus
from argus_common.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, Unprocessable
from argus_common.events import (
    STREAM_ANALYSIS_JOBS,
    AnalysisJobRequest,
    AnalysisJobSegment,
    new_id,
    utcnow,
)
from argus_management.analysis import uploads
from argus_management.analysis.models import AnalysisJob
from argus_management.analysis.schemas import RangeJobIn
from argus_management.analysis.service import segments_in_range
from argus_management.analysis.uploads import UPLOAD_DIR
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.db import after_commit
from argus_management.rbac.principal import Actor, Principal

log = structlog.get_logger("argus.analysis.jobs")

_MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file
_MP4_BRANDS = (b"ftyp",)


def upload_file(settings: Settings, relative: str) -> Path:
    """Absolute path of a stored upload (``relative`` to the data directory)."""
    return Path(settings.data_dir) / relative


async def _camera(session: AsyncSession, principal: Principal, camera_id: int) -> Camera:
    camera = await session.get(Camera, camera_id)
    if camera is None or not principal.may_see_camera(camera.id):
        raise NotFound("camera not found")
    return camera


def _enqueue_after_commit(
    session: AsyncSession, bus: RedisBus, maker: async_sessionmaker[AsyncSession],
    request: AnalysisJobRequest,
) -> None:
    async def enqueue() -> None:
        try:
            await bus.add(STREAM_ANALYSIS_JOBS, request)
        except Exception as exc:
            log.error("job_not_queued", job_id=request.job_id, error=type(exc).__name__)
            async with maker() as s:
                job = await s.get(AnalysisJob, request.job_id)
                if job is not None:
                    job.state, job.error = "failed", "could not be queued (redis unavailable)"
                    job.finished_at = utcnow()
                    await s.commit()

    after_commit(session, enqueue)


async def create_range_job(
    session: AsyncSession, bus: RedisBus, maker: async_sessionmaker[AsyncSession],
    settings: Settings, principal: Principal, actor: Actor, body: RangeJobIn,
) -> AnalysisJob:
    """A job over the recordings of ``body.camera_id`` between ``start`` and ``end``."""
    if not principal.has("recordings:read"):
        raise Forbidden("missing permission recordings:read")
    camera = await _camera(session, principal, body.camera_id)
    span = (body.end - body.start).total_seconds()
    if span > settings.analysis_job_max_range_s:
        raise Unprocessable(f"range longer than {settings.analysis_job_max_range_s} s")
    segments = await segments_in_range(session, camera.id, body.start, body.end)
    if not segments:
        raise Unprocessable("no recordings of this camera in the range")
    job = AnalysisJob(
        id=new_id(), user_id=principal.user_id, camera_id=camera.id, source="recording",
        range_start=body.start, range_end=body.end, state="queued", progress=0.0,
        frames=0, motion_frames=0, events=0, created_at=utcnow(), updated_at=utcnow(),
    )
    session.add(job)
    await session.flush()
    await audit.record(session, actor, "analysis.job.create", "analysis_job", job.id, {
        "source": "recording", "camera_id": camera.id, "start": body.start.isoformat(),
        "end": body.end.isoformat(), "segments": len(segments),
    })
    _enqueue_after_commit(session, bus, maker, AnalysisJobRequest(
        job_id=job.id, camera_id=camera.id, source="recording", start=body.start,
        end=body.end, analysis=dict(camera.analysis or {}),
        segments=[AnalysisJobSegment(path=s.path, start=s.started_at, end=s.ended_at)
                  for s in segments],
    ))
    return job


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"upload larger than {limit} bytes")
        yield chunk


async def _parse_upload(request: Request, settings: Settings) -> tuple[UploadFile, str | None]:
    """The uploaded file and the optional ``camera_id`` field, refusing oversized bodies
    while they stream in (before they fill a disk)."""
    limit = settings.analysis_upload_max_bytes + _MULTIPART_SLACK
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"upload larger than {settings.analysis_upload_max_bytes} bytes")
    parser = MultiPartParser(request.headers, _limited(request, limit), max_files=1,
                             max_fields=4, max_part_size=1024)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise BadRequest(f"invalid multipart body: {exc.message}") from None
    upload = form.get("file")
    camera_field = form.get("camera_id")
    if not isinstance(upload, UploadFile):
        await form.close()
        raise Unprocessable("file: a file part named 'file' is required")
    return upload, camera_field if isinstance(camera_field, str) else None


def _spooled_size(source: BinaryIO) -> int:
    source.seek(0, 2)
    return source.tell()


def _store(source: BinaryIO, dest: Path, max_bytes: int) -> int:
    """Copy the spooled upload to ``dest``; returns its size. Checks the MP4 header."""
    source.seek(0)
    head = source.read(12)
    if len(head) < 12 or head[4:8] not in _MP4_BRANDS:
        raise Unprocessable("file: not an MP4 file (no ftyp box)")
    source.seek(0, 2)
    size = source.tell()
    if size > max_bytes:
        raise PayloadTooLarge(f"upload larger than {max_bytes} bytes")
    source.seek(0)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    with tmp.open("wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
    tmp.replace(dest)
    return size


async def create_upload_job(
    request: Request, session: AsyncSession, bus: RedisBus,
    maker: async_sessionmaker[AsyncSession], settings: Settings, principal: Principal,
    actor: Actor,
) -> AnalysisJob:
    """A job on an uploaded MP4 (multipart field ``file``; optional ``camera_id`` whose
    motion settings to use), within the user's upload quota and the uploads' budget
    (``uploads.py``): refused before the body is read when the user has too many pending,
    and before the file is written when its size does not fit."""
    async with maker() as early:  # not the request's session: it would wait for the body
        await uploads.check_count(early, settings, principal.user_id)
    upload, camera_field = await _parse_upload(request, settings)
    try:
        camera: Camera | None = None
        if camera_field:
            digits = camera_field.isascii() and camera_field.isdigit() and len(camera_field) < 12
            if not digits or not 1 <= int(camera_field) <= 2**31 - 1:
                raise Unprocessable("camera_id: must be a camera id")
            camera = await _camera(session, principal, int(camera_field))
        size = upload.size if upload.size is not None else await asyncio.to_thread(
            _spooled_size, upload.file
        )
        await uploads.check_size(session, settings, principal.user_id, size)
        job_id = new_id()
        relative = f"{UPLOAD_DIR}/{job_id}.mp4"
        dest = upload_file(settings, relative)
        size = await asyncio.to_thread(
            _store, upload.file, dest, settings.analysis_upload_max_bytes
        )
    finally:
        await upload.close()
    name = (upload.filename or "upload.mp4")[:255]
    now = utcnow()
    job = AnalysisJob(
        id=job_id, user_id=principal.user_id, camera_id=camera.id if camera else None,
        source="upload", range_start=now, upload_name=name, upload_path=relative,
        upload_bytes=size, state="queued", progress=0.0, frames=0, motion_frames=0,
        events=0, created_at=now, updated_at=now,
    )
    try:
        session.add(job)
        await session.flush()
        await audit.record(session, actor, "analysis.job.create", "analysis_job", job.id, {
            "source": "upload", "bytes": size, "camera_id": job.camera_id,
        })
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    async def publish() -> None:
        async with maker() as s:
            await uploads.publish_usage(s, bus, settings)

    after_commit(session, publish)
    analysis: dict[str, Any] = dict(camera.analysis or {}) if camera else {}
    _enqueue_after_commit(session, bus, maker, AnalysisJobRequest(
        job_id=job.id, camera_id=job.camera_id, source="upload", start=now,
        analysis=analysis,
    ))
    return job


def remove_upload(settings: Settings, job: AnalysisJob) -> None:
    """Delete a finished job's uploaded file (it is not needed any more)."""
    if job.upload_path:
        upload_file(settings, job.upload_path).unlink(missing_ok=True)
