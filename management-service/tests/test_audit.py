"""Audit log: a row per mutation, the read API with filters, and append-only storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.rbac.models import User

from factories.cameras import create_camera
from factories.users import admin_headers as admin_headers_for
from factories.users import bearer, create_user

AUDIT = "/api/v1/audit"
SECRET = "super-secret-pass-1"
NEW_SECRET = "another-secret-pass-2"


@pytest.fixture
async def admin(maker: async_sessionmaker[AsyncSession]) -> User:
    async with maker() as s:
        user = await s.scalar(select(User).where(User.username == "admin"))
    assert user is not None
    return user


@pytest.fixture
async def admin_headers(app: FastAPI) -> dict[str, str]:
    return await admin_headers_for(app, **{"User-Agent": "audit-test/1.0"})


async def _entries(maker: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with maker() as s:
        return list((await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def test_every_mutation_writes_one_audit_row(
    client: httpx.AsyncClient, admin_headers: dict[str, str], admin: User, app: FastAPI,
    settings: Settings, maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    h = admin_headers

    async def call(method: str, url: str, body: Any = None) -> Any:
        resp = await client.request(method, url, json=body, headers=h)
        assert resp.status_code < 300, (method, url, resp.text)
        return resp.json() if resp.content else None

    user = await call("POST", "/api/v1/users", {"username": "eve", "password": SECRET,
                                                "email": "eve@example.com", "roles": ["viewer"]})
    uid = user["id"]
    await call("PATCH", f"/api/v1/users/{uid}", {"password": NEW_SECRET, "roles": ["operator"]})
    group = await call("POST", "/api/v1/camera-groups", {"name": "Yard"})
    gid = group["id"]
    await call("PATCH", f"/api/v1/camera-groups/{gid}", {"name": "Back yard"})
    await call("PUT", f"/api/v1/camera-groups/{gid}/cameras", {"camera_ids": [cam.id]})
    await call("PUT", f"/api/v1/users/{uid}/cameras", {"camera_ids": [cam.id], "group_ids": [gid]})
    layout = await call("POST", "/api/v1/layouts", {"name": "Wall", "grid": 1, "cells": [cam.id]})
    await call("PATCH", f"/api/v1/layouts/{layout['id']}", {"shared": True})
    await call("DELETE", f"/api/v1/layouts/{layout['id']}")
    await call("DELETE", f"/api/v1/camera-groups/{gid}")
    await call("PATCH", f"/api/v1/users/{uid}", {"is_active": False})
    await call("PATCH", f"/api/v1/users/{uid}", {"is_active": True})
    await call("DELETE", f"/api/v1/users/{uid}")  # no history of their own: deleted
    # A user with history is disabled by DELETE.
    other = await create_user(maker, "viewer")
    async with maker() as s:
        s.add(AuditEntry(user_id=other.id, username=other.username, action="auth.login"))
        await s.commit()
    await call("DELETE", f"/api/v1/users/{other.id}")

    rows = [e for e in await _entries(maker) if e.user_id == admin.id]
    assert [(e.action, e.target_type, e.target_id) for e in rows] == [
        ("user.create", "user", str(uid)),
        ("user.update", "user", str(uid)),
        ("group.create", "camera_group", str(gid)),
        ("group.update", "camera_group", str(gid)),
        ("group.members", "camera_group", str(gid)),
        ("user.grants", "user", str(uid)),
        ("layout.create", "layout", str(layout["id"])),
        ("layout.update", "layout", str(layout["id"])),
        ("layout.delete", "layout", str(layout["id"])),
        ("group.delete", "camera_group", str(gid)),
        ("user.disable", "user", str(uid)),
        ("user.update", "user", str(uid)),
        ("user.delete", "user", str(uid)),
        ("user.disable", "user", str(other.id)),
    ]
    for e in rows:
        assert e.username == "admin" and e.ip == "127.0.0.1" and e.result == "success"
        assert e.user_agent == "audit-test/1.0"
        dumped = str(e.summary)
        assert SECRET not in dumped and NEW_SECRET not in dumped and "$2" not in dumped
    assert rows[0].summary["username"] == "eve" and rows[0].summary["roles"] == ["viewer"]
    assert rows[1].summary["password"] == "[changed]"
    assert rows[1].summary["roles"] == {"from": ["viewer"], "to": ["operator"]}
    assert rows[3].summary["name"] == {"from": "Yard", "to": "Back yard"}
    assert rows[4].summary["camera_ids"] == {"from": [], "to": [cam.id]}
    assert rows[5].summary["group_ids"]["to"] == [gid]
    assert rows[10].summary["is_active"] == {"from": True, "to": False}


async def test_failed_mutation_writes_no_row(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    body = {"username": "frank", "password": SECRET}
    assert (await client.post("/api/v1/users", json=body, headers=admin_headers)).status_code == 201
    before = len(await _entries(maker))
    assert (await client.post("/api/v1/users", json=body, headers=admin_headers)).status_code == 409
    assert (await client.post("/api/v1/users", json={**body, "username": "x"},
                              headers=admin_headers)).status_code == 422
    assert len(await _entries(maker)) == before


async def _seed(maker: async_sessionmaker[AsyncSession], base: datetime) -> None:
    """Five entries one hour apart, oldest first."""
    rows = [
        ("alice", 11, "user.create", "user", "5"),
        ("alice", 11, "layout.create", "layout", "1"),
        ("bob", 12, "user.update", "user", "5"),
        ("bob", 12, "user.create", "user", "6"),
        ("123", 13, "group.create", "camera_group", "2"),
    ]
    async with maker() as s:
        for i, (name, uid, action, ttype, tid) in enumerate(rows):
            s.add(AuditEntry(ts=base + timedelta(hours=i), user_id=uid, username=name,
                             action=action, target_type=ttype, target_id=tid, ip="10.0.0.1"))
        await s.commit()


async def test_filters_and_pagination_newest_first(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    base = datetime(2030, 1, 1, tzinfo=UTC)
    await _seed(maker, base)

    async def actions(**params: Any) -> list[str]:
        params = {"start": "2030-01-01T00:00:00Z", **params}
        resp = await client.get(AUDIT, params=params, headers=admin_headers)
        assert resp.status_code == 200, resp.text
        return [e["action"] for e in resp.json()["items"]]

    assert await actions() == ["group.create", "user.create", "user.update", "layout.create",
                               "user.create"]
    assert await actions(user="alice") == ["layout.create", "user.create"]
    assert await actions(user="12") == ["user.create", "user.update"]  # by id
    assert await actions(user="123") == ["group.create"]  # an all-digit username
    assert await actions(user="nobody") == []
    assert await actions(action="user.create") == ["user.create", "user.create"]
    assert await actions(target_type="user", target_id="5") == ["user.update", "user.create"]
    assert await actions(start="2030-01-01T01:00:00+00:00", end="2030-01-01T03:00:00Z") == [
        "user.update", "layout.create"
    ]
    # An offset is honoured; a naive time is UTC.
    assert await actions(start="2030-01-01T04:00:00+01:00") == ["group.create", "user.create"]
    assert await actions(start="2030-01-01T04:00:00") == ["group.create"]

    resp = await client.get(AUDIT, params={"start": "2030-01-01T00:00:00Z", "limit": 2,
                                           "offset": 2}, headers=admin_headers)
    page = resp.json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 2
    assert [e["action"] for e in page["items"]] == ["user.update", "layout.create"]
    item = page["items"][0]
    assert set(item) == {"id", "ts", "user_id", "username", "ip", "user_agent", "action",
                         "target_type", "target_id", "summary", "result"}
    assert item["ip"] == "10.0.0.1" and item["username"] == "bob"


@pytest.mark.parametrize(
    "params",
    [
        {"start": "yesterday"},
        {"end": "2030-13-01T00:00:00Z"},
        {"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"},
        {"start": "2030-01-01T00:00:00", "end": "2030-01-02T00:00:00Z"},
        {"action": "a\u0000b"},
        {"user": "x" * 65},
        {"target_id": "x" * 20_000},
        {"limit": 0},
        {"limit": 100_000},
        {"offset": -1},
    ],
)
async def test_bad_filters_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], params: dict[str, Any]
) -> None:
    resp = await client.get(AUDIT, params=params, headers=admin_headers)
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}


async def test_audit_needs_audit_read(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> None:
    assert (await client.get(AUDIT)).status_code == 401
    for role in ("viewer", "operator"):
        user = await create_user(maker, role)
        assert (await client.get(AUDIT, headers=bearer(app_state(app), user))).status_code == 403


async def test_there_is_no_update_or_delete_api(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(maker, datetime(2030, 1, 1, tzinfo=UTC))
    entry = (await _entries(maker))[0]
    for method in ("PUT", "PATCH", "DELETE"):
        for url in (AUDIT, f"{AUDIT}/{entry.id}"):
            resp = await client.request(method, url, json={}, headers=admin_headers)
            assert resp.status_code in (404, 405), (method, url)
    assert len(await _entries(maker)) == 5


async def test_database_refuses_update_and_delete(
    maker: async_sessionmaker[AsyncSession], app: FastAPI
) -> None:
    await _seed(maker, datetime(2030, 1, 1, tzinfo=UTC))
    before = [(e.id, e.action, e.username) for e in await _entries(maker)]
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log"):
        async with maker() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(text(statement))
                await s.commit()
            await s.rollback()
    assert [(e.id, e.action, e.username) for e in await _entries(maker)] == before
    async with maker() as s:
        assert await s.scalar(select(func.count()).select_from(AuditEntry)) == 5
