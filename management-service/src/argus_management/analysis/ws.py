"""``WS /ws/analysis``: analysed frames of chosen cameras, live, for external AI agents.

Authentication: ``argus_common.wsauth`` (checked in this order: ``Authorization: Bearer
<token>``; the ``Sec-WebSocket-Protocol`` header as ``bearer, <token>`` (browsers); a
``token`` query parameter). Subprotocol ``json`` (accepted when offered, else ``bearer``
when offered). Permission ``analysis:read``.
At most ``ANALYSIS_MAX_SESSIONS`` sessions in the whole deployment, and one user's
connections count toward ``MANAGEMENT_MAX_WS_PER_USER`` (``wslimit.py``).

Every text frame is ``{"sessionId", "timestamp", "event", "payload"}``:
- ``sessionStarted`` once authenticated (payload: ``pingIntervalS``, ``maxSessions``);
- ``subscribed`` after each ``{"subscribe": [camera ids]}`` or ``{"unsubscribe": [...]}``
  from the client (payload: ``cameraIds`` followed now, ``denied``: ids not visible);
- ``frameAnalyzed`` for each analysed frame of a followed camera (``timestamp``: its
  capture time; payload: ``cameraId``, ``analysisSessionId``, ``motion``, ``score``,
  ``boxes`` [{x, y, w, h} normalized], ``width``, ``height``, ``eventId``);
- ``ping`` every ``ANALYSIS_WS_PING_INTERVAL_S`` (answer ``{"event": "pong"}`` before
  the next one; any frame counts), ``pong`` to a client's ``{"event": "ping"}``;
- ``error`` for a message the server could not use (the session goes on).

Close codes (``argus_common.wsauth``): 4401 bad or expired token, 4403 missing permission,
4408 no answer to a ping, 4429 too many sessions (``ANALYSIS_MAX_SESSIONS``, or the user's
``MANAGEMENT_MAX_WS_PER_USER``), 1011 server
error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from argus_common import wsauth
from argus_common.wsauth import CLOSE_SERVER_ERROR, CLOSE_TOO_MANY, CLOSE_UNAUTHORIZED
from argus_management.analysis.hub import AnalysisClient
from argus_management.deps import StateDep
from argus_management.events.schemas import MAX_ID
from argus_management.rbac.dependencies import principal_with
from argus_management.rbac.principal import Principal
from argus_management.ws_session import Heartbeat, recheck
from argus_management.wslimit import SessionLimiter, UserSlot, admit_user

log = structlog.get_logger("argus.analysis.ws")

router = APIRouter()

PERMISSION = "analysis:read"
MAX_SUBSCRIBE = 256
_MAX_MESSAGE = 16 * 1024
_GONE = 0


def _now() -> str:
    return datetime.now(UTC).isoformat()


def frame(session_id: str, event: str, payload: dict[str, Any] | None = None) -> str:
    """One text frame of the protocol."""
    return json.dumps({"sessionId": session_id, "timestamp": _now(), "event": event,
                       "payload": payload or {}}, separators=(",", ":"))


async def _verify(websocket: WebSocket, token: str) -> Principal:
    return await principal_with(websocket, token, PERMISSION)


@router.websocket("/ws/analysis")
async def analysis_socket(websocket: WebSocket, state: StateDep) -> None:
    """Stream analysed frames to an authenticated client until it leaves."""
    done = await wsauth.authenticate(
        websocket, lambda token: _verify(websocket, token), subprotocols=["json"]
    )
    if done is None:
        return
    principal, token = done
    settings = state.settings
    interval: float = settings.analysis_ws_ping_interval_s
    limit: int = settings.analysis_max_sessions
    bus = state.bus
    slot = await admit_user(websocket, bus, principal.user_id, settings.max_ws_per_user, interval)
    if slot is None:
        return
    limiter = SessionLimiter(bus.redis, bus.key("analysis:ws_sessions"), interval * 2.5)
    session_id = uuid.uuid4().hex
    try:
        admitted = await limiter.acquire(session_id, limit)
    except Exception as exc:
        log.warning("ws_session_limit_unavailable", error=type(exc).__name__)
        await slot.release()
        await wsauth.close(websocket, CLOSE_SERVER_ERROR,
                           "session limit unavailable; try again shortly")
        return
    if not admitted:
        await slot.release()
        await wsauth.close(websocket, CLOSE_TOO_MANY,
                           f"too many analysis sessions (at most {limit})")
        return
    hub = state.analysis_hub
    client = AnalysisClient(session_id, principal)
    hub.add(client)
    session = _Session(websocket, client, token, interval, limiter, limit, slot)
    tasks: list[asyncio.Task[None]] = []
    try:
        await websocket.send_text(frame(session_id, "sessionStarted",
                                        {"pingIntervalS": interval, "maxSessions": limit}))
        tasks = [asyncio.create_task(session.send_loop(), name="ws-analysis-send"),
                 asyncio.create_task(session.receive_loop(), name="ws-analysis-receive")]
        await tasks[0]
    except WebSocketDisconnect:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.remove(client)
        with contextlib.suppress(Exception):
            await limiter.release(session_id)
        await slot.release()


analysis_socket.__argus_permission__ = PERMISSION  # type: ignore[attr-defined]


def camera_ids(value: Any) -> list[int] | None:
    """A list of camera ids from a client message (None: not one)."""
    if not isinstance(value, list) or len(value) > MAX_SUBSCRIBE:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID
               for v in value):
        return None
    return list(value)


class _Session:
    """The receiver (client messages) and the sender (the only writer: frames, control
    frames, pings and token re-checks, ``ws_session.Heartbeat``) of one connection."""

    def __init__(self, websocket: WebSocket, client: AnalysisClient, token: str,
                 interval: float, limiter: SessionLimiter, limit: int, slot: UserSlot) -> None:
        self.websocket = websocket
        self.slot = slot
        self.client = client
        self.token = token
        self.limiter = limiter
        self.limit = limit
        # The pong check before the re-check, as this socket always did.
        self.heartbeat = Heartbeat(websocket, interval, recheck_first=False,
                                   ping=lambda: frame(client.session_id, "ping"))
        self.loop = self.heartbeat.loop

    async def receive_loop(self) -> None:
        await self.heartbeat.receive(lambda: self.client.request_close(_GONE, ""),
                                     lambda message: self.handle(message.get("text")))

    def handle(self, text: str | None) -> None:
        """Apply one client message; answer ``error`` for anything unusable."""
        sid = self.client.session_id
        if text is None or len(text) > _MAX_MESSAGE:
            self.client.send(frame(sid, "error", {"detail": "send JSON text frames"}))
            return
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self.client.send(frame(sid, "error", {"detail": "send a JSON object"}))
            return
        if message.get("event") in ("pong",) or message.get("type") == "pong":
            return
        if message.get("event") == "ping" or message.get("type") == "ping":
            self.client.send(frame(sid, "pong"))
            return
        for key in ("subscribe", "unsubscribe"):
            if key in message:
                ids = camera_ids(message[key])
                if ids is None:
                    self.client.send(frame(sid, "error", {
                        "detail": f"{key}: a list of at most {MAX_SUBSCRIBE} camera ids"}))
                    return
                self._subscription(key, ids)
                return
        self.client.send(frame(sid, "error", {"detail": "unknown message"}))

    def _subscription(self, key: str, ids: list[int]) -> None:
        client = self.client
        denied = sorted({i for i in ids if not client.principal.may_see_camera(i)})
        if key == "subscribe":
            client.cameras |= {i for i in ids if i not in denied}
        else:
            client.cameras -= set(ids)
        client.send(frame(client.session_id, "subscribed",
                          {"cameraIds": sorted(client.cameras), "denied": denied}))

    async def send_loop(self) -> None:
        client, websocket, heartbeat = self.client, self.websocket, self.heartbeat
        while True:
            timeout = max(0.0, min(heartbeat.next_ping - self.loop.time(),
                                   client.principal.token_exp - time.time()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout + 0.01):
                    await client.wakeup.wait()
            client.wakeup.clear()
            if client.close_code is not None:
                if client.close_code != _GONE:
                    await wsauth.close(websocket, client.close_code, client.close_reason)
                return
            while client.pending:
                await websocket.send_text(client.pending.popleft())
            if time.time() >= client.principal.token_exp:
                await wsauth.close(websocket, CLOSE_UNAUTHORIZED, "token expired")
                return
            now = self.loop.time()
            if now >= heartbeat.next_ping and not await heartbeat.beat(now, self._still_valid):
                return

    async def _still_valid(self) -> bool:
        """Token re-verification and session renewal; closes with 4401/4403 if it fails."""
        kept, _ = await recheck(self.websocket, self._renew, log=log, event="ws_recheck_failed")
        return kept

    async def _renew(self) -> Principal:
        principal = await _verify(self.websocket, self.token)
        self.client.principal = principal
        self.client.cameras = {c for c in self.client.cameras if principal.may_see_camera(c)}
        await self.limiter.acquire(self.client.session_id, self.limit)  # renew
        await self.slot.renew()
        return principal
