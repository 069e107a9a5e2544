"""GET /api/v1/alerts and POST /api/v1/alerts/{id}/ack: filters, visibility, audit, 409."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.alerts import service as alerts_service
from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state

from factories.cameras import create_camera
from factories.events import report_event
from factories.users import bearer, create_user

URL = "/api/v1/alerts"


@pytest.fixture
def admin_headers(app: FastAPI) -> dict[str, str]:
    return {"Authorization": f"Bearer {app_state(app).jwt.issue('1', 'access', 900).token}"}


async def _alert_of(
    client: httpx.AsyncClient, settings: Settings, admin_headers: dict[str, str],
    camera_id: int, type: str = "motion.start",
) -> dict[str, Any]:
    """Report an alerting event; return the alert it raised."""
    event = await report_event(client, settings, camera_id, type)
    items = (await client.get(URL, headers=admin_headers)).json()["items"]
    found: dict[str, Any] = next(a for a in items if a["event_id"] == event["id"])
    return found


async def test_list_filters_and_visibility(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], admin_headers: dict[str, str],
) -> None:
    a = await create_camera(maker, settings.secret_key, name="A")
    b = await create_camera(maker, settings.secret_key, name="B")
    motion_a = await _alert_of(client, settings, admin_headers, a.id)
    rtmp_b = await _alert_of(client, settings, admin_headers, b.id, "rtmp.publish")
    page = (await client.get(URL, headers=admin_headers)).json()
    assert [x["id"] for x in page["items"]] == [rtmp_b["id"], motion_a["id"]]
    assert page["total"] == 2

    async def listed(headers: dict[str, str], **params: str | int) -> list[int]:
        resp = await client.get(URL, params=params, headers=headers)
        assert resp.status_code == 200, resp.text
        return [x["id"] for x in resp.json()["items"]]

    assert await listed(admin_headers, kind="rtmp.received") == [rtmp_b["id"]]
    assert await listed(admin_headers, severity="warning") == [motion_a["id"]]
    assert await listed(admin_headers, camera_id=a.id) == [motion_a["id"]]
    assert await listed(admin_headers, state="open") == [rtmp_b["id"], motion_a["id"]]
    assert await listed(admin_headers, state="acked") == []

    viewer = await create_user(maker, "viewer", camera_ids=[a.id])
    vh = bearer(app_state(app), viewer)
    assert await listed(vh) == [motion_a["id"]]
    assert await listed(vh, camera_id=b.id) == []
    assert (await client.get(f"{URL}/{rtmp_b['id']}", headers=vh)).status_code == 404
    assert (await client.get(f"{URL}/{motion_a['id']}", headers=vh)).json()["kind"] == "motion"


@pytest.mark.parametrize(
    "query", ["state=closed", "severity=huge", "kind=Bad%20Kind", "camera_id=0", "limit=0"]
)
async def test_bad_filters_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], query: str
) -> None:
    resp = await client.get(f"{URL}?{query}", headers=admin_headers)
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}


async def test_ack_is_audited_published_and_only_once(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    alert = await _alert_of(client, settings, admin_headers, cam.id)
    operator = await create_user(maker, "operator", camera_ids=[cam.id])
    h = bearer(app_state(app), operator)

    bus = app_state(app).bus
    pubsub = bus.redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(bus.key("alerts"))
    try:
        resp = await client.post(f"{URL}/{alert['id']}/ack", headers=h)
        assert resp.status_code == 200, resp.text
        acked = resp.json()
        assert acked["state"] == "acked" and acked["acked_by"] == operator.id
        assert acked["acked_at"] is not None

        published = None
        async with asyncio.timeout(2):
            while published is None:
                published = await pubsub.get_message(timeout=1.0)
        message = json.loads(published["data"])
        assert message["alert_id"] == alert["id"] and message["state"] == "acked"
        assert message["type"] == "alert.motion" and message["camera_id"] == cam.id
    finally:
        await pubsub.aclose()

    again = await client.post(f"{URL}/{alert['id']}/ack", headers=h)
    assert again.status_code == 409 and again.json()["error"] == "Conflict"

    async with maker() as s:
        rows = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "alert.ack")))
    assert len(rows) == 1
    assert rows[0].user_id == operator.id and rows[0].target_id == str(alert["id"])
    assert rows[0].target_type == "alert" and rows[0].result == "success"


async def test_ack_of_resolved_alert_is_409(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    alert = await _alert_of(client, settings, admin_headers, cam.id)
    async with maker() as s:
        resolved = await alerts_service.resolve_alerts(
            s, app_state(app).bus, kind="motion", camera_id=cam.id
        )
        await s.commit()
    assert [r.id for r in resolved] == [alert["id"]]
    resp = await client.post(f"{URL}/{alert['id']}/ack", headers=admin_headers)
    assert resp.status_code == 409


async def test_ack_permission_and_visibility(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], admin_headers: dict[str, str],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    alert_a = await _alert_of(client, settings, admin_headers, a.id)
    alert_b = await _alert_of(client, settings, admin_headers, b.id)
    viewer = await create_user(maker, "viewer", camera_ids=[a.id])
    resp = await client.post(f"{URL}/{alert_a['id']}/ack", headers=bearer(app_state(app), viewer))
    assert resp.status_code == 403 and resp.json()["error"] == "Forbidden"
    operator = await create_user(maker, "operator", camera_ids=[a.id])
    oh = bearer(app_state(app), operator)
    assert (await client.post(f"{URL}/{alert_b['id']}/ack", headers=oh)).status_code == 404
    assert (await client.post(f"{URL}/999999/ack", headers=oh)).status_code == 404
    assert (await client.post(f"{URL}/0/ack", headers=oh)).status_code == 422
    assert (await client.post(f"{URL}/{alert_a['id']}/ack")).status_code == 401
    async with maker() as s:
        audit = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "alert.ack")))
    assert audit == []
