"""Absolute session lifetime (MANAGEMENT_SESSION_MAX_AGE_S, issue 16 finding 11): refreshing
never extends a login beyond it; then refresh answers 401 and only a new login helps."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.auth import refresh as refresh_tokens
from argus_management.config import Settings
from argus_management.deps import app_state

from conftest import ADMIN_PASSWORD

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


async def _login(client: httpx.AsyncClient) -> dict[str, object]:
    resp = await client.post(LOGIN, data={"username": "admin", "password": ADMIN_PASSWORD})
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    return body


async def test_a_fresh_token_of_an_old_session_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """A refresh token minted a moment ago, but in a family whose login is older than the
    lifetime, does not refresh (refreshing every few minutes cannot keep a session alive)."""
    codec = app_state(app).jwt
    opened = int(time.time()) - settings.session_max_age_s - 60
    async with maker() as session:
        token = await refresh_tokens.issue(
            session, codec, 1, 600, refresh_tokens.new_family_id(), opened
        )
        await session.commit()
    resp = await client.post(REFRESH, json={"refresh_token": token.token})
    assert resp.status_code == 401
    assert resp.json() == {
        "error": "Unauthorized",
        "detail": "session reached its maximum age; log in again",
    }
    # The same login within its lifetime refreshes as before.
    started = int(time.time()) - 60
    async with maker() as session:
        young = await refresh_tokens.issue(
            session, codec, 1, 600, refresh_tokens.new_family_id(), started
        )
        await session.commit()
    ok = await client.post(REFRESH, json={"refresh_token": young.token})
    assert ok.status_code == 200, ok.text
    claims = codec.decode(ok.json()["refresh_token"], "refresh")
    assert claims["auth_time"] == started  # the next token keeps the login's time


async def test_short_lifetime_ends_the_session(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "session_max_age_s", 2)
    codec = app_state(app).jwt
    first = await _login(client)
    # No token of the session outlives it.
    assert 0 < int(str(first["expires_in"])) <= 2
    assert 0 < int(str(first["refresh_expires_in"])) <= 2
    opened = codec.decode(str(first["access_token"]), "access")["auth_time"]
    second = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    if second.status_code == 200:  # still within the 2 s: the login time is carried over
        refreshed = codec.decode(second.json()["refresh_token"], "refresh")
        assert refreshed["auth_time"] == opened
        assert refreshed["exp"] <= opened + 2
        last = second.json()["refresh_token"]
    else:
        last = first["refresh_token"]
    for _ in range(40):  # bounded: the session ends 2 s after the login
        if time.time() > opened + 2:
            break
        await asyncio.sleep(0.1)
    resp = await client.post(REFRESH, json={"refresh_token": last})
    assert resp.status_code == 401
    assert resp.json()["error"] == "Unauthorized"
    # Logging in again opens a new session.
    again = await _login(client)
    assert codec.decode(str(again["access_token"]), "access")["auth_time"] > opened
