"""Video walls: CRUD and permissions, pushes (audited), the display credential's scope
(its own monitor's state and the cameras pushed to it, nothing else; revoked or replaced
credentials stop working), alarm pushes and the monitor's online state."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state

from factories.cameras import create_camera
from factories.events import internal_headers, report_event
from factories.users import create_user, login

WALLS = "/api/v1/walls"
DISPLAY = "/api/v1/wall-display"


async def _wall_with_monitor(
    client: httpx.AsyncClient, admin: dict[str, str], **monitor: Any
) -> tuple[int, int]:
    r = await client.post(WALLS, json={"name": "Control room"}, headers=admin)
    assert r.status_code == 201, r.text
    wall = r.json()["id"]
    r = await client.post(
        f"{WALLS}/{wall}/monitors", json={"name": "Left", **monitor}, headers=admin
    )
    assert r.status_code == 201, r.text
    return wall, r.json()["id"]


async def _display(client: httpx.AsyncClient, wall: int, monitor: int, key: str) -> httpx.Response:
    return await client.post(
        f"{DISPLAY}/token", json={"wall_id": wall, "monitor_id": monitor, "key": key}
    )


async def _actions(maker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with maker() as s:
        return list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_walls_crud_permissions_and_push(
    client: httpx.AsyncClient,
    app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    secret = app_state(app).settings.secret_key
    cam = await create_camera(maker, secret, name="Gate")
    hidden = await create_camera(maker, secret, name="Vault")
    operator = await create_user(maker, "operator", camera_ids=[cam.id])
    viewer = await create_user(maker, "viewer", camera_ids=[cam.id])
    op_h = await login(client, operator.username)
    viewer_h = await login(client, viewer.username)
    wall, monitor = await _wall_with_monitor(client, admin_headers)
    base = f"{WALLS}/{wall}/monitors/{monitor}"

    # Operators see walls and push, but do not manage them; viewers see nothing.
    assert (await client.get(WALLS, headers=viewer_h)).status_code == 403
    assert (await client.post(WALLS, json={"name": "x"}, headers=op_h)).status_code == 403
    assert (await client.post(f"{base}/credential", headers=op_h)).status_code == 403
    assert (
        await client.post(
            f"{base}/push", json={"kind": "camera", "camera_id": cam.id}, headers=viewer_h
        )
    ).status_code == 403
    # Bad input: 4xx in the envelope.
    for body in (
        {"kind": "camera"},
        {"kind": "camera", "camera_id": True},
        {"kind": "tour", "cameras": [cam.id, cam.id]},
        {"kind": "clear", "camera_id": cam.id},
        {"kind": "wave"},
    ):
        r = await client.post(f"{base}/push", json=body, headers=op_h)
        assert r.status_code == 422 and r.json()["error"], (body, r.text)
    r = await client.post(
        f"{base}/push", json={"kind": "camera", "camera_id": hidden.id}, headers=op_h
    )
    assert r.status_code == 422, r.text  # a camera the operator may not see
    assert (
        await client.post(WALLS, json={"name": "Control room"}, headers=admin_headers)
    ).status_code == 409
    assert (await client.get(f"{WALLS}/999999", headers=op_h)).status_code == 404
    assert (
        await client.post(
            f"{WALLS}/{wall}/monitors/999999/push", json={"kind": "clear"}, headers=op_h
        )
    ).status_code == 404

    r = await client.post(
        f"{base}/push", json={"kind": "camera", "camera_id": cam.id}, headers=op_h
    )
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["content"]["cells"] == [cam.id]
    assert shown["content"]["source"] == {"kind": "camera", "id": cam.id, "name": "Gate"}
    assert shown["pushed_by"] == operator.username and shown["online"] is False

    # A layout push shows the layout as the pusher sees it; a tour is a 1-cell tour.
    r = await client.post(
        "/api/v1/layouts",
        json={"name": "L", "grid": 4, "cells": [cam.id, None, None, None]},
        headers=op_h,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{base}/push", json={"kind": "layout", "layout_id": r.json()["id"]}, headers=op_h
    )
    assert r.status_code == 200 and r.json()["content"]["grid"] == 4, r.text
    r = await client.post(
        f"{base}/push",
        json={"kind": "tour", "cameras": [cam.id, hidden.id], "dwell_s": 5},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    # The operator does not see the hidden camera in the overview.
    r = await client.get(f"{WALLS}/{wall}", headers=op_h)
    assert r.json()["monitors"][0]["content"]["tours"][0]["cameras"] == [cam.id]

    too_long = [f"{n:02d}" + "k" * 62 for n in range(16)]  # 16 x 64 characters
    r = await client.patch(f"{base}", json={"alarm_kinds": too_long}, headers=admin_headers)
    assert r.status_code == 422, r.text
    r = await client.patch(
        f"{base}", json={"alarm_kinds": ["motion", "BAD KIND"]}, headers=admin_headers
    )
    assert r.status_code == 422, r.text
    r = await client.patch(
        f"{base}", json={"alarm_kinds": ["motion"], "name": "Main"}, headers=admin_headers
    )
    assert r.status_code == 200 and r.json()["alarm_kinds"] == ["motion"], r.text

    actions = await _actions(maker)
    assert actions.count("wall.push") == 3
    assert {"wall.create", "wall.monitor_create", "wall.monitor_update"} <= set(actions)
    assert (await client.delete(f"{WALLS}/{wall}", headers=admin_headers)).status_code == 204
    assert (await client.get(f"{WALLS}/{wall}", headers=op_h)).status_code == 404
    assert "wall.delete" in await _actions(maker)


async def test_display_credential_opens_only_its_monitor(
    client: httpx.AsyncClient,
    app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    settings: Settings,
) -> None:
    secret = app_state(app).settings.secret_key
    cam = await create_camera(maker, secret, name="Gate")
    other = await create_camera(maker, secret, name="Dock")
    wall, monitor = await _wall_with_monitor(client, admin_headers)
    _, second = await _wall_with_monitor_in(client, admin_headers, wall)
    base = f"{WALLS}/{wall}/monitors/{monitor}"
    r = await client.post(f"{base}/credential", headers=admin_headers)
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert r.json()["display_url"] == f"/wall/{wall}/{monitor}#key={key}"
    listed = (await client.get(f"{WALLS}/{wall}", headers=admin_headers)).text
    assert key not in listed  # shown once

    assert (await _display(client, wall, monitor, key + "x")).status_code == 401
    assert (await _display(client, wall, second, key)).status_code == 401
    assert (await _display(client, wall + 1, monitor, key)).status_code == 401
    r = await _display(client, wall, monitor, key)
    assert r.status_code == 200, r.text
    display = {"Authorization": f"Bearer {r.json()['access_token']}"}

    # Nothing of the operators' API.
    for path in (
        "/api/v1/cameras",
        f"/api/v1/cameras/{cam.id}",
        WALLS,
        "/api/v1/users/me",
        "/api/v1/layouts",
    ):
        assert (await client.get(path, headers=display)).status_code == 401, path
    # A user's token is not a display token.
    assert (await client.get(f"{DISPLAY}/state", headers=admin_headers)).status_code == 401

    r = await client.get(f"{DISPLAY}/state", headers=display)
    assert r.status_code == 200, r.text
    assert r.json()["content"]["source"]["kind"] == "empty" and r.json()["cameras"] == []
    assert (await client.get(f"{DISPLAY}/cameras/{cam.id}", headers=display)).status_code == 404

    r = await client.post(
        f"{base}/push", json={"kind": "camera", "camera_id": cam.id}, headers=admin_headers
    )
    assert r.status_code == 200, r.text
    state = (await client.get(f"{DISPLAY}/state", headers=display)).json()
    assert state["content"]["cells"] == [cam.id]
    assert state["cameras"] == [
        {"id": cam.id, "name": "Gate", "status": "unknown", "has_sub_stream": False}
    ]
    assert "stream_url" not in str(state)
    assert (await client.get(f"{DISPLAY}/cameras/{cam.id}", headers=display)).status_code == 200
    assert (await client.get(f"{DISPLAY}/cameras/{other.id}", headers=display)).status_code == 404
    # Online in the overview once it polled.
    mon = (await client.get(f"{WALLS}/{wall}", headers=admin_headers)).json()["monitors"][0]
    assert mon["online"] is True and mon["last_seen"] is not None

    # streaming's re-check: this monitor, this credential, the pushed camera only.
    claims = app_state(app).jwt.decode(display["Authorization"][7:], "access")
    assert claims["sub"] == f"wall:{monitor}"

    async def allowed(items: list[dict[str, Any]]) -> list[bool]:
        r = await client.post(
            "/internal/access",
            json={"items": items},
            headers=internal_headers(settings, "streaming"),
        )
        assert r.status_code == 200, r.text
        return list(r.json()["allowed"])

    fam = claims["fam"]
    assert await allowed(
        [
            {"monitor_id": monitor, "camera_id": cam.id, "fam": fam},
            {"monitor_id": monitor, "camera_id": other.id, "fam": fam},
            {"monitor_id": second, "camera_id": cam.id, "fam": fam},
            {"monitor_id": monitor, "camera_id": cam.id, "fam": "old"},
            {"monitor_id": monitor, "camera_id": cam.id, "fam": fam, "recordings": True},
        ]
    ) == [True, False, False, False, False]

    # A new credential ends the old one and its tokens; a revoked one ends everything.
    r = await client.post(f"{base}/credential", headers=admin_headers)
    new_key = r.json()["key"]
    assert (await _display(client, wall, monitor, key)).status_code == 401
    assert (await client.get(f"{DISPLAY}/state", headers=display)).status_code == 401
    assert await allowed([{"monitor_id": monitor, "camera_id": cam.id, "fam": fam}]) == [False]
    r = await _display(client, wall, monitor, new_key)
    display = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get(f"{DISPLAY}/state", headers=display)).status_code == 200
    assert (await client.delete(f"{base}/credential", headers=admin_headers)).status_code == 204
    assert (await client.get(f"{DISPLAY}/state", headers=display)).status_code == 401
    assert (await _display(client, wall, monitor, new_key)).status_code == 401
    assert (await client.delete(f"{base}/credential", headers=admin_headers)).status_code == 409
    actions = await _actions(maker)
    assert actions.count("wall.credential_issue") == 2
    assert "wall.credential_revoke" in actions and "wall.display_login" in actions
    # Each display login is audited: the successes with the monitor, never a credential.
    async with maker() as s:
        logins = list(
            await s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "wall.display_login")
                .order_by(AuditEntry.id)
            )
        )
    ok = [row for row in logins if row.result == "success"]
    assert len(ok) == 2 and len(logins) - len(ok) == 5, [(r.result, r.target_id) for r in logins]
    for row in ok:
        assert row.username == f"wall:{monitor}" and row.target_id == str(monitor), row
        assert row.summary == {"wall_id": wall, "monitor_id": monitor}
    for secret_text in (key, new_key, display["Authorization"][7:]):
        assert all(secret_text not in str(row.summary) for row in logins)


async def _wall_with_monitor_in(
    client: httpx.AsyncClient, admin: dict[str, str], wall: int
) -> tuple[int, int]:
    r = await client.post(
        f"{WALLS}/{wall}/monitors", json={"name": "Right", "position": 1}, headers=admin
    )
    assert r.status_code == 201, r.text
    return wall, r.json()["id"]


async def test_alarm_pushes_its_camera_to_the_chosen_monitor(
    client: httpx.AsyncClient,
    app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    settings: Settings,
) -> None:
    secret = app_state(app).settings.secret_key
    cam = await create_camera(maker, secret, name="Gate")
    wall, alarm_monitor = await _wall_with_monitor(client, admin_headers, alarm_kinds=["motion"])
    _, quiet = await _wall_with_monitor_in(client, admin_headers, wall)

    await report_event(client, settings, cam.id, "motion.start")
    monitors = (await client.get(f"{WALLS}/{wall}", headers=admin_headers)).json()["monitors"]
    by_id = {m["id"]: m for m in monitors}
    assert by_id[alarm_monitor]["content"]["cells"] == [cam.id]
    assert by_id[alarm_monitor]["content"]["source"]["kind"] == "alarm"
    assert by_id[alarm_monitor]["pushed_by"] == "alarm motion"
    assert by_id[quiet]["content"]["source"]["kind"] == "empty"
    # An event type without an alert rule pushes nothing.
    await client.post(
        f"{WALLS}/{wall}/monitors/{alarm_monitor}/push",
        json={"kind": "clear"},
        headers=admin_headers,
    )
    await report_event(client, settings, cam.id, "motion.end")
    r = await client.get(f"{WALLS}/{wall}", headers=admin_headers)
    assert {m["id"]: m for m in r.json()["monitors"]}[alarm_monitor]["content"]["source"][
        "kind"
    ] == "empty"
    assert "wall.alarm_push" in await _actions(maker)


async def test_a_push_tells_the_wall_viewers_consoles(
    client: httpx.AsyncClient,
    app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    """``wall.changed`` on /ws/alerts: to every walls:view holder (whatever cameras they
    see: the frame names none), not to others."""
    import asyncio
    import json

    from argus_management.rbac.principal import Principal

    def principal(user_id: int, permissions: set[str]) -> Principal:
        return Principal(
            user_id=user_id, username=f"u{user_id}", roles=("operator",),
            permissions=frozenset({"events:read", *permissions}), camera_ids=frozenset({999}),
        )  # fmt: skip

    hub = app_state(app).alert_hub
    viewer = hub.add(principal(9001, {"walls:view"}))
    other = hub.add(principal(9002, set()))
    try:
        cam = await create_camera(maker, app_state(app).settings.secret_key, name="Quay")
        wall, monitor = await _wall_with_monitor(client, admin_headers)
        r = await client.post(
            f"{WALLS}/{wall}/monitors/{monitor}/push",
            json={"kind": "camera", "camera_id": cam.id},
            headers=admin_headers,
        )
        assert r.status_code == 200, r.text
        for _ in range(500):  # the fan-out task relays it from Redis
            if viewer.pending:
                break
            await asyncio.sleep(0.01)
        frames = [json.loads(raw) for raw in viewer.pending]
        assert frames == [
            {
                "type": "wall.changed",
                "wall_id": wall,
                "monitor_id": monitor,
                "camera_id": None,
                "permission": "walls:view",
            }
        ]
        assert not other.pending
    finally:
        hub.remove(viewer)
        hub.remove(other)
