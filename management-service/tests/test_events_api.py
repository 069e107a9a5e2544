"""GET /api/v1/events: filters, newest first, pagination and per-camera visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.deps import app_state

from factories.cameras import create_camera
from factories.events import report_event
from factories.users import bearer, create_user

URL = "/api/v1/events"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def admin_headers(app: FastAPI) -> dict[str, str]:
    return {"Authorization": f"Bearer {app_state(app).jwt.issue('1', 'access', 900).token}"}


async def _seed(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> tuple[int, int, list[dict[str, object]]]:
    a = await create_camera(maker, settings.secret_key, name="A")
    b = await create_camera(maker, settings.secret_key, name="B")
    events = [
        await report_event(client, settings, a.id, "motion.start", ts=T0),
        await report_event(client, settings, a.id, "motion.end", ts=T0 + timedelta(minutes=1)),
        await report_event(client, settings, b.id, "motion.start", ts=T0 + timedelta(minutes=2)),
        await report_event(client, settings, b.id, "stream.down", ts=T0 + timedelta(minutes=3)),
    ]
    return a.id, b.id, events


async def test_admin_lists_newest_first_with_filters(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    a, b, events = await _seed(client, settings, maker)
    ids = [e["id"] for e in events]
    page = (await client.get(URL, headers=admin_headers)).json()
    assert [e["id"] for e in page["items"]] == ids[::-1]
    assert page["total"] == 4 and page["limit"] == 50 and page["offset"] == 0

    async def listed(**params: str | int) -> list[object]:
        resp = await client.get(URL, params=params, headers=admin_headers)
        assert resp.status_code == 200, resp.text
        return [e["id"] for e in resp.json()["items"]]

    assert await listed(camera_id=a) == [ids[1], ids[0]]
    assert await listed(type="motion.start") == [ids[2], ids[0]]
    assert await listed(camera_id=b, type="motion.start") == [ids[2]]
    start = (T0 + timedelta(minutes=1)).isoformat()
    end = (T0 + timedelta(minutes=3)).isoformat()
    assert await listed(start=start, end=end) == [ids[2], ids[1]]  # end is exclusive
    assert await listed(start=start) == [ids[3], ids[2], ids[1]]
    assert await listed(type="manual") == []
    page2 = (await client.get(URL, params={"limit": 2, "offset": 2}, headers=admin_headers)).json()
    assert [e["id"] for e in page2["items"]] == [ids[1], ids[0]] and page2["total"] == 4
    one = await client.get(f"{URL}/{ids[0]}", headers=admin_headers)
    assert one.status_code == 200 and one.json()["type"] == "motion.start"


async def test_viewer_sees_only_granted_cameras(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a, b, events = await _seed(client, settings, maker)
    system = await report_event(client, settings, None, "recorder.down")
    viewer = await create_user(maker, "viewer", camera_ids=[a])
    h = bearer(app_state(app), viewer)
    page = (await client.get(URL, headers=h)).json()
    assert {e["camera_id"] for e in page["items"]} == {a} and page["total"] == 2
    assert (await client.get(URL, params={"camera_id": b}, headers=h)).json()["items"] == []
    assert (await client.get(f"{URL}/{events[0]['id']}", headers=h)).status_code == 200
    hidden = await client.get(f"{URL}/{events[2]['id']}", headers=h)
    assert hidden.status_code == 404 and hidden.json()["error"] == "NotFound"
    assert (await client.get(f"{URL}/{system['id']}", headers=h)).status_code == 404
    assert (await client.get(f"{URL}/999999", headers=h)).status_code == 404
    nobody = await create_user(maker, "viewer")
    assert (await client.get(URL, headers=bearer(app_state(app), nobody))).json()["total"] == 0


async def test_requires_authentication(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.get(f"{URL}/1")).status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "camera_id=0", "camera_id=99999999999999", "camera_id=abc", "type=Bad%20Type",
        "start=yesterday", "start=0001-01-01T00:00:00%2B05:00",
        "start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z", "limit=0", "limit=100000",
    ],
)
async def test_bad_filters_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], query: str
) -> None:
    resp = await client.get(f"{URL}?{query}", headers=admin_headers)
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}


@pytest.mark.parametrize("path", ["0", "abc", "99999999999999"])
async def test_bad_event_ids_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], path: str
) -> None:
    assert (await client.get(f"{URL}/{path}", headers=admin_headers)).status_code == 422
