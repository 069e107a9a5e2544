"""Access-token denylist (logout) kept in Redis until the token would expire anyway."""

from __future__ import annotations

import time

from argus_common.bus import RedisBus


def denylist_key(bus: RedisBus, jti: str) -> str:
    return bus.key(f"denylist:{jti}")


async def deny(bus: RedisBus, jti: str, expires_at: int) -> None:
    """Refuse the token ``jti`` from now until ``expires_at`` (epoch seconds)."""
    ttl = max(1, expires_at - int(time.time()))
    await bus.redis.set(denylist_key(bus, jti), b"1", ex=ttl)
