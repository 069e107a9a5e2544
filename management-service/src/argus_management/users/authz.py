"""Invalidate cached principals once an authorization change has committed, and say so on
``argus:authz`` (streaming-service ends the sessions that are no longer allowed)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_management import versions
from argus_management.db import after_commit
from argus_management.rbac.tokens import Reason, announce

_QUEUED = "authz_bump_queued"
_USERS = "authz_users"  # affected user ids of this session, or None: anyone


def authz_changed(
    session: AsyncSession, bus: RedisBus, user_ids: Iterable[int] | None = None,
    reason: Reason = "grants",
) -> None:
    """Bump the authz version after this session's transaction commits (once per session),
    then announce the change for ``user_ids`` (None: anyone may be affected).

    Bumping before the commit would let a concurrent reader cache the old roles or grants
    under the new version, where they would stay until the next change.
    """
    if user_ids is None:
        session.info[_USERS] = None
    elif session.info.get(_USERS, set()) is not None:
        session.info[_USERS] = session.info.get(_USERS, set()) | set(user_ids)
    if session.info.get(_QUEUED):
        return
    session.info[_QUEUED] = True

    async def bump_authz_version() -> None:
        await versions.bump(bus, versions.AUTHZ)
        users = session.info.pop(_USERS, None)
        await announce(bus, reason, sorted(users) if users is not None else None)

    after_commit(session, bump_authz_version)
