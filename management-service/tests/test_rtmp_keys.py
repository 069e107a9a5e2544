"""Stream keys: create (secret once, hashed), list, revoke, owner isolation, expiry, audit."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.rtmp.models import StreamKey

from factories.rtmp import create_key, publish
from factories.users import bearer, create_user

URL = "/api/v1/rtmp/keys"


async def _audit(maker: async_sessionmaker[AsyncSession], prefix: str) -> list[AuditEntry]:
    async with maker() as s:
        rows = await s.scalars(
            select(AuditEntry).where(AuditEntry.action.like(f"{prefix}%")).order_by(AuditEntry.id)
        )
        return list(rows)


async def _headers(app: FastAPI, maker: async_sessionmaker[AsyncSession],
                   role: str) -> tuple[int, dict[str, str]]:
    user = await create_user(maker, role)
    return user.id, bearer(app_state(app), user)


async def test_create_shows_secret_once_and_stores_only_its_hash(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
) -> None:
    uid, h = await _headers(app, maker, "operator")
    created = await create_key(client, h, "phone-1")
    secret = created["key"]
    assert len(secret) == 32 and created["state"] == "active" and created["user_id"] == uid
    assert created["publish_url"] == "rtmp://127.0.0.1:1935/live/phone-1"
    assert created["publish_url_with_key"] == f"rtmp://127.0.0.1:1935/live/phone-1?key={secret}"
    listed = (await client.get(URL, headers=h)).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "phone-1"
    assert secret not in str(listed) and "key" not in listed["items"][0]
    async with maker() as s:
        row = (await s.scalars(select(StreamKey))).one()
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    [entry] = await _audit(maker, "rtmp.key_create")
    assert entry.user_id == uid and entry.summary["name"] == "phone-1"
    assert secret not in str(entry.summary)


async def test_owner_isolation_and_admin_sees_all(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
) -> None:
    _, alice = await _headers(app, maker, "operator")
    _, bob = await _headers(app, maker, "operator")
    a = await create_key(client, alice, "alice-cam")
    await create_key(client, bob, "bob-cam")
    assert [k["name"] for k in (await client.get(URL, headers=alice)).json()["items"]] == [
        "alice-cam"]
    # Someone else's key is a 404 (no existence leak), and stays live.
    assert (await client.delete(f"{URL}/{a['id']}", headers=bob)).status_code == 404
    admin = {"Authorization": f"Bearer {app_state(app).jwt.issue('1', 'access', 900).token}"}
    names = {k["name"] for k in (await client.get(URL, headers=admin)).json()["items"]}
    assert names == {"alice-cam", "bob-cam"}
    assert (await client.delete(f"{URL}/{a['id']}", headers=admin)).status_code == 204
    [mine] = (await client.get(URL, headers=alice)).json()["items"]
    assert mine["state"] == "revoked" and mine["revoked_at"] is not None
    [revoke] = await _audit(maker, "rtmp.key_revoke")
    assert revoke.user_id == 1 and revoke.summary == {"name": "alice-cam",
                                                      "user_id": mine["user_id"]}


async def test_revoke_is_idempotent_and_frees_the_name(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    _, h = await _headers(app, maker, "operator")
    first = await create_key(client, h, "gate")
    dup = await client.post(URL, json={"name": "gate"}, headers=h)
    assert dup.status_code == 409 and dup.json()["error"] == "Conflict"
    assert (await client.delete(f"{URL}/{first['id']}", headers=h)).status_code == 204
    assert (await client.delete(f"{URL}/{first['id']}", headers=h)).status_code == 204
    assert len(await _audit(maker, "rtmp.key_revoke")) == 1
    second = await create_key(client, h, "gate")
    assert second["key"] != first["key"]
    # The revoked secret no longer publishes; the new one does.
    assert (await publish(client, settings, "gate", first["key"])).status_code == 403
    assert (await publish(client, settings, "gate", second["key"])).status_code == 200


async def test_viewers_have_no_key_api(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
) -> None:
    _, h = await _headers(app, maker, "viewer")
    assert (await client.get(URL, headers=h)).status_code == 403
    assert (await client.post(URL, json={"name": "x"}, headers=h)).status_code == 403
    assert (await client.get(URL)).status_code == 401


@pytest.mark.parametrize("body", [
    {"name": ""}, {"name": "a b"}, {"name": "x/y"}, {"name": "é"}, {"name": "a" * 65},
    {"name": "ok\n"}, {"name": 5}, {}, {"name": "ok", "extra": 1},
    {"name": "ok", "expires_at": "2001-01-01T00:00:00Z"},
    {"name": "ok", "expires_at": "9999-01-01T00:00:00Z"},
    {"name": "ok", "expires_at": "not a date"},
])
async def test_bad_bodies_are_422(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    body: dict[str, Any],
) -> None:
    _, h = await _headers(app, maker, "operator")
    resp = await client.post(URL, json=body, headers=h)
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}


@pytest.mark.parametrize("path", ["/0", "/-1", "/99999999999", "/abc"])
async def test_bad_ids_are_4xx(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession], path: str,
) -> None:
    _, h = await _headers(app, maker, "operator")
    resp = await client.delete(URL + path, headers=h)
    assert 400 <= resp.status_code < 500, resp.text


async def test_expiry(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    _, h = await _headers(app, maker, "operator")
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = await create_key(client, h, "temp", expires_at=soon)
    assert created["expires_at"] is not None and created["state"] == "active"
    async with maker() as s:
        await s.execute(update(StreamKey).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await s.commit()
    [listed] = (await client.get(URL, headers=h)).json()["items"]
    assert listed["state"] == "expired"
    assert (await publish(client, settings, "temp", created["key"])).status_code == 403
    # An expired key's name can be taken again: the old key is revoked on the way.
    again = await create_key(client, h, "temp")
    states = {k["id"]: k["state"] for k in (await client.get(URL, headers=h)).json()["items"]}
    assert states == {created["id"]: "revoked", again["id"]: "active"}


async def test_name_of_another_users_camera_is_refused(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """Once pushes of a name were recorded under Alice's camera, Bob cannot take the name
    (his pushes would land in, and be shown from, Alice's camera)."""
    _, alice = await _headers(app, maker, "operator")
    _, bob = await _headers(app, maker, "operator")
    a = await create_key(client, alice, "shared")
    pushed = await publish(client, settings, "shared", a["key"])
    assert pushed.status_code == 200, pushed.text
    assert (await client.delete(f"{URL}/{a['id']}", headers=alice)).status_code == 204
    taken = await client.post(URL, json={"name": "shared"}, headers=bob)
    assert taken.status_code == 409 and "another user" in taken.json()["detail"]
    mine = await create_key(client, alice, "shared")  # Alice again: her camera, reused
    assert mine["camera_id"] == pushed.json()["camera_id"]
