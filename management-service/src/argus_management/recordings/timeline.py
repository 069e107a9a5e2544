"""The summary timeline (``resolution_s``): a month of one camera in well under 100 ms.

Nothing per segment leaves the database: PostgreSQL merges the segments into ranges
(a running maximum of the ends, a new range where a start lies beyond it by more than the
resolution) and counts events per class and bucket, so 43,200 one-minute segments come
back as a handful of rows. Other databases (SQLite) get the same answer computed here.
Gaps are the window minus the ranges (up to now); each is given the cause of a liveness,
recorder or disk alert that overlaps it, or ``events_only`` for a camera that records
only on events.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.events import utcnow
from argus_management.alerts.models import Alert
from argus_management.cameras.models import Camera
from argus_management.events.models import Event
from argus_management.rbac.models import CameraGroup, camera_group_members
from argus_management.recordings.backfilled import backfilled_ranges
from argus_management.recordings.models import RecordingSegment
from argus_management.recordings.ranges import MERGE_TOLERANCE, NOT_RANGES, merge_ranges
from argus_management.recordings.schemas import (
    EventClassOut,
    GapOut,
    RangeOut,
    TimelineOut,
    TimelineWindow,
)

MAX_SEGMENT_SPAN = timedelta(hours=1, minutes=5)
SUMMARY_EVENTS = 500
# Alert kinds that explain a gap, most specific first.
GAP_CAUSES = (("camera.offline", "camera_offline"), ("recorder.down", "recorder_down"),
              ("disk.low", "disk"))

# The segments that start a range: those beginning more than the tolerance after every
# earlier segment has ended (a running maximum: segments may overlap). One pass in index
# order (index-only on ix_recording_segments_live); only the boundaries come back.
_BOUNDARY_SQL = text("""
SELECT started_at, prev_end FROM (
  SELECT started_at,
         max(ended_at) OVER (ORDER BY started_at
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM recording_segments
  WHERE camera_id = :camera_id AND deleted_at IS NULL
    AND started_at <= :end AND started_at >= :lookback AND ended_at >= :start
) s
WHERE prev_end IS NULL OR started_at > prev_end + :tolerance
ORDER BY started_at
""")
_LAST_END_SQL = text("""
SELECT max(ended_at) FROM recording_segments
WHERE camera_id = :camera_id AND deleted_at IS NULL AND ended_at >= :start
  AND started_at <= :end AND started_at >= :from_start
""")
_LAST_START_SQL = text("""
SELECT max(started_at) FROM recording_segments
WHERE camera_id = :camera_id AND deleted_at IS NULL
  AND started_at <= :end AND started_at >= :lookback AND ended_at >= :start
""")

_EVENTS_SQL = text("""
SELECT type, floor(extract(epoch FROM (started_at - :start)) / :resolution)::bigint AS b,
       count(*) AS n
FROM events
WHERE camera_id = :camera_id AND started_at >= :start AND started_at < :end
  AND NOT (type = ANY(:skip))
GROUP BY type, b
""")


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _ranges(session: AsyncSession, camera_id: int, window: TimelineWindow,
                  tolerance: timedelta) -> list[tuple[datetime, datetime]]:
    start, end = window.start, window.end
    if _postgres(session):
        args = {"camera_id": camera_id, "start": start, "end": end,
                "lookback": start - MAX_SEGMENT_SPAN, "tolerance": tolerance}
        bounds = list(await session.execute(_BOUNDARY_SQL, args))
        if not bounds:
            return []
        last_start = await session.scalar(_LAST_START_SQL, args)
        last_end = await session.scalar(_LAST_END_SQL, {
            **args, "from_start": last_start - MAX_SEGMENT_SPAN})
        spans: list[tuple[datetime, datetime]] = []
        for i, (lo, _prev) in enumerate(bounds):
            hi = bounds[i + 1][1] if i + 1 < len(bounds) else last_end
            spans.append((lo, hi))
    else:
        spans = [(lo, hi) for lo, hi in await session.execute(
            select(RecordingSegment.started_at, RecordingSegment.ended_at).where(
                RecordingSegment.camera_id == camera_id,
                RecordingSegment.deleted_at.is_(None),
                RecordingSegment.started_at <= end,
                RecordingSegment.started_at >= start - MAX_SEGMENT_SPAN,
                RecordingSegment.ended_at >= start,
            )
        )]
    return merge_ranges(spans, clip=(start, end), tolerance=tolerance)


async def _event_classes(session: AsyncSession, camera_id: int, window: TimelineWindow
                         ) -> list[EventClassOut]:
    assert window.resolution_s is not None
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    if _postgres(session):
        rows: Any = await session.execute(_EVENTS_SQL, {
            "camera_id": camera_id, "start": window.start, "end": window.end,
            "resolution": window.resolution_s, "skip": sorted(NOT_RANGES),
        })
        for kind, bucket, n in rows:
            counts[kind][int(bucket)] = int(n)
    else:
        rows = await session.execute(
            select(Event.type, Event.started_at).where(
                Event.camera_id == camera_id, Event.started_at >= window.start,
                Event.started_at < window.end, Event.type.not_in(sorted(NOT_RANGES)),
            )
        )
        for kind, at in rows:
            bucket = int((at - window.start).total_seconds() // window.resolution_s)
            counts[kind][bucket] = counts[kind].get(bucket, 0) + 1
    return [
        EventClassOut(type=kind, count=sum(b.values()), buckets=sorted(b.items()))
        for kind, b in sorted(counts.items())
    ]


async def _causes(session: AsyncSession, camera_id: int, start: datetime, end: datetime
                  ) -> list[tuple[str, datetime, datetime]]:
    """``(cause, from, to)`` of the alerts that can explain a gap in ``[start, end]``."""
    now = utcnow()
    rows = await session.execute(
        select(Alert.kind, Alert.created_at, Alert.resolved_at).where(
            Alert.kind.in_([k for k, _ in GAP_CAUSES]),
            or_(Alert.camera_id == camera_id, Alert.camera_id.is_(None)),
            Alert.created_at <= end,
            or_(Alert.resolved_at.is_(None), Alert.resolved_at >= start),
        ).limit(10_000)
    )
    names = dict(GAP_CAUSES)
    return [(names[kind], lo, hi or now) for kind, lo, hi in rows]


def _gaps(ranges: list[tuple[datetime, datetime]], start: datetime, end: datetime,
          causes: list[tuple[str, datetime, datetime]], events_only: bool,
          minimum: timedelta) -> list[GapOut]:
    order = {cause: i for i, (_k, cause) in enumerate(GAP_CAUSES)}
    gaps: list[GapOut] = []
    cursor = start
    for lo, hi in [*ranges, (end, end)]:
        if lo - cursor > minimum:
            hits = sorted((order[c], c) for c, a, b in causes if a < lo and b > cursor)
            cause = hits[0][1] if hits else ("events_only" if events_only else "unknown")
            gaps.append(GapOut(start=cursor, end=lo, cause=cause))
        cursor = max(cursor, hi)
    return gaps


async def summary_timeline(
    session: AsyncSession, camera_id: int, window: TimelineWindow,
    events: Any,
) -> TimelineOut:
    """The timeline of one camera at ``window.resolution_s`` (see the module docstring).
    ``events`` lists the window's events (``service._timeline_events``)."""
    assert window.resolution_s is not None
    resolution = timedelta(seconds=window.resolution_s)
    tolerance = max(resolution, MERGE_TOLERANCE)
    ranges = await _ranges(session, camera_id, window, tolerance)
    # Gaps only up to now: the future is not missing video.
    horizon = min(window.end, utcnow())
    mode = await session.scalar(select(Camera.recording_mode).where(Camera.id == camera_id))
    causes = await _causes(session, camera_id, window.start, horizon)
    gaps = _gaps([r for r in ranges if r[0] < horizon], window.start, horizon, causes,
                 mode is not None and mode != "continuous", tolerance)
    classes = await _event_classes(session, camera_id, window)
    # The list only when it is short: a month of motion is counted, not listed (zoom in).
    many = sum(c.count for c in classes) > SUMMARY_EVENTS
    listed = [] if many else await events(
        session, camera_id, window.start, window.end, SUMMARY_EVENTS)
    return TimelineOut(
        camera_id=camera_id, start=window.start, end=window.end,
        recordings=[RangeOut(start=s, end=e) for s, e in ranges],
        events=listed, segments=[], resolution_s=window.resolution_s,
        gaps=gaps, event_classes=classes, events_truncated=many,
        backfilled=await backfilled_ranges(session, camera_id, window.start, window.end,
                                           tolerance),
    )


async def group_camera_ids(session: AsyncSession, group_id: int) -> list[int] | None:
    """Camera ids of a group (None when the group does not exist)."""
    if await session.get(CameraGroup, group_id) is None:
        return None
    rows = await session.scalars(
        select(camera_group_members.c.camera_id)
        .where(camera_group_members.c.group_id == group_id)
        .order_by(camera_group_members.c.camera_id)
    )
    return [int(c) for c in rows]
