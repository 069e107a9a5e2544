"""Placing, releasing and reading legal holds.

What holds protect is read by their users: retention and the disk guard
(``recordings/held.py``: a segment overlapping a held range or a held event's range is
never handed to the recorder for deletion) and export retention (``exports/``, which
skips held exports). This domain imports neither: exports are named through a Core table
(id and creator), so the import graph stays one-way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Integer, column, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import Conflict, NotFound
from argus_common.events import utcnow
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera, DeletedCamera
from argus_management.events.models import Event
from argus_management.holds.models import Hold
from argus_management.holds.schemas import HoldCreate, HoldOut
from argus_management.rbac.principal import Actor, Principal

# Who sees every export (not only their own).
ALL_EXPORTS_PERMISSION = "users:manage"
# The columns of ``exports`` (exports/models.py) a hold needs.
EXPORTS = table("exports", column("id", Integer), column("created_by", Integer))


def hold_out(hold: Hold) -> HoldOut:
    return HoldOut(
        id=hold.id, kind=hold.kind,
        camera_id=hold.camera_id, event_id=hold.event_id, export_id=hold.export_id,
        start=hold.range_start, end=hold.range_end, reason=hold.reason,
        created_by=hold.created_by, created_by_name=hold.created_by_name,
        created_at=hold.created_at, released_at=hold.released_at,
        released_by_name=hold.released_by_name, release_reason=hold.release_reason,
        active=hold.released_at is None,
    )


async def camera_visible(session: AsyncSession, principal: Principal, camera_id: int) -> bool:
    """The camera exists (or was deleted, for those who see every camera) and is granted."""
    if await session.get(Camera, camera_id) is not None:
        return principal.may_see_camera(camera_id)
    return principal.sees_all_cameras and await session.get(DeletedCamera, camera_id) is not None


def export_visible(principal: Principal, created_by: int | None) -> bool:
    """Exports are seen by their creator and by user managers."""
    return created_by == principal.user_id or principal.has(ALL_EXPORTS_PERMISSION)


async def _export_creator(session: AsyncSession, export_id: int) -> tuple[bool, int | None]:
    """Whether the export exists, and who created it."""
    row: Any = (await session.execute(
        select(EXPORTS.c.created_by).where(EXPORTS.c.id == export_id)
    )).first()
    return (row is not None, row[0] if row is not None else None)


async def create_hold(
    session: AsyncSession, principal: Principal, actor: Actor, body: HoldCreate
) -> Hold:
    """Place a hold (audited ``hold.create``); 404 for what the caller cannot see."""
    hold = Hold(kind=body.kind, reason=body.reason, created_by=principal.user_id,
                created_by_name=principal.username, created_at=utcnow())
    if body.kind == "event":
        assert body.event_id is not None
        event = await session.get(Event, body.event_id)
        if event is None or event.camera_id is None or not principal.may_see_camera(
            event.camera_id
        ):
            raise NotFound("event not found")
        hold.event_id, hold.camera_id = event.id, event.camera_id
    elif body.kind == "range":
        assert body.camera_id is not None
        if not await camera_visible(session, principal, body.camera_id):
            raise NotFound("camera not found")
        hold.camera_id, hold.range_start, hold.range_end = body.camera_id, body.start, body.end
    else:
        assert body.export_id is not None
        exists, creator = await _export_creator(session, body.export_id)
        if not exists or not export_visible(principal, creator):
            raise NotFound("export not found")
        hold.export_id = body.export_id
    session.add(hold)
    await session.flush()
    await audit.record(session, actor, "hold.create", "hold", hold.id, {
        "kind": hold.kind, "camera_id": hold.camera_id, "event_id": hold.event_id,
        "export_id": hold.export_id, "reason": hold.reason,
        "start": hold.range_start.isoformat() if hold.range_start else None,
        "end": hold.range_end.isoformat() if hold.range_end else None,
    })
    return hold


async def visible_hold(session: AsyncSession, principal: Principal, hold_id: int) -> Hold:
    hold = await session.get(Hold, hold_id)
    if hold is None or (
        hold.camera_id is not None and not principal.may_see_camera(hold.camera_id)
    ):
        raise NotFound("hold not found")
    if hold.export_id is not None:
        exists, creator = await _export_creator(session, hold.export_id)
        if exists and not export_visible(principal, creator):
            raise NotFound("hold not found")
    return hold


async def release_hold(
    session: AsyncSession, principal: Principal, actor: Actor, hold_id: int, reason: str
) -> Hold:
    """Release a hold (audited ``hold.release``); 409 when already released."""
    hold = await visible_hold(session, principal, hold_id)
    if hold.released_at is not None:
        raise Conflict("the hold is already released")
    hold.released_at = utcnow()
    hold.released_by_name = principal.username
    hold.release_reason = reason
    await session.flush()
    await audit.record(session, actor, "hold.release", "hold", hold.id, {
        "kind": hold.kind, "camera_id": hold.camera_id, "event_id": hold.event_id,
        "export_id": hold.export_id, "reason": reason,
    })
    return hold


async def list_holds(
    session: AsyncSession, principal: Principal, *, active: bool | None, kind: str | None,
    camera_id: int | None, event_id: int | None, export_id: int | None, limit: int,
    offset: int,
) -> tuple[list[Hold], int]:
    """Holds the caller may see, newest first."""
    conds: list[Any] = []
    if active is not None:
        conds.append(Hold.released_at.is_(None) if active else Hold.released_at.is_not(None))
    if kind is not None:
        conds.append(Hold.kind == kind)
    if camera_id is not None:
        conds.append(Hold.camera_id == camera_id)
    if event_id is not None:
        conds.append(Hold.event_id == event_id)
    if export_id is not None:
        conds.append(Hold.export_id == export_id)
    if not principal.sees_all_cameras:
        conds.append(Hold.camera_id.is_(None) | Hold.camera_id.in_(sorted(principal.camera_ids)))
    if not principal.has(ALL_EXPORTS_PERMISSION):
        mine = select(EXPORTS.c.id).where(EXPORTS.c.created_by == principal.user_id)
        conds.append(Hold.export_id.is_(None) | Hold.export_id.in_(mine))
    total = await session.scalar(select(func.count()).select_from(Hold).where(*conds)) or 0
    rows = await session.scalars(
        select(Hold).where(*conds).order_by(Hold.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


async def held_export_ids(session: AsyncSession, export_ids: Iterable[int]) -> set[int]:
    """Which of ``export_ids`` are under an active hold."""
    ids = sorted(set(export_ids))
    if not ids:
        return set()
    rows = await session.scalars(
        select(Hold.export_id).where(Hold.released_at.is_(None), Hold.export_id.in_(ids))
    )
    return {int(i) for i in rows if i is not None}
