"""PTZ commands against the simulator's ONVIF PTZ: moves change the simulated head (read back
through its control API), stop stops it, presets and home round-trip; bad input is a 422 that
changes nothing; camera errors are 409/404/403/502/504, never 500."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.cameras.models import Camera
from argus_management.deps import app_state
from argus_testkit.ports import free_port

from factories import ptz
from factories.onvif_sim import OnvifSim, create_onvif_camera
from factories.ptz import ptz_audit, url
from factories.users import bearer, create_user

Headers = dict[str, str]
# The shared PTZ fixtures, found by name (``_fresh_head`` is autouse in this module).
sim, cam, _fresh_head = ptz.sim, ptz.cam, ptz._fresh_head


@pytest.fixture
async def op(app: FastAPI, maker: async_sessionmaker[AsyncSession], cam: Camera) -> Headers:
    user = await create_user(maker, "operator", camera_ids=[cam.id])
    return bearer(app_state(app), user)


@pytest.fixture
async def admin(admin_headers: Headers) -> Headers:
    return admin_headers


async def test_continuous_move_turns_the_view_and_stop_stops_it(
    client: httpx.AsyncClient, cam: Camera, op: Headers, sim: OnvifSim,
) -> None:
    assert (await client.post(url(cam.id, "lock"), headers=op)).status_code == 200
    body = {"mode": "continuous", "pan": 1.0, "tilt": 0.5, "timeout_s": 5}
    resp = await client.post(url(cam.id, "move"), json=body, headers=op)
    assert resp.status_code == 200, resp.text
    assert resp.json()["stops_at"] and resp.json()["lock"]["yours"] is True
    head = await sim.wait_ptz(lambda p: p["pan"] > 0.1)
    assert head["moving"] and head["pan"] > 0.1 and head["tilt"] > 0

    status = (await client.get(url(cam.id, "status"), headers=op)).json()
    assert status["moving"] is True and status["position"]["pan"] > 0.1
    assert status["lock"]["yours"] is True

    assert (await client.post(url(cam.id, "stop"), headers=op)).status_code == 200
    stopped = await sim.ptz()
    assert stopped["moving"] is False
    await asyncio.sleep(0.2)
    assert (await sim.ptz())["pan"] == stopped["pan"]


async def test_a_continuous_move_is_stopped_by_the_server_when_its_timeout_ends(
    client: httpx.AsyncClient, cam: Camera, op: Headers, sim: OnvifSim,
) -> None:
    await client.post(url(cam.id, "lock"), headers=op)
    stops = sim.log_count("cam1 ptz stop")
    body = {"mode": "continuous", "zoom": 0.2, "timeout_s": 1}
    assert (await client.post(url(cam.id, "move"), json=body, headers=op)).status_code == 200
    for _ in range(100):  # the server's Stop arrives about a second later
        if sim.log_count("cam1 ptz stop") > stops:
            break
        await asyncio.sleep(0.05)
    assert sim.log_count("cam1 ptz stop") == stops + 1
    head = await sim.ptz()
    assert head["moving"] is False and head["zoom"] > 0


async def test_absolute_and_relative_moves_land_where_asked(
    client: httpx.AsyncClient, cam: Camera, op: Headers, sim: OnvifSim,
) -> None:
    await client.post(url(cam.id, "lock"), headers=op)

    async def move(**body: object) -> None:
        resp = await client.post(url(cam.id, "move"), json=body, headers=op)
        assert resp.status_code == 200, resp.text

    await move(mode="absolute", pan=0.5, tilt=-0.25, zoom=0.4)
    head = await sim.ptz()
    assert (head["pan"], head["tilt"], head["zoom"]) == pytest.approx((0.5, -0.25, 0.4))
    await move(mode="relative", pan=-0.1, zoom=0.1)
    head = await sim.ptz()
    assert (head["pan"], head["tilt"], head["zoom"]) == pytest.approx((0.4, -0.25, 0.5))
    await move(mode="absolute", zoom=0.2)  # pan and tilt stay
    await move(mode="absolute", pan=0.0)  # tilt stays
    head = await sim.ptz()
    assert (head["pan"], head["tilt"], head["zoom"]) == pytest.approx((0.0, -0.25, 0.2))
    status = (await client.get(url(cam.id, "status"), headers=op)).json()
    assert status["position"] == pytest.approx({"pan": 0.0, "tilt": -0.25, "zoom": 0.2})
    assert status["moving"] is False


async def test_presets_and_home_round_trip_and_are_audited(
    client: httpx.AsyncClient, cam: Camera, op: Headers, sim: OnvifSim,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    await client.post(url(cam.id, "lock"), headers=op)
    await client.post(url(cam.id, "move"), json={"mode": "absolute", "pan": 0.3, "tilt": 0.2},
                      headers=op)
    name = f"door-{uuid.uuid4().hex[:6]}"
    created = await client.post(url(cam.id, "presets"), json={"name": name}, headers=op)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    listed = (await client.get(url(cam.id, "presets"), headers=op)).json()
    mine = next(p for p in listed if p["token"] == token)
    assert mine["name"] == name and mine["position"]["pan"] == pytest.approx(0.3)

    await client.post(url(cam.id, "move"), json={"mode": "absolute", "pan": -0.6}, headers=op)
    resp = await client.post(url(cam.id, f"presets/{token}/goto"), headers=op)
    assert resp.status_code == 200, resp.text
    assert (await sim.ptz())["pan"] == pytest.approx(0.3)
    assert (await client.delete(url(cam.id, f"presets/{token}"), headers=op)).status_code == 204
    listed = (await client.get(url(cam.id, "presets"), headers=op)).json()
    assert token not in {p["token"] for p in listed}

    await client.post(url(cam.id, "move"), json={"mode": "absolute", "pan": 0.7}, headers=op)
    assert (await client.put(url(cam.id, "home"), headers=op)).status_code == 200
    await client.post(url(cam.id, "move"), json={"mode": "absolute", "pan": -0.2}, headers=op)
    assert (await client.post(url(cam.id, "home/goto"), headers=op)).status_code == 200
    assert (await sim.ptz())["pan"] == pytest.approx(0.7)

    rows = await ptz_audit(maker)
    assert [r.action for r in rows] == ["ptz.lock", "ptz.preset_set", "ptz.preset_remove",
                                        "ptz.home_set"]
    assert rows[1].summary == {"preset_token": token, "name": name}
    assert all(r.target_id == str(cam.id) and r.username.startswith("operator") for r in rows)


BAD_MOVES: list[object] = [
    {"mode": "continuous", "pan": 1.5},
    {"mode": "continuous", "tilt": -1.01},
    {"mode": "continuous", "pan": 0.5, "timeout_s": 0},
    {"mode": "continuous", "pan": 0.5, "timeout_s": 11},
    {"mode": "continuous", "pan": 0.5, "timeout_s": 2.5},
    {"mode": "continuous", "pan": 0.5, "timeout_s": "3"},
    {"mode": "continuous"},
    {"mode": "continuous", "pan": 0.5, "speed": 1},
    {"mode": "spin", "pan": 0.5},
    {"pan": 0.5},
    {"mode": "relative"},
    {"mode": "relative", "tilt": 1.5},
    {"mode": "absolute"},
    {"mode": "absolute", "zoom": -0.1},
    {"mode": "absolute", "pan": 2},
    [],
    "x" * 1_000_000,
]


async def test_bad_input_is_422_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, cam: Camera, op: Headers, sim: OnvifSim,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_state(app).settings, "ptz_rate_per_s", 10_000)
    await client.post(url(cam.id, "lock"), headers=op)
    await client.post(url(cam.id, "move"), json={"mode": "absolute", "pan": 0.1}, headers=op)
    before = await sim.ptz()
    presets = (await client.get(url(cam.id, "presets"), headers=op)).json()
    for body in BAD_MOVES:
        resp = await client.post(url(cam.id, "move"), json=body, headers=op)
        assert resp.status_code == 422, (str(body)[:80], resp.text[:200])
        assert resp.json()["error"] == "ValidationError"
    nan = await client.post(url(cam.id, "move"), content=b'{"mode":"continuous","pan":NaN}',
                            headers={**op, "content-type": "application/json"})
    assert nan.status_code == 422
    for name in ("", " ", "x" * 65, "a\x00b", "x" * 1_000_000):
        resp = await client.post(url(cam.id, "presets"), json={"name": name}, headers=op)
        assert resp.status_code == 422, resp.text[:200]
    for path in ("presets/999/goto", "presets/nope"):
        call = client.post if path.endswith("goto") else client.delete
        resp = await call(url(cam.id, path), headers=op)
        assert resp.status_code == 422 and "camera refused" in resp.json()["detail"], resp.text
    for token in ("bad%20token", "x" * 65):
        resp = await client.post(url(cam.id, f"presets/{token}/goto"), headers=op)
        assert resp.status_code == 422
    assert await sim.ptz() == before
    assert (await client.get(url(cam.id, "presets"), headers=op)).json() == presets


async def test_camera_problems_are_clear_errors(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    sim: OnvifSim, admin: Headers,
) -> None:
    secret = app_state(app).settings.secret_key
    port = sim.onvif_ports["cam1"]
    no_ptz = await create_onvif_camera(maker, secret, port, has_ptz=False)
    no_onvif = await create_onvif_camera(maker, secret, port, host=None)
    wrong_pw = await create_onvif_camera(maker, secret, port, password="wrong-pw")
    gone = await create_onvif_camera(maker, secret, free_port(), connect_timeout_s=0.5)
    hidden = await create_onvif_camera(maker, secret, port)
    operator = await create_user(maker, "operator",
                                 camera_ids=[no_ptz.id, no_onvif.id, wrong_pw.id, gone.id])
    op = bearer(app_state(app), operator)
    viewer = bearer(app_state(app), await create_user(maker, "viewer", camera_ids=[hidden.id]))

    async def status(camera_id: int, headers: Headers) -> httpx.Response:
        return await client.get(url(camera_id, "status"), headers=headers)

    assert (await status(no_ptz.id, op)).json()["detail"] == "camera has no PTZ"
    assert (await status(no_ptz.id, op)).status_code == 409
    assert (await status(no_onvif.id, op)).status_code == 409
    assert (await status(hidden.id, op)).status_code == 404
    assert (await status(99_999, op)).status_code == 404
    assert (await status(hidden.id, viewer)).status_code == 403
    bad = await status(wrong_pw.id, op)
    assert bad.status_code == 502 and bad.json()["detail"] == "camera authentication failed"
    assert (await client.post(url(wrong_pw.id, "lock"), headers=op)).status_code == 200
    move = await client.post(url(wrong_pw.id, "move"), json={"mode": "relative", "pan": 0.1},
                             headers=op)
    assert move.status_code == 502
    down = await status(gone.id, op)
    assert down.status_code == 504 and "camera unreachable" in down.json()["detail"]
    # The admin sees every camera; the same errors, never a 500.
    assert (await status(wrong_pw.id, admin)).status_code == 502


async def test_devices_are_reused_until_the_camera_changes(
    client: httpx.AsyncClient, app: FastAPI, cam: Camera, admin: Headers,
) -> None:
    pool = app_state(app).ptz.pool
    assert (await client.get(url(cam.id, "status"), headers=admin)).status_code == 200
    device = pool._devices[cam.id][1]
    assert (await client.get(url(cam.id, "presets"), headers=admin)).status_code == 200
    assert pool._devices[cam.id][1] is device
    # Any change of the camera is announced on argus:cameras, which drops its device.
    renamed = await client.patch(f"/api/v1/cameras/{cam.id}", json={"name": "renamed"},
                                 headers=admin)
    assert renamed.status_code == 200
    for _ in range(100):
        if cam.id not in pool._devices:
            break
        await asyncio.sleep(0.02)
    assert cam.id not in pool._devices
    assert (await client.get(url(cam.id, "status"), headers=admin)).status_code == 200
    device = pool._devices[cam.id][1]

    patch = await client.patch(f"/api/v1/cameras/{cam.id}", json={"password": "changed"},
                               headers=admin)
    assert patch.status_code == 200
    resp = await client.get(url(cam.id, "status"), headers=admin)
    assert resp.status_code == 502 and pool._devices[cam.id][1] is not device
    await client.patch(f"/api/v1/cameras/{cam.id}", json={"password": "admin"}, headers=admin)
    assert (await client.get(url(cam.id, "status"), headers=admin)).status_code == 200
