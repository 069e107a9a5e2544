"""Opening the service's WebSockets (``/ws/alerts``, ``/ws/wall-display``) on the live server."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

BEARER = Subprotocol("bearer")


async def open_socket(
    live_server: str, path: str, token: str, *, query: bool = False, timeout: float = 2.0
) -> ClientConnection:
    """Connect to ``path`` with ``token`` (the ``bearer, <token>`` subprotocol, answered with
    ``bearer``, or ``?token=`` with ``query``) and wait for the ``ready`` frame."""
    if query:
        ws = await connect(f"ws://{live_server}{path}?token={token}")
    else:
        ws = await connect(f"ws://{live_server}{path}", subprotocols=[BEARER, Subprotocol(token)])
    try:
        if not query:
            assert ws.subprotocol == BEARER
        async with asyncio.timeout(timeout):
            ready = json.loads(await ws.recv())
        assert ready["type"] == "ready" and ready["ping_interval_s"] > 0, ready
    except BaseException:
        await ws.close()
        raise
    return ws
