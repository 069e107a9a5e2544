"""The off-site copy worker: claims queued copy jobs and runs them, like the export runner
(``exports/runner.py``) and on its settings (``MANAGEMENT_EXPORT_POLL_S``,
``MANAGEMENT_EXPORT_STALE_S``, ``MANAGEMENT_EXPORT_CONCURRENCY``).

Every management process runs one. A job is claimed with a conditional ``UPDATE`` and its
``heartbeat_at`` renewed while it copies; a ``running`` job whose heartbeat is older than
the stale age belonged to a process that died and is claimed again (the copy is redone: the
same keys are overwritten). A clean shutdown hands its jobs back at once. The job's end
(done or failed) and its audit entry (``export.offsite`` / ``hold.offsite``, as the user
who asked) are one transaction. A store that refuses is tried again, up to
``MAX_ATTEMPTS`` claims.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.errors import ArgusError, Unavailable
from argus_common.events import utcnow
from argus_common.retry import every
from argus_management.audit import service as audit
from argus_management.config import Settings
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


class OffsiteRunner:
    """Claims and runs off-site copy jobs for one process."""

    def __init__(self, settings: Settings, maker: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.maker = maker
        self.name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.running: dict[int, asyncio.Task[None]] = {}

    async def run(self) -> None:
        """Until cancelled: claim what there is room for, every poll period."""
        try:
            await every(
                self.settings.export_poll_s, self.tick, event="offsite_runner_error", log=log
            )
        finally:
            tasks = list(self.running.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if tasks:
                with contextlib.suppress(Exception):
                    await self._release(state="queued")

    async def _release(self, *, state: str, job_id: int | None = None) -> None:
        """Hand this runner's running jobs (or one) back as ``state``."""
        cond = [OffsiteCopy.runner == self.name, OffsiteCopy.state == "running"]
        if job_id is not None:
            cond.append(OffsiteCopy.id == job_id)
        async with self.maker() as session:
            await session.execute(
                update(OffsiteCopy).where(*cond).values(state=state, runner=None, heartbeat_at=None)
            )
            await session.commit()

    async def tick(self) -> None:
        while len(self.running) < self.settings.export_concurrency:
            job_id = await self.claim()
            if job_id is None:
                return
            task = asyncio.create_task(self.execute(job_id), name=f"offsite-{job_id}")
            self.running[job_id] = task
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for job_id, t in list(self.running.items()):
            if t is task:
                del self.running[job_id]

    async def claim(self) -> int | None:
        """Take the oldest queued job, or a running one whose process went away."""
        now = utcnow()
        stale = now - timedelta(seconds=self.settings.export_stale_s)
        claimable = or_(
            OffsiteCopy.state == "queued",
            and_(
                OffsiteCopy.state == "running",
                or_(OffsiteCopy.heartbeat_at.is_(None), OffsiteCopy.heartbeat_at < stale),
            ),
        )
        async with self.maker() as session:
            candidates = list(
                await session.scalars(
                    select(OffsiteCopy.id).where(claimable).order_by(OffsiteCopy.id).limit(5)
                )
            )
            for job_id in candidates:
                result = await session.execute(
                    update(OffsiteCopy)
                    .where(OffsiteCopy.id == job_id, claimable)
                    .values(
                        state="running",
                        runner=self.name,
                        heartbeat_at=now,
                        started_at=now,
                        attempts=OffsiteCopy.attempts + 1,
                        error=None,
                    )
                )
                await session.commit()
                if getattr(result, "rowcount", 0) == 1:
                    return job_id
        return None

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
                        await self._release(state="queued", job_id=job_id)
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
