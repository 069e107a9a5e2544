"""The PTZ lock: exclusive control, takeover by a higher priority (told on /ws/alerts), expiry
without renewal, release; every lock change stops a running move and is audited; PTZ requests
are rate-limited per user."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect

from argus_management import versions
from argus_management.cameras.models import Camera
from argus_management.deps import app_state
from argus_management.rbac.models import User

from factories import ptz
from factories.onvif_sim import OnvifSim
from factories.ptz import ptz_audit, url
from factories.users import bearer, create_user

Headers = dict[str, str]
# The shared PTZ fixtures, found by name (``_fresh_head`` is autouse in this module).
sim, cam, _fresh_head = ptz.sim, ptz.cam, ptz._fresh_head
CONTINUOUS = {"mode": "continuous", "pan": 0.5, "timeout_s": 10}


async def operator(app: FastAPI, maker: async_sessionmaker[AsyncSession],
                   cam: Camera) -> tuple[User, Headers]:
    user = await create_user(maker, "operator", camera_ids=[cam.id])
    return user, bearer(app_state(app), user)


async def test_two_operators_contend_and_the_second_is_told_who_drives(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    cam: Camera, sim: OnvifSim,
) -> None:
    first, op1 = await operator(app, maker, cam)
    _, op2 = await operator(app, maker, cam)
    no_lock = await client.post(url(cam.id, "move"), json=CONTINUOUS, headers=op1)
    assert no_lock.status_code == 409 and "take the PTZ lock" in no_lock.json()["detail"]
    # Stopping a camera nobody controls needs no lock.
    assert (await client.post(url(cam.id, "stop"), headers=op2)).status_code == 200

    held = await client.post(url(cam.id, "lock"), headers=op1)
    assert held.status_code == 200 and held.json()["yours"] is True
    expires = held.json()["expires_at"]
    for call in (client.post(url(cam.id, "lock"), headers=op2),
                 client.post(url(cam.id, "move"), json=CONTINUOUS, headers=op2),
                 client.post(url(cam.id, "stop"), headers=op2),
                 client.put(url(cam.id, "home"), headers=op2),
                 client.delete(url(cam.id, "lock"), headers=op2)):
        resp = await call
        assert resp.status_code == 409, resp.text
        assert first.username in resp.json()["detail"] and "until" in resp.json()["detail"]
    # Equal priority (operator, 50) cannot take over.
    takeover = await client.post(url(cam.id, "lock"), json={"takeover": True}, headers=op2)
    assert takeover.status_code == 409 and "higher priority" in takeover.json()["detail"]
    seen = (await client.get(url(cam.id, "lock"), headers=op2)).json()
    assert seen["holder_username"] == first.username and seen["yours"] is False
    assert seen["priority"] == 50
    await asyncio.sleep(0.01)
    renewed = await client.post(url(cam.id, "lock"), headers=op1)  # the holder's heartbeat
    assert renewed.status_code == 200 and renewed.json()["expires_at"] > expires
    assert [r.action for r in await ptz_audit(maker)] == ["ptz.lock"]  # renewals are not
    assert (await sim.ptz())["moving"] is False


async def test_admin_takes_over_and_the_operator_is_told_and_stopped(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    cam: Camera, sim: OnvifSim, live_server: str,
) -> None:
    bus = app_state(app).bus
    await bus.redis.set(bus.key(versions.AUTHZ), uuid.uuid4().hex)  # the live server's cache
    for _ in range(200):  # both apps subscribed to argus:ptz
        counts = dict(await bus.redis.pubsub_numsub(bus.key("ptz")))
        if int(next(iter(counts.values()), 0)) >= 2:
            break
        await asyncio.sleep(0.01)
    user, op = await operator(app, maker, cam)
    token = op["Authorization"].split()[1]
    admin = {"Authorization": f"Bearer {app_state(app).jwt.issue('1', 'access', 900).token}"}

    async with connect(f"ws://{live_server}/ws/alerts",
                       subprotocols=["bearer", token]) as ws:  # type: ignore[list-item]
        assert json.loads(await asyncio.wait_for(ws.recv(), 2))["type"] == "ready"
        assert (await client.post(url(cam.id, "lock"), headers=op)).status_code == 200
        acquired = json.loads(await asyncio.wait_for(ws.recv(), 2))
        assert (acquired["type"], acquired["reason"]) == ("ptz.lock", "acquired")
        assert (await client.post(url(cam.id, "move"), json=CONTINUOUS,
                                  headers=op)).status_code == 200
        assert (await sim.wait_ptz(lambda p: p["moving"]))["moving"] is True

        taken = await client.post(url(cam.id, "lock"), json={"takeover": True}, headers=admin)
        assert taken.status_code == 200, taken.text
        assert taken.json()["holder_username"] == "admin" and taken.json()["priority"] == 100
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 2))
    assert message["type"] == "ptz.lock" and message["reason"] == "takeover"
    assert message["camera_id"] == cam.id and message["previous_user_id"] == user.id
    assert message["holder_username"] == "admin"
    assert (await sim.ptz())["moving"] is False  # stopped before the takeover answered

    again = await client.post(url(cam.id, "move"), json=CONTINUOUS, headers=op)
    assert again.status_code == 409 and "admin" in again.json()["detail"]
    rows = await ptz_audit(maker)
    assert [r.action for r in rows] == ["ptz.lock", "ptz.takeover"]
    assert rows[1].summary["previous_username"] == user.username
    assert rows[1].username == "admin"


async def test_lock_expires_without_renewal_and_the_camera_stops(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    cam: Camera, sim: OnvifSim, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_state(app).settings, "ptz_lock_ttl_s", 1.0)
    user, op = await operator(app, maker, cam)
    bus = app_state(app).bus
    pubsub = bus.redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(bus.key("ptz"))
    slow = {"mode": "continuous", "pan": 0.1, "timeout_s": 10}  # 0.1 unit/s for 10 s
    try:
        assert (await client.post(url(cam.id, "lock"), headers=op)).status_code == 200
        moved = await client.post(url(cam.id, "move"), json=slow, headers=op)
        assert moved.status_code == 200, moved.text
        head = await sim.wait_ptz(lambda p: not p["moving"], timeout_s=6)
        # Stopped about a second in, when the lock ran out: far short of the 10 s move.
        assert head["moving"] is False and 0 < head["pan"] < 0.5
        reasons = []
        for _ in range(100):
            message = await pubsub.get_message(timeout=0.05)
            if message is not None:
                reasons.append(json.loads(message["data"]))
            if any(r["reason"] == "expired" for r in reasons):
                break
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    expired = next(r for r in reasons if r["reason"] == "expired")
    assert expired["previous_user_id"] == user.id and expired["holder_user_id"] is None
    assert (await client.get(url(cam.id, "lock"), headers=op)).json() is None
    late = await client.post(url(cam.id, "move"), json=CONTINUOUS, headers=op)
    assert late.status_code == 409


async def test_release_stops_the_move_and_is_audited(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    cam: Camera, sim: OnvifSim,
) -> None:
    _, op = await operator(app, maker, cam)
    await client.post(url(cam.id, "lock"), headers=op)
    await client.post(url(cam.id, "move"), json=CONTINUOUS, headers=op)
    assert (await sim.ptz())["moving"] is True
    assert (await client.delete(url(cam.id, "lock"), headers=op)).status_code == 204
    assert (await sim.ptz())["moving"] is False
    assert (await client.get(url(cam.id, "lock"), headers=op)).json() is None
    assert (await client.delete(url(cam.id, "lock"), headers=op)).status_code == 204  # no-op
    assert [r.action for r in await ptz_audit(maker)] == ["ptz.lock", "ptz.unlock"]


async def test_ptz_requests_are_rate_limited_per_user(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    cam: Camera, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_state(app).settings, "ptz_rate_per_s", 5)
    _, op = await operator(app, maker, cam)
    _, other = await operator(app, maker, cam)
    statuses = [(await client.get(url(cam.id, "lock"), headers=op)) for _ in range(20)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and all(r.status_code in (200, 429) for r in statuses)
    assert limited[0].headers["retry-after"] == "1"
    assert "at most 5 per second" in limited[0].json()["detail"]
    assert (await client.get(url(cam.id, "lock"), headers=other)).status_code == 200
