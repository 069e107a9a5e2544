"""Brute-force protection for password checks, kept in Redis (shared by every worker).

Two limits, neither of which lets an attacker lock an account's owner out:

- per (account, address): after ``login_max_failures`` failures, each further failure
  from that address for that account starts a delay (``login_delay_base_s``, doubling,
  at most ``login_lockout_s``) during which that address may not try that account. The
  owner at another address is not affected (there is no account-wide lock: five wrong
  guesses from anywhere used to lock the account for everyone);
- per address: ``login_ip_max_failures`` failures within ``login_window_s``, whatever the
  names (password spraying), block the address until the window ends.

Addresses are the real client's (``proxy.py``). Account keys hash the attempted name,
known or not: throttling only real accounts would tell an attacker which names exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from redis.exceptions import RedisError

from argus_common.bus import RedisBus
from argus_common.errors import TooManyRequests, Unavailable
from argus_management.config import Settings

# "account": this account from this address; "ip": this address, whatever the account.
Scope = Literal["account", "ip"]
_NO_ADDRESS = "-"
_UNLOCK_SCAN_MAX = 10_000


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


@dataclass(frozen=True)
class Block:
    """Why password checks are refused right now, and for how many seconds more."""

    scope: Scope
    retry_after: int

    def error(self) -> TooManyRequests:
        """The 429 to answer, with ``Retry-After``."""
        wait = _wait_text(self.retry_after)
        if self.scope == "account":
            detail = (
                "account temporarily locked for this address after too many failed logins; "
                f"try again in {wait}"
            )
        else:
            detail = f"too many failed logins from this address; try again in {wait}"
        return TooManyRequests(detail, headers={"Retry-After": str(self.retry_after)})


def _digest(username: str) -> str:
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def delay_for(failures: int, settings: Settings) -> int:
    """Seconds an (account, address) pair waits after its ``failures``-th failure (0: none)."""
    over = failures - settings.login_max_failures
    if over < 0:
        return 0
    # Capped exponent: 2**over overflows nothing, but there is no point computing it.
    delay: int = settings.login_delay_base_s * 2 ** min(over, 32)
    return min(settings.login_lockout_s, delay)


class LoginGuard:
    """Counts failed password checks and says when to refuse them."""

    def __init__(self, bus: RedisBus, settings: Settings) -> None:
        self._bus = bus
        self._redis = bus.redis
        self._settings = settings

    def failures_key(self, username: str, ip: str | None) -> str:
        return self._bus.key(f"login:fail:pair:{_digest(username)}:{ip or _NO_ADDRESS}")

    def lock_key(self, username: str, ip: str | None) -> str:
        return self._bus.key(f"login:lock:pair:{_digest(username)}:{ip or _NO_ADDRESS}")

    def ip_key(self, ip: str) -> str:
        return self._bus.key(f"login:fail:ip:{ip}")

    async def check(self, username: str, ip: str | None) -> Block | None:
        """The block in force for this account from this address, or for the address."""
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.ttl(self.lock_key(username, ip))
            if ip:
                pipe.get(self.ip_key(ip))
                pipe.ttl(self.ip_key(ip))
            replies = await pipe.execute()
        except RedisError:
            raise Unavailable("login rate limiter unavailable") from None
        lock_ttl = int(replies[0])
        if lock_ttl > 0:
            return Block("account", lock_ttl)
        limit = self._settings.login_ip_max_failures
        if ip and replies[1] is not None and int(replies[1]) >= limit:
            return Block("ip", max(1, int(replies[2])))
        return None

    async def failure(self, username: str, ip: str | None) -> list[Block]:
        """Count one failed check; returns the blocks this failure has just started."""
        s = self._settings
        fail_key = self.failures_key(username, ip)
        # The pair's count outlives its longest delay, so a patient attacker keeps the
        # doubling; it is forgotten a window after the last failure.
        memory = max(s.login_window_s, s.login_lockout_s) * 2
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.incr(fail_key)
            pipe.expire(fail_key, memory)
            if ip:
                pipe.incr(self.ip_key(ip))
                # NX: the address window runs from its first failure; later ones do not
                # extend it.
                pipe.expire(self.ip_key(ip), s.login_window_s, nx=True)
            replies = await pipe.execute()
            started: list[Block] = []
            delay = delay_for(int(replies[0]), s)
            if delay > 0:
                await self._redis.set(self.lock_key(username, ip), b"1", ex=delay)
                started.append(Block("account", delay))
            # Equality, not >=: the address block is reported once, when it begins.
            if ip and int(replies[2]) == s.login_ip_max_failures:
                started.append(Block("ip", s.login_window_s))
        except RedisError:
            raise Unavailable("login rate limiter unavailable") from None
        return started

    async def success(self, username: str, ip: str | None) -> None:
        """A correct password resets this pair's failure count (not the address's)."""
        try:
            await self._redis.delete(self.failures_key(username, ip))
        except RedisError:
            raise Unavailable("login rate limiter unavailable") from None

    async def unlock(self, username: str) -> None:
        """Lift every delay on the account, from any address (the owner proved control
        through a password reset)."""
        pattern = self._bus.key(f"login:*:pair:{_digest(username)}:*")
        try:
            keys = []
            async for key in self._redis.scan_iter(match=pattern, count=500):
                keys.append(key)
                if len(keys) >= _UNLOCK_SCAN_MAX:
                    break
            if keys:
                await self._redis.delete(*keys)
        except RedisError:
            raise Unavailable("login rate limiter unavailable") from None
