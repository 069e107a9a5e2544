"""End to end: a simulator fault reaches the operator's WebSocket as ``camera.offline`` and
the recovery as ``camera.online``, with the checker running on its own schedule (1 s)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect

from argus_management import versions
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.liveness.checker import LivenessChecker

from factories.cameras import CAMERA_PASSWORD, create_camera
from factories.camsim import Camsim, launch

INTERVAL_S = 1.0


@pytest.fixture(scope="module")
def sim() -> Iterator[Camsim]:
    s = launch("--cameras", "2", "--auth", "both", "--username", "camuser",
               "--password", CAMERA_PASSWORD)
    yield s
    s.stop()


@pytest.fixture
async def running_checker(app: FastAPI, settings: Settings) -> AsyncIterator[LivenessChecker]:
    """The checker loop as the app runs it, with a 1 s interval and a short alert window."""
    fast = settings.model_copy(update={
        "liveness_enabled": True, "liveness_interval_s": INTERVAL_S,
        "liveness_alert_window_s": 60.0,
    })
    checker = LivenessChecker(fast, app_state(app).sessionmaker, app_state(app).bus)
    task = asyncio.create_task(checker.run())
    yield checker
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def admin_ws(app: FastAPI, live_server: str) -> AsyncIterator[ClientConnection]:
    bus = app_state(app).bus
    await bus.redis.set(bus.key(versions.AUTHZ), uuid.uuid4().hex)  # live server's cache
    token = app_state(app).jwt.issue("1", "access", 900).token
    ws = await connect(f"ws://{live_server}/ws/alerts", subprotocols=["bearer", token])  # type: ignore[list-item]
    ready = json.loads(await asyncio.wait_for(ws.recv(), 2))
    assert ready["type"] == "ready"
    yield ws
    await ws.close()


async def _next_alert(ws: ClientConnection, kind: str, state: str, within_s: float) -> dict[str, Any]:
    """The next frame announcing an alert of ``kind`` in ``state`` (pings are skipped)."""
    async with asyncio.timeout(within_s):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if frame.get("kind") == kind and frame.get("state") == state:
                return frame


def _failed_checks() -> float:
    return REGISTRY.get_sample_value("argus_liveness_checks_total", {"result": "unreachable"}) or 0.0


async def _status(client: httpx.AsyncClient, app: FastAPI, camera_id: int) -> str:
    token = app_state(app).jwt.issue("1", "access", 900).token
    resp = await client.get(f"/api/v1/cameras/{camera_id}",
                            headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    status: str = resp.json()["status"]
    return status


async def _wait_status(
    client: httpx.AsyncClient, app: FastAPI, camera_id: int, want: str, within_s: float
) -> None:
    async with asyncio.timeout(within_s):
        while await _status(client, app, camera_id) != want:
            await asyncio.sleep(0.2)


async def test_offline_and_back_reach_the_websocket(
    running_checker: LivenessChecker, admin_ws: ClientConnection, sim: Camsim, app: FastAPI,
    settings: Settings, maker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient,
) -> None:
    cam = await create_camera(maker, settings.secret_key, name="Yard", stream_url=sim.url(1))
    await _wait_status(client, app, cam.id, "online", 10)
    await sim.fault(1, offline_s=120)
    start = time.monotonic()
    try:
        alert = await _next_alert(admin_ws, "camera.offline", "open", 25)
        to_alert = time.monotonic() - start
        assert alert["camera_id"] == cam.id and alert["type"] == "alert.camera.offline"
        assert alert["severity"] == "critical" and "Yard" in alert["title"]
        assert await _status(client, app, cam.id) == "offline"
    finally:
        await sim.fault(1, offline_s=0)
    resolved = await _next_alert(admin_ws, "camera.offline", "resolved", 15)
    online = await _next_alert(admin_ws, "camera.online", "open", 5)
    assert resolved["alert_id"] == alert["alert_id"] and online["severity"] == "info"
    assert await _status(client, app, cam.id) == "online"
    token = app_state(app).jwt.issue("1", "access", 900).token
    listed = await client.get(f"/api/v1/alerts/{alert['alert_id']}",
                              headers={"Authorization": f"Bearer {token}"})
    assert listed.json()["state"] == "resolved" and listed.json()["resolved_at"]
    print(f"outage to camera.offline on the WebSocket: {to_alert:.1f} s")


async def test_flapping_camera_raises_at_most_one_alert(
    running_checker: LivenessChecker, admin_ws: ClientConnection, sim: Camsim, app: FastAPI,
    settings: Settings, maker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient,
) -> None:
    cam = await create_camera(maker, settings.secret_key, stream_url=sim.url(2))
    await _wait_status(client, app, cam.id, "online", 10)
    failed_before = _failed_checks()
    raised: list[dict[str, Any]] = []

    async def collect() -> None:
        while True:
            frame = json.loads(await admin_ws.recv())
            if frame.get("kind") == "camera.offline" and frame.get("state") == "open":
                raised.append(frame)

    collector = asyncio.create_task(collect())
    try:
        for _ in range(6):  # 1 s outages, 1 s apart, for about 12 s
            await sim.fault(2, offline_s=1)
            await asyncio.sleep(2.0)
        await asyncio.sleep(2 * INTERVAL_S)
    finally:
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
    assert _failed_checks() > failed_before  # the outages were seen by the checker
    assert len(raised) <= 1, raised
    await _wait_status(client, app, cam.id, "online", 5)
