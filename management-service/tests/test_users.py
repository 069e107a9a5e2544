"""Users admin API: CRUD, validation, duplicates, disable-vs-delete, last-admin protection."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.alerts.models import Alert
from argus_management.audit.models import AuditEntry
from argus_management.deps import app_state
from argus_management.layouts.models import Layout
from argus_management.rbac.models import User
from argus_management.users.passwords import PasswordHasher

from factories.users import bearer, create_user, login

USERS = "/api/v1/users"


async def _admin_id(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as s:
        return int(await s.scalar(select(User.id).where(User.username == "admin")) or 0)


async def _user_count(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as s:
        return int(await s.scalar(select(func.count()).select_from(User)) or 0)


async def test_create_get_list_user_without_password_hash(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    body = {"username": "alice", "email": "alice@example.com", "password": "alice-pass-1",
            "roles": ["operator"]}
    resp = await client.post(USERS, json=body, headers=admin_headers)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["username"] == "alice"
    assert created["email"] == "alice@example.com"
    assert created["roles"] == ["operator"]
    assert created["is_active"] is True
    assert "password" not in created and "password_hash" not in resp.text
    assert "alice-pass-1" not in resp.text

    got = await client.get(f"{USERS}/{created['id']}", headers=admin_headers)
    assert got.status_code == 200 and got.json() == created

    page = await client.get(USERS, headers=admin_headers, params={"limit": 1})
    assert page.status_code == 200
    data = page.json()
    assert data["total"] == 2 and data["limit"] == 1 and len(data["items"]) == 1
    assert data["items"][0]["username"] == "admin"  # ordered by id
    second = await client.get(USERS, headers=admin_headers, params={"limit": 1, "offset": 1})
    assert second.json()["items"][0]["username"] == "alice"
    assert "$2" not in page.text + second.text  # no bcrypt hash anywhere

    # The new user can log in with the password set by the admin.
    await login(client, "alice", "alice-pass-1")
    async with maker() as s:
        stored = await s.scalar(select(User).where(User.username == "alice"))
        assert stored is not None and stored.password_hash != "alice-pass-1"


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ab", "password": "long-enough-1"},  # too short
        {"username": "a" * 65, "password": "long-enough-1"},  # too long
        {"username": "bad name", "password": "long-enough-1"},  # space
        {"username": "bad/name", "password": "long-enough-1"},
        {"username": "ok_name", "password": "short"},  # password policy
        {"username": "ok_name", "password": "é" * 40},  # > 72 bytes
        {"username": "ok_name", "password": "long-enough\u00001"},  # NUL
        {"username": "ok_name", "password": "long-enough-1", "email": "not-an-email"},
        {"username": "ok_name", "password": "long-enough-1", "roles": ["superuser"]},
        {"username": "ok_name", "password": "long-enough-1", "roles": "admin"},
        {"username": "ok_name", "password": "long-enough-1", "roles": ["vie\u0000wer"]},
        {"username": "ok_name", "password": "long-enough-1", "roles": ["x" * 1_000_000]},
        {"username": "ok_name", "password": "long-enough-1", "email": "a\u0000@example.com"},
        {"username": "ok_name\u0000", "password": "long-enough-1"},
        {"username": "ok_name", "password": "long-enough-1", "is_admin": True},  # unknown field
        {"username": "ok_name"},  # missing password
        {"password": "long-enough-1"},  # missing username
    ],
)
async def test_create_user_validation_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession], body: dict[str, object],
) -> None:
    before = await _user_count(maker)
    resp = await client.post(USERS, json=body, headers=admin_headers)
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}
    assert await _user_count(maker) == before


async def test_unknown_role_names_the_role(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    resp = await client.post(
        USERS, json={"username": "bob", "password": "bob-pass-12", "roles": ["viewer", "wizard"]},
        headers=admin_headers,
    )
    assert resp.status_code == 422
    assert "wizard" in resp.json()["detail"]


async def test_duplicate_username_and_email_409(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    first = {"username": "carol", "email": "carol@example.com", "password": "carol-pass-1",
             "roles": ["viewer"]}
    assert (await client.post(USERS, json=first, headers=admin_headers)).status_code == 201
    before = await _user_count(maker)
    for body in (
        {**first, "email": "other@example.com"},
        {**first, "username": "CAROL", "email": None},  # case-insensitive
        {**first, "username": "carol2"},  # same email
        {**first, "username": "carol3", "email": "Carol@Example.com"},
    ):
        resp = await client.post(USERS, json=body, headers=admin_headers)
        assert resp.status_code == 409, (body, resp.text)
        assert resp.json()["error"] == "Conflict"
    assert await _user_count(maker) == before
    # PATCH onto a taken email is a conflict too.
    dave = await client.post(
        USERS, json={"username": "dave", "password": "dave-pass-12"}, headers=admin_headers
    )
    resp = await client.patch(
        f"{USERS}/{dave.json()['id']}", json={"email": "carol@example.com"}, headers=admin_headers
    )
    assert resp.status_code == 409


async def test_patch_user_fields_and_password(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    user = await create_user(maker, "viewer")
    url = f"{USERS}/{user.id}"
    resp = await client.patch(
        url, json={"email": "v@example.com", "roles": ["operator", "viewer"]},
        headers=admin_headers,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["email"] == "v@example.com"
    assert resp.json()["roles"] == ["operator", "viewer"]

    resp = await client.patch(url, json={"password": "brand-new-pass"}, headers=admin_headers)
    assert resp.status_code == 200
    assert resp.json()["password_changed_at"] is not None
    async with maker() as s:
        stored = await s.get(User, user.id)
        assert stored is not None
        assert await PasswordHasher(rounds=4).verify("brand-new-pass", stored.password_hash)

    resp = await client.patch(url, json={"email": None}, headers=admin_headers)
    assert resp.json()["email"] is None
    for bad in ({"roles": ["nope"]}, {"password": "x"}, {"username": "rename"}):
        resp = await client.patch(url, json=bad, headers=admin_headers)
        assert resp.status_code == 422, bad


async def test_disabled_user_loses_access_immediately(
    client: httpx.AsyncClient, admin_headers: dict[str, str], app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    user = await create_user(maker, "admin")
    h = bearer(app_state(app), user)
    assert (await client.get(USERS, headers=h)).status_code == 200  # principal now cached
    resp = await client.patch(
        f"{USERS}/{user.id}", json={"is_active": False}, headers=admin_headers
    )
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    assert (await client.get(USERS, headers=h)).status_code == 401
    resp = await client.patch(f"{USERS}/{user.id}", json={"is_active": True}, headers=admin_headers)
    assert resp.json()["is_active"] is True
    assert (await client.get(USERS, headers=h)).status_code == 200


async def test_role_change_takes_effect_on_next_request(
    client: httpx.AsyncClient, admin_headers: dict[str, str], app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    user = await create_user(maker, "viewer")
    h = bearer(app_state(app), user)
    assert (await client.get(USERS, headers=h)).status_code == 403
    await client.patch(f"{USERS}/{user.id}", json={"roles": ["admin"]}, headers=admin_headers)
    assert (await client.get(USERS, headers=h)).status_code == 200
    await client.patch(f"{USERS}/{user.id}", json={"roles": ["viewer"]}, headers=admin_headers)
    assert (await client.get(USERS, headers=h)).status_code == 403


async def test_delete_without_history_removes_the_user(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    user = await create_user(maker, "viewer")
    resp = await client.delete(f"{USERS}/{user.id}", headers=admin_headers)
    assert resp.status_code == 204 and resp.content == b""
    assert (await client.get(f"{USERS}/{user.id}", headers=admin_headers)).status_code == 404
    assert (await client.delete(f"{USERS}/{user.id}", headers=admin_headers)).status_code == 404


@pytest.mark.parametrize("history", ["audit", "layout", "alert", "login"])
async def test_delete_with_history_disables_instead(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession], history: str,
) -> None:
    user = await create_user(maker, "operator")
    async with maker() as s:
        if history == "audit":
            s.add(AuditEntry(user_id=user.id, username=user.username, action="ptz.move"))
        elif history == "layout":
            s.add(Layout(name="mine", grid=1, cells={"cells": [None]}, owner_id=user.id))
        elif history == "alert":
            s.add(Alert(kind="motion", title="t", acked_by=user.id))
        await s.commit()
    if history == "login":
        await login(client, user.username)
    resp = await client.delete(f"{USERS}/{user.id}", headers=admin_headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == user.id and resp.json()["is_active"] is False
    assert "password_hash" not in resp.text and "$2" not in resp.text
    async with maker() as s:
        stored = await s.get(User, user.id)
        assert stored is not None and stored.is_active is False


async def test_admin_cannot_delete_or_disable_themself(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    await create_user(maker, "admin")  # another admin exists: only the self-rule applies
    me = await _admin_id(maker)
    resp = await client.delete(f"{USERS}/{me}", headers=admin_headers)
    assert resp.status_code == 409 and resp.json()["error"] == "Conflict"
    resp = await client.patch(f"{USERS}/{me}", json={"is_active": False}, headers=admin_headers)
    assert resp.status_code == 409
    async with maker() as s:
        admin = await s.get(User, me)
        assert admin is not None and admin.is_active


async def test_last_active_admin_cannot_demote_themself(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    me = await _admin_id(maker)
    # A disabled admin does not count as an active one.
    await create_user(maker, "admin", active=False)
    for patch in ({"roles": ["viewer"]}, {"roles": []}, {"roles": ["operator", "viewer"]}):
        resp = await client.patch(f"{USERS}/{me}", json=patch, headers=admin_headers)
        assert resp.status_code == 409, (patch, resp.text)
        assert "last" in resp.json()["detail"]
    async with maker() as s:
        admin = await s.get(User, me)
        assert admin is not None and admin.is_active and admin.role_names == ["admin"]
    # A no-op role change is fine.
    resp = await client.patch(f"{USERS}/{me}", json={"roles": ["admin"]}, headers=admin_headers)
    assert resp.status_code == 200


async def test_admins_may_demote_each_other_until_one_is_left(
    client: httpx.AsyncClient, admin_headers: dict[str, str], app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    other = await create_user(maker, "admin")
    resp = await client.patch(
        f"{USERS}/{other.id}", json={"roles": ["viewer"]}, headers=admin_headers
    )
    assert resp.status_code == 200
    # ``other`` is no admin any more: now the built-in admin is the last one.
    me = await _admin_id(maker)
    resp = await client.patch(f"{USERS}/{me}", json={"roles": ["viewer"]}, headers=admin_headers)
    assert resp.status_code == 409
    # With a second admin again, the second may disable (or delete) the first.
    second = await create_user(maker, "admin")
    resp = await client.patch(
        f"{USERS}/{me}", json={"is_active": False}, headers=bearer(app_state(app), second)
    )
    assert resp.status_code == 200 and resp.json()["is_active"] is False


async def test_two_admins_disabling_each_other_at_once_leave_one(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> None:
    """The admin rows are locked during the check: both cannot succeed."""
    me = await _admin_id(maker)
    async with maker() as s:
        admin = await s.get(User, me)
    assert admin is not None
    other = await create_user(maker, "admin")
    a = client.patch(f"{USERS}/{other.id}", json={"is_active": False},
                     headers=bearer(app_state(app), admin))
    b = client.patch(f"{USERS}/{me}", json={"is_active": False},
                     headers=bearer(app_state(app), other))
    results = sorted(r.status_code for r in await asyncio.gather(a, b))
    assert results in ([200, 409], [200, 401]), results
    async with maker() as s:
        active = await s.scalar(
            select(func.count()).select_from(User).where(User.is_active.is_(True))
        )
    assert active == 1


async def test_roles_endpoint_lists_permissions_and_priority(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    resp = await client.get("/api/v1/roles", headers=admin_headers)
    assert resp.status_code == 200
    roles = {r["name"]: r for r in resp.json()}
    assert set(roles) >= {"admin", "operator", "viewer"}
    assert roles["admin"]["ptz_priority"] > roles["operator"]["ptz_priority"]
    assert roles["operator"]["ptz_priority"] > roles["viewer"]["ptz_priority"]
    assert "users:manage" in roles["admin"]["permissions"]
    assert "users:manage" not in roles["viewer"]["permissions"]
    assert "cameras:read" in roles["viewer"]["permissions"]


async def test_unknown_user_404_and_bad_id_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        kwargs: dict[str, object] = {"json": {}} if method == "PATCH" else {}
        resp = await client.request(method, f"{USERS}/999999", headers=admin_headers, **kwargs)  # type: ignore[arg-type]
        assert resp.status_code == 404, method
        assert resp.json()["error"] == "NotFound"
    for bad in ("abc", "0", "-1", str(2**40)):
        resp = await client.get(f"{USERS}/{bad}", headers=admin_headers)
        assert resp.status_code == 422, bad
