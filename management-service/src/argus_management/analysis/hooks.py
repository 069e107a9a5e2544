"""What storing an event means for analysis: a ``motion.end`` closes its ``motion.start``.

ai-analysis-service sends ``payload.start_event_id`` with every ``motion.end``; the start
event then gets ``ended_at`` (the end's ``ts``), so the timeline and the events list show
the motion's span without pairing markers.
"""

from __future__ import annotations

from argus_management.events.hooks import EventStored
from argus_management.events.models import Event
from argus_management.events.schemas import MAX_ID


async def on_event_stored(stored: EventStored) -> None:
    """A listener of ``EventStored`` (subscribed in the lifespan), called for every newly
    stored event, in its transaction."""
    session, msg = stored.session, stored.msg
    if msg.type != "motion.end":
        return
    start_id = msg.payload.get("start_event_id")
    if isinstance(start_id, bool) or not isinstance(start_id, int) or not 1 <= start_id <= MAX_ID:
        return
    start = await session.get(Event, start_id)
    if (
        start is None or start.type != "motion.start" or start.camera_id != msg.camera_id
        or start.ended_at is not None or msg.ts < start.started_at
    ):
        return
    start.ended_at = msg.ts
    await session.flush()
