"""``argus_cameras{status}`` and ``argus_camera_up{camera_id}`` from the database.

``argus_camera_up`` is 1 (online) or 0 (offline) per enabled camera; cameras whose status
is unknown have no series, so that a camera nobody has checked yet never pages anyone.

Refreshed by every worker process each interval, so the numbers do not depend on which
worker a scrape lands on (each uvicorn worker has its own metrics registry).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.cameras.models import Camera
from argus_management.liveness.metrics import CAMERA_UP, CAMERAS
from argus_management.liveness.state import STATUSES, coerce_status

_exported: set[str] = set()


async def refresh_gauges(maker: async_sessionmaker[AsyncSession]) -> None:
    """Set the gauges to the enabled cameras' current statuses."""
    async with maker() as session:
        rows = (await session.execute(
            select(Camera.id, Camera.status).where(Camera.enabled.is_(True))
        )).all()
    counts = dict.fromkeys(STATUSES, 0)
    current: set[str] = set()
    for cid, status in rows:
        value = coerce_status(status)
        counts[value] += 1
        if value == "unknown":
            continue  # never checked (yet): neither up nor down
        label = str(cid)
        current.add(label)
        CAMERA_UP.labels(label).set(1 if value == "online" else 0)
    for status, count in counts.items():
        CAMERAS.labels(status).set(count)
    # Deleted or disabled cameras leave the exposition rather than reading 0 forever.
    for label in _exported - current:
        CAMERA_UP.remove(label)
    _exported.clear()
    _exported.update(current)
