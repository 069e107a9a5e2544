"""``WS /ws/alerts``: live alerts of the cameras the user may see.

Authentication: ``argus_common.wsauth`` (``Authorization: Bearer``, the ``bearer, <token>``
subprotocol that the console uses, answered with ``bearer``, or ``?token=``). The permission
is ``events:read``. A client
gets the alerts of the cameras it may see; system alerts (no camera, e.g. ``recorder.down``)
go only to users who see every camera (the ``cameras:write`` holders: admins).

Close codes (``argus_common.wsauth``; the socket is accepted first so that browsers see
them): 4401 invalid, expired or revoked token; 4403 missing permission; 4408 no answer to a
ping; 4429 the user already holds ``MANAGEMENT_MAX_WS_PER_USER`` connections (every
``/ws/*`` endpoint and worker counted, ``wslimit.py``); 1011 the token or the connection
count could not be checked; 1013 the client fell behind (reconnect and
re-read open alerts over REST).

Frames sent: ``{"type": "ready", "ping_interval_s": …}`` once authenticated and registered
(alerts published after it are delivered), then ``argus_common.events.AlertMessage`` JSON
(``type`` ``alert.<kind>``, state open / acked / resolved), ``PtzLockChanged`` JSON
(``type`` ``ptz.lock``: acquired / released / expired / takeover, fed by ``ptz/watch.py``)
and ``{"type": "ping"}`` every ``MANAGEMENT_WS_PING_INTERVAL_S``.
The client must answer each ping before the next one, with ``{"type": "pong"}`` (any frame
counts). At every ping the token is verified again (expiry, logout denylist, changed grants).
"""

from __future__ import annotations

import asyncio
import json
import time

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from argus_common import wsauth
from argus_common.wsauth import CLOSE_UNAUTHORIZED
from argus_management.alerts.hub import HubClient
from argus_management.deps import StateDep
from argus_management.rbac.dependencies import principal_with
from argus_management.rbac.principal import Principal
from argus_management.ws_session import Heartbeat, recheck
from argus_management.wslimit import UserSlot, admit_user

log = structlog.get_logger("argus.alerts.ws")

router = APIRouter()

PERMISSION = "events:read"
_GONE = 0  # close_code meaning the peer already went away: nothing to send


async def _verify(websocket: WebSocket, token: str) -> Principal:
    return await principal_with(websocket, token, PERMISSION)


@router.websocket("/ws/alerts")
async def alerts_socket(websocket: WebSocket, state: StateDep) -> None:
    """Push alerts to an authenticated client until it leaves or its token stops being valid."""
    done = await wsauth.authenticate(websocket, lambda token: _verify(websocket, token))
    if done is None:
        return
    principal, token = done
    settings = state.settings
    slot = await admit_user(websocket, state.bus, principal.user_id, settings.max_ws_per_user,
                            settings.ws_ping_interval_s)
    if slot is None:
        return
    hub = state.alert_hub
    client = hub.add(principal)
    session = _Session(websocket, client, token, settings.ws_ping_interval_s, slot)
    tasks: list[asyncio.Task[None]] = []
    try:
        # Sent once registered: every alert published after this frame reaches the client.
        await websocket.send_text(
            json.dumps({"type": "ready", "ping_interval_s": session.interval})
        )
        # Own tasks, not awaited inline: each wake-up of a sender then resumes one shallow
        # coroutine instead of the whole ASGI middleware chain (measurable at 1,000 clients).
        tasks = [
            asyncio.create_task(session.send_loop(), name="ws-alerts-send"),
            asyncio.create_task(session.receive_loop(), name="ws-alerts-receive"),
        ]
        await tasks[0]
    except WebSocketDisconnect:
        pass
    finally:
        hub.remove(client)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await slot.release()


alerts_socket.__argus_permission__ = PERMISSION  # type: ignore[attr-defined]


class _Session:
    """The two halves of one connection: a receiver noting pongs and the disconnect, and the
    sender, the only writer, which also runs the pings and token re-checks when its timer
    fires (one timer per ping period, not one per message)."""

    def __init__(
        self, websocket: WebSocket, client: HubClient, token: str, interval: float,
        slot: UserSlot,
    ) -> None:
        self.websocket = websocket
        self.slot = slot
        self.client = client
        self.token = token
        self.interval = interval
        self.heartbeat = Heartbeat(websocket, interval, recheck_first=True)
        self.loop = self.heartbeat.loop
        self.tick_due = False

    async def receive_loop(self) -> None:
        await self.heartbeat.receive(lambda: self.client.request_close(_GONE, ""))

    def _arm_timer(self) -> asyncio.TimerHandle:
        # Wall-clock expiry mapped onto the loop clock, a hair late so it has passed.
        expires_in = self.client.principal.token_exp - time.time() + 0.01
        deadline = min(self.heartbeat.next_ping, self.loop.time() + max(expires_in, 0.0))
        return self.loop.call_at(deadline, self._timer_fired)

    def _timer_fired(self) -> None:
        self.tick_due = True
        self.client.wakeup.set()

    async def send_loop(self) -> None:
        client, websocket = self.client, self.websocket
        timer = self._arm_timer()
        try:
            while True:
                await client.wakeup.wait()
                client.wakeup.clear()
                if client.close_code is not None:
                    if client.close_code != _GONE:
                        await wsauth.close(websocket, client.close_code, client.close_reason)
                    return
                while client.pending:
                    await websocket.send_text(client.pending.popleft())
                if self.tick_due:
                    self.tick_due = False
                    if not await self._tick():
                        return
                    timer = self._arm_timer()
        except WebSocketDisconnect:
            return
        finally:
            timer.cancel()

    async def _tick(self) -> bool:
        """Token expiry; at ping time also re-verification, the pong check and the ping
        (``ws_session.Heartbeat``). Returns False once the connection is closed."""
        if time.time() >= self.client.principal.token_exp:
            await wsauth.close(self.websocket, CLOSE_UNAUTHORIZED, "token expired")
            return False
        now = self.loop.time()
        if now < self.heartbeat.next_ping:
            return True
        return await self.heartbeat.beat(now, self._still_authorized)

    async def _still_authorized(self) -> bool:
        """Re-verify the token (expiry, denylist, grants); close with 4401/4403 if it fails."""
        kept, principal = await recheck(
            self.websocket, lambda: _verify(self.websocket, self.token),
            log=log, event="ws_recheck_failed",
        )
        if principal is None:  # closed, or the check could not run (Redis or the database)
            return kept
        self.client.update_principal(principal)
        try:
            await self.slot.renew()  # the user's connection count (wslimit.py)
        except Exception as exc:
            log.warning("ws_slot_renew_failed", error=type(exc).__name__)
        return True
