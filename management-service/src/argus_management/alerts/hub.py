"""In-process fan-out of ``argus:alerts`` to the WebSocket clients of this process.

One Redis subscription per process feeds the hub; the hub hands each message, serialized
once, to the bounded queue of every client allowed to see its camera (a set lookup per
client), and each client's own sender drains its queue. A client whose queue overflows is
disconnected rather than silently missing alerts: it reconnects and re-reads the open alerts
over REST.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from typing import Any

import structlog
from prometheus_client import Counter, Gauge

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_ALERTS
from argus_common.retry import Backoff, keep_running
from argus_common.wsauth import CLOSE_TRY_AGAIN
from argus_management.rbac.principal import Principal

log = structlog.get_logger("argus.alerts.hub")

WS_CLIENTS = Gauge("argus_ws_clients", "Connected /ws/alerts WebSocket clients")
WS_OVERFLOWS = Counter(
    "argus_ws_client_overflows_total", "WebSocket clients disconnected for falling behind"
)
ALERTS_DISPATCHED = Counter(
    "argus_ws_alerts_dispatched_total", "Alert messages received from Redis for fan-out"
)

DEFAULT_QUEUE_SIZE = 256


class HubClient:
    """One connected client: what it may see, and the messages waiting to be sent to it."""

    __slots__ = (
        "camera_ids", "close_code", "close_reason", "max_queue", "pending", "principal",
        "sees_all", "wakeup",
    )

    def __init__(self, principal: Principal, max_queue: int) -> None:
        self.principal = principal
        self.sees_all = principal.sees_all_cameras
        self.camera_ids = principal.camera_ids
        self.max_queue = max_queue
        self.pending: deque[str] = deque()
        self.wakeup = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""

    def update_principal(self, principal: Principal) -> None:
        """Grants changed (or the token was re-verified): future alerts follow the new ones."""
        self.principal = principal
        self.sees_all = principal.sees_all_cameras
        self.camera_ids = principal.camera_ids

    def may_see(self, camera_id: int | None) -> bool:
        """System alerts (no camera) go only to principals who see every camera."""
        return self.sees_all or (camera_id is not None and camera_id in self.camera_ids)

    def offer(self, raw: str) -> None:
        """Queue ``raw`` for sending; a full queue asks the sender to disconnect (1013)."""
        if self.close_code is not None:
            return
        if len(self.pending) >= self.max_queue:
            WS_OVERFLOWS.inc()
            self.request_close(CLOSE_TRY_AGAIN, "too slow: reconnect and re-read open alerts")
            return
        self.pending.append(raw)
        self.wakeup.set()

    def request_close(self, code: int, reason: str) -> None:
        """Ask the sender to close the connection with ``code`` (0: the peer is gone)."""
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
        self.wakeup.set()


class AlertHub:
    """The clients of this process and the dispatch of alert messages to them."""

    def __init__(self, max_queue: int = DEFAULT_QUEUE_SIZE) -> None:
        self.max_queue = max_queue
        self.clients: set[HubClient] = set()
        # In-process listeners that see every decoded message before the clients do (the
        # wall monitors' /ws/wall-display follows wall.changed this way: walls/push.py).
        self.taps: list[Callable[[dict[str, Any]], None]] = []

    def add(self, principal: Principal) -> HubClient:
        client = HubClient(principal, self.max_queue)
        self.clients.add(client)
        WS_CLIENTS.inc()
        return client

    def remove(self, client: HubClient) -> None:
        if client in self.clients:
            self.clients.discard(client)
            WS_CLIENTS.dec()

    def dispatch(self, raw: str) -> int:
        """Queue one ``argus:alerts`` message for every client allowed to see it; returns
        how many clients it was queued for."""
        try:
            decoded = json.loads(raw)
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            log.warning("alert_message_unreadable", size=len(raw))
            return 0
        for tap in self.taps:
            try:
                tap(decoded)
            except Exception as exc:  # one listener must not stop the fan-out
                log.warning("alert_tap_failed", error=type(exc).__name__)
        camera_id = decoded.get("camera_id")
        if camera_id is not None and (
            isinstance(camera_id, bool) or not isinstance(camera_id, int)
        ):
            log.warning("alert_message_bad_camera", camera_id=str(camera_id)[:32])
            return 0
        # A frame about no camera may name the permission its readers need (a wall's
        # monitor changed: walls:view); without one it goes to those who see every camera.
        permission = decoded.get("permission") if camera_id is None else None
        if permission is not None and not isinstance(permission, str):
            return 0
        ALERTS_DISPATCHED.inc()
        count = 0
        for client in self.clients:
            if (client.principal.has(permission) if permission else client.may_see(camera_id)):
                client.offer(raw)
                count += 1
        return count


async def run_alert_fanout(bus: RedisBus, hub: AlertHub) -> None:
    """Background task: the process's one subscription to ``argus:alerts``, resubscribing
    with backoff when Redis goes away (messages published meanwhile are lost: live only)."""
    backoff = Backoff(0.5, 10.0)

    async def follow() -> None:
        async for _channel, raw in bus.subscribe(CHANNEL_ALERTS):
            backoff.reset()  # a working subscription starts the next outage's delays over
            hub.dispatch(raw)

    await keep_running(follow, event="alert_subscription_lost", backoff=backoff, log=log)
