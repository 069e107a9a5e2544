"""The PTZ lock of a camera: one holder at a time, kept in Redis so every worker agrees.

``<ns>:ptz:lock:<camera_id>`` holds the lock as JSON (random token, owner, priority, expiry
and ``move_until_ms``, the end of the continuous move it last started) with a PX TTL. It is
taken with ``SET NX PX``; renewals, takeovers and releases are Lua scripts that compare the
owner before they write or delete, so a holder can never extend or drop a lock that has
passed to someone else in the meantime.

``<ns>:ptz:locks`` (a hash, camera id -> last known lock) remembers which locks exist. Redis
expires keys silently (keyspace notifications are off by default), so expiry is found by
comparing the two: ``check_expired`` removes the hash entry of a lock whose key is gone, and
exactly one caller, across every process, gets ``expired`` back and stops the camera.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from argus_common.bus import RedisBus

Outcome = Literal["acquired", "renewed", "takeover", "held", "released", "expired", "none"]

# KEYS: lock, registry. ARGV: candidate, ttl ms, user id, priority, takeover, camera id, now ms
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('HSET', KEYS[2], ARGV[6], ARGV[1])
  return {'acquired', ARGV[1]}
end
local current = redis.call('GET', KEYS[1])
local lock = cjson.decode(current)
if tostring(lock.user_id) == ARGV[3] then
  lock.expires_at_ms = tonumber(ARGV[7]) + tonumber(ARGV[2])
  local renewed = cjson.encode(lock)
  redis.call('SET', KEYS[1], renewed, 'PX', ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[6], renewed)
  return {'renewed', renewed}
end
if ARGV[5] == '1' and tonumber(ARGV[4]) > tonumber(lock.priority) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[6], ARGV[1])
  return {'takeover', ARGV[1], current}
end
return {'held', current}
"""

# KEYS: lock, registry. ARGV: user id, ttl ms, now ms, move_until ms ('' keeps it), camera id
_RENEW = """
local current = redis.call('GET', KEYS[1])
if not current then return {'none'} end
local lock = cjson.decode(current)
if tostring(lock.user_id) ~= ARGV[1] then return {'held', current} end
lock.expires_at_ms = tonumber(ARGV[3]) + tonumber(ARGV[2])
if ARGV[4] ~= '' then lock.move_until_ms = tonumber(ARGV[4]) end
local renewed = cjson.encode(lock)
redis.call('SET', KEYS[1], renewed, 'PX', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[5], renewed)
return {'renewed', renewed}
"""

# Compare-and-delete. KEYS: lock, registry. ARGV: user id, camera id
_RELEASE = """
local current = redis.call('GET', KEYS[1])
if not current then return {'none'} end
local lock = cjson.decode(current)
if tostring(lock.user_id) ~= ARGV[1] then return {'held', current} end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[2])
return {'released', current}
"""

# KEYS: lock, registry. ARGV: camera id
_CHECK_EXPIRED = """
local known = redis.call('HGET', KEYS[2], ARGV[1])
if not known then return {'none'} end
local current = redis.call('GET', KEYS[1])
if current then return {'held', current} end
redis.call('HDEL', KEYS[2], ARGV[1])
return {'expired', known}
"""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class PtzLock:
    """Who controls a camera's PTZ, with what priority, until when."""

    camera_id: int
    token: str
    user_id: int
    username: str
    priority: int
    acquired_at_ms: int
    expires_at_ms: int
    move_until_ms: int = 0

    @classmethod
    def new(cls, camera_id: int, user_id: int, username: str, priority: int,
            ttl_ms: int) -> PtzLock:
        now = now_ms()
        return cls(camera_id, secrets.token_hex(16), user_id, username, priority, now,
                   now + ttl_ms)

    @classmethod
    def parse(cls, camera_id: int, raw: Any) -> PtzLock | None:
        if raw is None:
            return None
        data = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
        return cls(
            camera_id=camera_id, token=str(data["token"]), user_id=int(data["user_id"]),
            username=str(data["username"]), priority=int(data["priority"]),
            acquired_at_ms=int(data["acquired_at_ms"]),
            expires_at_ms=int(data["expires_at_ms"]),
            move_until_ms=int(data.get("move_until_ms") or 0),
        )

    def dump(self) -> str:
        data = asdict(self)
        data.pop("camera_id")
        return json.dumps(data, separators=(",", ":"))

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at_ms / 1000, UTC)

    @property
    def acquired_at(self) -> datetime:
        return datetime.fromtimestamp(self.acquired_at_ms / 1000, UTC)

    def moving(self, at_ms: int | None = None) -> bool:
        """Whether a continuous move this holder started may still be running."""
        return self.move_until_ms > (now_ms() if at_ms is None else at_ms)


@dataclass(frozen=True)
class LockResult:
    outcome: Outcome
    lock: PtzLock | None = None  # the lock now (or the one released / expired)
    previous: PtzLock | None = None  # the lock taken over


class PtzLocks:
    """The lock operations, each one Redis round trip."""

    def __init__(self, bus: RedisBus) -> None:
        self.bus = bus
        redis = bus.redis
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._check_expired = redis.register_script(_CHECK_EXPIRED)

    def key(self, camera_id: int) -> str:
        return self.bus.key(f"ptz:lock:{camera_id}")

    @property
    def registry(self) -> str:
        return self.bus.key("ptz:locks")

    def _result(self, camera_id: int, reply: list[Any]) -> LockResult:
        outcome = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        lock = PtzLock.parse(camera_id, reply[1]) if len(reply) > 1 else None
        previous = PtzLock.parse(camera_id, reply[2]) if len(reply) > 2 else None
        return LockResult(outcome, lock, previous)  # type: ignore[arg-type]

    async def acquire(self, candidate: PtzLock, ttl_ms: int, takeover: bool) -> LockResult:
        """Take the free lock, renew our own, or (``takeover`` and a higher priority) take
        another holder's: ``acquired`` / ``renewed`` / ``takeover`` / ``held``."""
        reply = await self._acquire(
            keys=[self.key(candidate.camera_id), self.registry],
            args=[candidate.dump(), ttl_ms, candidate.user_id, candidate.priority,
                  "1" if takeover else "0", candidate.camera_id, now_ms()],
        )
        return self._result(candidate.camera_id, reply)

    async def renew(
        self, camera_id: int, user_id: int, ttl_ms: int, move_until_ms: int | None = None
    ) -> LockResult:
        """Extend the lock if ``user_id`` holds it: ``renewed`` / ``held`` / ``none``."""
        reply = await self._renew(
            keys=[self.key(camera_id), self.registry],
            args=[user_id, ttl_ms, now_ms(), "" if move_until_ms is None else move_until_ms,
                  camera_id],
        )
        return self._result(camera_id, reply)

    async def release(self, camera_id: int, user_id: int) -> LockResult:
        """Delete the lock if ``user_id`` holds it: ``released`` / ``held`` / ``none``."""
        reply = await self._release(
            keys=[self.key(camera_id), self.registry], args=[user_id, camera_id]
        )
        return self._result(camera_id, reply)

    async def check_expired(self, camera_id: int) -> LockResult:
        """``expired`` (with the lost lock) to exactly one caller once the key is gone;
        ``held`` (with the live lock) or ``none`` otherwise."""
        reply = await self._check_expired(
            keys=[self.key(camera_id), self.registry], args=[camera_id]
        )
        return self._result(camera_id, reply)

    async def current(self, camera_id: int) -> PtzLock | None:
        return PtzLock.parse(camera_id, await self.bus.redis.get(self.key(camera_id)))

    async def known_cameras(self) -> list[int]:
        """Cameras with a lock (live, or expired and not yet noticed)."""
        fields = await self.bus.redis.hkeys(self.registry)
        return [int(f) for f in fields]
