"""The shared job runner (exports, off-site copies) against the real database: it claims
queued jobs and jobs whose runner went silent, never a job another live runner holds, at most
``MANAGEMENT_EXPORT_CONCURRENCY`` at once, and a clean stop hands its jobs back as queued.
The jobs live in a table of this test's own, so no management runner of another test (a
module's live server, say) can take them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from sqlalchemy import MetaData, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from argus_management.config import Settings
from argus_management.db import UtcDateTime, make_engine, make_sessionmaker
from argus_management.job_runner import JobRunner


class _Base(DeclarativeBase):
    metadata = MetaData()
    type_annotation_map = {datetime: UtcDateTime()}


class Job(_Base):
    """The columns a job runner needs, and nothing else."""

    __tablename__ = "test_job_runner_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(512), default=None)
    runner: Mapped[str | None] = mapped_column(String(128), default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)


class _Holding(JobRunner):
    """Runs each job until it is cancelled."""

    model = Job
    kind = "test"

    def __init__(self, settings: Settings, maker: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(settings, maker, structlog.get_logger("test.job_runner"))
        self.started: list[int] = []

    async def execute(self, job_id: int) -> None:
        self.started.append(job_id)
        await asyncio.Event().wait()


@pytest.fixture
async def own_maker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
    yield make_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.drop_all)
    await engine.dispose()


def _job(state: str, **kw: object) -> Job:
    return Job(state=state, attempts=0, **kw)


async def test_claims_queued_and_stale_jobs_and_hands_them_back_at_a_clean_stop(
    settings: Settings, own_maker: async_sessionmaker[AsyncSession]
) -> None:
    now = datetime.now(UTC)
    settings = settings.model_copy(update={"export_concurrency": 3, "export_poll_s": 0.05})
    async with own_maker() as s:
        jobs = [
            _job("queued"),
            _job("running", runner="dead-host", heartbeat_at=now - timedelta(hours=1)),
            _job("running", runner="live-host", heartbeat_at=now),
            _job("queued"),
            _job("queued"),
            _job("done"),
        ]
        s.add_all(jobs)
        await s.commit()
    queued1, stale, live, queued2, queued3, done = (j.id for j in jobs)
    runner = _Holding(settings, own_maker)
    task = asyncio.create_task(runner.run())
    async with asyncio.timeout(10):
        while len(runner.started) < 3:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # a few more rounds: no fourth job while three run
    # Oldest first; the live runner's job and the finished one are never taken.
    assert sorted(runner.started) == sorted([queued1, stale, queued2])
    async with own_maker() as s:
        rows = {r.id: r for r in await s.scalars(select(Job))}
    assert {rows[i].runner for i in runner.started} == {runner.name}
    assert rows[stale].attempts == 1 and rows[queued3].state == "queued"
    assert (rows[live].runner, rows[done].state) == ("live-host", "done")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with own_maker() as s:
        rows = {r.id: r for r in await s.scalars(select(Job))}
    for i in runner.started:
        assert (rows[i].state, rows[i].runner, rows[i].heartbeat_at) == ("queued", None, None)
    assert (rows[live].state, rows[live].runner) == ("running", "live-host")
