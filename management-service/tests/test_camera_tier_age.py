"""A camera's own tiering age (``tier_after_hours``, migration 0013): set and cleared in the
camera API, and applied by management's tier candidates over the recorder's defaults."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import utcnow
from argus_management.config import Settings

from factories.cameras import create_camera
from factories.events import internal_headers
from factories.recordings import add_segment


async def _candidates(client: httpx.AsyncClient, settings: Settings, **body: object) -> set[int]:
    resp = await client.post("/internal/segments/tier-candidates",
                             headers=internal_headers(settings), json=body)
    assert resp.status_code == 200, resp.text
    return {i["id"] for i in resp.json()["items"]}


async def test_camera_tier_age_in_the_api_and_the_candidates(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    own = await create_camera(maker, settings.secret_key)
    other = await create_camera(maker, settings.secret_key)
    assert (await client.get(f"/api/v1/cameras/{own.id}", headers=admin_headers)
            ).json()["tier_after_hours"] is None
    resp = await client.patch(f"/api/v1/cameras/{own.id}", headers=admin_headers,
                              json={"tier_after_hours": 1.5})
    assert resp.status_code == 200, resp.text
    assert resp.json()["tier_after_hours"] == 1.5
    bad = await client.patch(f"/api/v1/cameras/{own.id}", headers=admin_headers,
                             json={"tier_after_hours": -1})
    assert bad.status_code == 422

    ended = utcnow() - timedelta(hours=2, minutes=1)  # ended 2 h ago
    seg_own = await add_segment(maker, own.id, ended)
    seg_other = await add_segment(maker, other.id, ended)
    # No recorder default: only the camera with its own age is due.
    assert await _candidates(client, settings) == {seg_own.id}
    # The camera's age wins over the recorder's per-camera one (10 h: not due yet).
    assert await _candidates(client, settings, hours={str(own.id): 10}) == {seg_own.id}
    # The recorder's default covers the other camera only.
    assert await _candidates(client, settings, default_hours=1) == {seg_own.id, seg_other.id}
    assert await _candidates(client, settings, default_hours=5) == {seg_own.id}

    resp = await client.patch(f"/api/v1/cameras/{own.id}", headers=admin_headers,
                              json={"tier_after_hours": None})
    assert resp.json()["tier_after_hours"] is None
    assert await _candidates(client, settings) == set()
    assert await _candidates(client, settings, default_hours=1) == {seg_own.id, seg_other.id}
