"""Rotating refresh tokens, grouped in families (one family per login).

Every refresh consumes its token and issues the next one of the same family. A token that
comes back after it was consumed means two parties hold the family (one of them stole it):
the whole family is revoked, so the thief and the victim both have to log in again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.jwt import IssuedToken, JwtCodec
from argus_management.auth.models import RefreshToken


def new_family_id() -> str:
    return secrets.token_urlsafe(16)


def _now() -> datetime:
    return datetime.now(UTC)


async def issue(
    session: AsyncSession, codec: JwtCodec, user_id: int, ttl_s: int, family_id: str,
    auth_time: int,
) -> IssuedToken:
    """A refresh JWT for ``user_id`` in ``family_id``, recorded so it can be used once.
    ``auth_time`` (epoch seconds of the login that opened the family) travels from token to
    token, so the absolute session lifetime counts from the login, not the last refresh."""
    token = codec.issue(
        str(user_id), "refresh", ttl_s, extra={"fam": family_id, "auth_time": auth_time}
    )
    session.add(
        RefreshToken(
            jti=token.jti,
            family_id=family_id,
            user_id=user_id,
            expires_at=datetime.fromtimestamp(token.expires_at, UTC),
        )
    )
    await session.flush()
    return token


@dataclass(frozen=True)
class Consumed:
    """Outcome of presenting a refresh token (already verified as a JWT)."""

    status: Literal["ok", "unknown", "revoked", "expired", "reused"]
    user_id: int | None = None
    family_id: str | None = None


async def consume(session: AsyncSession, jti: str, user_id: int) -> Consumed:
    """Mark the token ``jti`` used if it is still usable, else say why it is not.

    One conditional UPDATE decides the race between two concurrent uses: exactly one of
    them consumes the token, the other sees it as reused.
    """
    now = _now()
    stmt = (
        update(RefreshToken)
        .where(
            RefreshToken.jti == jti,
            RefreshToken.user_id == user_id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(RefreshToken.family_id)
    )
    family = (await session.execute(stmt)).scalar_one_or_none()
    if family is not None:
        return Consumed("ok", user_id, family)
    row = await session.scalar(
        select(RefreshToken).where(RefreshToken.jti == jti, RefreshToken.user_id == user_id)
    )
    if row is None:
        return Consumed("unknown")
    if row.revoked_at is not None:
        return Consumed("revoked", row.user_id, row.family_id)
    if row.used_at is not None:
        return Consumed("reused", row.user_id, row.family_id)
    return Consumed("expired", row.user_id, row.family_id)


async def family_of(session: AsyncSession, jti: str, user_id: int) -> str | None:
    """The family of ``user_id``'s token ``jti`` (None if it is not theirs)."""
    return await session.scalar(
        select(RefreshToken.family_id).where(
            RefreshToken.jti == jti, RefreshToken.user_id == user_id
        )
    )


async def revoke_family(session: AsyncSession, family_id: str) -> int:
    """Revoke every token of a family; returns how many were still live."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    return _rowcount(result)


async def live_families(
    session: AsyncSession, user_id: int, keep_family: str | None = None
) -> list[str]:
    """Families of ``user_id`` with a live token, except ``keep_family``."""
    stmt = select(RefreshToken.family_id).distinct().where(
        RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
    )
    if keep_family is not None:
        stmt = stmt.where(RefreshToken.family_id != keep_family)
    return list((await session.scalars(stmt)).all())


async def revoke_user(
    session: AsyncSession, user_id: int, keep_family: str | None = None
) -> int:
    """Revoke every refresh token of ``user_id`` except those of ``keep_family``."""
    stmt = update(RefreshToken).where(
        RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
    )
    if keep_family is not None:
        stmt = stmt.where(RefreshToken.family_id != keep_family)
    return _rowcount(await session.execute(stmt.values(revoked_at=_now())))


def _rowcount(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
