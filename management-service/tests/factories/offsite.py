"""Off-site copy jobs for tests, written straight to the job table."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.offsite.models import OffsiteCopy


async def add_offsite_copy(
    maker: async_sessionmaker[AsyncSession],
    target_id: int,
    *,
    kind: str = "export",
    state: str = "queued",
    attempts: int = 0,
    **fields: Any,
) -> OffsiteCopy:
    """One job copying ``kind`` ``target_id``, requested by the admin (user 1), nothing
    copied yet; ``fields`` set any other column (``runner``, ``heartbeat_at``, ...)."""
    async with maker() as session:
        job = OffsiteCopy(
            kind=kind, target_id=target_id, state=state, attempts=attempts,
            requested_by=1, requested_by_name="admin",
            objects=0, bytes=0, missing=0, pre_s=0, post_s=0, **fields,
        )
        session.add(job)
        await session.commit()
        return job
