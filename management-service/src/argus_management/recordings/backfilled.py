"""Backfilled stretches of a camera's timeline: recordings restored after an outage from
the camera's own storage (recording-service ``backfill/``, column ``backfilled``, 0010)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.recordings.models import RecordingSegment
from argus_management.recordings.ranges import MERGE_TOLERANCE, merge_ranges
from argus_management.recordings.schemas import RangeOut

_LOOKBACK = timedelta(hours=1, minutes=5)  # a segment starts at most this long before it ends
MAX_ROWS = 20_000  # backfills are rare; a window holding more shows the first ones


async def backfilled_ranges(
    session: AsyncSession, camera_id: int, start: datetime, end: datetime,
    tolerance: timedelta = MERGE_TOLERANCE,
) -> list[RangeOut]:
    """Merged ranges of the camera's backfilled segments in ``[start, end]``."""
    rows = await session.execute(
        select(RecordingSegment.started_at, RecordingSegment.ended_at)
        .where(
            RecordingSegment.camera_id == camera_id,
            RecordingSegment.backfilled.is_(True),
            RecordingSegment.deleted_at.is_(None),
            RecordingSegment.started_at <= end,
            RecordingSegment.started_at >= start - _LOOKBACK,
            RecordingSegment.ended_at >= start,
        )
        .order_by(RecordingSegment.started_at)
        .limit(MAX_ROWS)
    )
    spans = [(lo, hi) for lo, hi in rows]
    return [RangeOut(start=lo, end=hi)
            for lo, hi in merge_ranges(spans, clip=(start, end), tolerance=tolerance)]
