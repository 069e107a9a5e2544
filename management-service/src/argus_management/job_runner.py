"""What the background job runners share (evidence exports, off-site copies): claiming jobs
from a table, a few at a time, across every management process.

Every management process runs one runner per kind. A job is claimed with a conditional
``UPDATE`` (so two processes never run the same job) and its ``heartbeat_at`` is renewed
while it runs; a ``running`` job whose heartbeat is older than ``MANAGEMENT_EXPORT_STALE_S``
belonged to a process that died and is claimed again (started over). A clean shutdown hands
its jobs back at once; a crash leaves them to the heartbeat's staleness. The poll period,
the stale age and the number at once are the export settings (``MANAGEMENT_EXPORT_*``).

The table's model has ``id``, ``state`` (``queued``/``running``/…), ``runner``,
``heartbeat_at``, ``started_at``, ``attempts`` and ``error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import utcnow
from argus_common.retry import every
from argus_management.config import Settings


class JobRunner:
    """Claims and runs the jobs of ``model`` for one process; a subclass runs one job
    (``execute``) and may reset more columns at a claim (``claim_values``)."""

    model: Any
    kind: str  # task names and the log event of a failed round

    def __init__(self, settings: Settings, maker: async_sessionmaker[AsyncSession],
                 log: structlog.typing.FilteringBoundLogger) -> None:
        self.settings = settings
        self.maker = maker
        self.log = log
        self.name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.running: dict[int, asyncio.Task[None]] = {}

    async def execute(self, job_id: int) -> None:
        raise NotImplementedError

    def claim_values(self) -> dict[str, Any]:
        """Columns a claim resets besides the runner's own (progress, …)."""
        return {}

    async def closed(self) -> None:
        """After the runner stopped (its jobs handed back): release what it holds."""

    async def run(self) -> None:
        """Until cancelled: claim what there is room for, every poll period."""
        try:
            await every(self.settings.export_poll_s, self.tick,
                        event=f"{self.kind}_runner_error", log=self.log)
        finally:
            tasks = list(self.running.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if tasks:
                with contextlib.suppress(Exception):
                    await self.release(state="queued")
            await self.closed()

    async def tick(self) -> None:
        """Claim jobs while slots are free."""
        while len(self.running) < self.settings.export_concurrency:
            job_id = await self.claim()
            if job_id is None:
                return
            task = asyncio.create_task(self.execute(job_id), name=f"{self.kind}-{job_id}")
            self.running[job_id] = task
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for job_id, running in list(self.running.items()):
            if running is task:
                del self.running[job_id]

    async def claim(self) -> int | None:
        """Take the oldest queued job, or a running one whose process went away."""
        m = self.model
        now = utcnow()
        stale = now - timedelta(seconds=self.settings.export_stale_s)
        claimable = or_(
            m.state == "queued",
            and_(m.state == "running", or_(m.heartbeat_at.is_(None), m.heartbeat_at < stale)),
        )
        async with self.maker() as session:
            candidates = list(await session.scalars(
                select(m.id).where(claimable).order_by(m.id).limit(5)))
            for job_id in candidates:
                result = await session.execute(
                    update(m).where(m.id == job_id, claimable).values(
                        state="running", runner=self.name, heartbeat_at=now, started_at=now,
                        attempts=m.attempts + 1, error=None, **self.claim_values(),
                    )
                )
                await session.commit()
                if getattr(result, "rowcount", 0) == 1:
                    return int(job_id)
        return None

    async def release(self, *, state: str, job_id: int | None = None) -> None:
        """Hand this runner's running jobs (or one of them) back as ``state``."""
        m = self.model
        cond = [m.runner == self.name, m.state == "running"]
        if job_id is not None:
            cond.append(m.id == job_id)
        async with self.maker() as session:
            await session.execute(
                update(m).where(*cond).values(state=state, runner=None, heartbeat_at=None))
            await session.commit()
