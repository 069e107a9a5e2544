"""WS /ws/alerts against the live server: delivery, visibility, both token transports, close
codes, pings and token re-checks."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from argus_management import versions
from argus_management.alerts.rules import AlertRule
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.rbac.tokens import deny

from factories.cameras import create_camera
from factories.events import report_event
from factories.users import create_user
from factories.ws import open_socket

# open_socket waits for the ``ready`` frame: the client is then registered for alerts.
SOCKET = "/ws/alerts"


@pytest.fixture(autouse=True)
async def _ready(app: FastAPI, live_server: str) -> AsyncIterator[None]:
    """Both apps subscribed to argus:alerts, and a fresh authz version: the live server keeps
    its own principal cache, which the per-test cleanup (ids restart at 1) cannot clear."""
    bus = app_state(app).bus
    await bus.redis.set(bus.key(versions.AUTHZ), uuid.uuid4().hex)
    for _ in range(200):
        counts = dict(await bus.redis.pubsub_numsub(bus.key("alerts")))
        if int(next(iter(counts.values()), 0)) >= 2:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("alert subscribers did not start")
    yield


def _token(app: FastAPI, user_id: int, ttl_s: int = 900) -> str:
    return str(app_state(app).jwt.issue(str(user_id), "access", ttl_s).token)


async def _next(ws: ClientConnection, timeout: float = 1.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def _closed_with(ws: ClientConnection, timeout: float = 2.0) -> int:
    """Read until the server closes; the close code it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await ws.recv())
                if message.get("type") == "ping":
                    continue  # do not answer: tests using this expect another close reason
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


@pytest.mark.parametrize("query", [False, True], ids=["subprotocol", "query"])
async def test_alert_delivered_within_a_second(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], live_server: str, query: bool,
) -> None:
    cam = await create_camera(maker, settings.secret_key, name="Dock")
    ws = await open_socket(live_server, SOCKET, _token(app, 1), query=query)
    try:
        event = await report_event(client, settings, cam.id, "motion.start")
        alert = await _next(ws, 1.0)
        assert alert["type"] == "alert.motion" and alert["state"] == "open"
        assert alert["camera_id"] == cam.id and alert["event_id"] == event["id"]
        assert alert["severity"] == "warning" and alert["alert_id"] > 0
        acked = await client.post(
            f"/api/v1/alerts/{alert['alert_id']}/ack",
            headers={"Authorization": f"Bearer {_token(app, 1)}"},
        )
        assert acked.status_code == 200
        update = await _next(ws, 1.0)
        assert update["alert_id"] == alert["alert_id"] and update["state"] == "acked"
    finally:
        await ws.close()


async def test_viewer_receives_only_granted_cameras(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], live_server: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "alert_rules", {
        "recorder.down": AlertRule(kind="recorder.down", severity="critical", title="Recorder down")
    })
    a = await create_camera(maker, settings.secret_key, name="A")
    b = await create_camera(maker, settings.secret_key, name="B")
    viewer = await create_user(maker, "viewer", camera_ids=[a.id])
    viewer_ws = await open_socket(live_server, SOCKET, _token(app, viewer.id))
    admin_ws = await open_socket(live_server, SOCKET, _token(app, 1))
    try:
        await report_event(client, settings, b.id, "motion.start")
        await report_event(client, settings, None, "recorder.down")  # a system alert
        await report_event(client, settings, a.id, "motion.start")
        first = await _next(viewer_ws, 1.0)
        assert first["camera_id"] == a.id
        with pytest.raises(TimeoutError):
            await _next(viewer_ws, 0.3)
        seen = [(await _next(admin_ws, 1.0))["camera_id"] for _ in range(3)]
        assert seen == [b.id, None, a.id]
    finally:
        await viewer_ws.close()
        await admin_ws.close()


@pytest.mark.parametrize("kind", ["garbage", "expired", "none", "empty-subprotocol", "refresh"])
async def test_bad_token_closes_4401(
    app: FastAPI, live_server: str, kind: str
) -> None:
    url = f"ws://{live_server}/ws/alerts"
    if kind == "garbage":
        ws = await connect(f"{url}?token=not.a.jwt")
    elif kind == "expired":
        ws = await connect(url, subprotocols=["bearer", _token(app, 1, ttl_s=-30)])  # type: ignore[list-item]
    elif kind == "none":
        ws = await connect(url)
    elif kind == "empty-subprotocol":
        ws = await connect(url, subprotocols=["bearer"])  # type: ignore[list-item]
    else:
        refresh = app_state(app).jwt.issue("1", "refresh", 900).token
        ws = await connect(f"{url}?token={refresh}")
    assert await _closed_with(ws) == 4401


async def test_ping_shape_and_pong_required(
    app: FastAPI, settings: Settings, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "ws_ping_interval_s", 0.2)
    ws = await open_socket(live_server, SOCKET, _token(app, 1))
    try:
        for _ in range(3):
            assert await _next(ws, 1.0) == {"type": "ping"}
            await ws.send(json.dumps({"type": "pong"}))
        assert await _next(ws, 1.0) == {"type": "ping"}  # not answered this time
        assert await _closed_with(ws, 2.0) == 4408
    finally:
        await ws.close()


async def test_token_expiry_closes_4401(app: FastAPI, live_server: str) -> None:
    ws = await open_socket(live_server, SOCKET, _token(app, 1, ttl_s=2))
    assert await _closed_with(ws, 4.0) == 4401


async def test_revoked_token_closes_4401_at_next_ping(
    app: FastAPI, settings: Settings, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "ws_ping_interval_s", 0.3)
    issued = app_state(app).jwt.issue("1", "access", 900)
    ws = await open_socket(live_server, SOCKET, issued.token)
    await deny(app_state(app).bus, issued.jti, issued.expires_at)
    assert await _closed_with(ws, 2.0) == 4401


async def test_clients_gauge(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    ws = await open_socket(live_server, SOCKET, _token(app, 1))
    try:
        text = (await client.get("/metrics")).text
        line = next(x for x in text.splitlines() if x.startswith("argus_ws_clients "))
        assert float(line.split()[1]) >= 1
    finally:
        await ws.close()
