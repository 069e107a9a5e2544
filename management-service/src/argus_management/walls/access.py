"""What a wall monitor's display token may watch, for streaming's re-checks
(``POST /internal/access``)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.walls.models import WallMonitor


@dataclass(frozen=True)
class DisplayAccess:
    key_id: str | None
    camera_ids: frozenset[int]

    def allows(self, camera_id: int, fam: str | None) -> bool:
        """The camera is pushed now and the token's credential is the current one."""
        return (
            self.key_id is not None
            and fam is not None
            and hmac.compare_digest(self.key_id, fam)
            and camera_id in self.camera_ids
        )


async def display_access(
    session: AsyncSession, monitor_ids: list[int | None]
) -> dict[int, DisplayAccess]:
    wanted = sorted({m for m in monitor_ids if m is not None})
    if not wanted:
        return {}
    rows = await session.scalars(select(WallMonitor).where(WallMonitor.id.in_(wanted)))
    return {
        m.id: DisplayAccess(m.key_id, frozenset(int(c) for c in m.camera_ids or [])) for m in rows
    }
