"""Events: listing what a principal may see, and storing what the media services report."""

from __future__ import annotations

import json

import structlog
from prometheus_client import Counter
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.errors import NotFound, PayloadTooLarge, Unprocessable
from argus_common.events import STREAM_EVENTS, EventMessage, utcnow
from argus_management.cameras.models import Camera
from argus_management.db import after_commit
from argus_management.events.hooks import EventStored, EventStoredHook
from argus_management.events.models import Event
from argus_management.events.schemas import MAX_PAYLOAD_BYTES, EventFilters, EventIn
from argus_management.events.visibility import visible_cameras
from argus_management.pagination import PageParams
from argus_management.rbac.principal import Principal

log = structlog.get_logger("argus.events")

EVENTS_TOTAL = Counter("argus_events_total", "Events stored, by type", ["type"])


async def list_events(
    session: AsyncSession, principal: Principal, filters: EventFilters, page: PageParams
) -> tuple[list[Event], int]:
    """A page of the events ``principal`` may see, newest first, and the total count."""
    conditions = [visible_cameras(Event.camera_id, principal)]
    if filters.camera_id is not None:
        conditions.append(Event.camera_id == filters.camera_id)
    if filters.type is not None:
        conditions.append(Event.type == filters.type)
    if filters.start is not None:
        conditions.append(Event.started_at >= filters.start)
    if filters.end is not None:
        conditions.append(Event.started_at < filters.end)
    total = await session.scalar(select(func.count()).select_from(Event).where(*conditions))
    rows = await session.scalars(
        select(Event)
        .where(*conditions)
        .order_by(Event.started_at.desc(), Event.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    return list(rows), int(total or 0)


async def get_event(session: AsyncSession, principal: Principal, event_id: int) -> Event:
    """The event ``event_id`` if ``principal`` may see it; 404 otherwise (no existence leak)."""
    event = await session.get(Event, event_id)
    if event is None or not principal.may_see_camera(event.camera_id):
        raise NotFound("event not found")
    return event


def _check_payload_size(msg: EventIn) -> None:
    size = len(json.dumps(msg.payload, separators=(",", ":")))
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(f"payload is {size} bytes, at most {MAX_PAYLOAD_BYTES} allowed")


async def _by_source(session: AsyncSession, source_id: str) -> Event | None:
    found: Event | None = await session.scalar(select(Event).where(Event.source_id == source_id))
    return found


async def ingest_event(
    session: AsyncSession, bus: RedisBus, stored: EventStoredHook, msg: EventIn
) -> tuple[Event, bool]:
    """Store a reported event once; returns ``(row, created)``.

    A new event is added to the ``argus:events`` stream after the transaction commits, and
    fires ``stored`` in the transaction (its listeners record liveness evidence, close
    motion spans and raise the alerts of the alert rules). A redelivery (same message id)
    returns the stored row and has no further effect.
    """
    _check_payload_size(msg)
    existing = await _by_source(session, msg.id)
    if existing is not None:
        return existing, False
    camera: Camera | None = None
    if msg.camera_id is not None:
        camera = await session.get(Camera, msg.camera_id)
        if camera is None:
            raise Unprocessable(f"camera {msg.camera_id} does not exist")
    event = Event(
        source_id=msg.id,
        camera_id=msg.camera_id,
        type=msg.type,
        severity=msg.severity,
        started_at=msg.ts,
        ended_at=msg.ends_at,
        payload=msg.payload,
        snapshot_path=None,
        kept=False,
        created_at=utcnow(),
    )
    try:
        # A savepoint: a concurrent redelivery that wins the insert must not spoil the
        # request's transaction.
        async with session.begin_nested():
            session.add(event)
    except IntegrityError:
        winner = await _by_source(session, msg.id)
        if winner is None:  # the camera was deleted meanwhile
            raise Unprocessable(f"camera {msg.camera_id} does not exist") from None
        return winner, False
    _publish_event_after_commit(session, bus, event, msg)
    await stored.fire(EventStored(session, bus, msg, event, camera))
    return event, True


def _publish_event_after_commit(
    session: AsyncSession, bus: RedisBus, event: Event, msg: EventIn
) -> None:
    message = EventMessage(
        id=msg.id,
        type=msg.type,
        camera_id=msg.camera_id,
        ts=msg.ts,
        v=msg.v,
        event_id=event.id,
        severity=msg.severity,
        ends_at=msg.ends_at,
        payload=msg.payload,
    )

    async def add_to_stream() -> None:
        EVENTS_TOTAL.labels(msg.type).inc()
        try:
            await bus.add(STREAM_EVENTS, message)
        except Exception:
            # The row is committed: the event is not lost, only its live announcement.
            log.exception("event_stream_add_failed", event_id=event.id, type=msg.type)

    after_commit(session, add_to_stream)
