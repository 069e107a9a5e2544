"""``WS /ws/wall-display``: a wall monitor hears at once that its content changed.

A display token cannot open ``/ws/alerts`` (its subject is no user), so the monitors get a
socket of their own. Authentication is ``argus_common.wsauth`` (the ``bearer, <token>``
subprotocol, a header or ``?token=``), and only a display token whose credential is still
the monitor's current one is accepted: a user's token, or a replaced or revoked credential,
closes with 4401. At most ``MAX_PER_MONITOR`` sockets per monitor across every worker
(4429 beyond).

Frames sent: ``{"type": "ready", "ping_interval_s": …}``, then ``{"type": "wall.changed",
"wall_id": …, "monitor_id": …}`` whenever that monitor's content, credential or existence
changed (the page re-reads ``/wall-display/state``; several changes in a row may come as
one frame), and ``{"type": "ping"}`` every ``MANAGEMENT_WS_PING_INTERVAL_S``, which the page
answers with any frame (4408 otherwise). Before each ``wall.changed`` and at each ping the
token is checked again, so a new or revoked credential ends the socket when it is announced
(the credential routes announce ``wall.changed``), a deleted monitor too, and an expired
token at its expiry. While open, the socket marks the monitor seen (its online state).

The frames come from the process's one ``argus:alerts`` subscription: ``DisplayHub`` is a
tap on the alert hub (``AlertHub.taps``) that wakes the sockets of the named monitor. The
pings and re-checks are ``ws_session`` (shared with ``/ws/alerts``). Metrics:
``argus_wall_display_ws_clients`` (open sockets) and ``argus_wall_display_ws_revoked_total``
(sockets closed because a re-check refused their token or credential).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from prometheus_client import Counter, Gauge

from argus_common import wsauth
from argus_common.wsauth import CLOSE_UNAUTHORIZED
from argus_management.alerts.hub import AlertHub
from argus_management.deps import AppState, StateDep
from argus_management.walls import service as svc
from argus_management.walls.display import mark_seen, monitor_of_token
from argus_management.ws_session import Heartbeat, recheck
from argus_management.wslimit import SessionLimiter

log = structlog.get_logger("argus.walls.push")

router = APIRouter()

MAX_PER_MONITOR = 4  # a kiosk page, and a reload or a second tab overlapping it

WS_CLIENTS = Gauge("argus_wall_display_ws_clients", "Open /ws/wall-display sockets")
WS_REVOKED = Counter(
    "argus_wall_display_ws_revoked_total",
    "/ws/wall-display sockets closed (4401) because a re-check refused their token or "
    "credential (revoked, replaced, monitor deleted)",
)


class DisplayHub:
    """This process's display sockets by monitor; called with every decoded ``argus:alerts``
    message, it wakes the sockets of the monitor a ``wall.changed`` names."""

    def __init__(self) -> None:
        self._listeners: dict[int, set[Callable[[], None]]] = {}

    def __call__(self, message: dict[str, Any]) -> None:
        monitor = message.get("monitor_id")
        if message.get("type") != "wall.changed" or type(monitor) is not int:
            return
        for wake in list(self._listeners.get(monitor, ())):
            wake()

    def listen(self, monitor_id: int, wake: Callable[[], None]) -> None:
        self._listeners.setdefault(monitor_id, set()).add(wake)

    def forget(self, monitor_id: int, wake: Callable[[], None]) -> None:
        listeners = self._listeners.get(monitor_id)
        if listeners is not None:
            listeners.discard(wake)
            if not listeners:
                del self._listeners[monitor_id]


def display_hub(alert_hub: AlertHub) -> DisplayHub:
    """The display hub tapping ``alert_hub`` (made on first use)."""
    for tap in alert_hub.taps:
        if isinstance(tap, DisplayHub):
            return tap
    hub = DisplayHub()
    alert_hub.taps.append(hub)
    return hub


class _Check:
    """What a verified display token stands for."""

    def __init__(self, monitor_id: int, wall_id: int, exp: float) -> None:
        self.monitor_id = monitor_id
        self.wall_id = wall_id
        self.exp = exp


async def _verify(state: AppState, token: str) -> _Check:
    """The token's monitor, with the current credential (``Unauthorized`` otherwise); marks
    the monitor seen."""
    async with state.sessionmaker() as session:
        monitor = await monitor_of_token(session, state.jwt, token)
        await mark_seen(session, monitor)
        await session.commit()
    return _Check(monitor.id, monitor.wall_id, float(state.jwt.decode(token, "access")["exp"]))


@router.websocket("/ws/wall-display")
async def wall_display_socket(websocket: WebSocket, state: StateDep) -> None:
    """Tell one monitor's page of every change to that monitor until it leaves or its
    token or credential stops being valid."""
    done = await wsauth.authenticate(websocket, lambda token: _verify(state, token))
    if done is None:
        return
    check, token = done
    interval = state.settings.ws_ping_interval_s
    limiter = SessionLimiter(
        state.redis, state.bus.key(f"ws:wall:{check.monitor_id}"), interval * 2.5
    )
    slot = uuid.uuid4().hex
    try:
        admitted = await limiter.acquire(slot, MAX_PER_MONITOR)
    except Exception as exc:
        log.warning("ws_wall_limit_unavailable", error=type(exc).__name__)
        await wsauth.close(websocket, wsauth.CLOSE_SERVER_ERROR, "try again shortly")
        return
    if not admitted:
        await wsauth.close(websocket, wsauth.CLOSE_TOO_MANY,
                           f"at most {MAX_PER_MONITOR} connections per monitor")
        return
    session = _Session(websocket, state, token, check, interval, limiter, slot)
    hub = display_hub(state.alert_hub)
    hub.listen(check.monitor_id, session.wake_changed)
    receiver = asyncio.create_task(session.receive_loop(), name="ws-wall-receive")
    WS_CLIENTS.inc()
    try:
        await websocket.send_text(json.dumps({"type": "ready", "ping_interval_s": interval}))
        await session.send_loop()
    except WebSocketDisconnect:
        pass
    finally:
        WS_CLIENTS.dec()
        hub.forget(check.monitor_id, session.wake_changed)
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        try:
            await limiter.release(slot)
        except Exception as exc:  # it expires on its own
            log.debug("ws_wall_slot_not_released", error=type(exc).__name__)


wall_display_socket.__argus_permission__ = "wall-display"  # type: ignore[attr-defined]


class _Session:
    """One monitor's socket: the receiver notes pongs and the disconnect; the sender, the
    only writer, wakes for a change, a ping, the seen mark or the token's expiry."""

    def __init__(self, websocket: WebSocket, state: AppState, token: str, check: _Check,
                 interval: float, limiter: SessionLimiter, slot: str) -> None:
        self.websocket, self.state, self.token, self.check = websocket, state, token, check
        self.limiter, self.slot = limiter, slot
        self.heartbeat = Heartbeat(websocket, interval, recheck_first=False)
        self.loop = self.heartbeat.loop
        self.wake = asyncio.Event()
        self.changed = False
        self.gone = False
        self.next_seen = self.loop.time() + svc.SEEN_WRITE_S

    def wake_changed(self) -> None:
        self.changed = True
        self.wake.set()

    async def receive_loop(self) -> None:
        await self.heartbeat.receive(self._gone)

    def _gone(self) -> None:
        self.gone = True
        self.wake.set()

    async def send_loop(self) -> None:
        """Runs until the peer goes or the socket is closed (bounded by the token's life)."""
        while not self.gone:
            expires_in = self.check.exp - time.time()
            now = self.loop.time()
            wait = min(self.heartbeat.next_ping, self.next_seen) - now
            if expires_in <= 0:
                await wsauth.close(self.websocket, CLOSE_UNAUTHORIZED, "token expired")
                return
            try:
                async with asyncio.timeout(max(min(wait, expires_in + 0.01), 0.0)):
                    await self.wake.wait()
            except TimeoutError:
                pass
            self.wake.clear()
            if self.gone:
                return
            if self.changed:
                self.changed = False
                if not await self._still_valid():
                    return
                await self.websocket.send_text(json.dumps({
                    "type": "wall.changed", "wall_id": self.check.wall_id,
                    "monitor_id": self.check.monitor_id,
                }))
            now = self.loop.time()
            if now >= self.heartbeat.next_ping and not await self.heartbeat.beat(
                now, self._ping_check
            ):
                return
            if now >= self.next_seen:
                self.next_seen = now + svc.SEEN_WRITE_S
                if not await self._still_valid():
                    return

    async def _ping_check(self) -> bool:
        """At each ping: the re-check, then the monitor's place renewed."""
        if not await self._still_valid():
            return False
        try:
            await self.limiter.acquire(self.slot, MAX_PER_MONITOR)
        except Exception as exc:
            log.warning("ws_wall_slot_renew_failed", error=type(exc).__name__)
        return True

    async def _still_valid(self) -> bool:
        """Check the token and credential again (and mark the monitor seen); close with
        4401 when they no longer hold. The database briefly away keeps the monitor: it is
        checked again at the next wake."""
        kept, check = await recheck(
            self.websocket, lambda: _verify(self.state, self.token),
            log=log, event="ws_wall_recheck_failed", refused=WS_REVOKED,
        )
        if check is not None:
            self.check = check
        return kept
