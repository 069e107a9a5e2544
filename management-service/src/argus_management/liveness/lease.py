"""A Redis lease that lets one process of many (workers, replicas) run the checker.

``SET key token NX PX ttl`` takes it; the holder renews it every cycle with a script that
extends it only while it still holds the token, and gives it back on shutdown. A holder
that dies stops renewing, and another process takes over once the TTL has run out.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any

from argus_common.bus import RedisBus

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Lease:
    """The lease ``<ns>:<name>`` as seen by this process."""

    def __init__(self, bus: RedisBus, name: str, ttl_s: float) -> None:
        self.redis = bus.redis
        self.key = bus.key(name)
        self.ttl_ms = max(1000, int(ttl_s * 1000))
        self.token = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.held = False
        self._renew: Any = self.redis.register_script(_RENEW)
        self._release: Any = self.redis.register_script(_RELEASE)

    async def acquire_or_renew(self) -> bool:
        """Keep the lease if held, else try to take it; returns whether it is held now."""
        if self.held:
            renewed = await self._renew(keys=[self.key], args=[self.token, self.ttl_ms])
            self.held = bool(int(renewed))
        if not self.held:
            self.held = bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))
        return self.held

    async def release(self) -> None:
        """Give the lease back (another process may take it at once)."""
        if self.held:
            self.held = False
            await self._release(keys=[self.key], args=[self.token])
