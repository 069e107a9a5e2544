"""Legal holds: held ranges and events survive retention and the disk guard (management
never hands their segments to the recorder); holds are permissioned and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.events.models import Event

from factories.cameras import create_camera
from factories.events import internal_headers
from factories.recordings import add_segment
from factories.users import bearer, create_user

OLD = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)  # far past any retention


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def _candidates(client: httpx.AsyncClient, settings: Settings, **body: object
                      ) -> list[int]:
    resp = await client.post("/internal/segments/purge-candidates",
                             headers=internal_headers(settings), json=body)
    assert resp.status_code == 200, resp.text
    return [i["id"] for i in resp.json()["items"]]


async def test_held_range_and_event_survive_the_disk_guard_and_retention(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    segs = [await add_segment(maker, cam.id, OLD + timedelta(minutes=m), size=100)
            for m in range(6)]
    async with maker() as s:
        event = Event(source_id="held-ev", camera_id=cam.id, type="manual", severity="info",
                      started_at=OLD + timedelta(minutes=4, seconds=10),
                      ended_at=OLD + timedelta(minutes=4, seconds=20), payload={},
                      snapshot_path=None, kept=False, created_at=OLD)
        s.add(event)
        await s.commit()
    held_range = await client.post("/api/v1/holds", headers=admin_headers, json={
        "kind": "range", "camera_id": cam.id, "reason": "investigation 9",
        "start": _iso(OLD + timedelta(minutes=1, seconds=30)),
        "end": _iso(OLD + timedelta(minutes=2, seconds=30)),
    })
    assert held_range.status_code == 201, held_range.text
    held_event = await client.post("/api/v1/holds", headers=admin_headers, json={
        "kind": "event", "event_id": event.id, "reason": "investigation 9"})
    assert held_event.status_code == 201, held_event.text
    assert held_event.json()["camera_id"] == cam.id

    # The disk guard asks for far more than there is: everything but the held time goes.
    picked = await _candidates(client, settings, mode="space", bytes=10**9, limit=100)
    assert picked == [segs[0].id, segs[3].id, segs[5].id]
    # Retention by age: the held segments are still not handed out.
    assert await _candidates(client, settings, mode="age") == []
    async with maker() as s:
        rows = await s.execute(select(AuditEntry.action, AuditEntry.summary)
                               .where(AuditEntry.action == "hold.create"))
        assert [r[1]["kind"] for r in rows] == ["range", "event"]

    # Released: the recorder may have them.
    for hold in (held_range, held_event):
        rel = await client.post(f"/api/v1/holds/{hold.json()['id']}/release",
                                headers=admin_headers, json={"reason": "closed"})
        assert rel.status_code == 200
        again = await client.post(f"/api/v1/holds/{hold.json()['id']}/release",
                                  headers=admin_headers, json={"reason": "closed"})
        assert again.status_code == 409
    picked = await _candidates(client, settings, mode="age")
    assert sorted(picked) == sorted([segs[1].id, segs[2].id, segs[4].id])
    listed = await client.get("/api/v1/holds", params={"active": "false"},
                              headers=admin_headers)
    assert listed.json()["total"] == 2
    assert all(not h["active"] and h["release_reason"] == "closed"
               for h in listed.json()["items"])


async def test_holds_need_the_permission_and_a_visible_target(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    hidden = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[cam.id])
    operator = await create_user(maker, "operator", camera_ids=[cam.id])
    state = app_state(app)
    body = {"kind": "range", "camera_id": cam.id, "reason": "r",
            "start": _iso(OLD), "end": _iso(OLD + timedelta(minutes=1))}
    assert (await client.post("/api/v1/holds", json=body,
                              headers=bearer(state, viewer))).status_code == 403
    ops = bearer(state, operator)
    assert (await client.post("/api/v1/holds", json={**body, "camera_id": hidden.id},
                              headers=ops)).status_code == 404
    assert (await client.post("/api/v1/holds", json={**body, "event_id": 5},
                              headers=ops)).status_code == 422
    assert (await client.post("/api/v1/holds", json=body, headers=ops)).status_code == 201
    # The viewer sees the hold (recordings:read) but cannot release it.
    listed = await client.get("/api/v1/holds", headers=bearer(state, viewer))
    assert listed.status_code == 200 and listed.json()["total"] == 1
    hold_id = listed.json()["items"][0]["id"]
    assert (await client.post(f"/api/v1/holds/{hold_id}/release", json={"reason": "x"},
                              headers=bearer(state, viewer))).status_code == 403
