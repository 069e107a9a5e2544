"""Camera groups: CRUD, members, name conflicts, validation."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.rbac.models import CameraGroup

from factories.cameras import create_camera

GROUPS = "/api/v1/camera-groups"


async def _group_count(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as s:
        return int(await s.scalar(select(func.count()).select_from(CameraGroup)) or 0)


async def test_group_crud_and_members(
    client: httpx.AsyncClient, admin_headers: dict[str, str], settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    resp = await client.post(GROUPS, json={"name": "  Parking  "}, headers=admin_headers)
    assert resp.status_code == 201, resp.text
    group = resp.json()
    assert group["name"] == "Parking" and group["camera_ids"] == []
    gid = group["id"]

    resp = await client.put(
        f"{GROUPS}/{gid}/cameras", json={"camera_ids": [b.id, a.id, a.id]}, headers=admin_headers
    )
    assert resp.status_code == 200 and resp.json()["camera_ids"] == sorted([a.id, b.id])
    resp = await client.put(f"{GROUPS}/{gid}/cameras", json={"camera_ids": [b.id]},
                            headers=admin_headers)
    assert resp.json()["camera_ids"] == [b.id]  # replaced, not added

    resp = await client.patch(f"{GROUPS}/{gid}", json={"name": "Car park"}, headers=admin_headers)
    assert resp.status_code == 200 and resp.json() == {
        "id": gid, "name": "Car park", "camera_ids": [b.id]
    }
    assert (await client.get(f"{GROUPS}/{gid}", headers=admin_headers)).json()["name"] == "Car park"

    await client.post(GROUPS, json={"name": "Attic", "camera_ids": [a.id]}, headers=admin_headers)
    page = (await client.get(GROUPS, headers=admin_headers)).json()
    assert page["total"] == 2
    assert [g["name"] for g in page["items"]] == ["Attic", "Car park"]
    assert page["items"][0]["camera_ids"] == [a.id]
    one = (await client.get(GROUPS, params={"limit": 1, "offset": 1}, headers=admin_headers)).json()
    assert [g["name"] for g in one["items"]] == ["Car park"] and one["total"] == 2

    assert (await client.delete(f"{GROUPS}/{gid}", headers=admin_headers)).status_code == 204
    assert (await client.get(f"{GROUPS}/{gid}", headers=admin_headers)).status_code == 404
    assert (await client.delete(f"{GROUPS}/{gid}", headers=admin_headers)).status_code == 404
    assert await _group_count(maker) == 1


async def test_duplicate_group_name_409(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    assert (await client.post(GROUPS, json={"name": "Lobby"}, headers=admin_headers)
            ).status_code == 201
    other = (await client.post(GROUPS, json={"name": "Hall"}, headers=admin_headers)).json()
    for name in ("Lobby", "lobby", " LOBBY "):
        resp = await client.post(GROUPS, json={"name": name}, headers=admin_headers)
        assert resp.status_code == 409 and resp.json()["error"] == "Conflict"
    resp = await client.patch(f"{GROUPS}/{other['id']}", json={"name": "Lobby"},
                              headers=admin_headers)
    assert resp.status_code == 409
    assert await _group_count(maker) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 65},
        {"name": "bad\u0000name"},
        {"name": "tab\tname"},
        {"name": 5},
        {"name": "ok", "camera_ids": [999999]},
        {"name": "ok", "camera_ids": [0]},
        {"name": "ok", "color": "red"},
        {},
    ],
)
async def test_group_validation_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession], body: dict[str, object],
) -> None:
    resp = await client.post(GROUPS, json=body, headers=admin_headers)
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}
    assert await _group_count(maker) == 0


async def test_members_unknown_camera_422_and_unchanged(
    client: httpx.AsyncClient, admin_headers: dict[str, str], settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    gid = (await client.post(GROUPS, json={"name": "G", "camera_ids": [a.id]},
                             headers=admin_headers)).json()["id"]
    for body in ({"camera_ids": [a.id, 777777]}, {"camera_ids": None}, {}, {"ids": [a.id]}):
        resp = await client.put(f"{GROUPS}/{gid}/cameras", json=body, headers=admin_headers)
        assert resp.status_code == 422, (body, resp.text)
    got = await client.get(f"{GROUPS}/{gid}", headers=admin_headers)
    assert got.json()["camera_ids"] == [a.id]
    assert (await client.put(f"{GROUPS}/999999/cameras", json={"camera_ids": []},
                             headers=admin_headers)).status_code == 404
