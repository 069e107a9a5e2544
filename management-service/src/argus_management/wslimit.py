"""Caps on WebSocket connections that hold across every worker and replica: a sorted set in
Redis per cap (member: a connection id, score: its expiry in ms). A connection renews its
entry at each ping; a process that dies leaves entries that expire on their own, so a crash
never keeps a user locked out for longer than the time-to-live.

Two caps use it: the deployment-wide number of ``/ws/analysis`` sessions
(``ANALYSIS_MAX_SESSIONS``) and the connections one user may hold on any ``/ws/*`` endpoint
(``MANAGEMENT_MAX_WS_PER_USER``, :func:`admit_user`). Refusals close with 4429.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

import structlog
from fastapi import WebSocket
from redis.asyncio import Redis

from argus_common import wsauth
from argus_common.bus import RedisBus
from argus_common.wsauth import CLOSE_SERVER_ERROR, CLOSE_TOO_MANY

log = structlog.get_logger("argus.wslimit")

# KEYS[1] the set; ARGV: now ms, expiry ms, limit, member, key time-to-live ms.
_ACQUIRE = """
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
local ok = 0
if redis.call('zscore', KEYS[1], ARGV[4]) then
  ok = 1
elseif redis.call('zcard', KEYS[1]) < tonumber(ARGV[3]) then
  ok = 1
end
if ok == 1 then
  redis.call('zadd', KEYS[1], ARGV[2], ARGV[4])
end
redis.call('pexpire', KEYS[1], ARGV[5])
return ok
"""


class SessionLimiter:
    """At most ``max_sessions`` live members in one Redis sorted set (see the module)."""

    def __init__(self, redis: Redis, key: str, ttl_s: float) -> None:
        self.redis = redis
        self.key = key
        self.ttl_ms = max(int(ttl_s * 1000), 1)
        self._script: Any = redis.register_script(_ACQUIRE)

    async def acquire(self, session_id: str, max_sessions: int) -> bool:
        """Take (or renew) a place for ``session_id``; False when all are taken."""
        now = int(time.time() * 1000)
        taken = await self._script(
            keys=[self.key],
            args=[now, now + self.ttl_ms, max_sessions, session_id, self.ttl_ms],
        )
        return bool(int(taken))

    async def release(self, session_id: str) -> None:
        await self.redis.zrem(self.key, session_id)

    async def count(self) -> int:
        """Live members now (expired ones not counted)."""
        now = int(time.time() * 1000)
        return int(await self.redis.zcount(self.key, now, "+inf"))


def user_key(bus: RedisBus, user_id: int) -> str:
    """The set of one user's WebSocket connections."""
    return bus.key(f"ws:user:{user_id}")


class UserSlot:
    """One connection's place among its user's connections."""

    def __init__(self, limiter: SessionLimiter, limit: int) -> None:
        self.limiter = limiter
        self.limit = limit
        self.id = uuid.uuid4().hex

    async def renew(self) -> bool:
        """Keep the place (at each ping); False if it was lost and all are taken."""
        return await self.limiter.acquire(self.id, self.limit)

    async def release(self) -> None:
        """Give the place back (disconnect); a Redis failure leaves it to expire."""
        with contextlib.suppress(Exception):
            await self.limiter.release(self.id)


async def admit_user(
    websocket: WebSocket, bus: RedisBus, user_id: int, limit: int, ping_interval_s: float
) -> UserSlot | None:
    """A place for a new connection of ``user_id``, or None after closing the socket: 4429
    when the user already holds ``limit`` connections, 1011 when Redis cannot tell."""
    # Renewed at each ping; 2.5 periods survive one late ping.
    slot = UserSlot(SessionLimiter(bus.redis, user_key(bus, user_id), ping_interval_s * 2.5), limit)
    try:
        admitted = await slot.renew()
    except Exception as exc:
        log.warning("ws_user_limit_unavailable", error=type(exc).__name__)
        await wsauth.close(
            websocket, CLOSE_SERVER_ERROR, "connection limit unavailable; try again shortly"
        )
        return None
    if not admitted:
        await wsauth.close(
            websocket,
            CLOSE_TOO_MANY,
            f"too many WebSocket connections for this user (at most {limit}); close one first",
        )
        return None
    return slot
