"""Who may call what: each built-in role (and no token) against representative endpoints.

401 without a token, 403 with a token lacking the permission, success otherwise.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.rbac.models import User

from factories.cameras import create_camera
from factories.users import bearer, create_user

ROLES = ("admin", "operator", "viewer", "anonymous")


def _user_body() -> dict[str, Any]:
    return {"username": f"u-{uuid.uuid4().hex[:8]}", "password": "matrix-pass-1",
            "roles": ["viewer"]}


def _layout_body() -> dict[str, Any]:
    return {"name": f"L-{uuid.uuid4().hex[:8]}", "grid": 1}


def _camera_body() -> dict[str, Any]:
    return {"name": f"C-{uuid.uuid4().hex[:8]}", "stream_url": "rtsp://10.9.8.7:554/main"}


# (method, path, body factory, {role: accepted statuses}); {target}/{group} are filled in.
CASES: list[tuple[str, str, Any, dict[str, set[int]]]] = [
    ("GET", "/api/v1/users", None,
     {"admin": {200}, "operator": {403}, "viewer": {403}}),
    ("POST", "/api/v1/users", _user_body,
     {"admin": {201}, "operator": {403}, "viewer": {403}}),
    ("GET", "/api/v1/users/{target}", None,
     {"admin": {200}, "operator": {403}, "viewer": {403}}),
    ("PATCH", "/api/v1/users/{target}", lambda: {"email": "t@example.com"},
     {"admin": {200}, "operator": {403}, "viewer": {403}}),
    ("GET", "/api/v1/users/{target}/cameras", None,
     {"admin": {200}, "operator": {403}, "viewer": {403}}),
    ("PUT", "/api/v1/users/{target}/cameras", lambda: {"camera_ids": []},
     {"admin": {200}, "operator": {403}, "viewer": {403}}),
    ("DELETE", "/api/v1/users/{target}", None,
     {"admin": {204}, "operator": {403}, "viewer": {403}}),
    ("GET", "/api/v1/roles", None,
     {"admin": {200}, "operator": {403}, "viewer": {403}}),
    ("GET", "/api/v1/camera-groups", None,
     {"admin": {200}, "operator": {403}, "viewer": {403}}),
    ("POST", "/api/v1/camera-groups", lambda: {"name": f"G-{uuid.uuid4().hex[:8]}"},
     {"admin": {201}, "operator": {403}, "viewer": {403}}),
    ("PUT", "/api/v1/camera-groups/{group}/cameras", lambda: {"camera_ids": []},
     {"admin": {200}, "operator": {403}, "viewer": {403}}),
    ("DELETE", "/api/v1/camera-groups/{group}", None,
     {"admin": {204}, "operator": {403}, "viewer": {403}}),
    ("GET", "/api/v1/audit", None,
     {"admin": {200}, "operator": {403}, "viewer": {403}}),
    ("GET", "/api/v1/layouts", None,
     {"admin": {200}, "operator": {200}, "viewer": {200}}),
    ("POST", "/api/v1/layouts", _layout_body,
     {"admin": {201}, "operator": {201}, "viewer": {201}}),
    ("GET", "/api/v1/cameras", None,
     {"admin": {200}, "operator": {200}, "viewer": {200}}),
    ("POST", "/api/v1/cameras", _camera_body,
     {"admin": {201, 422}, "operator": {403}, "viewer": {403}}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES]
)
async def test_rbac_matrix(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], role: str, method: str, path: str, body: Any,
    expected: dict[str, set[int]],
) -> None:
    await create_camera(maker, settings.secret_key)
    target = await create_user(maker, "viewer")
    if role == "admin":
        async with maker() as s:
            user = await s.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        headers = bearer(app_state(app), user)
    elif role == "anonymous":
        headers = {}
    else:
        headers = bearer(app_state(app), await create_user(maker, role))
    group_id = 0
    if "{group}" in path:
        async with maker() as s:
            from argus_management.rbac.models import CameraGroup

            group = CameraGroup(name=f"G-{uuid.uuid4().hex[:8]}")
            s.add(group)
            await s.commit()
            group_id = group.id
    url = path.format(target=target.id, group=group_id)
    resp = await client.request(method, url, json=body() if body else None, headers=headers)
    allowed = {401} if role == "anonymous" else expected[role]
    assert resp.status_code in allowed, (role, method, url, resp.status_code, resp.text)
    if resp.status_code >= 400:
        assert set(resp.json()) == {"error", "detail"}


async def test_invalid_or_expired_token_is_401(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(maker, "admin")
    for headers in (
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic YWRtaW46eA=="},
        {"Authorization": app_state(app).jwt.issue(str(user.id), "access", 900).token},  # no scheme
        {"Authorization": f"Bearer {app_state(app).jwt.issue(str(user.id), 'refresh', 900).token}"},
    ):
        for url in ("/api/v1/users", "/api/v1/audit", "/api/v1/layouts"):
            resp = await client.get(url, headers=headers)
            assert resp.status_code == 401, (headers, url, resp.text)
