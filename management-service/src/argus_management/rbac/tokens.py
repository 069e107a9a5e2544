"""Access-token denylists kept in Redis until the tokens would expire anyway: one entry per
token (logout) and one per refresh family (reuse detected, password changed or reset), since
every access token names its family in the ``fam`` claim.

Every revocation is also announced on ``argus:authz`` (``AuthzChanged``), so that
streaming-service ends the video sessions opened with those tokens within seconds.
"""

from __future__ import annotations

import time
from typing import Literal

import structlog

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_AUTHZ, AuthzChanged

log = structlog.get_logger("argus.management.tokens")
Reason = Literal["grants", "user", "logout", "password", "other"]


def denylist_key(bus: RedisBus, jti: str) -> str:
    return bus.key(f"denylist:{jti}")


async def deny(bus: RedisBus, jti: str, expires_at: int, user_id: int | None = None) -> None:
    """Refuse the token ``jti`` from now until ``expires_at`` (epoch seconds)."""
    ttl = max(1, expires_at - int(time.time()))
    await bus.redis.set(denylist_key(bus, jti), b"1", ex=ttl)
    await announce(bus, "logout", [user_id] if user_id is not None else None, jtis=[jti])


def family_key(bus: RedisBus, family: str) -> str:
    return bus.key(f"denyfam:{family}")


async def deny_families(
    bus: RedisBus, families: list[str], ttl_s: int, user_id: int | None = None
) -> None:
    """Refuse every access token of ``families`` for ``ttl_s`` (the access-token lifetime)."""
    if not families:
        return
    pipe = bus.redis.pipeline(transaction=False)
    for family in families:
        pipe.set(family_key(bus, family), b"1", ex=max(1, ttl_s))
    await pipe.execute()
    await announce(bus, "password", [user_id] if user_id is not None else None,
                   families=families)


async def announce(
    bus: RedisBus, reason: Reason, user_ids: list[int] | None, *,
    families: list[str] | None = None, jtis: list[str] | None = None,
) -> None:
    """Publish ``AuthzChanged`` (after the change is committed and the denylist written).

    A failed publish is logged, not raised: the change itself stands, and listeners also
    re-check their sessions periodically.
    """
    message = AuthzChanged(reason=reason, user_ids=user_ids, families=(families or [])[:1000],
                           jtis=(jtis or [])[:1000])
    try:
        await bus.publish(CHANNEL_AUTHZ, message)
    except Exception as exc:  # Redis away: the periodic re-check still catches it
        log.warning("authz_publish_failed", reason=reason, error=type(exc).__name__)
