"""One WebSocket token handshake for every ARGUS WebSocket endpoint.

The access token may come from, checked in this order:

1. an ``Authorization: Bearer <token>`` header (programs: ``examples/analysis_client.py``);
2. the ``Sec-WebSocket-Protocol`` header as ``bearer, <token>`` (browsers cannot set headers:
   the console sends ``new WebSocket(url, ['bearer', token])``);
3. a ``token`` query parameter (tools and tests; it ends up in access logs, prefer the
   others).

The first source present is the one used, even when its token is empty or wrong (a client
never gets a second try with another source). The socket is accepted before the token is
verified so that browsers see the close code (a refused handshake only shows as 1006). The
accepted subprotocol is the first of the endpoint's own subprotocols that the client offered,
else ``bearer`` when the client offered it (a browser drops a connection that offered
subprotocols and got none back), else none.

Close codes, the same on every endpoint (:data:`CLOSE_CODES`): 4401 missing, invalid,
expired or revoked token; 4403 missing permission; 4408 no answer to a ping; 4429 too many
sessions; 1011 the server could not check (database or Redis away); 1013 the client fell
behind (reconnect and re-read over REST).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from argus_common.errors import Forbidden, Unauthorized

P = TypeVar("P")

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_PING_TIMEOUT = 4408
CLOSE_TOO_MANY = 4429
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_AGAIN = 1013

CLOSE_CODES: dict[int, str] = {
    CLOSE_UNAUTHORIZED: "missing, invalid, expired or revoked token",
    CLOSE_FORBIDDEN: "missing permission",
    CLOSE_PING_TIMEOUT: "no answer to a ping",
    CLOSE_TOO_MANY: "too many sessions",
    CLOSE_SERVER_ERROR: "the server could not check the token; try again shortly",
    CLOSE_TRY_AGAIN: "the client fell behind; reconnect",
}

BEARER = "bearer"

TokenSource = Literal["header", "subprotocol", "query", "none"]

_log = structlog.get_logger("argus.wsauth")


@dataclass(frozen=True)
class WsToken:
    """The token a client presented, where it came from, and the subprotocol to accept."""

    token: str
    source: TokenSource
    subprotocol: str | None


def read_token(websocket: WebSocket, subprotocols: Sequence[str] = ()) -> WsToken:
    """The client's token (see the module docstring for the sources and their order).
    ``subprotocols`` are the endpoint's own ones, in its order of preference."""
    offered = [p.strip() for p in websocket.scope.get("subprotocols", [])]
    own = next((p for p in subprotocols if p in offered), None)
    accept = own or (BEARER if BEARER in offered else None)
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme:
        token = value.strip() if scheme.lower() == "bearer" else ""
        return WsToken(token, "header", accept)
    if BEARER in offered:
        index = offered.index(BEARER)
        token = offered[index + 1] if index + 1 < len(offered) else ""
        return WsToken(token, "subprotocol", accept)
    if "token" in websocket.query_params:
        return WsToken(websocket.query_params.get("token", ""), "query", accept)
    return WsToken("", "none", accept)


def close_for(exc: BaseException) -> tuple[int, str]:
    """The close code and reason for a failed check: ``Unauthorized`` 4401, ``Forbidden``
    4403, anything else 1011 (the check itself could not run)."""
    if isinstance(exc, Unauthorized):
        return CLOSE_UNAUTHORIZED, exc.detail
    if isinstance(exc, Forbidden):
        return CLOSE_FORBIDDEN, exc.detail
    return CLOSE_SERVER_ERROR, "authentication unavailable"


async def close(websocket: WebSocket, code: int, reason: str) -> None:
    """Close with ``code``; a peer that is already gone is not an error."""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
        await websocket.close(code=code, reason=reason)


async def authenticate(
    websocket: WebSocket,
    verify: Callable[[str], Awaitable[P]],
    *,
    subprotocols: Sequence[str] = (),
) -> tuple[P, str] | None:
    """Accept the socket and check its token with ``verify`` (which raises
    ``Unauthorized`` or ``Forbidden``). Returns ``(principal, token)``, or None once the
    socket has been closed with the matching code. An empty token is refused (4401) without
    calling ``verify``."""
    presented = read_token(websocket, subprotocols)
    await websocket.accept(subprotocol=presented.subprotocol)
    try:
        if not presented.token:
            raise Unauthorized("not authenticated")
        principal = await verify(presented.token)
    except Exception as exc:
        code, reason = close_for(exc)
        if code == CLOSE_SERVER_ERROR:
            # The type only: a driver's message can carry a connection URL.
            _log.warning("ws_auth_failed", error=type(exc).__name__, path=websocket.url.path)
        await close(websocket, code, reason)
        return None
    return principal, presented.token
