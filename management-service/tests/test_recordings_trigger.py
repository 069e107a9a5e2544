"""POST /api/v1/cameras/{id}/record: a manual event recording, announced and audited."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.events.models import Event

from factories.cameras import create_camera
from factories.users import bearer, create_user


async def test_operator_triggers_a_manual_recording(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    operator = await create_user(maker, "operator", camera_ids=[cam.id])
    resp = await client.post(f"/api/v1/cameras/{cam.id}/record", json={"duration_s": 30},
                             headers=bearer(app_state(app), operator))
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["camera_id"] == cam.id
    async with maker() as s:
        event = await s.get(Event, body["event_id"])
        audit = list(await s.scalars(select(AuditEntry).where(
            AuditEntry.action == "recording.trigger")))
    assert event is not None and event.type == "manual" and event.camera_id == cam.id
    assert event.ended_at is not None
    assert event.ended_at - event.started_at == timedelta(seconds=30)
    assert len(audit) == 1
    assert (audit[0].user_id, audit[0].target_type, audit[0].target_id) == (
        operator.id, "camera", str(cam.id))
    assert audit[0].summary == {"duration_s": 30.0, "event_id": event.id}
    bus = app_state(app).bus
    entries = await bus.redis.xrange(bus.key("events"))
    messages = [json.loads(fields[b"data"]) for _, fields in entries]
    assert [(m["type"], m["event_id"], m["camera_id"]) for m in messages] == [
        ("manual", event.id, cam.id)]
    assert messages[0]["ends_at"] is not None


async def test_viewer_may_not_trigger_and_ungranted_is_404(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[cam.id])
    resp = await client.post(f"/api/v1/cameras/{cam.id}/record", json={"duration_s": 5},
                             headers=bearer(app_state(app), viewer))
    assert resp.status_code == 403
    stranger = await create_user(maker, "operator")
    resp = await client.post(f"/api/v1/cameras/{cam.id}/record", json={"duration_s": 5},
                             headers=bearer(app_state(app), stranger))
    assert resp.status_code == 404
    async with maker() as s:
        assert list(await s.scalars(select(Event))) == []


@pytest.mark.parametrize("body", [
    {"duration_s": 0}, {"duration_s": 601}, {"duration_s": "long"}, {}, {"duration_s": 5, "x": 1},
    {"duration_s": float("nan")}, None,
])
async def test_bad_durations_are_422(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], body: object,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    admin = await create_user(maker, "admin")
    raw = json.dumps(body, allow_nan=True) if body is not None else "not json"
    resp = await client.post(f"/api/v1/cameras/{cam.id}/record", content=raw,
                             headers={**bearer(app_state(app), admin),
                                      "Content-Type": "application/json"})
    assert resp.status_code == 422, resp.text
