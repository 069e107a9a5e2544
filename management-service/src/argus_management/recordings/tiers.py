"""Tiering of segments to the object store, management's side (the index).

The recorder holding the ``tiering`` lease asks for candidates (live local segments older
than their camera's tiering age, or the oldest ones when its disk guard needs room), uploads
and verifies each, then reports it here: the row then points at the object
(``tier='object'``, ``object_key``) and only after that does the recorder remove the local
file. A row that was deleted or marked for deletion meanwhile is reported back as gone, and
the recorder deletes the object it just uploaded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.cameras.models import Camera
from argus_management.events.schemas import RowId
from argus_management.recordings.models import RecordingSegment

Hours = Annotated[float, Field(ge=0, le=24 * 3650)]
ObjectKey = Annotated[str, Field(min_length=1, max_length=1024)]


class TierRequest(BaseModel):
    """Segments to move: by age (``default_hours`` for every camera not in ``hours``,
    ``null`` = those cameras are not tiered) or, with ``bytes``, the oldest local ones
    until that much local disk would be freed (the disk guard). A camera's own
    ``tier_after_hours`` (camera API) wins over both ages sent here."""

    model_config = ConfigDict(extra="forbid")

    default_hours: Hours | None = None
    hours: dict[RowId, Hours] = Field(default_factory=dict, max_length=10_000)
    bytes: int = Field(0, ge=0, le=2**62)
    limit: int = Field(100, ge=1, le=5000)


class TierItem(BaseModel):
    id: int
    camera_id: int
    path: str
    bytes: int
    kind: str
    ended_at: datetime
    due_at: datetime  # when it became due for the object store (``ended_at`` + hours)


class TierOut(BaseModel):
    """``items`` (at most ``limit``, oldest first) and ``due``: how many segments are due
    in all (the upload backlog)."""

    items: list[TierItem]
    due: int = 0


class TieredEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: RowId
    object_key: ObjectKey


class TieredRequest(BaseModel):
    """These segments are on the object store, verified: point their rows at the objects."""

    model_config = ConfigDict(extra="forbid")

    items: list[TieredEntry] = Field(max_length=5000)


class TieredOut(BaseModel):
    """``updated``: rows that now point at their object (also when they already did);
    ``gone``: rows deleted or marked deleted meanwhile (their object must go too)."""

    updated: list[int]
    gone: list[int]


class TierStatsOut(BaseModel):
    """Segments and bytes per tier (live rows), and the oldest local segment's end."""

    local_segments: int
    local_bytes: int
    object_segments: int
    object_bytes: int


async def tier_candidates(session: AsyncSession, req: TierRequest, now: datetime) -> TierOut:
    """Live local segments to move, the longest overdue first, and how many are due."""
    base = select(RecordingSegment).where(
        RecordingSegment.deleted_at.is_(None), RecordingSegment.tier == "local"
    )
    # (query, hours): the segments of one tiering age.
    groups: list[tuple[Any, float]] = []
    if req.bytes > 0:
        groups.append((base, 0.0))
    else:
        # A camera's own age (camera API, ``tier_after_hours``) wins over the recorder's.
        own = await session.execute(
            select(Camera.id, Camera.tier_after_hours).where(Camera.tier_after_hours.is_not(None))
        )
        per_camera = {**req.hours, **{int(c): h for c, h in own.all() if h is not None}}
        for camera_id, hours in per_camera.items():
            groups.append(
                (
                    base.where(
                        RecordingSegment.camera_id == camera_id,
                        RecordingSegment.ended_at < now - timedelta(hours=hours),
                    ),
                    hours,
                )
            )
        if req.default_hours is not None:
            cutoff = now - timedelta(hours=req.default_hours)
            query = base.where(RecordingSegment.ended_at < cutoff)
            if per_camera:
                query = query.where(RecordingSegment.camera_id.not_in(list(per_camera)))
            groups.append((query, req.default_hours))
    found: list[TierItem] = []
    due = 0
    for query, hours in groups:
        rows = await session.scalars(
            query.order_by(RecordingSegment.ended_at, RecordingSegment.id).limit(req.limit)
        )
        for row in rows:
            found.append(
                TierItem(
                    id=row.id,
                    camera_id=row.camera_id,
                    path=row.path,
                    bytes=row.bytes,
                    kind=row.kind,
                    ended_at=row.ended_at,
                    due_at=row.ended_at + timedelta(hours=hours),
                )
            )
        if req.bytes == 0:
            due += int(
                await session.scalar(select(func.count()).select_from(query.subquery())) or 0
            )
    found.sort(key=lambda i: (i.due_at, i.id))
    picked: list[TierItem] = []
    freed = 0
    for item in found[: req.limit]:
        if req.bytes > 0 and freed >= req.bytes:
            break
        picked.append(item)
        freed += item.bytes
    return TierOut(items=picked, due=due)


async def mark_tiered(session: AsyncSession, req: TieredRequest) -> TieredOut:
    """Point live rows at their objects (idempotent); the rest are ``gone``."""
    updated: list[int] = []
    gone: list[int] = []
    for entry in req.items:
        result = await session.execute(
            update(RecordingSegment)
            .where(RecordingSegment.id == entry.id, RecordingSegment.deleted_at.is_(None))
            .values(tier="object", object_key=entry.object_key)
        )
        (updated if getattr(result, "rowcount", 0) == 1 else gone).append(entry.id)
    return TieredOut(updated=updated, gone=gone)


async def tier_stats(session: AsyncSession) -> TierStatsOut:
    """Live segments and bytes on each tier."""
    rows = await session.execute(
        select(
            RecordingSegment.tier, func.count(), func.coalesce(func.sum(RecordingSegment.bytes), 0)
        )
        .where(RecordingSegment.deleted_at.is_(None))
        .group_by(RecordingSegment.tier)
    )
    out = {"local": (0, 0), "object": (0, 0)}
    for tier, count, size in rows:
        out[str(tier)] = (int(count), int(size))
    return TierStatsOut(
        local_segments=out["local"][0],
        local_bytes=out["local"][1],
        object_segments=out["object"][0],
        object_bytes=out["object"][1],
    )
