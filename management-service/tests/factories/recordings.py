"""Recording segments for tests, written straight to the index."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.recordings.models import RecordingSegment


def segment_path(camera_id: int, start: datetime) -> str:
    ms = int(start.timestamp() * 1000)
    return f"{camera_id}/{start:%Y-%m-%d}/{start:%H}/{ms}.mp4"


async def add_segment(
    maker: async_sessionmaker[AsyncSession],
    camera_id: int,
    start: datetime,
    seconds: float = 60.0,
    *,
    kind: str = "continuous",
    size: int = 1000,
    kept: bool = False,
    deleted_at: datetime | None = None,
) -> RecordingSegment:
    """One indexed segment of ``seconds`` from ``start``."""
    async with maker() as session:
        seg = RecordingSegment(
            camera_id=camera_id, path=segment_path(camera_id, start), kind=kind,
            started_at=start, ended_at=start + timedelta(seconds=seconds), duration_s=seconds,
            bytes=size, codec="h264", width=320, height=180, has_audio=False, kept=kept,
            deleted_at=deleted_at,
        )
        session.add(seg)
        await session.commit()
        return seg
