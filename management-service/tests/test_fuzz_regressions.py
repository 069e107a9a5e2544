"""What schemathesis found on the SQLite stack (test_fuzz_api.py), each kept as a test that
runs in-process on SQLite (the database ``make run`` uses)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.main import create_app

from conftest import REDIS_URL

PASSWORD = "sqlite-admin-pw"


@pytest.fixture
async def sqlite_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a fresh SQLite file, with the admin's token on every request."""
    namespace = f"argus-sqlite-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        ARGUS_ENV="test",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'argus.db'}",
        REDIS_URL=REDIS_URL,
        ARGUS_REDIS_NAMESPACE=namespace,
        SECRET_KEY="sqlite-secret-key-0123456789",
        INTERNAL_API_KEY="sqlite-internal-key-0123",
        ARGUS_ADMIN_USERNAME="root",
        ARGUS_ADMIN_PASSWORD=PASSWORD,
        ARGUS_DATA_DIR=str(tmp_path),
        MANAGEMENT_BCRYPT_ROUNDS=4,
        MANAGEMENT_LIVENESS_ENABLED=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=20
        ) as client:
            login = await client.post(
                "/api/v1/auth/login", data={"username": "root", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            client.app = app  # type: ignore[attr-defined]
            yield client
        redis = app_state(app).bus.redis
        keys = [k async for k in redis.scan_iter(match=f"{namespace}:*")]
        if keys:
            await redis.delete(*keys)


async def test_reset_confirm_with_an_unknown_token_is_a_prompt_400(
    sqlite_client: httpx.AsyncClient,
) -> None:
    """Found: the request's UPDATE of the token began a write, then the detached audit
    row of the refusal waited for that write's lock (30 s, then 503)."""
    resp = await sqlite_client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": "no-such-token-0123456789", "new_password": "a-new-password-123"},
    )
    assert resp.status_code == 400, resp.text
    assert set(resp.json()) == {"error", "detail"}
    maker = app_state(sqlite_client.app).sessionmaker  # type: ignore[attr-defined]
    async with maker() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.summary).where(AuditEntry.action == "auth.password_reset")
            )
        ).all()
    assert {"reason": "invalid_token"} in actions
