"""Choosing segments to delete (retention by age, the disk guard) and forgetting them.

Deletion is three steps so that the index never points at a missing file and no file is
left unindexed by a crash: this module marks the rows (``deleted_at``; they leave the
timeline at once) and hands them to the recorder; the recorder unlinks each file and
fsyncs its directory; then it confirms and the rows are removed. A recorder that died in
between finds the marked rows again when it reconciles its cameras.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.audit import service as audit
from argus_management.cameras.models import Camera, DeletedCamera
from argus_management.events.models import Event
from argus_management.objects.retention import protected_ranges
from argus_management.rbac.principal import Actor
from argus_management.recordings.held import held_ranges
from argus_management.recordings.models import RecordingSegment
from argus_management.recordings.ranges import resolve_event_ends
from argus_management.recordings.schemas import PurgeItem, PurgeRequest

# Who deletes recordings: the recorder, on management's choice (retention, disk guard).
RECORDER = Actor(user_id=None, username="recording-service", ip=None, user_agent=None)
# Retention of segments whose camera was deleted before deleted_cameras kept its setting.
DEFAULT_RETENTION_DAYS = 30
_PAGE = 500
_MAX_KEPT_EVENTS = 10_000
_MAX_KEPT_SEGMENTS = 100_000

Ranges = dict[int, list[tuple[datetime, datetime]]]


async def _protected(session: AsyncSession, req: PurgeRequest, now: datetime) -> Ranges:
    """Per camera, the ranges covered by kept events (widened by pre/post-roll)."""
    query = select(Event).where(Event.kept.is_(True), Event.camera_id.is_not(None))
    if req.camera_ids:
        query = query.where(Event.camera_id.in_(req.camera_ids))
    kept = list(await session.scalars(query.limit(_MAX_KEPT_EVENTS)))
    ends = await resolve_event_ends(session, kept)
    before, after = timedelta(seconds=req.pre_roll_s), timedelta(seconds=req.post_roll_s)
    ranges: Ranges = {}
    for event in kept:
        assert event.camera_id is not None
        end = ends[event.id] or now  # an open kept event protects up to now
        ranges.setdefault(event.camera_id, []).append(
            (event.started_at - before, max(end, event.started_at) + after)
        )
    # Legal holds (holds/): held ranges and held events, whatever their age or the disk.
    held = await held_ranges(session, req.camera_ids, now, req.pre_roll_s, req.post_roll_s)
    for camera_id, spans in held.items():
        ranges.setdefault(camera_id, []).extend(spans)
    return ranges


async def protected_for_recorder(
    session: AsyncSession, pre_roll_s: float, post_roll_s: float, now: datetime
) -> tuple[Ranges, list[str]]:
    """Protected ranges (kept events, legal holds) and kept segments' paths, for the
    recorder's local disk guard (it runs when management cannot be asked)."""
    req = PurgeRequest(mode="age", pre_roll_s=pre_roll_s, post_roll_s=post_roll_s)
    ranges = await _protected(session, req, now)
    kept = await session.scalars(
        select(RecordingSegment.path)
        .where(RecordingSegment.kept.is_(True), RecordingSegment.deleted_at.is_(None))
        .limit(_MAX_KEPT_SEGMENTS)
    )
    return ranges, list(kept)


def _is_protected(seg: RecordingSegment, ranges: Ranges) -> bool:
    return any(
        seg.started_at <= hi and seg.ended_at >= lo for lo, hi in ranges.get(seg.camera_id, ())
    )


async def _oldest(session: AsyncSession, *conditions: Any) -> AsyncIterator[RecordingSegment]:
    """Live, unkept segments matching ``conditions``, oldest first (keyset pages)."""
    last: tuple[datetime, int] | None = None
    while True:
        query = select(RecordingSegment).where(
            RecordingSegment.deleted_at.is_(None), RecordingSegment.kept.is_(False), *conditions
        )
        if last is not None:
            query = query.where(
                tuple_(RecordingSegment.started_at, RecordingSegment.id) > tuple_(*last)
            )
        rows = list(
            await session.scalars(
                query.order_by(RecordingSegment.started_at, RecordingSegment.id).limit(_PAGE)
            )
        )
        for row in rows:
            yield row
        if len(rows) < _PAGE:
            return
        last = (rows[-1].started_at, rows[-1].id)


async def _by_age(
    session: AsyncSession, req: PurgeRequest, now: datetime, ranges: Ranges
) -> list[RecordingSegment]:
    # Deleted cameras' recordings keep the retention the camera had (cameras/models.py).
    retention = {cid: days for cid, days in await session.execute(
        select(DeletedCamera.id, DeletedCamera.retention_days)
    )}
    retention.update({cid: days for cid, days in await session.execute(
        select(Camera.id, Camera.retention_days)
    )})
    if req.camera_ids:
        camera_ids = sorted(set(req.camera_ids))
    else:
        camera_ids = sorted(
            (await session.scalars(
                select(RecordingSegment.camera_id)
                .where(RecordingSegment.deleted_at.is_(None))
                .distinct()
            )).all()
        )
    picked: list[RecordingSegment] = []
    for camera_id in camera_ids:
        cutoff = now - timedelta(days=retention.get(camera_id, DEFAULT_RETENTION_DAYS))
        async for seg in _oldest(
            session, RecordingSegment.camera_id == camera_id, RecordingSegment.ended_at < cutoff
        ):
            if len(picked) >= req.limit:
                return picked
            if not _is_protected(seg, ranges):
                picked.append(seg)
    return picked


async def _by_space(
    session: AsyncSession, req: PurgeRequest, ranges: Ranges
) -> list[RecordingSegment]:
    picked: list[RecordingSegment] = []
    freed = 0
    scope = [RecordingSegment.camera_id.in_(req.camera_ids)] if req.camera_ids else []
    # Continuous recordings go first; event recordings only when those are exhausted.
    for kind_condition in (
        RecordingSegment.kind == "continuous", RecordingSegment.kind != "continuous"
    ):
        # Only local files free local disk: tiered segments go by age alone.
        async for seg in _oldest(session, kind_condition, RecordingSegment.tier == "local",
                                 *scope):
            if freed >= req.bytes or len(picked) >= req.limit:
                return picked
            if not _is_protected(seg, ranges):
                picked.append(seg)
                freed += seg.bytes
    return picked


async def purge_candidates(
    session: AsyncSession, req: PurgeRequest, now: datetime
) -> list[PurgeItem]:
    """Pick segments to delete for ``req``, mark them deleted, and return them."""
    ranges = await _protected(session, req, now)
    if req.mode == "age":
        # Retention by class (objects/retention.py): spans around objects of chosen labels.
        by_class = await protected_ranges(
            session, req.camera_ids, now, req.pre_roll_s, req.post_roll_s
        )
        for camera_id, spans in by_class.items():
            ranges.setdefault(camera_id, []).extend(spans)
        picked = await _by_age(session, req, now, ranges)
    else:
        picked = await _by_space(session, req, ranges) if req.bytes > 0 else []
    ids = [seg.id for seg in picked]
    for i in range(0, len(ids), _PAGE):
        await session.execute(
            update(RecordingSegment)
            .where(RecordingSegment.id.in_(ids[i : i + _PAGE]))
            .values(deleted_at=now)
        )
    return [
        PurgeItem(id=s.id, camera_id=s.camera_id, path=s.path, bytes=s.bytes, kind=s.kind,
                  tier=s.tier, object_key=s.object_key)
        for s in picked
    ]


async def purged_summary(session: AsyncSession, ids: list[int]) -> dict[str, Any]:
    """What a batch deleted, per camera (count, bytes, the recorded span) and in all: the
    ``recording.purge`` audit row of the batch."""
    cameras: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), _PAGE):
        rows = await session.execute(
            select(RecordingSegment.camera_id, func.count(), func.sum(RecordingSegment.bytes),
                   func.min(RecordingSegment.started_at), func.max(RecordingSegment.ended_at))
            .where(RecordingSegment.id.in_(ids[i : i + _PAGE]),
                   RecordingSegment.deleted_at.is_not(None))
            .group_by(RecordingSegment.camera_id)
        )
        for camera_id, count, size, first, last in rows:
            cam = cameras.setdefault(str(camera_id), {"segments": 0, "bytes": 0,
                                                      "from": first, "to": last})
            cam["segments"] += int(count)
            cam["bytes"] += int(size or 0)
            cam["from"], cam["to"] = min(cam["from"], first), max(cam["to"], last)
    for cam in cameras.values():
        cam["from"], cam["to"] = cam["from"].isoformat(), cam["to"].isoformat()
    return {
        "camera_ids": sorted(int(c) for c in cameras),
        "segments": sum(c["segments"] for c in cameras.values()),
        "bytes": sum(c["bytes"] for c in cameras.values()),
        "cameras": cameras,
    }


async def confirm_purged(session: AsyncSession, ids: list[int]) -> int:
    """Remove marked rows whose files the recorder has unlinked; returns how many. The
    batch is audited (``recording.purge``: cameras, segments, bytes, recorded spans)."""
    summary = await purged_summary(session, ids)
    removed = await _remove(session, ids)
    if removed:
        await audit.record(session, RECORDER, "recording.purge", "recordings", None, summary)
    return removed


async def _remove(session: AsyncSession, ids: list[int]) -> int:
    removed = 0
    for i in range(0, len(ids), _PAGE):
        result = await session.execute(
            delete(RecordingSegment).where(
                RecordingSegment.id.in_(ids[i : i + _PAGE]),
                RecordingSegment.deleted_at.is_not(None),
            )
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
