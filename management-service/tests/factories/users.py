"""Users and tokens for tests."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.deps import app_state
from argus_management.rbac.models import CameraGrant, Role, User
from argus_management.users.passwords import PasswordHasher

DEFAULT_PASSWORD = "correct-horse-battery"

# The cost the test settings use (MANAGEMENT_BCRYPT_ROUNDS=4): verification reads the cost
# from the hash, so users made here log in like any other.
_HASHER = PasswordHasher(rounds=4)


async def create_user(
    maker: async_sessionmaker[AsyncSession],
    role: str = "viewer",
    *,
    username: str | None = None,
    password: str = DEFAULT_PASSWORD,
    camera_ids: list[int] | None = None,
    active: bool = True,
) -> User:
    """A user with ``role`` (and direct grants to ``camera_ids``) written to the database."""
    async with maker() as session:
        r = await session.scalar(select(Role).where(Role.name == role))
        assert r is not None, role
        user = User(
            username=username or f"{role}-{uuid.uuid4().hex[:8]}",
            email=None,
            password_hash=await _HASHER.hash(password),
            is_active=active,
        )
        user.roles = [r]
        session.add(user)
        await session.flush()
        for cid in camera_ids or []:
            session.add(CameraGrant(user_id=user.id, camera_id=cid))
        await session.commit()
        return user


async def login(
    client: httpx.AsyncClient, username: str, password: str = DEFAULT_PASSWORD
) -> dict[str, str]:
    """Log in through the API; returns the Authorization header."""
    resp = await client.post(
        "/api/v1/auth/login", data={"username": username, "password": password}
    )
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def bearer(app_state: object, user: User, ttl_s: int = 900) -> dict[str, str]:
    """An access token minted directly (no login round trip) for ``user``."""
    token = app_state.jwt.issue(str(user.id), "access", ttl_s)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token.token}"}


async def admin_headers(app: FastAPI, **extra: str) -> dict[str, str]:
    """The Authorization header (and ``extra`` headers) of the first admin, the account the
    lifespan creates from ``ARGUS_ADMIN_USERNAME``; a token minted directly."""
    state = app_state(app)
    async with state.sessionmaker() as session:
        admin = await session.scalar(
            select(User).where(User.username == (state.settings.admin_username or "admin"))
        )
    assert admin is not None, "the first admin is missing"
    return {**bearer(state, admin), **extra}
