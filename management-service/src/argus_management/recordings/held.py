"""What legal holds protect from retention and the disk guard (``holds/``).

A segment overlapping an active range hold, or an active event hold's range widened by the
recorder's pre/post-roll, is never chosen by ``purge.py``: management decides what the
recorder may delete, so held recordings are never handed out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.events.models import Event
from argus_management.holds.models import Hold
from argus_management.recordings.ranges import resolve_event_ends

_MAX_ACTIVE = 100_000

Ranges = dict[int, list[tuple[datetime, datetime]]]


async def held_ranges(
    session: AsyncSession, camera_ids: list[int] | None, now: datetime,
    pre_roll_s: float = 0.0, post_roll_s: float = 0.0,
) -> Ranges:
    """Per camera, the recorded time that active holds protect: held ranges, and held
    events' ranges widened by the pre/post-roll (an open event protects up to ``now``)."""
    query = select(Hold).where(Hold.released_at.is_(None), Hold.camera_id.is_not(None),
                               Hold.kind.in_(("range", "event")))
    if camera_ids:
        query = query.where(Hold.camera_id.in_(camera_ids))
    holds = list(await session.scalars(query.limit(_MAX_ACTIVE)))
    ranges: Ranges = {}
    event_ids = [h.event_id for h in holds if h.kind == "event" and h.event_id is not None]
    events = list(await session.scalars(select(Event).where(Event.id.in_(event_ids)))) \
        if event_ids else []
    ends = await resolve_event_ends(session, events) if events else {}
    before, after = timedelta(seconds=pre_roll_s), timedelta(seconds=post_roll_s)
    by_id = {e.id: e for e in events}
    for hold in holds:
        assert hold.camera_id is not None
        if hold.kind == "range" and hold.range_start and hold.range_end:
            ranges.setdefault(hold.camera_id, []).append((hold.range_start, hold.range_end))
        elif hold.event_id in by_id:
            event = by_id[hold.event_id]
            end = ends.get(event.id) or now
            ranges.setdefault(hold.camera_id, []).append(
                (event.started_at - before, max(end, event.started_at) + after)
            )
    return ranges
