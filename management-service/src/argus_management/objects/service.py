"""Search and review of tracked objects, always within the cameras the caller sees."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import NotFound
from argus_common.events import utcnow
from argus_management.audit import service as audit
from argus_management.events.models import Event
from argus_management.events.visibility import visible_cameras
from argus_management.objects.models import TrackedObject, TrackedObjectPlace
from argus_management.objects.schemas import (
    ObjectDetail,
    ObjectEventOut,
    ObjectOut,
    ReviewSummary,
    SearchFilters,
)
from argus_management.pagination import PageParams
from argus_management.rbac.principal import Actor, Principal

_OBJECT_EVENTS_MAX = 200


def _place(kind: str, name: str) -> ColumnElement[bool]:
    return exists().where(
        TrackedObjectPlace.object_id == TrackedObject.id,
        TrackedObjectPlace.kind == kind,
        TrackedObjectPlace.name == name,
    )


def conditions(principal: Principal, f: SearchFilters) -> list[ColumnElement[bool]]:
    """The WHERE clause of a search: the caller's cameras first (an ungranted camera's
    objects are never returned, whatever ``camera_ids`` asks for)."""
    where: list[ColumnElement[bool]] = [visible_cameras(TrackedObject.camera_id, principal)]
    if f.camera_ids:
        where.append(TrackedObject.camera_id.in_(sorted(set(f.camera_ids))))
    if f.labels:
        where.append(TrackedObject.label.in_(sorted(set(f.labels))))
    if f.colors:
        where.append(TrackedObject.color.in_(sorted(set(f.colors))))
    if f.start is not None:
        where.append(TrackedObject.first_seen >= f.start)
    if f.end is not None:
        where.append(TrackedObject.first_seen < f.end)
    if f.min_dwell_s is not None:
        where.append(TrackedObject.dwell_s >= f.min_dwell_s)
    if f.min_score is not None:
        where.append(TrackedObject.score >= f.min_score)
    if f.reviewed is not None:
        where.append(TrackedObject.reviewed.is_(f.reviewed))
    if f.zone is not None:
        where.append(_place("zone", f.zone))
    if f.line is not None:
        where.append(_place("line", f.line))
    return where


ObjectQuery = Select[TrackedObject, str | None]  # an object and its snapshot path


def _ordered(query: ObjectQuery, f: SearchFilters) -> ObjectQuery:
    first = TrackedObject.score if f.sort == "score" else TrackedObject.first_seen
    then = TrackedObject.first_seen if f.sort == "score" else TrackedObject.id
    if f.order == "desc":
        return query.order_by(first.desc(), then.desc(), TrackedObject.id.desc())
    return query.order_by(first.asc(), then.asc(), TrackedObject.id.asc())


def _with_snapshot() -> ObjectQuery:
    return select(TrackedObject, Event.snapshot_path).outerjoin(
        Event, Event.id == TrackedObject.event_id
    )


def to_out(row: TrackedObject, snapshot_path: str | None) -> ObjectOut:
    """The API view of a row (``snapshot_url`` only once the snapshot exists)."""
    out = ObjectOut.model_validate(row)
    if snapshot_path and row.event_id is not None:
        out.snapshot_url = f"/api/v1/events/{row.event_id}/snapshot"
    return out


async def search(
    session: AsyncSession, principal: Principal, f: SearchFilters, page: PageParams
) -> tuple[list[ObjectOut], int]:
    """A page of matching objects (newest or best first) and how many match."""
    where = conditions(principal, f)
    total = await session.scalar(select(func.count()).select_from(TrackedObject).where(*where))
    rows = await session.execute(
        _ordered(_with_snapshot().where(*where), f).limit(page.limit).offset(page.offset)
    )
    return [to_out(obj, path) for obj, path in rows], int(total or 0)


async def get_object(
    session: AsyncSession, principal: Principal, object_id: int, *, for_update: bool = False
) -> TrackedObject:
    """The object if ``principal`` sees its camera; 404 otherwise (no existence leak)."""
    query = select(TrackedObject).where(TrackedObject.id == object_id)
    if for_update:
        query = query.with_for_update()
    row: TrackedObject | None = await session.scalar(query)
    if row is None or not principal.may_see_camera(row.camera_id):
        raise NotFound("object not found")
    return row


async def object_detail(
    session: AsyncSession, principal: Principal, object_id: int
) -> ObjectDetail:
    """One object, its path and its events (matched on the payload's track id among the
    camera's ``object.*`` events of the track's time span)."""
    row = await get_object(session, principal, object_id)
    path = await session.scalar(select(Event.snapshot_path).where(Event.id == row.event_id))
    candidates = await session.scalars(
        select(Event).where(
            Event.camera_id == row.camera_id, Event.type.like("object.%"),
            Event.started_at >= row.first_seen, Event.started_at <= row.last_seen,
        ).order_by(Event.started_at, Event.id).limit(_OBJECT_EVENTS_MAX)
    )
    events = [
        ObjectEventOut(id=e.id, type=e.type, started_at=e.started_at, payload=e.payload,
                       has_snapshot=e.snapshot_path is not None)
        for e in candidates if (e.payload or {}).get("track_id") == row.track_id
    ]
    return ObjectDetail(
        **to_out(row, path).model_dump(), mean_score=row.mean_score, path=row.path,
        events=events,
    )


async def review(
    session: AsyncSession, principal: Principal, actor: Actor, object_id: int, reviewed: bool
) -> ObjectOut:
    """Mark one object reviewed (or not); audited ``object.review``."""
    row = await get_object(session, principal, object_id, for_update=True)
    _set_reviewed(row, principal, reviewed)
    await session.flush()
    await audit.record(session, actor, "object.review", "tracked_object", row.id,
                       {"camera_id": row.camera_id, "label": row.label, "reviewed": reviewed})
    path = await session.scalar(select(Event.snapshot_path).where(Event.id == row.event_id))
    return to_out(row, path)


def _set_reviewed(row: TrackedObject, principal: Principal, reviewed: bool) -> None:
    row.reviewed = reviewed
    row.reviewed_by = principal.user_id if reviewed else None
    row.reviewed_at = utcnow() if reviewed else None


async def review_many(
    session: AsyncSession, principal: Principal, actor: Actor, ids: list[int], reviewed: bool
) -> int:
    """Mark the given objects the caller sees; ids of other cameras or unknown ids are
    skipped. One ``object.review`` audit row names the objects that changed."""
    wanted = sorted(set(ids))
    where = and_(
        TrackedObject.id.in_(wanted), TrackedObject.reviewed.is_(not reviewed),
        visible_cameras(TrackedObject.camera_id, principal),
    )
    changed = list(await session.scalars(select(TrackedObject.id).where(where)))
    if not changed:
        return 0
    now = utcnow()
    await session.execute(
        update(TrackedObject)
        .where(TrackedObject.id.in_(changed))
        .values(reviewed=reviewed, reviewed_by=principal.user_id if reviewed else None,
                reviewed_at=now if reviewed else None)
        .execution_options(synchronize_session=False)
    )
    await audit.record(session, actor, "object.review", "tracked_object", None,
                       {"ids": changed, "reviewed": reviewed, "count": len(changed)})
    return len(changed)


async def review_summary(session: AsyncSession, principal: Principal) -> list[ReviewSummary]:
    """Per visible camera with unreviewed objects: how many, and the newest's time."""
    rows = await session.execute(
        select(TrackedObject.camera_id, func.count(), func.max(TrackedObject.first_seen))
        .where(visible_cameras(TrackedObject.camera_id, principal),
               TrackedObject.reviewed.is_(False))
        .group_by(TrackedObject.camera_id)
        .order_by(TrackedObject.camera_id)
    )
    return [ReviewSummary(camera_id=c, unreviewed=int(n), newest=t) for c, n, t in rows]
