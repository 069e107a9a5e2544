"""The off-site copy worker: claims queued copy jobs and runs them (``job_runner``: claims,
heartbeats, stale takeover and hand-back at shutdown, on the export runner's settings).

A job taken over from a process that died is copied again (the same keys are
overwritten). The job's end
(done or failed) and its audit entry (``export.offsite`` / ``hold.offsite``, as the user
who asked) are one transaction. A store that refuses is tried again, up to
``MAX_ATTEMPTS`` claims.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.errors import ArgusError, Unavailable
from argus_common.events import utcnow
from argus_management.audit import service as audit
from argus_management.config import Settings
from argus_management.job_runner import JobRunner
from argus_management.offsite import service
from argus_management.offsite.models import OffsiteCopy
from argus_management.rbac.principal import Actor

log = structlog.get_logger("argus.offsite.runner")
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class _End:
    """What a job's end needs, read before the copy (the session's objects expire)."""

    id: int
    kind: str
    target_id: int
    actor: Actor


class OffsiteRunner(JobRunner):
    """Claims and runs off-site copy jobs for one process."""

    model = OffsiteCopy
    kind = "offsite"

    def __init__(self, settings: Settings, maker: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(settings, maker, log)

    async def _beat(self, job_id: int) -> None:
        """Renew the heartbeat while the copy runs (a third of the stale age)."""
        while True:
            await asyncio.sleep(max(0.5, self.settings.export_stale_s / 3))
            async with self.maker() as session:
                await session.execute(
                    update(OffsiteCopy)
                    .where(OffsiteCopy.id == job_id, OffsiteCopy.runner == self.name)
                    .values(heartbeat_at=utcnow())
                )
                await session.commit()

    async def execute(self, job_id: int) -> None:
        """Run one claimed job to its end (done, failed, or queued again)."""
        beat = asyncio.create_task(self._beat(job_id))
        try:
            async with self.maker() as session:
                job = await session.get(OffsiteCopy, job_id)
                if job is None:
                    return
                who = job.requested_by_name or "?"
                end = _End(
                    job.id,
                    job.kind,
                    job.target_id,
                    Actor(
                        user_id=job.requested_by,
                        username=job.requested_by_name,
                        ip=job.requested_ip,
                        user_agent=job.requested_ua,
                    ),
                )
                try:
                    if job.kind == "export":
                        copied = await service.copy_export(
                            session, self.settings, who, job.target_id
                        )
                    else:
                        copied = await service.copy_hold(
                            session, self.settings, who, job.target_id, job.pre_s, job.post_s
                        )
                except Unavailable as exc:
                    if job.attempts < MAX_ATTEMPTS:
                        log.warning("offsite_copy_retry", job_id=job_id, error=exc.detail)
                        await session.rollback()
                        await self.release(state="queued", job_id=job_id)
                        return
                    await self._end(session, end, None, exc.detail)
                except ArgusError as exc:
                    await self._end(session, end, None, exc.detail)
                except Exception as exc:
                    log.exception("offsite_copy_failed", job_id=job_id)
                    await self._end(session, end, None, f"{type(exc).__name__}: {exc}")
                else:
                    await self._end(session, end, copied, None)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _end(
        self, session: AsyncSession, job: _End, copied: service.Copied | None, error: str | None
    ) -> None:
        """Store the job's end and audit it, in one transaction (unless it was taken over)."""
        await session.rollback()  # nothing of the copy's reads is kept
        values: dict[str, Any] = {"finished_at": utcnow(), "heartbeat_at": utcnow()}
        summary: dict[str, Any] = {"job_id": job.id}
        if copied is not None:
            values.update(
                state="done",
                bucket=copied.bucket,
                folder=copied.folder,
                objects=len(copied.entries),
                bytes=copied.bytes,
                missing=copied.missing,
                error=None,
            )
            summary.update(
                folder=copied.folder,
                objects=len(copied.entries),
                bytes=copied.bytes,
                missing=copied.missing,
            )
        else:
            values.update(state="failed", error=(error or "failed")[:500])
            summary["error"] = values["error"]
        done = await session.execute(
            update(OffsiteCopy)
            .where(OffsiteCopy.id == job.id, OffsiteCopy.runner == self.name)
            .values(**values)
        )
        if getattr(done, "rowcount", 0) != 1:
            await session.rollback()
            return
        await audit.record(
            session,
            job.actor,
            f"{job.kind}.offsite",
            job.kind,
            job.target_id,
            summary,
            result="success" if copied is not None else "failure",
        )
        await session.commit()
        log.info(
            "offsite_copy_finished",
            job_id=job.id,
            state=values["state"],
            bytes=summary.get("bytes", 0),
        )
