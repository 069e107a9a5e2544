"""Camera tours saved with layouts: validation (422), visibility per reader, audit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state

from factories.cameras import create_camera
from factories.users import bearer, create_user

LAYOUTS = "/api/v1/layouts"


async def _cams(maker: async_sessionmaker[AsyncSession], settings: Settings, n: int) -> list[int]:
    return [(await create_camera(maker, settings.secret_key)).id for _ in range(n)]


async def test_tour_round_trip_and_update(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a, b, c = await _cams(maker, settings, 3)
    tour = {"cell": 1, "cameras": [a, b, c], "dwell_s": 5}
    resp = await client.post(
        LAYOUTS,
        headers=admin_headers,
        json={"name": "Tour", "grid": 4, "cells": [a, b, None, None], "tours": [tour]},
    )
    assert resp.status_code == 201, resp.text
    lid = resp.json()["id"]
    assert resp.json()["tours"] == [tour]
    assert (await client.get(f"{LAYOUTS}/{lid}", headers=admin_headers)).json()["tours"] == [tour]
    # Default dwell; a name-only update keeps the tours; tours: [] removes them.
    resp = await client.patch(
        f"{LAYOUTS}/{lid}", headers=admin_headers, json={"tours": [{"cell": 0, "cameras": [c, a]}]}
    )
    assert resp.json()["tours"] == [{"cell": 0, "cameras": [c, a], "dwell_s": 10}]
    resp = await client.patch(f"{LAYOUTS}/{lid}", headers=admin_headers, json={"name": "T2"})
    assert resp.json()["tours"] == [{"cell": 0, "cameras": [c, a], "dwell_s": 10}]
    # Shrinking the grid below a tour's cell is refused as a whole.
    resp = await client.patch(
        f"{LAYOUTS}/{lid}",
        headers=admin_headers,
        json={"grid": 1, "cells": [a], "tours": [{"cell": 2, "cameras": [a, b]}]},
    )
    assert resp.status_code == 422 and set(resp.json()) == {"error", "detail"}
    resp = await client.patch(f"{LAYOUTS}/{lid}", headers=admin_headers, json={"tours": []})
    assert resp.status_code == 200 and resp.json()["tours"] == []
    # Layouts listed carry their tours; existing layouts without tours read as [].
    items = (await client.get(LAYOUTS, headers=admin_headers)).json()["items"]
    assert [i["tours"] for i in items] == [[]]
    async with maker() as s:
        rows = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "layout.update"))
        ).all()
    assert any("tours" in (r.summary or {}) for r in rows)


@pytest.mark.parametrize(
    "tours",
    [
        [{"cell": 0, "cameras": [1]}],  # one camera is no tour
        [{"cell": 0, "cameras": [1, 1]}],  # each camera once
        [{"cell": 4, "cameras": [1, 2]}],  # outside a 4-cell grid
        [{"cell": -1, "cameras": [1, 2]}],
        [{"cell": 0, "cameras": [1, 2]}, {"cell": 0, "cameras": [2, 1]}],  # two in one cell
        [{"cell": 0, "cameras": [1, 2], "dwell_s": 2}],  # too short
        [{"cell": 0, "cameras": [1, 2], "dwell_s": 3601}],
        [{"cell": 0, "cameras": [1, 2], "dwell_s": "10"}],
        [{"cell": 0, "cameras": [1, 2], "dwell_s": True}],
        [{"cell": True, "cameras": [1, 2]}],
        [{"cell": 0, "cameras": [1, "2"]}],
        [{"cell": 0, "cameras": [1, 999999]}],  # no such camera
        [{"cell": 0, "cameras": list(range(1, 66))}],  # too many
        [{"cell": 0, "cameras": [1, 2], "extra": 1}],
        [{"cameras": [1, 2]}],
        {"cell": 0, "cameras": [1, 2]},  # not a list
    ],
)
async def test_bad_tours_422(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    settings: Settings,
    maker: async_sessionmaker[AsyncSession],
    tours: Any,
) -> None:
    await _cams(maker, settings, 2)
    resp = await client.post(
        LAYOUTS, headers=admin_headers, json={"name": "Bad", "grid": 4, "tours": tours}
    )
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}
    ok = await client.post(LAYOUTS, headers=admin_headers, json={"name": "Ok", "grid": 4})
    resp = await client.patch(
        f"{LAYOUTS}/{ok.json()['id']}", headers=admin_headers, json={"tours": tours}
    )
    assert resp.status_code == 422, resp.text
    assert (await client.get(f"{LAYOUTS}/{ok.json()['id']}", headers=admin_headers)).json()[
        "tours"
    ] == []


async def test_tours_show_only_cameras_the_reader_may_see(
    client: httpx.AsyncClient,
    app: FastAPI,
    admin_headers: dict[str, str],
    settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a, b, c = await _cams(maker, settings, 3)
    resp = await client.post(
        LAYOUTS,
        headers=admin_headers,
        json={
            "name": "Shared tour",
            "grid": 1,
            "cells": [a],
            "shared": True,
            "tours": [{"cell": 0, "cameras": [a, b, c], "dwell_s": 4}],
        },
    )
    assert resp.status_code == 201
    viewer = await create_user(maker, "viewer", camera_ids=[a, c])
    vh = bearer(app_state(app), viewer)
    items = (await client.get(LAYOUTS, headers=vh)).json()["items"]
    assert items[0]["tours"] == [{"cell": 0, "cameras": [a, c], "dwell_s": 4}]
    only = await create_user(maker, "viewer", camera_ids=[b])
    got = (
        await client.get(f"{LAYOUTS}/{resp.json()['id']}", headers=bearer(app_state(app), only))
    ).json()
    assert got["tours"] == [{"cell": 0, "cameras": [b], "dwell_s": 4}]
    # A camera the user may not see cannot be put in a tour (same 422 as a missing one).
    own = await client.post(
        LAYOUTS,
        headers=vh,
        json={"name": "Mine", "grid": 1, "tours": [{"cell": 0, "cameras": [a, b]}]},
    )
    assert own.status_code == 422
