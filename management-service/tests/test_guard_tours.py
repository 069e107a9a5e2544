"""PTZ guard tours: the server visits a camera's presets in turn under the PTZ lock at the
lowest priority; an operator who takes control pauses the tour, which resumes when the
operator's lock expires; every step of that is audited. And the REST API's rules."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.deps import app_state
from argus_management.guard_tours.runner import GuardTourRunner

from factories.onvif_sim import OnvifSim, create_onvif_camera, launch_onvif
from factories.users import bearer, create_user

TOURS = "/api/v1/guard-tours"


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    s = launch_onvif(cameras=1)
    yield s
    s.stop()


async def _preset(
    client: httpx.AsyncClient, base: str, headers: dict[str, str], name: str, pan: float
) -> str:
    move = {"mode": "absolute", "pan": pan, "tilt": 0.0, "zoom": 0.0}
    assert (await client.post(f"{base}/move", json=move, headers=headers)).status_code == 200
    resp = await client.post(f"{base}/presets", json={"name": name}, headers=headers)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["token"])


async def _wait_state(
    client: httpx.AsyncClient,
    tour_id: int,
    headers: dict[str, str],
    wanted: str,
    timeout_s: float = 15.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        resp = await client.get(f"{TOURS}/{tour_id}", headers=headers)
        assert resp.status_code == 200, resp.text
        status: dict[str, Any] = resp.json()["status"]
        if status["state"] == wanted:
            return status
        assert time.monotonic() < deadline, f"tour never {wanted}: {status}"
        await asyncio.sleep(0.1)


def _near(pan: float) -> Any:
    return lambda p: p["pan"] is not None and abs(p["pan"] - pan) < 0.01


async def test_guard_tour_yields_to_an_operator_and_resumes(
    client: httpx.AsyncClient,
    app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
    sim: OnvifSim,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = app_state(app)
    cam = await create_onvif_camera(maker, state.settings.secret_key, sim.onvif_ports["cam1"])
    base = f"/api/v1/cameras/{cam.id}/ptz"
    assert (await client.post(f"{base}/lock", headers=admin_headers)).status_code == 200
    east = await _preset(client, base, admin_headers, "east", 0.5)
    west = await _preset(client, base, admin_headers, "west", -0.5)
    assert (await client.delete(f"{base}/lock", headers=admin_headers)).status_code == 204

    body = {
        "camera_id": cam.id,
        "name": "perimeter",
        "steps": [{"preset": east, "dwell_s": 1}, {"preset": west, "dwell_s": 1}],
    }
    created = await client.post(TOURS, json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    tour = created.json()
    assert tour["status"]["state"] == "idle" and len(tour["steps"]) == 2

    runner = GuardTourRunner(state.settings, state.sessionmaker, state.ptz, tick_s=0.2)
    task = asyncio.create_task(runner.run())
    try:
        assert _near(0.5)(await sim.wait_ptz(_near(0.5), timeout_s=10))
        assert _near(-0.5)(await sim.wait_ptz(_near(-0.5), timeout_s=10))  # it moves on
        await _wait_state(client, tour["id"], admin_headers, "running")
        lock = (await client.get(f"{base}/lock", headers=admin_headers)).json()
        assert lock["holder_username"] == "guard tour perimeter" and lock["priority"] < 0

        # An operator takes control, without asking for a takeover: the tour pauses.
        monkeypatch.setattr(state.settings, "ptz_lock_ttl_s", 2.0)
        operator = await create_user(maker, "operator", camera_ids=[cam.id])
        op = bearer(state, operator)
        taken = await client.post(f"{base}/lock", headers=op)
        assert taken.status_code == 200 and taken.json()["yours"] is True, taken.text
        here = {"mode": "absolute", "pan": 0.0, "tilt": 0.5, "zoom": 0.0}
        assert (await client.post(f"{base}/move", json=here, headers=op)).status_code == 200
        paused = await _wait_state(client, tour["id"], admin_headers, "paused")
        assert paused["held_by"] == operator.username
        ptz = await sim.ptz()
        assert (round(ptz["pan"], 2), round(ptz["tilt"], 2)) == (0.0, 0.5)

        # The operator stops sending commands: the lock expires and the tour resumes.
        await _wait_state(client, tour["id"], admin_headers, "running", timeout_s=20)
        await sim.wait_ptz(lambda p: abs(abs(p["pan"]) - 0.5) < 0.01, timeout_s=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async with maker() as session:
        rows = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    actions = [r.action for r in rows]
    for action in (
        "guard_tour.create",
        "ptz.guard_tour_started",
        "ptz.takeover",
        "ptz.guard_tour_paused",
        "ptz.guard_tour_resumed",
    ):
        assert action in actions, (action, actions)
    assert actions.index("ptz.guard_tour_paused") < actions.index("ptz.guard_tour_resumed")
    takeover = next(r for r in rows if r.action == "ptz.takeover")
    assert takeover.user_id == operator.id
    assert takeover.summary["previous_username"] == "guard tour perimeter"
    tour_session = next(
        r for r in rows if r.action == "ptz_session" and r.summary.get("end") == "takeover"
    )
    assert tour_session.user_id is None and tour_session.summary["moves"] >= 2


async def test_guard_tour_api_rules(
    client: httpx.AsyncClient,
    app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
    sim: OnvifSim,
    admin_headers: dict[str, str],
) -> None:
    state = app_state(app)
    secret = state.settings.secret_key
    cam = await create_onvif_camera(maker, secret, sim.onvif_ports["cam1"])
    no_ptz = await create_onvif_camera(maker, secret, sim.onvif_ports["cam1"], has_ptz=False)
    step = {"preset": "1", "dwell_s": 5}
    for bad in (
        {"steps": []},
        {"steps": [{"preset": "1", "dwell_s": 0.5}]},
        {"steps": [{"preset": "a/b", "dwell_s": 5}]},
        {"name": ""},
        {"steps": [step] * 33},
        {"extra": 1},
    ):
        body = {"camera_id": cam.id, "name": "t", "steps": [step], **bad}
        resp = await client.post(TOURS, json=body, headers=admin_headers)
        assert resp.status_code == 422, (bad, resp.text)
    resp = await client.post(
        TOURS, json={"camera_id": no_ptz.id, "name": "t", "steps": [step]}, headers=admin_headers
    )
    assert resp.status_code == 409
    resp = await client.post(
        TOURS, json={"camera_id": 99_999, "name": "t", "steps": [step]}, headers=admin_headers
    )
    assert resp.status_code == 404
    first = await client.post(
        TOURS, json={"camera_id": cam.id, "name": "a", "steps": [step]}, headers=admin_headers
    )
    assert first.status_code == 201
    second = {"camera_id": cam.id, "name": "b", "steps": [step]}
    assert (await client.post(TOURS, json=second, headers=admin_headers)).status_code == 409
    off = await client.post(TOURS, json={**second, "enabled": False}, headers=admin_headers)
    assert off.status_code == 201 and off.json()["status"]["state"] == "disabled"
    tid = off.json()["id"]
    assert (
        await client.patch(f"{TOURS}/{tid}", json={"enabled": True}, headers=admin_headers)
    ).status_code == 409
    same = await client.patch(f"{TOURS}/{tid}", json={"name": "a"}, headers=admin_headers)
    assert same.status_code == 409
    assert (
        await client.patch(f"{TOURS}/{tid}", json={"steps": None}, headers=admin_headers)
    ).status_code == 422

    operator = bearer(state, await create_user(maker, "operator", camera_ids=[cam.id]))
    other = bearer(state, await create_user(maker, "operator", camera_ids=[no_ptz.id]))
    viewer = bearer(state, await create_user(maker, "viewer", camera_ids=[cam.id]))
    listed = await client.get(TOURS, headers=operator)
    assert listed.status_code == 200 and {t["name"] for t in listed.json()} == {"a", "b"}
    assert (await client.get(TOURS, headers=other)).json() == []
    assert (await client.get(f"{TOURS}/{tid}", headers=other)).status_code == 404
    assert (await client.get(TOURS, headers=viewer)).status_code == 403
    assert (await client.post(TOURS, json=second, headers=operator)).status_code == 403
    assert (await client.delete(f"{TOURS}/{tid}", headers=operator)).status_code == 403
    assert (await client.delete(f"{TOURS}/{tid}", headers=admin_headers)).status_code == 204
    assert (await client.get(f"{TOURS}/{tid}", headers=admin_headers)).status_code == 404
    async with maker() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("guard_tour.%"))
            )
        )
    assert actions == ["guard_tour.create", "guard_tour.create", "guard_tour.delete"]
