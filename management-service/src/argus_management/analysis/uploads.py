"""The budget of analysis uploads: per-user quota and count, a total budget, a disk reserve,
and the janitor that removes stale uploads.

Uploads live under ``ARGUS_DATA_DIR/analysis_uploads``, usually on the same disk as
``RECORDINGS_DIR``; the recorder's disk guard deletes the oldest recordings when free space
runs low, so uploads that filled the disk would push recordings out. Uploads therefore have
a budget of their own, enforced here before a file is written:

- per user: ``MANAGEMENT_UPLOAD_USER_MAX_BYTES`` and ``MANAGEMENT_UPLOAD_USER_MAX_FILES``
  pending uploads (a file counts until its job is finished, then it is deleted);
- in total: ``MANAGEMENT_UPLOAD_TOTAL_MAX_BYTES``, the space uploads may ever hold (the
  recorder can reserve it: the usage is published in Redis as ``uploads:usage``);
- on disk: an upload that would leave less than ``MANAGEMENT_UPLOAD_MIN_FREE_BYTES`` free
  is refused, whatever the budgets say.

Pending uploads whose job never started within ``MANAGEMENT_UPLOAD_STALE_HOURS`` are
expired (the job fails, the file goes), and files no job refers to are removed; files of a
running job are never touched.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import structlog
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.errors import PayloadTooLarge, TooManyRequests
from argus_common.events import utcnow
from argus_common.retry import Backoff, keep_running
from argus_management.analysis.models import AnalysisJob
from argus_management.config import Settings
from argus_management.rbac.models import User

log = structlog.get_logger("argus.analysis.uploads")

UPLOAD_DIR = "analysis_uploads"
USAGE_KEY = "uploads:usage"
_PENDING = ("queued", "running")
_PART_GRACE_S = 3600.0  # a .part file older than this belongs to no request any more


def upload_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / UPLOAD_DIR


def _pending() -> tuple[ColumnElement[bool], ...]:
    return (
        AnalysisJob.source == "upload", AnalysisJob.upload_path.is_not(None),
        AnalysisJob.state.in_(_PENDING),
    )


@dataclass(frozen=True)
class Usage:
    """Bytes and files of pending uploads."""

    files: int
    bytes: int


async def usage(session: AsyncSession, user_id: int | None = None) -> Usage:
    """Pending uploads of ``user_id`` (everybody's when None)."""
    query = select(func.count(), func.coalesce(func.sum(AnalysisJob.upload_bytes), 0)).where(
        *_pending()
    )
    if user_id is not None:
        query = query.where(AnalysisJob.user_id == user_id)
    files, size = (await session.execute(query)).one()
    return Usage(int(files or 0), int(size or 0))


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


async def check_count(session: AsyncSession, settings: Settings, user_id: int) -> None:
    """429 when the user already has the most pending uploads (checked before the body is
    read, in a short session, and again by :func:`check_size`)."""
    mine = await usage(session, user_id)
    if mine.files >= settings.upload_user_max_files:
        raise TooManyRequests(
            f"upload quota: {mine.files} uploads still waiting for analysis "
            f"(at most {settings.upload_user_max_files}); wait for them to finish"
        )


async def check_size(
    session: AsyncSession, settings: Settings, user_id: int, size: int
) -> None:
    """429/413 when an upload of ``size`` bytes would exceed the user's count or bytes, the
    budget or the disk reserve (checked before the file is written).

    The user's row is locked until the request commits (PostgreSQL), so two uploads of one
    user are counted one after the other, not both against the same usage.
    """
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())
    await check_count(session, settings, user_id)
    mine = await usage(session, user_id)
    if mine.bytes + size > settings.upload_user_max_bytes:
        raise PayloadTooLarge(
            f"upload quota exceeded: {_mib(mine.bytes)} pending + {_mib(size)} is over "
            f"the {_mib(settings.upload_user_max_bytes)} per user"
        )
    total = await usage(session)
    if total.bytes + size > settings.upload_total_max_bytes:
        raise PayloadTooLarge(
            "upload budget exhausted: uploads may hold "
            f"{_mib(settings.upload_total_max_bytes)} in all; try again later"
        )
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    free = (await asyncio.to_thread(shutil.disk_usage, folder)).free
    if free - size < settings.upload_min_free_bytes:
        raise PayloadTooLarge(
            "not enough disk space for this upload: recordings keep the space they need"
        )


async def publish_usage(session: AsyncSession, bus: RedisBus, settings: Settings) -> None:
    """Tell the recorders how much of the budget is in use (best effort)."""
    total = await usage(session)
    value = json.dumps({"bytes": total.bytes, "files": total.files,
                        "budget": settings.upload_total_max_bytes})
    try:
        await bus.redis.set(bus.key(USAGE_KEY), value)
    except Exception as exc:  # a missing figure only makes a recorder less generous
        log.warning("upload_usage_not_published", error=type(exc).__name__)


async def sweep(
    maker: async_sessionmaker[AsyncSession], settings: Settings, bus: RedisBus | None = None
) -> tuple[int, int]:
    """One janitor pass; returns (jobs expired, orphan files removed)."""
    cutoff = utcnow() - timedelta(hours=settings.upload_stale_hours)
    expired: list[str] = []
    async with maker() as session:
        stale = list(await session.scalars(
            select(AnalysisJob).where(
                AnalysisJob.source == "upload", AnalysisJob.upload_path.is_not(None),
                AnalysisJob.state == "queued", AnalysisJob.created_at < cutoff,
            ).with_for_update(skip_locked=True)
        ))
        for job in stale:
            job.state, job.error = "failed", "upload expired before the analysis started"
            job.finished_at = job.updated_at = utcnow()
            expired.append(str(job.upload_path))
        await session.commit()
        live = set((await session.scalars(
            select(AnalysisJob.upload_path).where(*_pending())
        )).all())
        if bus is not None:
            await publish_usage(session, bus, settings)
    for relative in expired:
        (Path(settings.data_dir) / relative).unlink(missing_ok=True)
    removed = await asyncio.to_thread(_remove_orphans, settings, live, cutoff.timestamp())
    if expired or removed:
        log.info("uploads_swept", expired=len(expired), orphans=removed)
    return len(expired), removed


def _remove_orphans(settings: Settings, live: set[str | None], cutoff: float) -> int:
    folder = upload_dir(settings)
    if not folder.is_dir():
        return 0
    removed = 0
    now = time.time()
    for path in folder.iterdir():
        relative = f"{UPLOAD_DIR}/{path.name}"
        if relative in live or not path.is_file():
            continue
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            continue
        old = mtime < cutoff or (path.suffix == ".part" and now - mtime > _PART_GRACE_S)
        if old:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def run_upload_janitor(
    maker: async_sessionmaker[AsyncSession], settings: Settings, bus: RedisBus
) -> None:
    """Sweep every ``MANAGEMENT_UPLOAD_JANITOR_INTERVAL_S`` until cancelled."""

    async def loop() -> None:
        while True:
            await sweep(maker, settings, bus)
            await asyncio.sleep(settings.upload_janitor_interval_s)

    await keep_running(loop, event="upload_janitor_failed", log=log,
                       backoff=Backoff(steps=[settings.upload_janitor_interval_s]))
