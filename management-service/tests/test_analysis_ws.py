"""WS /ws/analysis on a live server: authentication, the frame shape, subscriptions limited to
visible cameras, the session limit, and ping/pong."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from argus_common.events import CHANNEL_ANALYSIS_FRAMES
from argus_management import versions
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.main import create_app
from argus_testkit.ports import free_port

from factories.analysis import analysis_frame
from factories.cameras import create_camera
from factories.users import create_user

PING_S = 0.5


@pytest.fixture(scope="module")
async def analysis_server(settings: Settings) -> AsyncIterator[str]:
    """A live server with a short ping interval and two sessions at most."""
    custom = settings.model_copy(update={
        "analysis_ws_ping_interval_s": PING_S, "analysis_max_sessions": 2,
    })
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_app(custom, run_migrations=False), host="127.0.0.1", port=port, log_config=None,
        lifespan="on",
    ))
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started
    yield f"ws://127.0.0.1:{port}/ws/analysis"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


@pytest.fixture(autouse=True)
async def _fresh_authz(app: FastAPI) -> None:
    """Ids restart every test: the live server must not reuse a cached principal."""
    bus = app_state(app).bus
    await bus.redis.set(bus.key(versions.AUTHZ), uuid.uuid4().hex)


def token(app: FastAPI, user_id: int, ttl_s: int = 900) -> str:
    return str(app_state(app).jwt.issue(str(user_id), "access", ttl_s).token)


async def receive(ws: ClientConnection, event: str, timeout: float = 3.0) -> dict[str, Any]:
    """The next frame of type ``event`` (pings are answered on the way)."""
    async with asyncio.timeout(timeout):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["event"] == event:
                return message
            if message["event"] == "ping":
                await ws.send(json.dumps({"event": "pong"}))


async def close_code(ws: ClientConnection, timeout: float = 3.0) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def open_session(url: str, bearer: str) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect(url, additional_headers={"Authorization": f"Bearer {bearer}"},
                       subprotocols=["json"])  # type: ignore[list-item]
    assert ws.subprotocol == "json"
    started = await receive(ws, "sessionStarted")
    return ws, started


async def test_authentication_is_required(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], analysis_server: str
) -> None:
    viewer = await create_user(maker, "viewer")
    cases = [
        (connect(analysis_server), 4401),
        (connect(analysis_server, additional_headers={"Authorization": "Bearer nope"}), 4401),
        (connect(f"{analysis_server}?token={token(app, 1, ttl_s=-30)}"), 4401),
        (connect(analysis_server, additional_headers={
            "Authorization": f"Bearer {token(app, viewer.id)}"}), 4403),  # no analysis:read
    ]
    for opening, expected in cases:
        ws = await opening
        assert await close_code(ws) == expected


async def test_frames_of_subscribed_visible_cameras_arrive_with_the_documented_shape(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], settings: Settings,
    analysis_server: str,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    hidden = await create_camera(maker, settings.secret_key)
    operator = await create_user(maker, "operator", camera_ids=[cam.id])
    ws, started = await open_session(analysis_server, token(app, operator.id))
    session_id = started["sessionId"]
    assert set(started) == {"sessionId", "timestamp", "event", "payload"}
    assert started["payload"] == {"pingIntervalS": PING_S, "maxSessions": 2}
    await ws.send(json.dumps({"subscribe": [cam.id, hidden.id]}))
    subscribed = await receive(ws, "subscribed")
    assert subscribed["payload"] == {"cameraIds": [cam.id], "denied": [hidden.id]}

    bus = app_state(app).bus
    channel = bus.key(CHANNEL_ANALYSIS_FRAMES)
    async with asyncio.timeout(3):
        while int(dict(await bus.redis.pubsub_numsub(channel)).get(channel.encode(), 0)) < 1:
            await asyncio.sleep(0.02)
    await bus.publish(CHANNEL_ANALYSIS_FRAMES, analysis_frame(hidden.id))
    sent = analysis_frame(cam.id, event_id=7)
    await bus.publish(CHANNEL_ANALYSIS_FRAMES, sent)
    message = await receive(ws, "frameAnalyzed")
    assert set(message) == {"sessionId", "timestamp", "event", "payload"}
    assert message["sessionId"] == session_id
    assert message["timestamp"].startswith(sent.ts.isoformat()[:19])
    assert message["payload"] == {
        "cameraId": cam.id, "analysisSessionId": sent.session_id, "motion": True,
        "score": 0.05, "boxes": [{"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}], "width": 320,
        "height": 180, "eventId": 7,
    }
    await ws.send(json.dumps({"unsubscribe": [cam.id]}))
    assert (await receive(ws, "subscribed"))["payload"]["cameraIds"] == []
    await bus.publish(CHANNEL_ANALYSIS_FRAMES, analysis_frame(cam.id))
    for bad in ("not json", "[1]", json.dumps({"subscribe": "all"}),
                json.dumps({"subscribe": [True]}), json.dumps({"hello": 1})):
        await ws.send(bad)
        assert (await receive(ws, "error"))["payload"]["detail"]
    await ws.send(json.dumps({"event": "ping"}))
    assert (await receive(ws, "pong"))["sessionId"] == session_id  # no frame came in between
    await ws.close()


async def test_third_session_is_refused(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], analysis_server: str
) -> None:
    admin = await create_user(maker, "admin")
    bearer = token(app, admin.id)
    first, _ = await open_session(analysis_server, bearer)
    second = await connect(analysis_server, subprotocols=["bearer", bearer])  # type: ignore[list-item]
    assert second.subprotocol == "bearer"
    await receive(second, "sessionStarted")
    third = await connect(f"{analysis_server}?token={bearer}")
    assert await close_code(third) == 4429
    assert third.close_reason and "too many" in third.close_reason
    await first.close()
    async with asyncio.timeout(3):  # the place is free again once the first has left
        while True:
            again = await connect(f"{analysis_server}?token={bearer}")
            try:
                await receive(again, "sessionStarted", timeout=1)
                break
            except ConnectionClosed:
                await asyncio.sleep(0.05)
    await again.close()
    await second.close()


async def test_ping_pong_and_silent_clients_are_dropped(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], analysis_server: str
) -> None:
    admin = await create_user(maker, "admin")
    ws, _ = await open_session(analysis_server, token(app, admin.id))
    for _ in range(3):  # answered pings keep the session
        async with asyncio.timeout(PING_S * 3):
            while json.loads(await ws.recv())["event"] != "ping":
                pass
        await ws.send(json.dumps({"event": "pong"}))
    assert await close_code(ws, timeout=PING_S * 5) == 4408  # not answered: dropped
