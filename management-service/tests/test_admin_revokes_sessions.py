"""An administrator's change to a user ends that user's open sessions (issue 16, finding 3).

Resetting the password, disabling the user, or a role change that takes a permission away
revokes the user's refresh families and refuses their live access tokens at once, as the
self-service paths (password change, password reset) already did. A role change that only
adds permissions leaves the sessions alone.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry

from factories.users import DEFAULT_PASSWORD, create_user

USERS = "/api/v1/users"


async def _session_of(client: httpx.AsyncClient, username: str) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/auth/login", data={"username": username, "password": DEFAULT_PASSWORD}
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _auth(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _refused(client: httpx.AsyncClient, tokens: dict[str, Any]) -> None:
    me = await client.get("/api/v1/users/me", headers=_auth(tokens))
    assert me.status_code == 401, me.text
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401, refreshed.text


async def test_admin_password_reset_ends_the_users_sessions(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    user = await create_user(maker, "operator")
    first, second = await _session_of(client, user.username), await _session_of(
        client, user.username
    )
    assert (await client.get("/api/v1/users/me", headers=_auth(first))).status_code == 200
    resp = await client.patch(
        f"{USERS}/{user.id}", json={"password": "reset-by-admin-1"}, headers=admin_headers
    )
    assert resp.status_code == 200, resp.text
    await _refused(client, first)
    await _refused(client, second)
    # The new password works, and its session is not caught by the revocation.
    fresh = await client.post(
        "/api/v1/auth/login", data={"username": user.username, "password": "reset-by-admin-1"}
    )
    assert fresh.status_code == 200
    assert (await client.get("/api/v1/users/me", headers=_auth(fresh.json()))).status_code == 200
    async with maker() as s:
        row = (await s.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.update")
        )).one()
    assert row.summary["sessions_ended"] == {
        "reason": "password_reset", "refresh_tokens_revoked": 2,
    }


async def test_disabling_ends_sessions_even_after_re_enabling(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    user = await create_user(maker, "viewer")
    tokens = await _session_of(client, user.username)
    url = f"{USERS}/{user.id}"
    assert (await client.patch(url, json={"is_active": False}, headers=admin_headers)).is_success
    assert (await client.patch(url, json={"is_active": True}, headers=admin_headers)).is_success
    # Re-enabling the account does not bring the old session back.
    await _refused(client, tokens)


@pytest.mark.parametrize(("before", "after", "ends"), [
    ("operator", ["viewer"], True),  # loses ptz:control, cameras:write …
    ("viewer", ["viewer", "operator"], False),  # only gains
])
async def test_role_changes_end_sessions_only_when_they_take_something_away(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession], before: str, after: list[str], ends: bool,
) -> None:
    user = await create_user(maker, before)
    tokens = await _session_of(client, user.username)
    resp = await client.patch(f"{USERS}/{user.id}", json={"roles": after}, headers=admin_headers)
    assert resp.status_code == 200, resp.text
    if ends:
        await _refused(client, tokens)
    else:
        me = await client.get("/api/v1/users/me", headers=_auth(tokens))
        assert me.status_code == 200 and sorted(me.json()["roles"]) == sorted(after)


async def test_deleting_a_user_with_history_ends_its_sessions(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    user = await create_user(maker, "viewer")
    tokens = await _session_of(client, user.username)  # the login is history: disabled
    resp = await client.delete(f"{USERS}/{user.id}", headers=admin_headers)
    assert resp.status_code == 200, resp.text
    await _refused(client, tokens)
