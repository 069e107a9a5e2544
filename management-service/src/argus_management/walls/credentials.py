"""Display credentials of wall monitors: a random secret shown once, stored as its SHA-256,
and a random id that every display token of it names (``fam``). A new credential or a
revocation changes the id, which ends the old tokens and, through ``argus:authz``, their
video."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.errors import Conflict
from argus_management.audit.service import record
from argus_management.rbac.principal import Actor
from argus_management.walls import service as svc
from argus_management.walls.models import WallMonitor
from argus_management.walls.schemas import CredentialOut

KEY_PREFIX = "wdk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def issue_credential(
    session: AsyncSession, bus: RedisBus, monitor: WallMonitor, actor: Actor
) -> CredentialOut:
    """A new display credential (any earlier one stops working, with its video)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    replaced = monitor.key_hash is not None
    monitor.key_hash = hash_key(key)
    monitor.key_id = secrets.token_hex(16)
    monitor.key_created_at = svc.now()
    await session.flush()
    await record(
        session,
        actor,
        "wall.credential_issue",
        "wall_monitor",
        monitor.id,
        {"wall_id": monitor.wall_id, "replaced": replaced},
    )
    if replaced:
        svc.announce_after_commit(session, bus)
        # the old credential's /ws/wall-display sockets re-check and close
        svc.changed_after_commit(session, bus, monitor.wall_id, monitor.id)
    return CredentialOut(
        wall_id=monitor.wall_id,
        monitor_id=monitor.id,
        key=key,
        display_url=f"{svc.display_path(monitor)}#key={key}",
    )


async def revoke_credential(
    session: AsyncSession, bus: RedisBus, monitor: WallMonitor, actor: Actor
) -> None:
    if monitor.key_hash is None:
        raise Conflict("this monitor has no display credential")
    monitor.key_hash = None
    monitor.key_id = None
    monitor.key_created_at = None
    await session.flush()
    await record(
        session,
        actor,
        "wall.credential_revoke",
        "wall_monitor",
        monitor.id,
        {"wall_id": monitor.wall_id},
    )
    svc.announce_after_commit(session, bus)
    svc.changed_after_commit(session, bus, monitor.wall_id, monitor.id)
