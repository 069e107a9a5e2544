"""Access-token denylists kept in Redis until the tokens would expire anyway: one entry per
token (logout) and one per refresh family (reuse detected, password changed or reset), since
every access token names its family in the ``fam`` claim."""

from __future__ import annotations

import time

from argus_common.bus import RedisBus


def denylist_key(bus: RedisBus, jti: str) -> str:
    return bus.key(f"denylist:{jti}")


async def deny(bus: RedisBus, jti: str, expires_at: int) -> None:
    """Refuse the token ``jti`` from now until ``expires_at`` (epoch seconds)."""
    ttl = max(1, expires_at - int(time.time()))
    await bus.redis.set(denylist_key(bus, jti), b"1", ex=ttl)


def family_key(bus: RedisBus, family: str) -> str:
    return bus.key(f"denyfam:{family}")


async def deny_families(bus: RedisBus, families: list[str], ttl_s: int) -> None:
    """Refuse every access token of ``families`` for ``ttl_s`` (the access-token lifetime)."""
    if not families:
        return
    pipe = bus.redis.pipeline(transaction=False)
    for family in families:
        pipe.set(family_key(bus, family), b"1", ex=max(1, ttl_s))
    await pipe.execute()
