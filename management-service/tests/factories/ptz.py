"""PTZ tests' shared set-up (test_ptz, test_ptz_lock): the simulator, its camera, the head
reset around each test, PTZ URLs and the PTZ audit rows.

The fixtures are found by name: a test module imports ``sim``, ``cam`` and ``_fresh_head``
(autouse there only), so each module gets its own simulator and no other test is reset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.cameras.models import Camera
from argus_management.deps import app_state

from factories.onvif_sim import OnvifSim, create_onvif_camera, launch_onvif


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    """One simulated ONVIF PTZ camera (``cam1``) for the importing module."""
    s = launch_onvif(cameras=1)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
async def _fresh_head(app: FastAPI, sim: OnvifSim) -> AsyncIterator[None]:
    """The head at home before and after each test, and no PTZ timer left running."""
    await sim.put_ptz("cam1", pan=0, tilt=0, zoom=0)
    yield
    await app_state(app).ptz.close()  # no timer of this test may fire into the next one
    await sim.put_ptz("cam1", pan=0, tilt=0, zoom=0)


@pytest.fixture
async def cam(app: FastAPI, maker: async_sessionmaker[AsyncSession], sim: OnvifSim) -> Camera:
    """A camera row pointing at the simulator's ``cam1``."""
    return await create_onvif_camera(maker, app_state(app).settings.secret_key,
                                     sim.onvif_ports["cam1"])


def url(camera_id: int, tail: str) -> str:
    """``/api/v1/cameras/{camera_id}/ptz/{tail}``."""
    return f"/api/v1/cameras/{camera_id}/ptz/{tail}"


async def ptz_audit(maker: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    """Every ``ptz.*`` audit entry, oldest first."""
    async with maker() as s:
        rows = await s.scalars(
            select(AuditEntry).where(AuditEntry.action.like("ptz.%")).order_by(AuditEntry.id)
        )
        return list(rows)
