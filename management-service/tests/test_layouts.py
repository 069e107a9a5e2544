"""Layouts: CRUD, grid/cells validation, sharing, per-user camera visibility."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.layouts.models import Layout

from factories.cameras import create_camera
from factories.users import bearer, create_user

LAYOUTS = "/api/v1/layouts"


async def _layout_count(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as s:
        return int(await s.scalar(select(func.count()).select_from(Layout)) or 0)


async def test_owner_crud(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[a.id, b.id])
    h = bearer(app_state(app), viewer)

    resp = await client.post(
        LAYOUTS, json={"name": "Front", "grid": 4, "cells": [a.id, None, b.id, None]}, headers=h
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["cells"] == [a.id, None, b.id, None]
    assert created["owner_id"] == viewer.id and created["owner"] == viewer.username
    assert created["shared"] is False and created["grid"] == 4
    lid = created["id"]
    assert (await client.get(f"{LAYOUTS}/{lid}", headers=h)).json() == created

    resp = await client.patch(
        f"{LAYOUTS}/{lid}", json={"name": "Front door", "grid": 1, "cells": [b.id],
                                  "shared": True}, headers=h,
    )
    assert resp.status_code == 200, resp.text
    updated = resp.json()
    assert (updated["name"], updated["grid"], updated["cells"], updated["shared"]) == (
        "Front door", 1, [b.id], True
    )
    page = (await client.get(LAYOUTS, headers=h)).json()
    assert page["total"] == 1 and page["items"][0]["name"] == "Front door"

    assert (await client.delete(f"{LAYOUTS}/{lid}", headers=h)).status_code == 204
    assert (await client.get(f"{LAYOUTS}/{lid}", headers=h)).status_code == 404
    assert await _layout_count(maker) == 0


async def test_empty_grid_by_default(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    resp = await client.post(LAYOUTS, json={"name": "Empty", "grid": 9}, headers=admin_headers)
    assert resp.status_code == 201 and resp.json()["cells"] == [None] * 9
    resp = await client.post(LAYOUTS, json={"name": "Default"}, headers=admin_headers)
    assert resp.status_code == 201 and resp.json()["grid"] == 4
    assert resp.json()["cells"] == [None] * 4


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "grid": 2},
        {"name": "x", "grid": 0},
        {"name": "x", "grid": True},
        {"name": "x", "grid": "4"},
        {"name": "x", "grid": 4, "cells": [None, None]},
        {"name": "x", "grid": 1, "cells": [None, None]},
        {"name": "x", "grid": 16, "cells": [None] * 17},
        {"name": "x", "grid": 1, "cells": ["1"]},
        {"name": "x", "grid": 1, "cells": [True]},
        {"name": "x", "grid": 1, "cells": [0]},
        {"name": "x", "grid": 1, "cells": [2**40]},
        {"name": "x", "grid": 1, "cells": [999999]},  # no such camera
        {"name": "x", "grid": 1, "cells": "cam"},
        {"name": "", "grid": 1},
        {"name": "   ", "grid": 1},
        {"name": "x" * 129, "grid": 1},
        {"name": "a\u0000b", "grid": 1},
        {"name": "x", "grid": 1, "owner_id": 1},  # unknown / read-only field
        {"name": "x", "shared": "maybe"},
        {"grid": 1},
    ],
)
async def test_layout_validation_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession], body: dict[str, Any],
) -> None:
    resp = await client.post(LAYOUTS, json=body, headers=admin_headers)
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}
    assert await _layout_count(maker) == 0


async def test_name_limits_and_duplicates(
    client: httpx.AsyncClient, app: FastAPI, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    assert (await client.post(LAYOUTS, json={"name": "x" * 128, "grid": 1},
                              headers=admin_headers)).status_code == 201
    assert (await client.post(LAYOUTS, json={"name": "Wall", "grid": 1},
                              headers=admin_headers)).status_code == 201
    resp = await client.post(LAYOUTS, json={"name": "Wall", "grid": 4}, headers=admin_headers)
    assert resp.status_code == 409 and resp.json()["error"] == "Conflict"
    # Another owner may use the same name.
    viewer = await create_user(maker, "viewer")
    vh = bearer(app_state(app), viewer)
    resp = await client.post(LAYOUTS, json={"name": "Wall", "grid": 1}, headers=vh)
    assert resp.status_code == 201
    # Renaming onto an own existing name is a conflict too.
    other = (await client.post(LAYOUTS, json={"name": "Other", "grid": 1}, headers=vh)).json()
    resp = await client.patch(f"{LAYOUTS}/{other['id']}", json={"name": "Wall"}, headers=vh)
    assert resp.status_code == 409
    assert await _layout_count(maker) == 4


async def test_camera_not_visible_to_user_is_422(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    mine = await create_camera(maker, settings.secret_key)
    hidden = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[mine.id])
    h = bearer(app_state(app), viewer)
    resp = await client.post(LAYOUTS, json={"name": "L", "grid": 1, "cells": [hidden.id]},
                             headers=h)
    assert resp.status_code == 422
    # Same answer as for a camera that does not exist: nothing learned about ``hidden``.
    missing = await client.post(LAYOUTS, json={"name": "L", "grid": 1, "cells": [999999]},
                                headers=h)
    assert missing.status_code == 422
    assert resp.json()["detail"].replace(str(hidden.id), "N") == \
        missing.json()["detail"].replace("999999", "N")
    lid = (await client.post(LAYOUTS, json={"name": "L", "grid": 1, "cells": [mine.id]},
                             headers=h)).json()["id"]
    resp = await client.patch(f"{LAYOUTS}/{lid}", json={"cells": [hidden.id]}, headers=h)
    assert resp.status_code == 422
    assert (await client.get(f"{LAYOUTS}/{lid}", headers=h)).json()["cells"] == [mine.id]


async def test_shared_layout_hides_cameras_the_reader_cannot_see(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    owner = await create_user(maker, "operator", camera_ids=[a.id, b.id])
    reader = await create_user(maker, "viewer", camera_ids=[a.id])
    oh, rh = bearer(app_state(app), owner), bearer(app_state(app), reader)
    shared = (await client.post(
        LAYOUTS, json={"name": "Shared", "grid": 4, "cells": [a.id, b.id, None, b.id],
                       "shared": True}, headers=oh,
    )).json()
    private = (await client.post(
        LAYOUTS, json={"name": "Private", "grid": 1, "cells": [b.id]}, headers=oh
    )).json()

    listed = (await client.get(LAYOUTS, headers=rh)).json()
    assert listed["total"] == 1
    assert [x["id"] for x in listed["items"]] == [shared["id"]]
    assert listed["items"][0]["cells"] == [a.id, None, None, None]
    got = await client.get(f"{LAYOUTS}/{shared['id']}", headers=rh)
    assert got.status_code == 200 and got.json()["cells"] == [a.id, None, None, None]
    assert str(b.id) not in str(got.json()["cells"])
    # The owner still sees every cell.
    assert (await client.get(f"{LAYOUTS}/{shared['id']}", headers=oh)).json()["cells"] == [
        a.id, b.id, None, b.id
    ]

    # A shared layout is read-only to others; a private one does not exist for them.
    for method, body in (("PATCH", {"name": "mine now"}), ("DELETE", None)):
        resp = await client.request(method, f"{LAYOUTS}/{shared['id']}", json=body, headers=rh)
        assert resp.status_code == 403, resp.text
        resp = await client.request(method, f"{LAYOUTS}/{private['id']}", json=body, headers=rh)
        assert resp.status_code == 404, resp.text
    assert (await client.get(f"{LAYOUTS}/{private['id']}", headers=rh)).status_code == 404
    assert (await client.get(f"{LAYOUTS}/999999", headers=rh)).status_code == 404
    assert await _layout_count(maker) == 2


async def test_admin_may_change_and_delete_any_layout(
    client: httpx.AsyncClient, app: FastAPI, admin_headers: dict[str, str],
    settings: Settings, maker: async_sessionmaker[AsyncSession],
) -> None:
    owner = await create_user(maker, "viewer")
    oh = bearer(app_state(app), owner)
    lid = (await client.post(LAYOUTS, json={"name": "Mine", "grid": 1}, headers=oh)).json()["id"]
    # Not in the admin's list (neither own nor shared), but reachable by id.
    assert (await client.get(LAYOUTS, headers=admin_headers)).json()["total"] == 0
    assert (await client.get(f"{LAYOUTS}/{lid}", headers=admin_headers)).status_code == 200
    resp = await client.patch(f"{LAYOUTS}/{lid}", json={"shared": True}, headers=admin_headers)
    assert resp.status_code == 200 and resp.json()["owner_id"] == owner.id
    assert (await client.delete(f"{LAYOUTS}/{lid}", headers=admin_headers)).status_code == 204
    assert await _layout_count(maker) == 0


async def test_grid_change_needs_matching_cells(
    client: httpx.AsyncClient, admin_headers: dict[str, str], settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    lid = (await client.post(LAYOUTS, json={"name": "G", "grid": 4, "cells": [cam.id, None,
                                                                            None, None]},
                             headers=admin_headers)).json()["id"]
    for body in ({"grid": 9}, {"cells": [cam.id]}, {"grid": 1, "cells": [None] * 4},
                 {"grid": 3, "cells": [None] * 3}, {"owner_id": 5}):
        resp = await client.patch(f"{LAYOUTS}/{lid}", json=body, headers=admin_headers)
        assert resp.status_code == 422, (body, resp.text)
    got = (await client.get(f"{LAYOUTS}/{lid}", headers=admin_headers)).json()
    assert got["grid"] == 4 and got["cells"] == [cam.id, None, None, None]
    resp = await client.patch(f"{LAYOUTS}/{lid}", json={"grid": 1, "cells": [cam.id]},
                              headers=admin_headers)
    assert resp.status_code == 200 and resp.json()["cells"] == [cam.id]


async def test_deleted_camera_and_revoked_grant_show_as_empty_cells(
    client: httpx.AsyncClient, app: FastAPI, admin_headers: dict[str, str],
    settings: Settings, maker: async_sessionmaker[AsyncSession],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[a.id, b.id])
    h = bearer(app_state(app), viewer)
    lid = (await client.post(LAYOUTS, json={"name": "L", "grid": 4,
                                            "cells": [a.id, b.id, None, None]},
                             headers=h)).json()["id"]
    async with maker() as s:
        cam = await s.get(Camera, b.id)
        await s.delete(cam)
        await s.commit()
    assert (await client.get(f"{LAYOUTS}/{lid}", headers=h)).json()["cells"] == [
        a.id, None, None, None
    ]
    resp = await client.put(f"/api/v1/users/{viewer.id}/cameras", json={"camera_ids": []},
                            headers=admin_headers)
    assert resp.status_code == 200
    assert (await client.get(f"{LAYOUTS}/{lid}", headers=h)).json()["cells"] == [None] * 4


async def test_layouts_need_permissions(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> None:
    assert (await client.get(LAYOUTS)).status_code == 401
    assert (await client.post(LAYOUTS, json={"name": "x", "grid": 1})).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.get(LAYOUTS, headers=bad)).status_code == 401
