"""What the events service announces, for listeners it does not know.

``ingest_event`` fires :data:`EventStored` once per newly stored event, inside the request's
transaction; the lifespan subscribes the listeners (liveness evidence, analysis spans, alert
rules) in that order. A listener queues Redis writes with ``db.after_commit``, so a change
that rolls back leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_management.cameras.models import Camera
from argus_management.events.models import Event
from argus_management.events.schemas import EventIn
from argus_management.hooks import Hook


@dataclass(frozen=True)
class EventStored:
    """A new event row, flushed in ``session`` (not committed yet)."""

    session: AsyncSession
    bus: RedisBus
    msg: EventIn
    event: Event
    camera: Camera | None


EventStoredHook = Hook[EventStored]


def event_stored_hook() -> EventStoredHook:
    """A fresh, empty hook (one per app, built in the lifespan)."""
    return Hook("event_stored")
