"""Time ranges: merging segments into recorded ranges, and the end of each event.

Events are stored as reported: a ``motion.start`` row and, later, a ``motion.end`` row (the
same for ``rtmp.publish`` / ``rtmp.unpublish``); a ``manual`` event carries its own end.
The range of a start event ends at its ``ended_at`` when set, else at the first matching
end event of the same camera after it, else it is still open.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.events.models import Event

# Start type -> the type that ends it.
END_OF: dict[str, str] = {"motion.start": "motion.end", "rtmp.publish": "rtmp.unpublish"}
# Types that are not ranges of their own on a timeline (end markers, stream health).
NOT_RANGES = frozenset({*END_OF.values(), "stream.up", "stream.down"})
# Segments closer than this are drawn as one range (rounding, not missing video).
MERGE_TOLERANCE = timedelta(milliseconds=100)
# How far past an event's start its end marker is looked for.
END_LOOKAHEAD = timedelta(days=1)
_MAX_MARKERS = 20_000


def merge_ranges(
    spans: Iterable[tuple[datetime, datetime]],
    clip: tuple[datetime, datetime] | None = None,
    tolerance: timedelta = MERGE_TOLERANCE,
) -> list[tuple[datetime, datetime]]:
    """Merge overlapping or touching ``(start, end)`` spans; gaps stay gaps (those up to
    ``tolerance`` close).

    With ``clip``, each merged range is cut to that window (ranges outside it vanish).
    """
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + tolerance:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    if clip is None:
        return merged
    lo, hi = clip
    return [(max(s, lo), min(e, hi)) for s, e in merged if e > lo and s < hi]


async def resolve_event_ends(
    session: AsyncSession, events: Sequence[Event]
) -> dict[int, datetime | None]:
    """``event id -> end`` (None: still open) for start events, pairing end markers."""
    ends: dict[int, datetime | None] = {e.id: e.ended_at for e in events}
    pending = [e for e in events if e.ended_at is None and e.type in END_OF]
    by_camera: dict[int | None, list[Event]] = {}
    for event in pending:
        by_camera.setdefault(event.camera_id, []).append(event)
    for camera_id, group in by_camera.items():
        first = min(e.started_at for e in group)
        last = max(e.started_at for e in group) + END_LOOKAHEAD
        rows = await session.execute(
            select(Event.type, Event.started_at)
            .where(
                Event.camera_id == camera_id,
                Event.type.in_(sorted(set(END_OF.values()))),
                Event.started_at >= first,
                Event.started_at <= last,
            )
            .order_by(Event.started_at)
            .limit(_MAX_MARKERS)
        )
        markers = [(t, ts) for t, ts in rows]
        for event in group:
            wanted = END_OF[event.type]
            ends[event.id] = next(
                (ts for t, ts in markers if t == wanted and ts >= event.started_at), None
            )
    return ends
