"""Who is publishing each stream name right now, kept in Redis.

``<ns>:rtmp:publishing:<name>`` holds the nginx client id of the accepted publisher. It is
taken with ``SET NX`` before anything is registered (so of two publishers racing for one
name exactly one wins), lives ``3 x RTMP_UPDATE_INTERVAL_S`` and is renewed by every
``on_update`` of that publisher. A publisher that vanished without ``on_publish_done``
(nginx killed) therefore frees its name within three update periods.

nginx-rtmp calls ``on_publish`` for a second publisher too and, when its own "already
publishing" check then refuses it, ``on_publish_done`` for it as well: only the holder's
notifications may end the stream, hence the compare-and-delete.
"""

from __future__ import annotations

from typing import Literal

from argus_common.bus import RedisBus

# Renew the holder's TTL; take a free name back (the record expired while management was
# unreachable and nginx kept the stream). 1: renewed, 2: taken back, 0: someone else's.
_RENEW = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"""

# Delete only our own record. 1: deleted, 0: there was none, -1: someone else's.
_RELEASE = """
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if v == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return -1
"""

Renewal = Literal["renewed", "reclaimed", "other"]
Release = Literal["released", "absent", "other"]


def _key(bus: RedisBus, name: str) -> str:
    return bus.key(f"rtmp:publishing:{name}")


def ttl_ms(update_interval_s: float) -> int:
    """Three update periods: one late or lost ``on_update`` does not free the name."""
    return int(update_interval_s * 3 * 1000)


async def claim(bus: RedisBus, name: str, client_id: str, update_interval_s: float) -> bool:
    """Take ``name`` for ``client_id``; False when another publisher holds it."""
    return bool(
        await bus.redis.set(_key(bus, name), client_id, nx=True, px=ttl_ms(update_interval_s))
    )


async def renew(bus: RedisBus, name: str, client_id: str, update_interval_s: float) -> Renewal:
    """Extend ``client_id``'s hold on ``name`` (or take it back if it lapsed)."""
    result = int(await bus.redis.eval(
        _RENEW, 1, _key(bus, name), client_id, ttl_ms(update_interval_s)
    ))
    return "renewed" if result == 1 else "reclaimed" if result == 2 else "other"


async def release(bus: RedisBus, name: str, client_id: str) -> Release:
    """Give ``name`` up, if ``client_id`` holds it."""
    result = int(await bus.redis.eval(_RELEASE, 1, _key(bus, name), client_id))
    return "released" if result == 1 else "absent" if result == 0 else "other"


async def holder(bus: RedisBus, name: str) -> str | None:
    """The client id publishing ``name`` now, if any."""
    value = await bus.redis.get(_key(bus, name))
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
