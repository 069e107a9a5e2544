"""Password hashing (bcrypt through libpass's passlib API) and the password policy."""

from __future__ import annotations

import asyncio

from passlib.context import CryptContext

from argus_common.errors import Unprocessable

MIN_LENGTH = 8
MAX_BYTES = 72  # bcrypt ignores what lies beyond


def check_policy(password: str) -> None:
    """Refuse passwords bcrypt cannot hold whole, or too short to resist guessing."""
    if len(password) < MIN_LENGTH:
        raise Unprocessable(f"password must be at least {MIN_LENGTH} characters")
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise Unprocessable(f"password must be at most {MAX_BYTES} bytes in UTF-8")
    if "\x00" in password:
        raise Unprocessable("password must not contain NUL characters")


def policy_error(password: str) -> str | None:
    """The policy violation as text for Pydantic validators, or None."""
    try:
        check_policy(password)
    except Unprocessable as exc:
        return exc.detail
    return None


class PasswordHasher:
    """bcrypt with one cost (12 in production; tests lower it to stay fast), built once in
    the lifespan and reached through ``HasherDep``."""

    def __init__(self, rounds: int = 12) -> None:
        self.rounds = rounds
        self._context = CryptContext(schemes=["bcrypt"], deprecated="auto", bcrypt__rounds=rounds)
        # A real hash of a fixed string: verifying against it costs what a real check costs,
        # so an unknown username takes as long as a wrong password.
        self._dummy = self._context.hash("argus-dummy-password-for-timing")

    async def hash(self, password: str) -> str:
        """bcrypt hash, computed off the event loop (it takes ~0.2 s on purpose)."""
        return await asyncio.to_thread(self._context.hash, password)

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Constant-cost check; a missing hash still pays for one verification.

        A password the policy could never have accepted (over 72 bytes, NUL bytes: bcrypt
        refuses both) is checked as a wrong one, at the same cost, instead of raising.
        """
        acceptable = len(password.encode("utf-8")) <= MAX_BYTES and "\x00" not in password
        candidate = password if acceptable else "argus-unacceptable-password"
        ok = await asyncio.to_thread(self._context.verify, candidate, hashed or self._dummy)
        return bool(ok) and hashed is not None and acceptable
