"""The WebSocket token handshake: every token source, their order, the subprotocol answered
and the close codes, against a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from argus_common.errors import Forbidden, Unauthorized
from argus_common.wsauth import (
    CLOSE_FORBIDDEN,
    CLOSE_SERVER_ERROR,
    CLOSE_UNAUTHORIZED,
    authenticate,
    read_token,
)
from argus_testkit.ports import free_port


def _socket(
    headers: dict[str, str] | None = None, query: str = "", subprotocols: list[str] | None = None
) -> WebSocket:
    scope: dict[str, Any] = {
        "type": "websocket", "path": "/ws", "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "subprotocols": subprotocols or [],
    }

    async def never() -> Any:
        raise AssertionError("read_token must not receive")

    async def nowhere(_: Any) -> None:
        raise AssertionError("read_token must not send")

    return WebSocket(scope, never, nowhere)


def test_sources_in_order_header_subprotocol_query() -> None:
    both = {"headers": {"Authorization": "Bearer from-header"}, "query": "token=from-query",
            "subprotocols": ["bearer", "from-protocol"]}
    got = read_token(_socket(**both))  # type: ignore[arg-type]
    assert (got.token, got.source, got.subprotocol) == ("from-header", "header", "bearer")
    got = read_token(_socket(query="token=q", subprotocols=["bearer", "p"]))
    assert (got.token, got.source, got.subprotocol) == ("p", "subprotocol", "bearer")
    got = read_token(_socket(query="token=q"))
    assert (got.token, got.source, got.subprotocol) == ("q", "query", None)
    got = read_token(_socket())
    assert (got.token, got.source) == ("", "none")


def test_the_first_source_present_wins_even_when_empty_or_not_bearer() -> None:
    # An empty bearer subprotocol is not completed from the query: one try per client.
    got = read_token(_socket(query="token=q", subprotocols=["bearer"]))
    assert (got.token, got.source) == ("", "subprotocol")
    got = read_token(_socket(headers={"Authorization": "Basic abc"}, query="token=q"))
    assert (got.token, got.source) == ("", "header")


def test_the_endpoints_own_subprotocol_is_preferred_to_bearer() -> None:
    offered = ["bearer", "tok", "json"]
    assert read_token(_socket(subprotocols=offered), ["json"]).subprotocol == "json"
    assert read_token(_socket(subprotocols=offered), ["cbor"]).subprotocol == "bearer"
    assert read_token(_socket(subprotocols=["json"]), ["json"]).subprotocol == "json"
    assert read_token(_socket(subprotocols=["other"]), ["json"]).subprotocol is None


async def _verify(token: str) -> str:
    if token == "good":
        return "alice"
    if token == "forbidden":
        raise Forbidden("missing permission things:read")
    if token == "boom":
        raise RuntimeError("postgresql://user:secret@db/argus is down")
    raise Unauthorized("invalid token")


async def _endpoint(websocket: WebSocket) -> None:
    done = await authenticate(websocket, _verify, subprotocols=["json"])
    if done is None:
        return
    principal, token = done
    await websocket.send_text(json.dumps({"user": principal, "token": token}))
    await websocket.close()




@pytest.fixture(scope="module")
async def url() -> AsyncIterator[str]:
    port = free_port()
    app = Starlette(routes=[WebSocketRoute("/ws", _endpoint)])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.0125)
    assert server.started, "test server did not start"
    yield f"ws://127.0.0.1:{port}/ws"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def _outcome(url: str, **kwargs: Any) -> tuple[str | None, Any]:
    """(accepted subprotocol, the first message or the close code)."""
    async with connect(url, open_timeout=5, **kwargs) as ws:
        try:
            return ws.subprotocol, json.loads(await asyncio.wait_for(ws.recv(), 5))
        except ConnectionClosed:
            assert ws.close_code is not None
            return ws.subprotocol, ws.close_code


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"additional_headers": {"Authorization": "Bearer good"}}, (None, "alice")),
        ({"subprotocols": ["bearer", "good"]}, ("bearer", "alice")),  # the console
        ({"subprotocols": ["json", "bearer", "good"]}, ("json", "alice")),
        ({"query": "good"}, (None, "alice")),
    ],
)
async def test_every_source_is_accepted(
    url: str, kwargs: dict[str, Any], expected: tuple[str | None, str]
) -> None:
    target = f"{url}?token={kwargs.pop('query')}" if "query" in kwargs else url
    subprotocol, message = await _outcome(target, **kwargs)
    assert (subprotocol, message["user"]) == expected
    assert message["token"] == "good"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({}, CLOSE_UNAUTHORIZED),  # no token at all
        ({"subprotocols": ["bearer"]}, CLOSE_UNAUTHORIZED),  # bearer without a token
        ({"query": "nope"}, CLOSE_UNAUTHORIZED),
        ({"additional_headers": {"Authorization": "Bearer nope"}, "query": "good"},
         CLOSE_UNAUTHORIZED),  # the header is the one used
        ({"subprotocols": ["bearer", "forbidden"]}, CLOSE_FORBIDDEN),
        ({"query": "boom"}, CLOSE_SERVER_ERROR),
    ],
)
async def test_refusals_close_with_the_documented_code(
    url: str, kwargs: dict[str, Any], code: int
) -> None:
    target = f"{url}?token={kwargs.pop('query')}" if "query" in kwargs else url
    _, outcome = await _outcome(target, **kwargs)
    assert outcome == code
