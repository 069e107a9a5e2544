"""Camera grants of users and camera groups; every change audited and invalidates authz."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.errors import Conflict, NotFound, Unprocessable
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera
from argus_management.rbac.models import CameraGrant, CameraGroup, User, camera_group_members
from argus_management.rbac.permissions import ALL_CAMERAS_PERMISSION
from argus_management.rbac.principal import Actor
from argus_management.users.authz import authz_changed
from argus_management.users.schemas import GrantsIn, GrantsOut, GroupCreate, GroupOut, GroupUpdate


def _unique(ids: Iterable[int]) -> list[int]:
    return sorted(set(ids))


async def _require_existing(
    session: AsyncSession, model: type[Camera] | type[CameraGroup], ids: list[int], what: str
) -> None:
    """422 naming the ids that do not exist (a grant to nothing is a client mistake)."""
    if not ids:
        return
    found = set((await session.scalars(select(model.id).where(model.id.in_(ids)))).all())
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(str(i) for i in missing[:20])
        more = f" (+{len(missing) - 20} more)" if len(missing) > 20 else ""
        raise Unprocessable(f"unknown {what} id(s): {shown}{more}")


# ---- grants ---------------------------------------------------------------------------------


async def get_grants(session: AsyncSession, user: User) -> GrantsOut:
    """The user's direct camera grants, group grants, and the cameras they add up to."""
    rows = (
        await session.execute(
            select(CameraGrant.camera_id, CameraGrant.group_id).where(
                CameraGrant.user_id == user.id
            )
        )
    ).all()
    camera_ids = sorted(r.camera_id for r in rows if r.camera_id is not None)
    group_ids = sorted(r.group_id for r in rows if r.group_id is not None)
    effective = set(camera_ids)
    for members in (await _members(session, group_ids)).values():
        effective.update(members)
    permissions = {p.name for r in user.roles for p in r.permissions}
    return GrantsOut(
        user_id=user.id, camera_ids=camera_ids, group_ids=group_ids,
        effective_camera_ids=sorted(effective),
        sees_all_cameras=ALL_CAMERAS_PERMISSION in permissions,
    )


async def set_grants(
    session: AsyncSession, bus: RedisBus, actor: Actor, user: User, data: GrantsIn
) -> GrantsOut:
    """Replace the user's grants with exactly ``data`` (unknown camera or group id: 422)."""
    camera_ids, group_ids = _unique(data.camera_ids), _unique(data.group_ids)
    await _require_existing(session, Camera, camera_ids, "camera")
    await _require_existing(session, CameraGroup, group_ids, "group")
    before = await get_grants(session, user)
    await session.execute(delete(CameraGrant).where(CameraGrant.user_id == user.id))
    session.add_all(
        [CameraGrant(user_id=user.id, camera_id=c) for c in camera_ids]
        + [CameraGrant(user_id=user.id, group_id=g) for g in group_ids]
    )
    await session.flush()
    await audit.record(
        session, actor, "user.grants", "user", user.id,
        {
            "username": user.username,
            "camera_ids": {"from": before.camera_ids, "to": camera_ids},
            "group_ids": {"from": before.group_ids, "to": group_ids},
        },
    )
    authz_changed(session, bus, [user.id])
    return await get_grants(session, user)


# ---- groups ---------------------------------------------------------------------------------


async def _members(session: AsyncSession, group_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    if not group_ids:
        return out
    rows = await session.execute(
        select(camera_group_members.c.group_id, camera_group_members.c.camera_id)
        .where(camera_group_members.c.group_id.in_(group_ids))
        .order_by(camera_group_members.c.camera_id)
    )
    for group_id, camera_id in rows.all():
        out[group_id].append(camera_id)
    return out


async def group_out(session: AsyncSession, group: CameraGroup) -> GroupOut:
    members = await _members(session, [group.id])
    return GroupOut(id=group.id, name=group.name, camera_ids=members.get(group.id, []))


async def list_groups(
    session: AsyncSession, limit: int, offset: int
) -> tuple[list[GroupOut], int]:
    """A page of groups ordered by name, with their cameras, and the total count."""
    total = await session.scalar(select(func.count()).select_from(CameraGroup)) or 0
    groups = (
        await session.scalars(
            select(CameraGroup).order_by(CameraGroup.name, CameraGroup.id)
            .limit(limit).offset(offset)
        )
    ).all()
    members = await _members(session, [g.id for g in groups])
    items = [GroupOut(id=g.id, name=g.name, camera_ids=members.get(g.id, [])) for g in groups]
    return items, total


async def get_group(session: AsyncSession, group_id: int) -> CameraGroup:
    group = await session.get(CameraGroup, group_id)
    if group is None:
        raise NotFound("camera group not found")
    return group


async def _check_name(session: AsyncSession, name: str, exclude_id: int | None) -> None:
    query = select(CameraGroup.id).where(func.lower(CameraGroup.name) == name.lower())
    if exclude_id is not None:
        query = query.where(CameraGroup.id != exclude_id)
    if await session.scalar(query.limit(1)):
        raise Conflict("a camera group with this name already exists")


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("a camera group with this name already exists") from None


async def _replace_members(session: AsyncSession, group_id: int, camera_ids: list[int]) -> None:
    await session.execute(
        delete(camera_group_members).where(camera_group_members.c.group_id == group_id)
    )
    if camera_ids:
        await session.execute(
            insert(camera_group_members),
            [{"group_id": group_id, "camera_id": c} for c in camera_ids],
        )


async def create_group(
    session: AsyncSession, actor: Actor, data: GroupCreate
) -> GroupOut:
    """Create a group, optionally with its cameras (nobody is granted it yet: no authz bump)."""
    camera_ids = _unique(data.camera_ids)
    await _check_name(session, data.name, None)
    await _require_existing(session, Camera, camera_ids, "camera")
    group = CameraGroup(name=data.name)
    session.add(group)
    await _flush_unique(session)
    await _replace_members(session, group.id, camera_ids)
    await audit.record(
        session, actor, "group.create", "camera_group", group.id,
        {"name": group.name, "camera_ids": camera_ids},
    )
    return await group_out(session, group)


async def update_group(
    session: AsyncSession, actor: Actor, group: CameraGroup, data: GroupUpdate
) -> GroupOut:
    """Rename a group (membership is changed with :func:`set_members`)."""
    if data.name is not None and data.name != group.name:
        await _check_name(session, data.name, group.id)
        old = group.name
        group.name = data.name
        await _flush_unique(session)
        await audit.record(
            session, actor, "group.update", "camera_group", group.id,
            {"name": {"from": old, "to": group.name}},
        )
    return await group_out(session, group)


async def delete_group(
    session: AsyncSession, bus: RedisBus, actor: Actor, group: CameraGroup
) -> None:
    """Delete a group; grants through it go with it (foreign keys cascade)."""
    members = await _members(session, [group.id])
    await session.delete(group)
    await session.flush()
    await audit.record(
        session, actor, "group.delete", "camera_group", group.id,
        {"name": group.name, "camera_ids": members.get(group.id, [])},
    )
    authz_changed(session, bus)


async def set_members(
    session: AsyncSession, bus: RedisBus, actor: Actor, group: CameraGroup, camera_ids: list[int]
) -> GroupOut:
    """Replace the group's cameras with exactly ``camera_ids`` (unknown camera id: 422)."""
    wanted = _unique(camera_ids)
    await _require_existing(session, Camera, wanted, "camera")
    before = (await _members(session, [group.id])).get(group.id, [])
    await _replace_members(session, group.id, wanted)
    await session.flush()
    await audit.record(
        session, actor, "group.members", "camera_group", group.id,
        {"name": group.name, "camera_ids": {"from": before, "to": wanted}},
    )
    authz_changed(session, bus)
    return await group_out(session, group)
