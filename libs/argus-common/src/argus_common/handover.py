"""Make-before-break handover of one camera between two instances, in Redis.

When an instance holds more than its fair share it *offers* a camera instead of dropping it;
an instance under its share *claims* the offer, starts its worker in standby (connected,
buffering, not writing) and says *ready* once it has received a keyframe. The giver then
cuts its recording at the next keyframe, publishes that keyframe's time ``t`` (*cut*), lets
its worker finish and hands the lease over to the taker (*done*). The taker writes from
its own copy of the keyframe at ``t``: the two recordings touch, neither overlaps nor
leaves a gap.

State: a hash ``<namespace>:<scope>:handover:<name>`` (``from``/``to`` tokens, ``state``,
``t``) that expires on its own (an instance that dies mid-way leaves nothing behind), and a
set ``<namespace>:<scope>:handover:offers`` of offered names (stale members are dropped by
whoever meets them).
"""

from __future__ import annotations

from typing import Any

from argus_common.leases import Leases

OFFERED, CLAIMED, READY, CUT, DONE = "offered", "claimed", "ready", "cut", "done"

_OFFER = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], 'from', ARGV[1], 'state', 'offered')
redis.call('pexpire', KEYS[1], ARGV[2])
redis.call('sadd', KEYS[2], ARGV[3])
return 1
"""
_CLAIM = """
if redis.call('exists', KEYS[1]) == 0 then
  redis.call('srem', KEYS[2], ARGV[3])
  return 0
end
if redis.call('hget', KEYS[1], 'state') ~= 'offered' then return 0 end
if redis.call('hget', KEYS[1], 'from') == ARGV[1] then return 0 end
redis.call('hset', KEYS[1], 'to', ARGV[1], 'state', 'claimed')
redis.call('pexpire', KEYS[1], ARGV[2])
redis.call('srem', KEYS[2], ARGV[3])
return 1
"""
# ARGV: token, field owning the step ('from' or 'to'), expected state, new state, t
_STEP = """
if redis.call('hget', KEYS[1], ARGV[2]) ~= ARGV[1] then return 0 end
if redis.call('hget', KEYS[1], 'state') ~= ARGV[3] then return 0 end
redis.call('hset', KEYS[1], 'state', ARGV[4])
if ARGV[5] ~= '' then redis.call('hset', KEYS[1], 't', ARGV[5]) end
return 1
"""
# The giver, once its worker has finished: the lease goes to the taker.
_TRANSFER = """
if redis.call('hget', KEYS[2], 'from') ~= ARGV[1] then return 0 end
if redis.call('hget', KEYS[2], 'state') ~= 'cut' then return 0 end
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local to = redis.call('hget', KEYS[2], 'to')
redis.call('set', KEYS[1], to, 'PX', ARGV[2])
redis.call('hset', KEYS[2], 'state', 'done')
return 1
"""
_CANCEL = """
if redis.call('hget', KEYS[1], ARGV[2]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('srem', KEYS[2], ARGV[3])
  return 1
end
return 0
"""


class Handover:
    """The handover steps of one instance, on the keys of its ``Leases``."""

    def __init__(self, leases: Leases, ttl_s: float) -> None:
        self.leases = leases
        self.redis = leases.redis
        self.token = leases.token
        # Long enough for a worker to connect and see a keyframe, short enough that a
        # handover abandoned by a dead instance is forgotten soon.
        self.ttl_ms = int(ttl_s * 3 * 1000)
        self._offer: Any = self.redis.register_script(_OFFER)
        self._claim: Any = self.redis.register_script(_CLAIM)
        self._step: Any = self.redis.register_script(_STEP)
        self._transfer: Any = self.redis.register_script(_TRANSFER)
        self._cancel: Any = self.redis.register_script(_CANCEL)

    def key(self, name: str) -> str:
        return f"{self.leases.prefix}:handover:{name}"

    @property
    def offers_key(self) -> str:
        return f"{self.leases.prefix}:handover:offers"

    async def offer(self, name: str) -> bool:
        """Offer ``name`` (whose lease we hold); False if a handover of it is under way."""
        return bool(
            await self._offer(
                keys=[self.key(name), self.offers_key], args=[self.token, self.ttl_ms, name]
            )
        )

    async def offers(self) -> set[str]:
        """Names offered now (some may be stale: ``claim`` tells)."""
        members = await self.redis.smembers(self.offers_key)
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def claim(self, name: str) -> bool:
        """Claim an offer: we are the taker from now on."""
        return bool(
            await self._claim(
                keys=[self.key(name), self.offers_key], args=[self.token, self.ttl_ms, name]
            )
        )

    async def ready(self, name: str) -> bool:
        """Taker: our standby worker has received a keyframe."""
        return await self._advance(name, "to", CLAIMED, READY)

    async def cut(self, name: str, t_ms: float | None) -> bool:
        """Giver: our recording ended at the keyframe at ``t_ms`` (None: it ended without
        one; the taker then starts at its next keyframe)."""
        t = "" if t_ms is None else repr(float(t_ms))
        return await self._advance(name, "from", READY, CUT, t)

    async def _advance(self, name: str, role: str, expected: str, new: str, t: str = "") -> bool:
        return bool(
            await self._step(keys=[self.key(name)], args=[self.token, role, expected, new, t])
        )

    async def transfer(self, name: str) -> bool:
        """Giver, after its worker has finished: the lease becomes the taker's."""
        return bool(
            await self._transfer(
                keys=[self.leases.key(name), self.key(name)], args=[self.token, self.leases.ttl_ms]
            )
        )

    async def cancel(self, name: str, role: str = "from") -> bool:
        """Forget a handover we take part in as ``role`` ('from' or 'to')."""
        return bool(
            await self._cancel(
                keys=[self.key(name), self.offers_key], args=[self.token, role, name]
            )
        )

    async def state(self, name: str) -> dict[str, str]:
        """The handover's fields (empty: none under way)."""
        raw = await self.redis.hgetall(self.key(name))
        return {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()
        }
