"""WS /ws/wall-display against the live server: a monitor's display token hears its own
monitor's changes and no other's, a user's token is refused, and a revoked or replaced
credential or a deleted monitor ends the socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from argus_management.deps import app_state
from argus_management.walls.models import WallMonitor

from factories.cameras import create_camera
from factories.ws import open_socket

WALLS = "/api/v1/walls"
DISPLAY = "/api/v1/wall-display"
SOCKET = "/ws/wall-display"


@pytest.fixture(autouse=True)
async def _ready(app: FastAPI, live_server: str) -> AsyncIterator[None]:
    """Both apps subscribed to argus:alerts (the display sockets' feed)."""
    bus = app_state(app).bus
    for _ in range(200):
        counts = dict(await bus.redis.pubsub_numsub(bus.key("alerts")))
        if int(next(iter(counts.values()), 0)) >= 2:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("alert subscribers did not start")
    yield


async def _monitors(
    client: httpx.AsyncClient, admin: dict[str, str], names: list[str]
) -> tuple[int, list[int]]:
    r = await client.post(WALLS, json={"name": "Control room"}, headers=admin)
    assert r.status_code == 201, r.text
    wall = int(r.json()["id"])
    ids = []
    for name in names:
        r = await client.post(f"{WALLS}/{wall}/monitors", json={"name": name}, headers=admin)
        assert r.status_code == 201, r.text
        ids.append(int(r.json()["id"]))
    return wall, ids


async def _display_token(
    client: httpx.AsyncClient, admin: dict[str, str], wall: int, monitor: int
) -> str:
    r = await client.post(f"{WALLS}/{wall}/monitors/{monitor}/credential", headers=admin)
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{DISPLAY}/token", json={"wall_id": wall, "monitor_id": monitor, "key": r.json()["key"]}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def _next(ws: ClientConnection, timeout: float = 2.0) -> dict[str, Any]:
    """The next frame that is not a ping."""
    async with asyncio.timeout(timeout):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if frame.get("type") != "ping":
                return frame


async def _closed_with(ws: ClientConnection, timeout: float = 2.0) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        await _next(ws, timeout)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_display_hears_its_own_monitor_only(
    client: httpx.AsyncClient,
    app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    live_server: str,
) -> None:
    cam = await create_camera(maker, app_state(app).settings.secret_key, name="Gate")
    wall, (left, right) = await _monitors(client, admin_headers, ["Left", "Right"])
    token = await _display_token(client, admin_headers, wall, left)
    await _display_token(client, admin_headers, wall, right)
    ws = await open_socket(live_server, SOCKET, token)
    try:
        async with maker() as s:  # an open socket keeps the monitor online
            assert (await s.get(WallMonitor, left)).last_seen is not None  # type: ignore[union-attr]
        # The other monitor's change comes first: it would be the first frame if it leaked.
        for monitor in (right, left):
            r = await client.post(
                f"{WALLS}/{wall}/monitors/{monitor}/push",
                json={"kind": "camera", "camera_id": cam.id},
                headers=admin_headers,
            )
            assert r.status_code == 200, r.text
        frame = await _next(ws)
        assert frame == {"type": "wall.changed", "wall_id": wall, "monitor_id": left}
        r = await client.post(
            f"{WALLS}/{wall}/monitors/{right}/push", json={"kind": "clear"}, headers=admin_headers
        )
        assert r.status_code == 200, r.text
        with pytest.raises(TimeoutError):
            await _next(ws, 0.5)
        # A rename is a change the monitor's page shows too.
        r = await client.patch(
            f"{WALLS}/{wall}/monitors/{left}", json={"name": "Lobby"}, headers=admin_headers
        )
        assert r.status_code == 200, r.text
        assert await _next(ws) == {"type": "wall.changed", "wall_id": wall, "monitor_id": left}
    finally:
        await ws.close()


async def test_a_user_token_is_refused(
    admin_headers: dict[str, str], live_server: str
) -> None:
    user_token = admin_headers["Authorization"].removeprefix("Bearer ")
    ws = await connect(
        f"ws://{live_server}/ws/wall-display",
        subprotocols=["bearer", user_token],  # type: ignore[list-item]
    )
    assert await _closed_with(ws) == 4401
    ws = await connect(f"ws://{live_server}/ws/wall-display")
    assert await _closed_with(ws) == 4401


async def _metric(client: httpx.AsyncClient, name: str) -> float:
    """One unlabelled series from ``/metrics`` (the live server shares this process's
    registry); fails when it is not exported."""
    text = (await client.get("/metrics")).text
    (line,) = [x for x in text.splitlines() if x.startswith(name + " ")]
    return float(line.split()[1])


@pytest.mark.parametrize("how", ["revoke", "replace", "delete"])
async def test_a_changed_credential_ends_the_socket(
    client: httpx.AsyncClient, admin_headers: dict[str, str], live_server: str, how: str
) -> None:
    wall, (monitor,) = await _monitors(client, admin_headers, ["Left"])
    token = await _display_token(client, admin_headers, wall, monitor)
    revoked = await _metric(client, "argus_wall_display_ws_revoked_total")
    ws = await open_socket(live_server, SOCKET, token)
    open_now = await _metric(client, "argus_wall_display_ws_clients")
    assert open_now >= 1
    base = f"{WALLS}/{wall}/monitors/{monitor}"
    if how == "revoke":
        r = await client.delete(f"{base}/credential", headers=admin_headers)
    elif how == "replace":
        r = await client.post(f"{base}/credential", headers=admin_headers)
    else:
        r = await client.delete(base, headers=admin_headers)
    assert r.status_code in (201, 204), r.text
    # Well before the next ping's re-check (30 s): the change itself ends it.
    assert await _closed_with(ws) == 4401
    # counted before the close is sent; the gauge drops as the server's side ends
    assert await _metric(client, "argus_wall_display_ws_revoked_total") == revoked + 1
    for _ in range(200):
        if await _metric(client, "argus_wall_display_ws_clients") < open_now:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the closed socket is still counted as open")
    # and the token opens no new one
    ws = await connect(f"ws://{live_server}/ws/wall-display", subprotocols=["bearer", token])  # type: ignore[list-item]
    assert await _closed_with(ws) == 4401


async def test_sockets_per_monitor_are_capped(
    client: httpx.AsyncClient, admin_headers: dict[str, str], live_server: str
) -> None:
    from argus_management.walls.push import MAX_PER_MONITOR

    wall, (monitor, other) = await _monitors(client, admin_headers, ["Left", "Right"])
    token = await _display_token(client, admin_headers, wall, monitor)
    other_token = await _display_token(client, admin_headers, wall, other)
    opened = [await open_socket(live_server, SOCKET, token) for _ in range(MAX_PER_MONITOR)]
    try:
        extra = await connect(
            f"ws://{live_server}/ws/wall-display", subprotocols=["bearer", token]  # type: ignore[list-item]
        )
        assert await _closed_with(extra) == 4429
        # another monitor has its own places
        await (await open_socket(live_server, SOCKET, other_token)).close()
        await opened.pop().close()
        for _ in range(100):  # the closed socket's place is given back as it ends
            again = await connect(
                f"ws://{live_server}/ws/wall-display", subprotocols=["bearer", token]  # type: ignore[list-item]
            )
            try:
                ready = json.loads(await asyncio.wait_for(again.recv(), 2.0))["type"] == "ready"
            except ConnectionClosed:
                ready = False
            await again.close()
            if ready:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the place of a closed socket was not given back")
    finally:
        for ws in opened:
            await ws.close()
