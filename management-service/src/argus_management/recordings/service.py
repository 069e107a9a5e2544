"""The recording index: indexing announced segments, the timeline, manual recordings."""

from __future__ import annotations

import posixpath
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.events import SegmentClosed, new_id, utcnow
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera
from argus_management.events import service as events
from argus_management.events.hooks import EventStoredHook
from argus_management.events.models import Event
from argus_management.events.schemas import EventIn
from argus_management.rbac.principal import Actor
from argus_management.recordings.backfilled import backfilled_ranges
from argus_management.recordings.growing import growing_ranges, without_growing
from argus_management.recordings.models import RecordingSegment
from argus_management.recordings.ranges import NOT_RANGES, merge_ranges, resolve_event_ends
from argus_management.recordings.schemas import (
    PurgeItem,
    RangeOut,
    SegmentIndexOut,
    TimelineEventOut,
    TimelineOut,
    TimelineSegmentOut,
    TimelineWindow,
)
from argus_management.recordings.timeline import summary_timeline

log = structlog.get_logger("argus.recordings")

# The longest segment a recorder writes (an hour); bounds the index scan of a timeline.
MAX_SEGMENT_SPAN = timedelta(hours=1, minutes=5)
# Events that started this long before the window may still overlap it.
EVENT_LOOKBACK = timedelta(days=1)
_MAX_TIMELINE_EVENTS = 10_000


class InvalidSegment(ValueError):
    """An announced segment that cannot be indexed (bad path, inverted times)."""


def check_segment(msg: SegmentClosed) -> None:
    """Refuse announcements that would put nonsense in the index."""
    path = msg.path
    if (
        path.startswith("/") or "\\" in path or "\x00" in path
        or posixpath.normpath(path) != path or path.split("/", 1)[0] != str(msg.camera_id)
        or not path.endswith(".mp4")
    ):
        raise InvalidSegment(f"bad segment path {path!r}")
    if msg.end < msg.start:
        raise InvalidSegment("segment ends before it starts")


async def index_segment(session: AsyncSession, msg: SegmentClosed) -> bool:
    """Insert the row of an announced segment once; returns whether it was new.

    Idempotent on ``path``: a redelivered announcement, or an orphan adopted again after a
    restart, finds the row and changes nothing.
    """
    check_segment(msg)
    if await session.scalar(select(RecordingSegment.id).where(RecordingSegment.path == msg.path)):
        return False
    row = RecordingSegment(
        camera_id=msg.camera_id, path=msg.path, kind=msg.kind, started_at=msg.start,
        ended_at=msg.end, duration_s=msg.duration, bytes=msg.bytes, codec=msg.codec[:16],
        width=msg.width, height=msg.height, has_audio=msg.has_audio, kept=False,
        backfilled=msg.backfilled,
        deleted_at=None, created_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False  # a concurrent consumer indexed the same path
    return True


async def timeline(
    session: AsyncSession, camera_id: int, window: TimelineWindow, root: Path | None = None
) -> TimelineOut:
    """Recorded ranges (merged, gaps kept), events and segments of one camera in a window;
    with ``window.resolution_s``, the summary of ``timeline.py``. With ``root`` (where
    the recordings are), ``growing`` holds what the recorder is still writing."""
    out = await _timeline(session, camera_id, window)
    out.growing = await growing_ranges(session, root, camera_id, window.start, window.end)
    if out.growing and out.gaps:
        out.gaps = without_growing(out.gaps, out.growing)
    return out


async def _timeline(
    session: AsyncSession, camera_id: int, window: TimelineWindow
) -> TimelineOut:
    if window.resolution_s is not None:
        return await summary_timeline(session, camera_id, window, _timeline_events)
    start, end = window.start, window.end
    segments = list(
        await session.scalars(
            select(RecordingSegment)
            .where(
                RecordingSegment.camera_id == camera_id,
                RecordingSegment.deleted_at.is_(None),
                RecordingSegment.started_at <= end,
                RecordingSegment.started_at >= start - MAX_SEGMENT_SPAN,
                RecordingSegment.ended_at >= start,
            )
            .order_by(RecordingSegment.started_at, RecordingSegment.id)
        )
    )
    ranges = merge_ranges(((s.started_at, s.ended_at) for s in segments), clip=(start, end))
    return TimelineOut(
        camera_id=camera_id,
        start=start,
        end=end,
        recordings=[RangeOut(start=s, end=e) for s, e in ranges],
        events=await _timeline_events(session, camera_id, start, end),
        backfilled=await backfilled_ranges(session, camera_id, start, end),
        segments=[
            TimelineSegmentOut(
                id=s.id, path=s.path, start=s.started_at, end=s.ended_at, kind=s.kind,
                codec=s.codec, width=s.width, height=s.height, has_audio=s.has_audio,
                backfilled=s.backfilled,
                bytes=s.bytes, tier=s.tier, object_key=s.object_key,
            )
            for s in segments
        ],
    )


async def _timeline_events(
    session: AsyncSession, camera_id: int, start: datetime, end: datetime,
    limit: int = _MAX_TIMELINE_EVENTS,
) -> list[TimelineEventOut]:
    rows = list(
        await session.scalars(
            select(Event)
            .where(
                Event.camera_id == camera_id,
                Event.type.not_in(sorted(NOT_RANGES)),
                Event.started_at <= end,
                Event.started_at >= start - EVENT_LOOKBACK,
            )
            .order_by(Event.started_at, Event.id)
            .limit(limit)
        )
    )
    ends = await resolve_event_ends(session, rows)
    out = []
    for event in rows:
        event_end = ends[event.id]
        if event_end is not None and event_end < start:
            continue
        out.append(
            TimelineEventOut(
                id=event.id, type=event.type, start=event.started_at, end=event_end,
                kept=event.kept,
            )
        )
    return out


async def trigger_recording(
    session: AsyncSession, bus: RedisBus, stored: EventStoredHook, camera: Camera,
    actor: Actor, duration_s: float,
) -> Event:
    """Store a ``manual`` event ending ``duration_s`` from now; it goes on ``argus:events``
    after commit (recorders open an event recording with pre-roll). Audited."""
    now = utcnow()
    msg = EventIn(
        id=new_id(), type="manual", camera_id=camera.id, ts=now,
        ends_at=now + timedelta(seconds=duration_s),
        payload={"duration_s": duration_s, "user_id": actor.user_id, "username": actor.username},
    )
    event, _ = await events.ingest_event(session, bus, stored, msg)
    await audit.record(
        session, actor, "recording.trigger", "camera", camera.id,
        {"duration_s": duration_s, "event_id": event.id},
    )
    return event


async def segment_index(session: AsyncSession, camera_id: int) -> SegmentIndexOut:
    """Every path the index holds for a camera, for the recorder's start-up reconcile."""
    rows = await session.execute(
        select(
            RecordingSegment.id, RecordingSegment.path, RecordingSegment.bytes,
            RecordingSegment.kind, RecordingSegment.deleted_at, RecordingSegment.tier,
            RecordingSegment.object_key,
        ).where(RecordingSegment.camera_id == camera_id)
    )
    paths: list[str] = []
    tiered: list[str] = []
    deleted: list[PurgeItem] = []
    for seg_id, path, size, kind, deleted_at, tier, key in rows:
        if deleted_at is None:
            (tiered if tier == "object" else paths).append(path)
        else:
            deleted.append(PurgeItem(id=seg_id, camera_id=camera_id, path=path, bytes=size,
                                     kind=kind, tier=tier, object_key=key))
    return SegmentIndexOut(camera_id=camera_id, paths=paths, deleted=deleted, tiered=tiered)


async def forget_missing(session: AsyncSession, camera_id: int, paths: list[str]) -> int:
    """Remove rows whose files the recorder found missing; returns how many."""
    removed = 0
    for i in range(0, len(paths), 500):
        chunk = paths[i : i + 500]
        result = await session.execute(
            delete(RecordingSegment).where(
                RecordingSegment.camera_id == camera_id, RecordingSegment.path.in_(chunk),
                RecordingSegment.tier == "local",  # tiered rows have no local file to find
            )
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    if removed:
        log.warning("segments_missing_on_disk", camera_id=camera_id, removed=removed)
    return removed
