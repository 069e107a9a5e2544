"""Walls and monitors: CRUD, display credentials and pushes. Every change is audited in
its transaction; a push that takes cameras off a monitor announces ``argus:authz`` after
the commit, so streaming ends that monitor's video of them (``internal/access_router``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.errors import BadRequest, Conflict, NotFound, Unprocessable
from argus_common.events import CHANNEL_ALERTS
from argus_management.audit.service import record
from argus_management.cameras.models import Camera
from argus_management.db import after_commit
from argus_management.layouts import service as layouts
from argus_management.layouts.schemas import TourOut
from argus_management.rbac.principal import Actor, Principal
from argus_management.rbac.tokens import announce
from argus_management.walls.models import VideoWall, WallMonitor
from argus_management.walls.schemas import (
    MAX_MONITORS,
    ContentSource,
    MonitorContent,
    MonitorCreate,
    MonitorOut,
    MonitorUpdate,
    PushIn,
    WallOut,
)

# A monitor polls its state every few seconds; it is online while it did so recently.
ONLINE_S = 15.0
SEEN_WRITE_S = 5.0  # last_seen is written at most this often per monitor

log = structlog.get_logger("argus.walls")


def now() -> datetime:
    return datetime.now(UTC)


def display_path(monitor: WallMonitor) -> str:
    return f"/wall/{monitor.wall_id}/{monitor.id}"


def _kinds(monitor: WallMonitor) -> list[str]:
    return [k for k in monitor.alarm_kinds.split(",") if k]


def content_of(monitor: WallMonitor) -> MonitorContent:
    return MonitorContent.model_validate(monitor.content) if monitor.content else MonitorContent()


def _masked(content: MonitorContent, principal: Principal) -> MonitorContent:
    """The content as ``principal`` may see it (cameras it may not see are left out)."""
    if principal.sees_all_cameras:
        return content
    see = principal.may_see_camera
    return content.model_copy(
        update={
            "cells": [c if c is not None and see(c) else None for c in content.cells],
            "tours": [
                t.model_copy(update={"cameras": [c for c in t.cameras if see(c)]})
                for t in content.tours
                if any(see(c) for c in t.cameras)
            ],
        }
    )


def monitor_out(monitor: WallMonitor, principal: Principal) -> MonitorOut:
    seen = monitor.last_seen
    return MonitorOut(
        id=monitor.id,
        wall_id=monitor.wall_id,
        name=monitor.name,
        position=monitor.position,
        alarm_kinds=_kinds(monitor),
        has_credential=monitor.key_hash is not None,
        credential_created_at=monitor.key_created_at,
        content=_masked(content_of(monitor), principal),
        pushed_by=monitor.pushed_by,
        pushed_at=monitor.pushed_at,
        last_seen=seen,
        online=seen is not None and now() - seen < timedelta(seconds=ONLINE_S),
        display_path=display_path(monitor),
    )


def wall_out(wall: VideoWall, monitors: list[WallMonitor], principal: Principal) -> WallOut:
    return WallOut(
        id=wall.id,
        name=wall.name,
        created_at=wall.created_at,
        updated_at=wall.updated_at,
        monitors=[monitor_out(m, principal) for m in monitors],
    )


async def monitors_of(session: AsyncSession, wall_ids: list[int]) -> dict[int, list[WallMonitor]]:
    out: dict[int, list[WallMonitor]] = {w: [] for w in wall_ids}
    if wall_ids:
        rows = await session.scalars(
            select(WallMonitor)
            .where(WallMonitor.wall_id.in_(wall_ids))
            .order_by(WallMonitor.position, WallMonitor.id)
        )
        for m in rows:
            out[m.wall_id].append(m)
    return out


async def list_walls(session: AsyncSession, principal: Principal) -> list[WallOut]:
    walls = list(await session.scalars(select(VideoWall).order_by(VideoWall.name)))
    monitors = await monitors_of(session, [w.id for w in walls])
    return [wall_out(w, monitors[w.id], principal) for w in walls]


async def describe(session: AsyncSession, wall: VideoWall, principal: Principal) -> WallOut:
    return wall_out(wall, (await monitors_of(session, [wall.id]))[wall.id], principal)


async def get_wall(session: AsyncSession, wall_id: int) -> VideoWall:
    wall = await session.get(VideoWall, wall_id)
    if wall is None:
        raise NotFound("wall not found")
    return wall


async def get_monitor(
    session: AsyncSession, wall_id: int, monitor_id: int, *, for_update: bool = False
) -> WallMonitor:
    stmt = select(WallMonitor).where(WallMonitor.id == monitor_id, WallMonitor.wall_id == wall_id)
    if for_update:
        stmt = stmt.with_for_update()
    monitor: WallMonitor | None = await session.scalar(stmt)
    if monitor is None:
        raise NotFound("monitor not found")
    return monitor


async def _unique_wall_name(session: AsyncSession, name: str, wall_id: int | None) -> None:
    other = await session.scalar(select(VideoWall.id).where(VideoWall.name == name))
    if other is not None and other != wall_id:
        raise Conflict("a wall with this name exists")


async def create_wall(session: AsyncSession, name: str, actor: Actor) -> VideoWall:
    await _unique_wall_name(session, name, None)
    wall = VideoWall(name=name)
    session.add(wall)
    await session.flush()
    await record(session, actor, "wall.create", "wall", wall.id, {"name": name})
    return wall


async def rename_wall(
    session: AsyncSession, wall: VideoWall, name: str | None, actor: Actor
) -> VideoWall:
    if name is not None and name != wall.name:
        await _unique_wall_name(session, name, wall.id)
        wall.name = name
        await session.flush()
        await record(session, actor, "wall.update", "wall", wall.id, {"name": name})
    return wall


async def delete_wall(session: AsyncSession, bus: RedisBus, wall: VideoWall, actor: Actor) -> None:
    await session.delete(wall)
    await session.flush()
    await record(session, actor, "wall.delete", "wall", wall.id, {"name": wall.name})
    announce_after_commit(session, bus)


async def _unique_monitor_name(
    session: AsyncSession, wall_id: int, name: str, monitor_id: int | None
) -> None:
    other = await session.scalar(
        select(WallMonitor.id).where(WallMonitor.wall_id == wall_id, WallMonitor.name == name)
    )
    if other is not None and other != monitor_id:
        raise Conflict("this wall has a monitor with this name")


async def create_monitor(
    session: AsyncSession, wall: VideoWall, data: MonitorCreate, actor: Actor
) -> WallMonitor:
    count = await session.scalar(
        select(func.count()).select_from(WallMonitor).where(WallMonitor.wall_id == wall.id)
    )
    if (count or 0) >= MAX_MONITORS:
        raise BadRequest(f"a wall has at most {MAX_MONITORS} monitors")
    await _unique_monitor_name(session, wall.id, data.name, None)
    monitor = WallMonitor(
        wall_id=wall.id,
        name=data.name,
        position=data.position,
        alarm_kinds=",".join(dict.fromkeys(data.alarm_kinds)),
        content=MonitorContent().model_dump(),
        camera_ids=[],
    )
    session.add(monitor)
    await session.flush()
    await record(
        session,
        actor,
        "wall.monitor_create",
        "wall_monitor",
        monitor.id,
        {"wall_id": wall.id, "name": data.name, "alarm_kinds": data.alarm_kinds},
    )
    return monitor


async def update_monitor(
    session: AsyncSession, bus: RedisBus, monitor: WallMonitor, data: MonitorUpdate,
    actor: Actor,
) -> WallMonitor:
    changes: dict[str, Any] = data.model_dump(exclude_none=True)
    if data.name is not None:
        await _unique_monitor_name(session, monitor.wall_id, data.name, monitor.id)
        monitor.name = data.name
    if data.position is not None:
        monitor.position = data.position
    if data.alarm_kinds is not None:
        monitor.alarm_kinds = ",".join(dict.fromkeys(data.alarm_kinds))
    if changes:
        await session.flush()
        await record(session, actor, "wall.monitor_update", "wall_monitor", monitor.id, changes)
        # The overview and the monitor's own page show its name and alarm kinds.
        changed_after_commit(session, bus, monitor.wall_id, monitor.id)
    return monitor


async def delete_monitor(
    session: AsyncSession, bus: RedisBus, monitor: WallMonitor, actor: Actor
) -> None:
    await session.delete(monitor)
    await session.flush()
    await record(
        session,
        actor,
        "wall.monitor_delete",
        "wall_monitor",
        monitor.id,
        {"wall_id": monitor.wall_id, "name": monitor.name},
    )
    announce_after_commit(session, bus)
    changed_after_commit(session, bus, monitor.wall_id, monitor.id)  # ends its display socket


class WallChanged(BaseModel):
    """``/ws/alerts`` frame ``wall.changed``: a monitor's content changed, re-read the
    overview. No camera in it: the hub hands it to every ``walls:view`` holder (the
    overview they then read shows them only what they may see)."""

    type: str = "wall.changed"
    wall_id: int
    monitor_id: int
    camera_id: None = None
    permission: str = "walls:view"


def changed_after_commit(
    session: AsyncSession, bus: RedisBus, wall_id: int, monitor_id: int
) -> None:
    """Tell the operators' consoles (best effort: they also poll)."""

    async def publish() -> None:
        try:
            await bus.publish(CHANNEL_ALERTS, WallChanged(wall_id=wall_id, monitor_id=monitor_id))
        except Exception as exc:
            log.debug("wall_changed_not_published", error=type(exc).__name__)

    after_commit(session, publish)


def announce_after_commit(session: AsyncSession, bus: RedisBus) -> None:
    """Streaming re-checks its sessions (a display's cameras or credential changed)."""

    async def publish() -> None:
        await announce(bus, "grants", None)

    after_commit(session, publish)


async def _visible_cameras(
    session: AsyncSession, principal: Principal, ids: list[int]
) -> dict[int, str]:
    wanted = [i for i in ids if principal.may_see_camera(i)]
    if not wanted:
        return {}
    rows = await session.execute(select(Camera.id, Camera.name).where(Camera.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows.all()}


async def content_for_push(
    session: AsyncSession, principal: Principal, body: PushIn
) -> MonitorContent:
    """The content a push puts on a monitor, with the pusher's own visibility (422 for a
    camera the pusher may not see)."""
    if body.kind == "clear":
        return MonitorContent()
    if body.kind == "layout":
        assert body.layout_id is not None
        layout = await layouts.get_layout(session, principal, body.layout_id)
        out = await layouts.layout_out(session, principal, layout)
        return MonitorContent(
            grid=out.grid,
            cells=out.cells,
            tours=out.tours,
            source=ContentSource(kind="layout", id=out.id, name=out.name),
        )
    ids = [body.camera_id] if body.camera_id is not None else list(body.cameras or [])
    names = await _visible_cameras(session, principal, ids)
    missing = [i for i in ids if i not in names]
    if missing:
        raise Unprocessable(f"unknown camera id(s): {missing[:20]}")
    if body.kind == "camera":
        assert body.camera_id is not None
        return MonitorContent(
            cells=[body.camera_id],
            source=ContentSource(kind="camera", id=body.camera_id, name=names[body.camera_id]),
        )
    return MonitorContent(
        cells=[ids[0]],
        tours=[TourOut(cell=0, cameras=ids, dwell_s=body.dwell_s)],
        source=ContentSource(kind="tour", name=f"{len(ids)} cameras"),
    )


def cameras_in(content: MonitorContent) -> list[int]:
    ids = [c for c in content.cells if c is not None]
    ids += [c for t in content.tours for c in t.cameras]
    return sorted(set(ids))


async def put_content(
    session: AsyncSession,
    bus: RedisBus,
    monitor: WallMonitor,
    content: MonitorContent,
    actor: Actor,
    action: str,
) -> WallMonitor:
    """Show ``content`` on ``monitor`` (audited as ``action``)."""
    before = set(monitor.camera_ids or [])
    monitor.content = content.model_dump(mode="json")
    monitor.camera_ids = cameras_in(content)
    monitor.pushed_by = actor.username
    monitor.pushed_at = now()
    await session.flush()
    await record(
        session,
        actor,
        action,
        "wall_monitor",
        monitor.id,
        {
            "wall_id": monitor.wall_id,
            "kind": content.source.kind,
            "id": content.source.id,
            "cameras": monitor.camera_ids,
        },
    )
    if before - set(monitor.camera_ids):
        announce_after_commit(session, bus)
    changed_after_commit(session, bus, monitor.wall_id, monitor.id)
    return monitor


async def push(
    session: AsyncSession,
    bus: RedisBus,
    principal: Principal,
    actor: Actor,
    monitor: WallMonitor,
    body: PushIn,
) -> WallMonitor:
    content = await content_for_push(session, principal, body)
    return await put_content(session, bus, monitor, content, actor, "wall.push")
