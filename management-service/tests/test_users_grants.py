"""Camera grants: replace semantics, groups, effect on what a user sees, authz version bumps."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management import versions
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.rbac.dependencies import load_principal
from argus_management.rbac.models import CameraGrant, User

from factories.cameras import create_camera
from factories.users import bearer, create_user

USERS = "/api/v1/users"
GROUPS = "/api/v1/camera-groups"


async def _grant_count(maker: async_sessionmaker[AsyncSession], user_id: int) -> int:
    async with maker() as s:
        return int(await s.scalar(
            select(func.count()).select_from(CameraGrant).where(CameraGrant.user_id == user_id)
        ) or 0)


async def _authz_version(app: FastAPI) -> int:
    raw = await app_state(app).bus.redis.get(app_state(app).bus.key(versions.AUTHZ))
    return int(raw or 0)


async def test_put_grants_replaces_the_set(
    client: httpx.AsyncClient, admin_headers: dict[str, str], settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[a.id])
    url = f"{USERS}/{viewer.id}/cameras"

    got = await client.get(url, headers=admin_headers)
    assert got.status_code == 200
    assert got.json() == {"user_id": viewer.id, "camera_ids": [a.id], "group_ids": [],
                          "effective_camera_ids": [a.id], "sees_all_cameras": False}

    resp = await client.put(url, json={"camera_ids": [b.id, b.id]}, headers=admin_headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["camera_ids"] == [b.id]  # replaced, duplicates folded
    assert resp.json()["group_ids"] == []
    assert (await client.get(url, headers=admin_headers)).json()["camera_ids"] == [b.id]

    resp = await client.put(url, json={}, headers=admin_headers)
    assert resp.status_code == 200 and resp.json()["camera_ids"] == []
    assert await _grant_count(maker, viewer.id) == 0


async def test_unknown_camera_or_group_is_422_and_changes_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str], settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[a.id])
    url = f"{USERS}/{viewer.id}/cameras"
    for body in ({"camera_ids": [a.id, 987654]}, {"group_ids": [987654]},
                 {"camera_ids": [0]}, {"camera_ids": [2**40]}, {"camera_ids": "all"},
                 {"cameras": [a.id]}):
        resp = await client.put(url, json=body, headers=admin_headers)
        assert resp.status_code == 422, (body, resp.text)
        assert set(resp.json()) == {"error", "detail"}
    assert "987654" in (await client.put(
        url, json={"camera_ids": [987654]}, headers=admin_headers
    )).json()["detail"]
    assert await _grant_count(maker, viewer.id) == 1
    assert (await client.put(f"{USERS}/999999/cameras", json={}, headers=admin_headers)
            ).status_code == 404


async def test_viewer_granted_a_group_sees_its_cameras(
    client: httpx.AsyncClient, admin_headers: dict[str, str], app: FastAPI,
    settings: Settings, maker: async_sessionmaker[AsyncSession],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    c = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer")
    vh = bearer(app_state(app), viewer)
    group = (await client.post(
        GROUPS, json={"name": "Lobby", "camera_ids": [b.id, c.id]}, headers=admin_headers
    )).json()
    assert (await client.get(f"/api/v1/cameras/{b.id}", headers=vh)).status_code == 404

    resp = await client.put(
        f"{USERS}/{viewer.id}/cameras", json={"camera_ids": [a.id], "group_ids": [group["id"]]},
        headers=admin_headers,
    )
    assert resp.status_code == 200
    assert resp.json()["effective_camera_ids"] == sorted([a.id, b.id, c.id])
    async with maker() as s:
        principal = await load_principal(s, viewer.id)
    assert principal is not None
    assert all(principal.may_see_camera(i) for i in (a.id, b.id, c.id))
    # The change is visible on the viewer's very next request (authz version bumped).
    assert (await client.get(f"/api/v1/cameras/{b.id}", headers=vh)).status_code == 200

    # Changing the group's members changes what the viewer sees.
    resp = await client.put(
        f"{GROUPS}/{group['id']}/cameras", json={"camera_ids": [c.id]}, headers=admin_headers
    )
    assert resp.status_code == 200 and resp.json()["camera_ids"] == [c.id]
    assert (await client.get(f"/api/v1/cameras/{b.id}", headers=vh)).status_code == 404
    assert (await client.get(f"/api/v1/cameras/{c.id}", headers=vh)).status_code == 200

    # Deleting the group removes the grant made through it; the direct grant stays.
    resp = await client.delete(f"{GROUPS}/{group['id']}", headers=admin_headers)
    assert resp.status_code == 204
    grants = (await client.get(f"{USERS}/{viewer.id}/cameras", headers=admin_headers)).json()
    assert grants["group_ids"] == [] and grants["effective_camera_ids"] == [a.id]
    assert (await client.get(f"/api/v1/cameras/{c.id}", headers=vh)).status_code == 404
    async with maker() as s:
        principal = await load_principal(s, viewer.id)
    assert principal is not None and principal.camera_ids == frozenset({a.id})


async def test_admin_sees_all_cameras_flag(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async with maker() as s:
        admin_id = await s.scalar(select(User.id).where(User.username == "admin"))
    got = (await client.get(f"{USERS}/{admin_id}/cameras", headers=admin_headers)).json()
    assert got["sees_all_cameras"] is True


async def _state(s: AsyncSession, user_id: int, group_id: int) -> dict[str, Any]:
    """What the bump must already be able to read: the user's and the group's current rows."""
    from argus_management.rbac.models import CameraGroup, camera_group_members

    user = await s.get(User, user_id)
    return {
        "user": None if user is None else (user.is_active, user.role_names),
        "grants": await s.scalar(select(func.count()).select_from(CameraGrant).where(
            CameraGrant.user_id == user_id)),
        "group": await s.get(CameraGroup, group_id) is not None,
        "members": await s.scalar(select(func.count()).select_from(camera_group_members).where(
            camera_group_members.c.group_id == group_id)),
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("PATCH", "user", {"roles": ["operator"]}, {"user": (True, ["operator"])}),
        ("PATCH", "user", {"is_active": False}, {"user": (False, ["viewer"])}),
        ("PUT", "user/cameras", {"camera_ids": []}, {"grants": 0}),
        ("DELETE", "user", None, {"user": None}),
        ("PUT", "group/cameras", {"camera_ids": []}, {"members": 0}),
        ("DELETE", "group", None, {"group": False}),
    ],
)
async def test_authz_version_bumped_after_commit(
    client: httpx.AsyncClient, admin_headers: dict[str, str], app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch,
    method: str, path: str, body: dict[str, Any] | None, expected: dict[str, Any],
) -> None:
    """The bump happens once, and only when the change can already be read back by others:
    bumping earlier would let a reader cache the old state under the new version."""
    cam = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[cam.id])
    group = (await client.post(
        GROUPS, json={"name": "G1", "camera_ids": [cam.id]}, headers=admin_headers
    )).json()
    seen: list[dict[str, Any]] = []
    real_bump = versions.bump

    async def spy(bus: Any, *names: str) -> None:
        assert names == (versions.AUTHZ,)
        async with maker() as s:  # its own connection: sees committed data only
            seen.append(await _state(s, viewer.id, group["id"]))
        await real_bump(bus, *names)

    monkeypatch.setattr(versions, "bump", spy)
    before = await _authz_version(app)
    base = f"{USERS}/{viewer.id}" if path.startswith("user") else f"{GROUPS}/{group['id']}"
    url = base + ("/cameras" if path.endswith("/cameras") else "")
    resp = await client.request(method, url, json=body, headers=admin_headers)
    assert resp.status_code in (200, 204), resp.text
    assert len(seen) == 1, seen
    for key, value in expected.items():
        assert seen[0][key] == value, (key, seen[0])
    assert await _authz_version(app) == before + 1


async def test_no_bump_when_the_request_fails(
    client: httpx.AsyncClient, admin_headers: dict[str, str], app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    viewer = await create_user(maker, "viewer")
    before = await _authz_version(app)
    resp = await client.put(
        f"{USERS}/{viewer.id}/cameras", json={"camera_ids": [424242]}, headers=admin_headers
    )
    assert resp.status_code == 422
    assert await _authz_version(app) == before
