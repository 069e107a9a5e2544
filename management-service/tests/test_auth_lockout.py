"""Brute-force protection: per-(account, address) progressive delays and a per-address
limit, kept in Redis (the client is 127.0.0.1 throughout)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.auth.lockout import LoginGuard
from argus_management.deps import app_state

from conftest import ADMIN_PASSWORD

LOGIN = "/api/v1/auth/login"


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, data={"username": username, "password": password})


def _guard(app: FastAPI) -> LoginGuard:
    return LoginGuard(app_state(app).bus, app_state(app).settings)


async def _actions(maker: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with maker() as s:
        return list((await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def test_five_failures_lock_the_account(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> None:
    # From this address only (test_login_throttle.py: another address is not affected);
    # the first delay is MANAGEMENT_LOGIN_DELAY_BASE_S (30 s).
    for _ in range(5):
        assert (await _login(client, "admin", "wrong-password")).status_code == 401
    resp = await _login(client, "admin", ADMIN_PASSWORD)  # right password, still refused
    assert resp.status_code == 429
    body = resp.json()
    assert body["error"] == "TooManyRequests"
    assert "temporarily locked" in body["detail"] and "30 seconds" in body["detail"]
    assert 20 <= int(resp.headers["retry-after"]) <= 30
    lock_key = _guard(app).lock_key("admin", "127.0.0.1")
    ttl = await app_state(app).bus.redis.ttl(lock_key)
    assert 20 <= ttl <= 30
    # Locked attempts are not counted: the lock is not extended by hammering.
    assert (await _login(client, "admin", "wrong-password")).status_code == 429
    assert await app_state(app).bus.redis.ttl(lock_key) <= ttl
    rows = await _actions(maker)
    # Five failures, then the two refused attempts of the same address within one minute
    # share one row (anonymous rows are aggregated per action, result, address and minute).
    assert [r.action for r in rows].count("auth.login_failed") == 6
    [lock] = [r for r in rows if r.action == "auth.lockout"]
    assert lock.username == "admin" and lock.summary == {"scope": "account", "seconds": 30}
    denied = [r for r in rows if r.action == "auth.login_failed" and r.result == "denied"]
    assert len(denied) == 1 and denied[0].summary == {"reason": "account_locked"}


async def test_lock_expires_with_its_key(client: httpx.AsyncClient, app: FastAPI) -> None:
    for _ in range(5):
        await _login(client, "admin", "wrong-password")
    assert (await _login(client, "admin", ADMIN_PASSWORD)).status_code == 429
    # Stand-in for waiting 15 minutes: the lock is only the Redis key and its TTL.
    await app_state(app).bus.redis.delete(_guard(app).lock_key("admin", "127.0.0.1"))
    assert (await _login(client, "admin", ADMIN_PASSWORD)).status_code == 200


async def test_success_clears_the_failure_count(client: httpx.AsyncClient) -> None:
    for _ in range(4):
        assert (await _login(client, "admin", "wrong-password")).status_code == 401
    assert (await _login(client, "admin", ADMIN_PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await _login(client, "admin", "wrong-password")).status_code == 401
    assert (await _login(client, "admin", ADMIN_PASSWORD)).status_code == 200


async def test_unknown_accounts_lock_like_real_ones(client: httpx.AsyncClient) -> None:
    # Otherwise a 429 would reveal which names exist.
    for _ in range(5):
        assert (await _login(client, "ghost-user", "wrong-password")).status_code == 401
    resp = await _login(client, "ghost-user", "wrong-password")
    assert resp.status_code == 429
    assert "temporarily locked" in resp.json()["detail"]


async def test_per_address_limit(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_state(app).settings, "login_ip_max_failures", 3)
    for i in range(3):  # a different name each time: no account reaches its own limit
        assert (await _login(client, f"spray-{i}", "wrong-password")).status_code == 401
    resp = await _login(client, "admin", ADMIN_PASSWORD)
    assert resp.status_code == 429
    assert "from this address" in resp.json()["detail"]
    assert int(resp.headers["retry-after"]) > 0
    # Another address still gets in.
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        assert (await _login(other, "admin", ADMIN_PASSWORD)).status_code == 200
    [lock] = [r for r in await _actions(maker) if r.action == "auth.lockout"]
    assert lock.summary["scope"] == "ip" and lock.ip == "127.0.0.1"


async def test_lockout_uses_configured_numbers(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_state(app).settings, "login_max_failures", 2)
    monkeypatch.setattr(app_state(app).settings, "login_lockout_s", 120)
    monkeypatch.setattr(app_state(app).settings, "login_delay_base_s", 300)  # capped: 120
    for _ in range(2):
        assert (await _login(client, "admin", "wrong-password")).status_code == 401
    resp = await _login(client, "admin", ADMIN_PASSWORD)
    assert resp.status_code == 429
    assert "2 minutes" in resp.json()["detail"]
    assert 110 <= int(resp.headers["retry-after"]) <= 120
