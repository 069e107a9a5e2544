"""Brute-force protection for password checks: per-account lockout and a per-IP limit.

Counters live in Redis so every worker (and every replica) shares them. The account key is a
hash of the attempted name, known or not: locking only real accounts would tell an attacker
which names exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from redis.exceptions import RedisError

from argus_common.bus import RedisBus
from argus_common.errors import TooManyRequests, Unavailable
from argus_management.config import Settings

Scope = Literal["account", "ip"]


@dataclass(frozen=True)
class Block:
    """Why password checks are refused right now, and for how many seconds more."""

    scope: Scope
    retry_after: int

    def error(self) -> TooManyRequests:
        """The 429 to answer, with ``Retry-After``."""
        minutes = max(1, -(-self.retry_after // 60))
        if self.scope == "account":
            detail = (
                "account temporarily locked after too many failed logins; "
                f"try again in {minutes} minute{'s' if minutes > 1 else ''}"
            )
        else:
            detail = (
                "too many failed logins from this address; "
                f"try again in {minutes} minute{'s' if minutes > 1 else ''}"
            )
        return TooManyRequests(detail, headers={"Retry-After": str(self.retry_after)})


def _digest(username: str) -> str:
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class LoginGuard:
    """Counts failed password checks and says when to refuse them."""

    def __init__(self, bus: RedisBus, settings: Settings) -> None:
        self._bus = bus
        self._redis = bus.redis
        self._max = settings.login_max_failures
        self._window = settings.login_window_s
        self._lockout = settings.login_lockout_s
        self._ip_max = settings.login_ip_max_failures

    def failures_key(self, username: str) -> str:
        return self._bus.key(f"login:fail:user:{_digest(username)}")

    def lock_key(self, username: str) -> str:
        return self._bus.key(f"login:lock:user:{_digest(username)}")

    def ip_key(self, ip: str) -> str:
        return self._bus.key(f"login:fail:ip:{ip}")

    async def check(self, username: str, ip: str | None) -> Block | None:
        """The block in force for this account or address, if any."""
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.ttl(self.lock_key(username))
            if ip:
                pipe.get(self.ip_key(ip))
                pipe.ttl(self.ip_key(ip))
            replies = await pipe.execute()
        except RedisError:
            raise Unavailable("login rate limiter unavailable") from None
        lock_ttl = int(replies[0])
        if lock_ttl > 0:
            return Block("account", lock_ttl)
        if ip and replies[1] is not None and int(replies[1]) >= self._ip_max:
            return Block("ip", max(1, int(replies[2])))
        return None

    async def failure(self, username: str, ip: str | None) -> list[Block]:
        """Count one failed check; returns the blocks this failure has just started."""
        fail_key = self.failures_key(username)
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.incr(fail_key)
            # NX: the window runs from the first failure, later ones do not extend it.
            pipe.expire(fail_key, self._window, nx=True)
            if ip:
                pipe.incr(self.ip_key(ip))
                pipe.expire(self.ip_key(ip), self._window, nx=True)
            replies = await pipe.execute()
            started: list[Block] = []
            if int(replies[0]) >= self._max:
                pipe = self._redis.pipeline(transaction=False)
                pipe.set(self.lock_key(username), b"1", ex=self._lockout, nx=True)
                pipe.delete(fail_key)
                locked, _ = await pipe.execute()
                if locked:
                    started.append(Block("account", self._lockout))
            # Equality, not >=: the address block is reported once, when it begins.
            if ip and int(replies[2]) == self._ip_max:
                started.append(Block("ip", self._window))
        except RedisError:
            raise Unavailable("login rate limiter unavailable") from None
        return started

    async def success(self, username: str) -> None:
        """A correct password resets the account's failure count (not the address's)."""
        try:
            await self._redis.delete(self.failures_key(username))
        except RedisError:
            raise Unavailable("login rate limiter unavailable") from None

    async def unlock(self, username: str) -> None:
        """Lift an account lock (the owner proved control through a password reset)."""
        try:
            await self._redis.delete(self.lock_key(username), self.failures_key(username))
        except RedisError:
            raise Unavailable("login rate limiter unavailable") from None
