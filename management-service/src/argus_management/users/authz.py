"""Invalidate cached principals once an authorization change has committed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_management import versions
from argus_management.db import after_commit

_QUEUED = "authz_bump_queued"


def authz_changed(session: AsyncSession, bus: RedisBus) -> None:
    """Bump the authz version after this session's transaction commits (once per session).

    Bumping before the commit would let a concurrent reader cache the old roles or grants
    under the new version, where they would stay until the next change.
    """
    if session.info.get(_QUEUED):
        return
    session.info[_QUEUED] = True

    async def bump_authz_version() -> None:
        await versions.bump(bus, versions.AUTHZ)

    after_commit(session, bump_authz_version)
