"""Authorization changes reach the media services (issue 16, finding 2): committed grant
changes, disabling, logout and password changes are announced on ``argus:authz``, and
``POST /internal/access`` says whether a session's user and token may still watch."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.deps import app_state

from factories.cameras import create_camera
from factories.events import internal_headers
from factories.users import DEFAULT_PASSWORD, create_user

ACCESS = "/internal/access"


async def _login(client: httpx.AsyncClient, username: str) -> dict[str, Any]:
    resp = await client.post("/api/v1/auth/login",
                             data={"username": username, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _claims(app: FastAPI, tokens: dict[str, Any]) -> dict[str, Any]:
    return app_state(app).jwt.decode(tokens["access_token"], "access")


async def _allowed(client: httpx.AsyncClient, settings: Settings,
                   items: list[dict[str, Any]]) -> list[bool]:
    resp = await client.post(ACCESS, json={"items": items},
                             headers=internal_headers(settings, "streaming"))
    assert resp.status_code == 200, resp.text
    return list(resp.json()["allowed"])


async def test_internal_access_follows_grants_logout_and_disabling(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    admin_headers: dict[str, str], maker: async_sessionmaker[AsyncSession],
) -> None:
    key = settings.secret_key
    cam_a = await create_camera(maker, key, name="A")
    cam_b = await create_camera(maker, key, name="B")
    user = await create_user(maker, "viewer", camera_ids=[cam_a.id])
    tokens = await _login(client, user.username)
    claims = _claims(app, tokens)
    item = {"user_id": user.id, "jti": claims["jti"], "fam": claims["fam"]}
    both = [{**item, "camera_id": cam_a.id}, {**item, "camera_id": cam_b.id},
            {**item, "camera_id": cam_a.id, "recordings": True}]
    assert await _allowed(client, settings, both) == [True, False, True]
    # Without a credential: refused.
    assert (await client.post(ACCESS, json={"items": both})).status_code == 401
    # A grant removed.
    r = await client.put(f"/api/v1/users/{user.id}/cameras", json={"camera_ids": []},
                         headers=admin_headers)
    assert r.status_code == 200
    assert await _allowed(client, settings, both) == [False, False, False]
    r = await client.put(f"/api/v1/users/{user.id}/cameras", json={"camera_ids": [cam_a.id]},
                         headers=admin_headers)
    assert await _allowed(client, settings, both[:1]) == [True]
    # Logged out: that token and its family, not the user's other session.
    other = _claims(app, await _login(client, user.username))
    r = await client.post("/api/v1/auth/logout",
                          headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 204
    fresh = {"user_id": user.id, "camera_id": cam_a.id, "jti": other["jti"],
             "fam": other["fam"]}
    assert await _allowed(client, settings, [both[0], fresh]) == [False, True]
    # Disabled: nothing.
    r = await client.patch(f"/api/v1/users/{user.id}", json={"is_active": False},
                           headers=admin_headers)
    assert r.status_code == 200, r.text
    assert await _allowed(client, settings, [fresh]) == [False]
    # An unknown user may watch nothing.
    assert await _allowed(client, settings, [{**fresh, "user_id": 999_999}]) == [False]


async def test_changes_are_announced_on_authz(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key, name="A")
    user = await create_user(maker, "viewer", camera_ids=[cam.id])
    tokens = await _login(client, user.username)
    jti = _claims(app, tokens)["jti"]
    bus = app_state(app).bus
    pubsub = bus.redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(bus.key("authz"))
    try:
        r = await client.put(f"/api/v1/users/{user.id}/cameras", json={"camera_ids": []},
                             headers=admin_headers)
        assert r.status_code == 200
        r = await client.post("/api/v1/auth/logout",
                              headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert r.status_code == 204
        seen: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            while not any(m["reason"] == "logout" for m in seen):
                msg = await pubsub.get_message(timeout=1.0)
                if msg:
                    seen.append(json.loads(msg["data"]))
    finally:
        await pubsub.aclose()
    assert all(m["type"] == "authz.changed" for m in seen)
    grants = [m for m in seen if m["reason"] == "grants"]
    assert grants and grants[0]["user_ids"] == [user.id]
    logout = [m for m in seen if m["reason"] == "logout"]
    assert logout[0]["user_ids"] == [user.id] and logout[0]["jtis"] == [jti]
