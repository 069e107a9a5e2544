"""MANAGEMENT_MAX_WS_PER_USER: one user's WebSocket connections are capped across /ws/alerts,
/ws/analysis and every worker (two live servers on one Redis stand for two workers); a
place is given back on disconnect, and a dead worker's places expire (issue 16 finding 11)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from argus_management import versions
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.main import create_app
from argus_management.wslimit import user_key
from argus_testkit.ports import free_port

from factories.users import create_user

LIMIT = 2


@pytest.fixture(scope="module")
async def workers(settings: Settings) -> AsyncIterator[list[str]]:
    """Two servers ("workers") sharing the database and Redis, at most LIMIT per user."""
    custom = settings.model_copy(update={"max_ws_per_user": LIMIT})
    servers, tasks, hosts = [], [], []
    for _ in range(2):
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(custom, run_migrations=False),
                host="127.0.0.1",
                port=port,
                log_config=None,
                lifespan="on",
            )
        )
        servers.append(server)
        tasks.append(asyncio.create_task(server.serve()))
        hosts.append(f"127.0.0.1:{port}")
    for _ in range(400):
        if all(s.started for s in servers):
            break
        await asyncio.sleep(0.025)
    assert all(s.started for s in servers)
    yield hosts
    for server in servers:
        server.should_exit = True
    await asyncio.wait_for(asyncio.gather(*tasks), 30)  # slow to stop on a loaded machine


@pytest.fixture(autouse=True)
async def _fresh_authz(app: FastAPI) -> None:
    """Ids restart every test: the live servers must not reuse a cached principal."""
    bus = app_state(app).bus
    await bus.redis.set(bus.key(versions.AUTHZ), uuid.uuid4().hex)


def _token(app: FastAPI, user_id: int) -> str:
    return str(app_state(app).jwt.issue(str(user_id), "access", 900).token)


async def _alerts(host: str, token: str) -> ClientConnection:
    ws = await connect(f"ws://{host}/ws/alerts", subprotocols=["bearer", token])  # type: ignore[list-item]
    first = json.loads(await asyncio.wait_for(ws.recv(), 3))
    assert first["type"] == "ready", first
    return ws


async def _refused(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(3):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def _places(app: FastAPI, user_id: int) -> int:
    bus = app_state(app).bus
    return int(await bus.redis.zcount(user_key(bus, user_id), int(time.time() * 1000), "+inf"))


async def test_cap_holds_across_workers_and_endpoints(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], workers: list[str]
) -> None:
    viewer = await create_user(maker, "viewer")
    other = await create_user(maker, "viewer")
    token = _token(app, viewer.id)
    first = await _alerts(workers[0], token)
    second = await _alerts(workers[1], token)  # the other worker: counted together
    opened = [first, second]
    try:
        assert await _places(app, viewer.id) == LIMIT
        third = await connect(f"ws://{workers[0]}/ws/alerts", subprotocols=["bearer", token])  # type: ignore[list-item]
        code, reason = await _refused(third)
        assert code == 4429 and f"at most {LIMIT}" in reason
        # /ws/analysis counts toward the same cap (the admin may use it: admin's own cap).
        admin = _token(app, 1)
        opened += [await _alerts(workers[0], admin), await _alerts(workers[1], admin)]
        analysis = await connect(
            f"ws://{workers[0]}/ws/analysis",
            additional_headers={"Authorization": f"Bearer {admin}"},
        )
        assert (await _refused(analysis))[0] == 4429
        # Another user is not affected.
        opened.append(await _alerts(workers[0], _token(app, other.id)))
        # Leaving gives the place back.
        await first.close()
        for _ in range(200):
            if await _places(app, viewer.id) < LIMIT:
                break
            await asyncio.sleep(0.02)
        assert await _places(app, viewer.id) == LIMIT - 1
        opened.append(await _alerts(workers[0], token))
    finally:
        for ws in opened:
            await ws.close()


async def test_a_dead_workers_places_expire(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], workers: list[str]
) -> None:
    """Places a crashed worker never released stop counting once their time is up, and the
    set itself expires."""
    viewer = await create_user(maker, "viewer")
    bus = app_state(app).bus
    key = user_key(bus, viewer.id)
    past = int(time.time() * 1000) - 1
    await bus.redis.zadd(key, {"dead-worker-1": past, "dead-worker-2": past})
    ws = await _alerts(workers[0], _token(app, viewer.id))
    try:
        assert await bus.redis.zcard(key) == 1  # the expired places were swept
        assert 0 < await bus.redis.pttl(key)
    finally:
        await ws.close()
