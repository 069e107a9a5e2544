"""``GET /internal/segments/protected``: what the recorder's local disk guard (running
without management) must leave alone: legal holds, kept events and kept segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.events.models import Event

from factories.cameras import create_camera
from factories.events import internal_headers
from factories.holds import hold_range
from factories.recordings import add_segment

OLD = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)


async def test_holds_kept_events_and_kept_segments_reach_the_recorder(
    client: httpx.AsyncClient,
    settings: Settings,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    kept = await add_segment(maker, cam.id, OLD, kept=True)
    await add_segment(maker, cam.id, OLD + timedelta(minutes=1))
    async with maker() as s:
        s.add(
            Event(
                source_id="kept-ev",
                camera_id=cam.id,
                type="manual",
                severity="info",
                started_at=OLD + timedelta(minutes=3),
                ended_at=OLD + timedelta(minutes=3, seconds=10),
                payload={},
                snapshot_path=None,
                kept=True,
                created_at=OLD,
            )
        )
        await s.commit()
    hold_id = await hold_range(client, admin_headers, cam.id, OLD + timedelta(minutes=5),
                               OLD + timedelta(minutes=6), "investigation 12")

    resp = await client.get(
        "/internal/segments/protected",
        headers=internal_headers(settings),
        params={"pre_roll_s": 2, "post_roll_s": 3},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["kept_paths"] == [kept.path]
    spans = sorted(
        (
            datetime.fromisoformat(r["start"].replace("Z", "+00:00")),
            datetime.fromisoformat(r["end"].replace("Z", "+00:00")),
        )
        for r in body["ranges"]
        if r["camera_id"] == cam.id
    )
    assert spans == [
        (OLD + timedelta(minutes=3, seconds=-2), OLD + timedelta(minutes=3, seconds=13)),
        (OLD + timedelta(minutes=5), OLD + timedelta(minutes=6)),  # a range as held
    ]
    # Only recorders (the internal key) ask; bad input is a 4xx.
    assert (await client.get("/internal/segments/protected")).status_code in (401, 403)
    bad = await client.get(
        "/internal/segments/protected",
        headers=internal_headers(settings),
        params={"pre_roll_s": -1},
    )
    assert bad.status_code == 422

    released = await client.post(
        f"/api/v1/holds/{hold_id}/release",
        headers=admin_headers,
        json={"reason": "closed"},
    )
    assert released.status_code == 200
    resp = await client.get("/internal/segments/protected", headers=internal_headers(settings))
    assert len([r for r in resp.json()["ranges"] if r["camera_id"] == cam.id]) == 1
