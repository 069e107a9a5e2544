"""Bad input on the users, groups and layouts endpoints: a 4xx envelope, nothing changed."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.layouts.models import Layout
from argus_management.rbac.models import CameraGrant, CameraGroup, User, camera_group_members

from factories.cameras import create_camera
from factories.users import bearer, create_user

BIG = "x" * 1_000_000

# Bodies wrong for every endpoint below (each expects a JSON object with known fields).
BAD_BODIES: list[tuple[bytes, str]] = [
    (b'{"name": "x", ', "application/json"),  # malformed JSON
    (b"\xff\xfe\x00garbage", "application/json"),  # not UTF-8
    (b'["a", "list"]', "application/json"),  # wrong top-level type
    (b'"just a string"', "application/json"),
    (b"null", "application/json"),
    (b"", "application/json"),
    (b'{"surprise": true}', "application/json"),  # unknown field only
    (f'{{"name": "{BIG}", "username": "{BIG}", "camera_ids": [1], "roles": ["{BIG}"]}}'.encode(),
     "application/json"),  # 1 MB strings
    (b'{"camera_ids": [1], "name": "ok"}', "text/plain"),
    (b'{"camera_ids": "1,2", "name": ["x"], "grid": {}, "roles": 5, "email": 3}',
     "application/json"),  # wrong types
]

ENDPOINTS = [
    ("POST", "/api/v1/users"),
    ("PATCH", "/api/v1/users/{user}"),
    ("PUT", "/api/v1/users/{user}/cameras"),
    ("POST", "/api/v1/camera-groups"),
    ("PATCH", "/api/v1/camera-groups/{group}"),
    ("PUT", "/api/v1/camera-groups/{group}/cameras"),
    ("POST", "/api/v1/layouts"),
    ("PATCH", "/api/v1/layouts/{layout}"),
]


@pytest.fixture
async def world(
    app: FastAPI, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> dict[str, Any]:
    cam = await create_camera(maker, settings.secret_key)
    user = await create_user(maker, "viewer", camera_ids=[cam.id])
    async with maker() as s:
        admin = await s.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        group = CameraGroup(name="Group")
        s.add(group)
        await s.flush()
        await s.execute(camera_group_members.insert().values(group_id=group.id, camera_id=cam.id))
        layout = Layout(name="Wall", grid=1, cells={"cells": [cam.id]}, owner_id=admin.id)
        s.add(layout)
        await s.commit()
        return {"headers": bearer(app_state(app), admin), "user": user.id, "group": group.id,
                "layout": layout.id}


async def _snapshot(maker: async_sessionmaker[AsyncSession]) -> list[Any]:
    """Everything the endpoints under test could change."""
    async with maker() as s:
        users = [(u.id, u.username, u.email, u.is_active, u.password_hash, u.role_names)
                 for u in (await s.scalars(select(User).order_by(User.id))).all()]
        groups = (await s.execute(select(CameraGroup.id, CameraGroup.name))).all()
        members = (await s.execute(select(camera_group_members))).all()
        grants = (await s.execute(
            select(CameraGrant.user_id, CameraGrant.camera_id, CameraGrant.group_id)
        )).all()
        layouts = (await s.execute(
            select(Layout.id, Layout.name, Layout.grid, Layout.cells, Layout.shared)
        )).all()
        audit = await s.scalar(select(func.count()).select_from(AuditEntry))
    return [users, sorted(groups), sorted(members), sorted(grants, key=str), layouts, audit]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
async def test_bad_bodies_are_4xx_and_change_nothing(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession], world: dict[str, Any],
    method: str, path: str,
) -> None:
    url = path.format(**world)
    before = await _snapshot(maker)
    for content, content_type in BAD_BODIES:
        resp = await client.request(
            method, url, content=content,
            headers={**world["headers"], "Content-Type": content_type},
        )
        assert 400 <= resp.status_code < 500, (content[:80], resp.status_code, resp.text[:300])
        body = resp.json()
        assert set(body) == {"error", "detail"}, body
        assert len(resp.content) < 10_000  # the 1 MB input is not echoed back
    assert await _snapshot(maker) == before


@pytest.mark.parametrize("path", ["/api/v1/users/{x}", "/api/v1/camera-groups/{x}",
                                  "/api/v1/layouts/{x}", "/api/v1/users/{x}/cameras"])
async def test_bad_path_ids(
    client: httpx.AsyncClient, world: dict[str, Any], path: str
) -> None:
    for bad in ("abc", "0", "-5", "1.5", str(2**31), str(10**30), "%00"):
        resp = await client.get(path.format(x=bad), headers=world["headers"])
        assert resp.status_code in (404, 405, 422), (bad, resp.status_code)
        assert set(resp.json()) == {"error", "detail"}


async def test_bad_pagination(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    for url in ("/api/v1/users", "/api/v1/camera-groups", "/api/v1/layouts", "/api/v1/audit"):
        for params in ({"limit": "many"}, {"limit": 0}, {"limit": 10**6}, {"offset": -1},
                       {"offset": 10**20}):
            resp = await client.get(url, params=params, headers=world["headers"])
            assert resp.status_code == 422, (url, params, resp.text)
            assert set(resp.json()) == {"error", "detail"}


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of a random type, favouring the edges (huge numbers, NUL, odd unicode)."""
    choices: list[Any] = [
        None, True, False, 0, -1, 1, 2**31, 2**63, 10**40, 1.5, float("1e308"), "", "\x00",
        "a\x00b", "é" * 100, "\U0001f600", "x" * 5000, " ", "admin", "viewer", [], {},
        [1, 2, 3], [None], ["\x00"], [2**31], [-1],
    ]
    if depth < 2 and rng.random() < 0.2:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if depth < 2 and rng.random() < 0.1:
        return {rng.choice(FIELDS): _random_value(rng, depth + 1)}
    return rng.choice(choices)


FIELDS = ["username", "email", "password", "roles", "is_active", "camera_ids", "group_ids",
          "name", "grid", "cells", "shared"]


async def test_random_bodies_never_500(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    """A bounded, seeded fuzz over every write endpoint: any answer but a 5xx is acceptable."""
    rng = random.Random(20240601)
    for i in range(400):
        method, path = ENDPOINTS[i % len(ENDPOINTS)]
        body = {f: _random_value(rng) for f in rng.sample(FIELDS, rng.randint(1, 4))}
        resp = await client.request(
            method, path.format(**world), json=body, headers=world["headers"]
        )
        assert resp.status_code < 500, (method, path, body, resp.text[:300])
