"""User accounts and roles: list, create, change, disable or delete; every change audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.errors import Conflict, NotFound, Unprocessable
from argus_management.alerts.models import Alert
from argus_management.audit import service as audit
from argus_management.audit.models import AuditEntry
from argus_management.cameras.models import Camera
from argus_management.layouts.models import Layout
from argus_management.rbac.models import Permission, Role, User, role_permissions, user_roles
from argus_management.rbac.principal import Actor
from argus_management.users.authz import authz_changed
from argus_management.users.passwords import PasswordHasher
from argus_management.users.schemas import RoleOut, UserCreate, UserOut, UserUpdate
from argus_management.users.sessions import EndSessions, EndSessionsHook

# Holding this permission makes a user an administrator for the last-admin rule: the code
# checks permissions, not role names, so a renamed or custom admin role still counts.
ADMIN_PERMISSION = "users:manage"


def to_out(user: User) -> UserOut:
    """The administrators' view of a user (never the password hash)."""
    return UserOut(
        id=user.id, username=user.username, email=user.email, is_active=user.is_active,
        roles=user.role_names, created_at=user.created_at, updated_at=user.updated_at,
        password_changed_at=user.password_changed_at, last_login_at=user.last_login_at,
    )


def role_out(role: Role) -> RoleOut:
    return RoleOut(
        id=role.id, name=role.name, description=role.description,
        ptz_priority=role.ptz_priority, permissions=sorted(p.name for p in role.permissions),
    )


async def list_users(session: AsyncSession, limit: int, offset: int) -> tuple[Sequence[User], int]:
    """A page of users ordered by id, and the total count."""
    total = await session.scalar(select(func.count()).select_from(User)) or 0
    rows = await session.scalars(select(User).order_by(User.id).limit(limit).offset(offset))
    return rows.all(), total


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def list_roles(session: AsyncSession) -> Sequence[Role]:
    return (await session.scalars(select(Role).order_by(Role.id))).all()


async def _roles_named(session: AsyncSession, names: list[str]) -> list[Role]:
    wanted = sorted(set(names))
    if not wanted:
        return []
    roles = (await session.scalars(select(Role).where(Role.name.in_(wanted)))).all()
    unknown = set(wanted) - {r.name for r in roles}
    if unknown:
        raise Unprocessable(f"unknown role(s): {', '.join(sorted(unknown))}")
    return sorted(roles, key=lambda r: r.name)


async def _check_unique(
    session: AsyncSession, *, username: str | None, email: str | None, exclude_id: int | None
) -> None:
    """409 when the name or address is taken (case-insensitively: ``Bob`` and ``bob`` would be
    indistinguishable to people). The unique constraints still catch a concurrent insert."""
    others = select(User.id)
    if exclude_id is not None:
        others = others.where(User.id != exclude_id)
    if username is not None and await session.scalar(
        others.where(func.lower(User.username) == username.lower()).limit(1)
    ):
        raise Conflict("username already exists")
    if email is not None and await session.scalar(
        others.where(func.lower(User.email) == email.lower()).limit(1)
    ):
        raise Conflict("email already in use")


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("username or email already exists") from None


def _is_admin(roles: Sequence[Role]) -> bool:
    return any(p.name == ADMIN_PERMISSION for r in roles for p in r.permissions)


async def _ensure_another_admin(session: AsyncSession, user: User) -> None:
    """409 unless an active administrator other than ``user`` remains.

    Every active admin's row is locked, in id order (PostgreSQL; SQLite serializes writers
    anyway), so two admins demoting each other at once cannot both succeed: the second
    waits, then sees the first change and is refused.
    """
    admins = (
        select(User.id)
        .join(user_roles, user_roles.c.user_id == User.id)
        .join(role_permissions, role_permissions.c.role_id == user_roles.c.role_id)
        .join(Permission, Permission.id == role_permissions.c.permission_id)
        .where(Permission.name == ADMIN_PERMISSION, User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update(of=User)
    )
    if not any(i != user.id for i in (await session.scalars(admins)).all()):
        raise Conflict("cannot remove the last active administrator")


async def create_user(
    session: AsyncSession, bus: RedisBus, hasher: PasswordHasher, actor: Actor, data: UserCreate
) -> User:
    """Create an account with the given roles (unknown role: 422; taken name/email: 409)."""
    roles = await _roles_named(session, data.roles)
    await _check_unique(session, username=data.username, email=data.email, exclude_id=None)
    user = User(
        username=data.username, email=data.email,
        password_hash=await hasher.hash(data.password), is_active=True,
    )
    user.roles = roles
    session.add(user)
    await _flush_unique(session)
    await session.refresh(user)
    await audit.record(
        session, actor, "user.create", "user", user.id,
        {"username": user.username, "email": user.email, "roles": user.role_names},
    )
    authz_changed(session, bus)
    return user


def _permissions(roles: Sequence[Role]) -> set[str]:
    return {p.name for r in roles for p in r.permissions}


async def _end_sessions(
    session: AsyncSession, end_sessions: EndSessionsHook, user: User, reasons: list[str]
) -> int | None:
    """End the user's open sessions when ``reasons`` says so; returns how many refresh
    tokens were revoked (None when nothing called for it)."""
    if not reasons:
        return None
    event = EndSessions(session, user.id, ",".join(reasons))
    await end_sessions.fire(event)
    return event.revoked


async def update_user(
    session: AsyncSession, bus: RedisBus, hasher: PasswordHasher, actor: Actor, user: User,
    data: UserUpdate, end_sessions: EndSessionsHook,
) -> User:
    """Apply a partial update; refuses to disable oneself or demote the last admin (409).

    A new password, disabling, or a role change that takes a permission away ends the
    user's open sessions (refresh families and their access tokens): whoever held them
    must log in again under the new terms.
    """
    sent = data.model_fields_set
    changes: dict[str, Any] = {}
    authz = False
    ends: list[str] = []
    new_roles = list(user.roles)
    if "roles" in sent and data.roles is not None:
        new_roles = await _roles_named(session, data.roles)
    new_active = user.is_active if data.is_active is None else data.is_active
    if user.is_active and not new_active and user.id == actor.user_id:
        raise Conflict("you cannot disable your own account")
    if user.is_active and _is_admin(user.roles) and not (new_active and _is_admin(new_roles)):
        await _ensure_another_admin(session, user)

    if "email" in sent and data.email != user.email:
        await _check_unique(session, username=None, email=data.email, exclude_id=user.id)
        changes["email"] = {"from": user.email, "to": data.email}
        user.email = data.email
    if "roles" in sent and {r.id for r in new_roles} != {r.id for r in user.roles}:
        changes["roles"] = {"from": user.role_names, "to": sorted(r.name for r in new_roles)}
        if _permissions(user.roles) - _permissions(new_roles):
            ends.append("permissions_removed")
        user.roles = new_roles
        authz = True
    if new_active != user.is_active:
        changes["is_active"] = {"from": user.is_active, "to": new_active}
        if not new_active:
            ends.append("disabled")
        user.is_active = new_active
        authz = True
    if "password" in sent and data.password is not None:
        user.password_hash = await hasher.hash(data.password)
        user.password_changed_at = datetime.now(UTC)
        changes["password"] = True  # recorded as "[changed]" by the audit service
        ends.append("password_reset")
    if not changes:
        return user
    await _flush_unique(session)
    revoked = await _end_sessions(session, end_sessions, user, ends)
    if revoked is not None:
        changes["sessions_ended"] = {"reason": ",".join(ends), "refresh_tokens_revoked": revoked}
    await session.refresh(user)
    # Disabling is its own action so the trail can be filtered for it.
    action = "user.disable" if changes.get("is_active", {}).get("to") is False else "user.update"
    await audit.record(
        session, actor, action, "user", user.id, {"username": user.username, **changes}
    )
    if authz:
        authz_changed(session, bus)
    return user


async def has_history(session: AsyncSession, user_id: int) -> bool:
    """Whether deleting the user would erase or orphan part of the record: something they
    did (audit trail, acknowledged alerts, logins) or own (layouts, cameras)."""
    checks = (
        exists().where(AuditEntry.user_id == user_id),
        exists().where(Layout.owner_id == user_id),
        exists().where(Alert.acked_by == user_id),
        exists().where(Camera.owner_id == user_id),
        exists().where(User.id == user_id, User.last_login_at.is_not(None)),
    )
    for check in checks:
        if await session.scalar(select(check)):
            return True
    return False


async def delete_user(
    session: AsyncSession, bus: RedisBus, actor: Actor, user: User,
    end_sessions: EndSessionsHook,
) -> User | None:
    """Delete a user without history; disable (and return) one with history. Either way
    the user's open sessions end.

    Nobody may delete themself or the last active administrator (409).
    """
    if user.id == actor.user_id:
        raise Conflict("you cannot delete your own account")
    if user.is_active and _is_admin(user.roles):
        await _ensure_another_admin(session, user)
    authz_changed(session, bus)
    await _end_sessions(session, end_sessions, user, ["deleted"])
    if await has_history(session, user.id):
        was_active = user.is_active
        user.is_active = False
        await session.flush()
        await session.refresh(user)
        await audit.record(
            session, actor, "user.disable", "user", user.id,
            {"username": user.username, "reason": "delete requested; user has history",
             "is_active": {"from": was_active, "to": False}},
        )
        return user
    username = user.username
    await session.delete(user)
    await session.flush()
    await audit.record(session, actor, "user.delete", "user", user.id, {"username": username})
    return None
