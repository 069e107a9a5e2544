"""Export jobs: creating (checked and audited), reading, deleting, and expiring them.

The work itself is done by ``runner.py``; this module never touches media.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import Conflict, NotFound, Unprocessable
from argus_common.events import utcnow
from argus_management.audit import service as audit
from argus_management.audit.models import AuditEntry
from argus_management.cameras.models import Camera, DeletedCamera
from argus_management.config import Settings
from argus_management.db import after_commit
from argus_management.events.models import Event
from argus_management.exports.models import Export
from argus_management.exports.schemas import (
    ExportCreate,
    ExportFileOut,
    ExportItemOut,
    ExportOut,
)
from argus_management.holds.service import camera_visible, export_visible, held_export_ids
from argus_management.rbac.principal import Actor, Principal
from argus_management.recordings.ranges import resolve_event_ends

log = structlog.get_logger("argus.exports")

# Who removes expired exports.
RETENTION = Actor(user_id=None, username="export-retention", ip=None, user_agent=None)
_MAX_AUDIT_ROWS = 10_000


def exports_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "exports"


def bundle_path(settings: Settings, export: Export) -> Path:
    return exports_dir(settings) / f"export-{export.id}.zip"


def export_out(export: Export, held: bool) -> ExportOut:
    return ExportOut(
        id=export.id, name=export.name, reason=export.reason,
        state=export.state,
        progress=export.progress, bytes_done=export.bytes_done,
        bytes_total=export.bytes_total, error=export.error,
        items=[ExportItemOut.model_validate(i) for i in export.items],
        range_start=export.range_start, range_end=export.range_end,
        created_by=export.created_by, created_by_name=export.created_by_name,
        created_at=export.created_at, started_at=export.started_at,
        finished_at=export.finished_at, file_bytes=export.file_bytes,
        manifest_sha256=export.manifest_sha256,
        files=[ExportFileOut.model_validate(f) for f in export.files or []],
        expires_at=export.expires_at, held=held,
    )


async def _items_for_events(
    session: AsyncSession, principal: Principal, body: ExportCreate
) -> list[dict[str, Any]]:
    assert body.events is not None
    ids = sorted(set(body.events))
    events = list(await session.scalars(select(Event).where(Event.id.in_(ids))))
    found = {e.id: e for e in events}
    for event_id in ids:
        event = found.get(event_id)
        if event is None or not principal.may_see_camera(event.camera_id):
            raise NotFound(f"event {event_id} not found")
        if event.camera_id is None:
            raise Unprocessable(f"event {event_id} belongs to no camera")
    ends = await resolve_event_ends(session, events)
    before, after = timedelta(seconds=body.pre_s), timedelta(seconds=body.post_s)
    items = []
    for event_id in ids:
        event = found[event_id]
        end = max(ends.get(event_id) or event.started_at, event.started_at)
        items.append({"camera_id": event.camera_id, "event_id": event_id,
                      "start": event.started_at - before, "end": end + after})
    return items


async def create_export(
    session: AsyncSession, settings: Settings, principal: Principal, actor: Actor,
    body: ExportCreate,
) -> Export:
    """Queue an export job (audited ``export.create``); 404 for a camera or event the
    caller cannot see, 422 for a range longer than ``MANAGEMENT_EXPORT_MAX_RANGE_S``."""
    if body.events is not None:
        items = await _items_for_events(session, principal, body)
    else:
        assert body.cameras and body.start and body.end
        items = []
        for camera_id in dict.fromkeys(body.cameras):
            if not await camera_visible(session, principal, camera_id):
                raise NotFound(f"camera {camera_id} not found")
            items.append({"camera_id": camera_id, "start": body.start, "end": body.end})
    limit = timedelta(seconds=settings.export_max_range_s)
    for item in items:
        if item["end"] - item["start"] > limit:
            raise Unprocessable(
                f"a range may span at most {settings.export_max_range_s} s "
                "(MANAGEMENT_EXPORT_MAX_RANGE_S)"
            )
    export = Export(
        name=body.name, reason=body.reason,
        items=[{**i, "start": i["start"].isoformat(), "end": i["end"].isoformat()}
               for i in items],
        range_start=min(i["start"] for i in items), range_end=max(i["end"] for i in items),
        state="queued", progress=0.0, bytes_done=0, bytes_total=0, attempts=0,
        created_by=principal.user_id, created_by_name=principal.username,
        created_ip=actor.ip, created_at=utcnow(), file_bytes=0, files=[],
    )
    session.add(export)
    await session.flush()
    await audit.record(session, actor, "export.create", "export", export.id, {
        "name": export.name, "reason": export.reason,
        "camera_ids": sorted({int(i["camera_id"]) for i in items}),
        "event_ids": [i["event_id"] for i in items if "event_id" in i] or None,
        "start": export.range_start.isoformat(), "end": export.range_end.isoformat(),
    })
    return export


async def visible_export(session: AsyncSession, principal: Principal, export_id: int) -> Export:
    export = await session.get(Export, export_id)
    if export is None or not export_visible(principal, export.created_by):
        raise NotFound("export not found")
    return export


async def list_exports(
    session: AsyncSession, principal: Principal, limit: int, offset: int,
    state: str | None = None,
) -> tuple[list[ExportOut], int]:
    """Exports the caller may see (their own; every export for user managers)."""
    conds: list[Any] = []
    if not export_visible(principal, None) or principal.user_id is None:
        conds.append(Export.created_by == principal.user_id)
    if state is not None:
        conds.append(Export.state == state)
    total = await session.scalar(select(func.count()).select_from(Export).where(*conds)) or 0
    rows = list(await session.scalars(
        select(Export).where(*conds).order_by(Export.id.desc()).limit(limit).offset(offset)
    ))
    held = await held_export_ids(session, [e.id for e in rows])
    return [export_out(e, e.id in held) for e in rows], total


async def delete_export(
    session: AsyncSession, settings: Settings, actor: Actor, export: Export
) -> None:
    """Delete an export and its bundle (audited ``export.delete``); 409 while held."""
    if await held_export_ids(session, [export.id]):
        raise Conflict("the export is on legal hold: release the hold first")
    await audit.record(session, actor, "export.delete", "export", export.id, {
        "name": export.name, "state": export.state,
        "manifest_sha256": export.manifest_sha256,
    })
    await session.delete(export)
    await session.flush()
    path = bundle_path(settings, export)

    async def remove_file() -> None:
        # A running job notices its row is gone at its next heartbeat and stops.
        path.unlink(missing_ok=True)

    after_commit(session, remove_file)


async def audit_rows(session: AsyncSession, export: Export) -> list[dict[str, Any]]:
    """The audit rows a bundle carries: the export's own (its creation), and those about
    its cameras (configuration, access) during its time range, with their chain hashes."""
    cameras = sorted({str(i["camera_id"]) for i in export.items})
    events = sorted({str(i["event_id"]) for i in export.items if i.get("event_id")})
    conds = [
        and_(AuditEntry.target_type == "export", AuditEntry.target_id == str(export.id)),
        and_(AuditEntry.target_type == "camera", AuditEntry.target_id.in_(cameras),
             AuditEntry.ts >= export.range_start, AuditEntry.ts <= export.range_end),
    ]
    if events:
        conds.append(and_(AuditEntry.target_type == "event", AuditEntry.target_id.in_(events)))
    rows = await session.scalars(
        select(AuditEntry).where(or_(*conds)).order_by(AuditEntry.id).limit(_MAX_AUDIT_ROWS)
    )
    return [
        {"id": r.id, "ts": r.ts.isoformat(), "user_id": r.user_id, "username": r.username,
         "ip": r.ip, "action": r.action, "target_type": r.target_type,
         "target_id": r.target_id, "summary": r.summary, "result": r.result,
         "prev_hash": r.prev_hash, "row_hash": r.row_hash}
        for r in rows
    ]


async def camera_names(session: AsyncSession, camera_ids: list[int]) -> dict[int, str]:
    names = {cid: name for cid, name in await session.execute(
        select(DeletedCamera.id, DeletedCamera.name).where(DeletedCamera.id.in_(camera_ids)))}
    names.update({cid: name for cid, name in await session.execute(
        select(Camera.id, Camera.name).where(Camera.id.in_(camera_ids)))})
    return names


async def expire_exports(
    session: AsyncSession, settings: Settings, now: datetime
) -> list[Path]:
    """Remove the rows of finished exports past ``expires_at`` that no hold keeps; returns
    their bundle files, for the caller to delete once this has committed."""
    rows = list(await session.scalars(
        select(Export).where(Export.expires_at.is_not(None), Export.expires_at < now,
                             Export.state.in_(("done", "failed"))).limit(500)
    ))
    held = await held_export_ids(session, [e.id for e in rows])
    removed: list[Path] = []
    for export in rows:
        if export.id in held:
            continue
        await audit.record(session, RETENTION, "export.expire", "export", export.id, {
            "name": export.name, "manifest_sha256": export.manifest_sha256,
            "retention_days": settings.export_retention_days,
        })
        await session.delete(export)
        removed.append(bundle_path(settings, export))
    await session.flush()
    return removed
