"""Leases in Redis: which instance of a scaled-out service handles which camera.

A lease is a key set with ``SET NX PX`` to this process's token and renewed (a script
extends it only while the token still matches) every third of its TTL. An instance that
dies stops renewing; its keys expire and another one takes the cameras. Live instances
announce themselves in a sorted set (score: expiry), from which each one computes its
fair share. Keys: ``<namespace>:<scope>:lease:<name>`` and ``<namespace>:<scope>:instances``.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

from redis.asyncio import Redis

_RENEW = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then
    redis.call('pexpire', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""
# Renew, or take again a lease nobody holds (it expired while Redis was out of reach, or a
# restarted Redis lost it): the holder's worker never stopped, so it simply carries on.
_RENEW_OR_RETAKE = """
local out = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('get', key)
  if holder == ARGV[1] then
    redis.call('pexpire', key, ARGV[2])
    out[i] = 1
  elseif not holder then
    redis.call('set', key, ARGV[1], 'PX', ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Leases:
    """The leases of one process within ``scope`` (``analysis``, …)."""

    def __init__(
        self, redis: Redis, namespace: str, scope: str, instance_id: str, ttl_s: float
    ) -> None:
        self.redis = redis
        self.prefix = f"{namespace}:{scope}"
        self.instance_id = instance_id
        self.token = f"{instance_id}:{uuid.uuid4().hex[:12]}"
        self.ttl_ms = int(ttl_s * 1000)
        self._renew: Any = redis.register_script(_RENEW)
        self._renew_or_retake: Any = redis.register_script(_RENEW_OR_RETAKE)
        self._release: Any = redis.register_script(_RELEASE)
        # Each live instance's announced expiry (epoch ms), from the last ``heartbeat``.
        self.expiries: dict[str, float] = {}

    def key(self, name: str) -> str:
        return f"{self.prefix}:lease:{name}"

    @property
    def instances_key(self) -> str:
        return f"{self.prefix}:instances"

    async def acquire(self, name: str) -> bool:
        """Take the lease ``name`` if nobody holds it."""
        return bool(await self.redis.set(self.key(name), self.token, nx=True, px=self.ttl_ms))

    async def renew(self, names: list[str], *, retake: bool = False) -> set[str]:
        """Extend the leases still ours; returns their names (the others were lost).
        ``retake``: a lease that nobody holds any more (expired, or lost with a restarted
        Redis) is taken again; only a lease someone else holds counts as lost."""
        if not names:
            return set()
        script = self._renew_or_retake if retake else self._renew
        result = await script(keys=[self.key(n) for n in names], args=[self.token, self.ttl_ms])
        return {name for name, held in zip(names, result, strict=True) if int(held)}

    async def release(self, name: str) -> None:
        await self._release(keys=[self.key(name)], args=[self.token])

    async def owner(self, name: str) -> str | None:
        """The token of whoever holds lease ``name`` (``<instance>:<random>``), or None."""
        raw = await self.redis.get(self.key(name))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def heartbeat(self) -> list[str]:
        """Announce this instance as alive for one TTL; returns every live instance."""
        now = int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.instances_key, {self.instance_id: now + self.ttl_ms})
        pipe.zremrangebyscore(self.instances_key, "-inf", now)
        pipe.zrange(self.instances_key, 0, -1, withscores=True)
        *_, members = await pipe.execute()
        self.expiries = {
            (m.decode() if isinstance(m, bytes) else str(m)): float(score) for m, score in members
        }
        return sorted(self.expiries)

    def next_peer_expiry(self, now_ms: float) -> float | None:
        """When the first peer that has missed a heartbeat (its announcement runs out within
        half a TTL, where a live one renews every third) will be gone (epoch ms), or None."""
        stale = [
            expiry
            for name, expiry in self.expiries.items()
            if name != self.instance_id and expiry - now_ms < self.ttl_ms / 2
        ]
        return min(stale) if stale else None

    async def leave(self) -> None:
        """Clean shutdown: no longer counted in the others' fair share."""
        await self.redis.zrem(self.instances_key, self.instance_id)


def fair_share(items: int, instances: int) -> int:
    """How many of ``items`` one of ``instances`` live instances should hold (rounded up)."""
    return math.ceil(items / max(1, instances))


class Leader:
    """One lease that lets a single process of many (workers, replicas) run a job, such as
    management's liveness checker: whoever holds ``<namespace>:<scope>:lease:<name>`` leads.
    A leader that dies stops renewing; another process takes over once the TTL has run out.
    """

    def __init__(self, leases: Leases, name: str = "leader") -> None:
        self.leases = leases
        self.name = name
        self.held = False

    async def acquire_or_renew(self) -> bool:
        """Keep the lease if held, else try to take it; returns whether it is held now."""
        if self.held:
            self.held = self.name in await self.leases.renew([self.name])
        if not self.held:
            self.held = await self.leases.acquire(self.name)
        return self.held

    async def release(self) -> None:
        """Give the lease back (another process may take it at once)."""
        if self.held:
            self.held = False
            await self.leases.release(self.name)
