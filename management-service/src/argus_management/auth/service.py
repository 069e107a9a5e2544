"""Login, token refresh and logout.

Successes are audited in the request's transaction; failures with ``record_detached``, because
the request's transaction rolls back when the error is raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.errors import Unauthorized
from argus_common.jwt import JwtCodec
from argus_management.audit import service as audit
from argus_management.auth import refresh as refresh_tokens
from argus_management.auth.lockout import Block, LoginGuard
from argus_management.auth.schemas import TokenResponse, UserSummary
from argus_management.config import Settings
from argus_management.db import after_commit
from argus_management.rbac.models import User
from argus_management.rbac.principal import Actor, Principal
from argus_management.rbac.tokens import deny, deny_families
from argus_management.users.passwords import PasswordHasher

INVALID_LOGIN = "invalid username or password"


@dataclass(frozen=True)
class AuthContext:
    """What the auth flows need from the app and the request, without the request itself."""

    settings: Settings
    codec: JwtCodec
    bus: RedisBus
    maker: async_sessionmaker[AsyncSession]
    hasher: PasswordHasher
    actor: Actor  # the anonymous client: address and user agent

    @property
    def guard(self) -> LoginGuard:
        return LoginGuard(self.bus, self.settings)

    def actor_as(self, user_id: int | None, username: str | None) -> Actor:
        """The client acting as (or claiming to be) this user."""
        return replace(self.actor, user_id=user_id, username=clean_text(username, 64))


def clean_text(value: str | None, limit: int) -> str | None:
    """``value`` made storable: NUL and unencodable characters replaced, then truncated."""
    if value is None:
        return None
    value = value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return value[:limit]


def db_safe(value: str) -> bool:
    """Whether PostgreSQL can take ``value`` as text (no NUL, no lone surrogate)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def user_summary(user: User) -> UserSummary:
    return UserSummary(
        id=user.id,
        username=user.username,
        roles=user.role_names,
        permissions=sorted({p.name for r in user.roles for p in r.permissions}),
    )


async def find_user(session: AsyncSession, username: str) -> User | None:
    """The user named exactly ``username``; None for names no account can have."""
    if not username or len(username) > 64 or not db_safe(username):
        return None
    return await session.scalar(select(User).where(User.username == username))


async def audit_blocks(ctx: AuthContext, actor: Actor, blocks: list[Block]) -> None:
    """Audit the lockouts that a failure has just started."""
    for block in blocks:
        await audit.record_detached(
            ctx.maker, actor, "auth.lockout", "user", actor.user_id,
            {"scope": block.scope, "seconds": block.retry_after}, result="denied",
        )


SESSION_TOO_OLD = "session reached its maximum age; log in again"


def session_left(settings: Settings, auth_time: int, now: int | None = None) -> int:
    """Seconds the session opened at ``auth_time`` may still last (absolute lifetime)."""
    return auth_time + settings.session_max_age_s - (int(time.time()) if now is None else now)


async def issue_pair(
    session: AsyncSession, ctx: AuthContext, user: User, family_id: str,
    auth_time: int | None = None,
) -> TokenResponse:
    """A new access token and the next refresh token of ``family_id``, neither outliving
    the session's absolute lifetime (``MANAGEMENT_SESSION_MAX_AGE_S`` from ``auth_time``,
    the login; None: a login now)."""
    settings = ctx.settings
    now = int(time.time())
    auth_time = now if auth_time is None else auth_time
    left = session_left(settings, auth_time, now)
    if left <= 0:
        raise Unauthorized(SESSION_TOO_OLD)
    access_ttl = min(settings.access_token_ttl_s, left)
    refresh_ttl = min(settings.refresh_token_ttl_s, left)
    # The access token names its family so logout and password change know the session.
    access = ctx.codec.issue(
        str(user.id), "access", access_ttl, extra={"fam": family_id, "auth_time": auth_time}
    )
    refresh = await refresh_tokens.issue(
        session, ctx.codec, user.id, refresh_ttl, family_id, auth_time
    )
    return TokenResponse(
        access_token=access.token,
        expires_in=access_ttl,
        refresh_token=refresh.token,
        refresh_expires_in=refresh_ttl,
        user=user_summary(user),
    )


async def login(
    session: AsyncSession, ctx: AuthContext, username: str, password: str
) -> TokenResponse:
    """Check a username and password and open a new session (token family)."""
    guard = ctx.guard
    block = await guard.check(username, ctx.actor.ip)
    if block is not None:
        await audit.record_detached(
            ctx.maker, ctx.actor_as(None, username), "auth.login_failed", "user", None,
            {"reason": f"{block.scope}_locked"}, result="denied",
        )
        raise block.error()
    user = await find_user(session, username)
    # Always one bcrypt verification, known user or not, so timing tells nothing.
    ok = await ctx.hasher.verify(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        reason = "unknown_user" if user is None else "bad_password" if not ok else "disabled"
        actor = ctx.actor_as(user.id if user else None, username)
        blocks = await guard.failure(username, ctx.actor.ip)
        await audit.record_detached(
            ctx.maker, actor, "auth.login_failed", "user", actor.user_id, {"reason": reason}
        )
        await audit_blocks(ctx, actor, blocks)
        raise Unauthorized(INVALID_LOGIN)
    await guard.success(username, ctx.actor.ip)
    user.last_login_at = datetime.now(UTC)
    pair = await issue_pair(session, ctx, user, refresh_tokens.new_family_id())
    await audit.record(session, ctx.actor_as(user.id, user.username), "auth.login", "user", user.id)
    return pair


_REFUSED = {"revoked": "token revoked", "expired": "token expired", "unknown": "invalid token"}


async def refresh(session: AsyncSession, ctx: AuthContext, token: str) -> TokenResponse:
    """Trade a refresh token for a new pair; a reused token revokes its family."""
    claims = ctx.codec.decode(token, "refresh")
    user_id = _subject(claims)
    auth_time = _auth_time(claims)
    if session_left(ctx.settings, auth_time) <= 0:
        # Before consuming: however often it was refreshed, a login lasts this long at most.
        raise Unauthorized(SESSION_TOO_OLD)
    outcome = await refresh_tokens.consume(session, str(claims["jti"]), user_id)
    if outcome.status == "reused" and outcome.family_id is not None:
        # Committed apart from the request's transaction, which the 401 rolls back.
        async with ctx.maker() as detached:
            owner = await detached.get(User, user_id)
            revoked = await refresh_tokens.revoke_family(detached, outcome.family_id)
            await audit.record(
                detached, ctx.actor_as(user_id, owner.username if owner else None),
                "auth.refresh_reuse", "user", user_id, {"tokens_revoked": revoked},
                result="denied",
            )
            await detached.commit()
        # Access tokens of the stolen family die with it, not 15 minutes later.
        await deny_families(ctx.bus, [outcome.family_id], ctx.settings.access_token_ttl_s,
                            user_id)
        raise Unauthorized("refresh token already used; session revoked")
    if outcome.status != "ok" or outcome.family_id is None:
        raise Unauthorized(_REFUSED.get(outcome.status, "invalid token"))
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("user disabled or deleted")
    return await issue_pair(session, ctx, user, outcome.family_id, auth_time)


def _auth_time(claims: dict[str, Any]) -> int:
    """When the token's session began: ``auth_time``, else (a token issued before the claim
    existed) its own ``iat``."""
    value = claims.get("auth_time", claims.get("iat"))
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unauthorized("invalid token")
    return value


def _subject(claims: dict[str, Any]) -> int:
    try:
        return int(claims["sub"])
    except (KeyError, TypeError, ValueError):
        raise Unauthorized("invalid token") from None


def deny_later(
    session: AsyncSession, ctx: AuthContext, families: list[str], user_id: int | None = None
) -> None:
    """Once the revocation commits, refuse the access tokens of ``families`` too (and
    announce it on ``argus:authz`` for ``user_id``)."""

    async def action() -> None:
        await deny_families(ctx.bus, families, ctx.settings.access_token_ttl_s, user_id)

    if families:
        after_commit(session, action)


def access_family(ctx: AuthContext, access_token: str | None) -> str | None:
    """The refresh family an (already verified) access token belongs to, if it says."""
    if not access_token:
        return None
    try:
        family = ctx.codec.decode(access_token, "access").get("fam")
    except Unauthorized:
        return None
    return family if isinstance(family, str) else None


async def logout(
    session: AsyncSession,
    ctx: AuthContext,
    principal: Principal,
    family: str | None,
    refresh_token: str | None,
) -> None:
    """Revoke the caller's access token and the session's refresh family.

    The family is the one the access token names, and the one of ``refresh_token`` when it is
    a valid token of the same user; anything else in ``refresh_token`` is ignored, so logging
    out never fails for a stale client-side token.
    """
    families = {family} if family else set()
    if refresh_token:
        try:
            claims = ctx.codec.decode(refresh_token, "refresh")
        except Unauthorized:
            claims = None
        if claims is not None and claims.get("sub") == str(principal.user_id):
            found = await refresh_tokens.family_of(session, str(claims["jti"]), principal.user_id)
            if found:
                families.add(found)
    revoked = 0
    for fam in families:
        revoked += await refresh_tokens.revoke_family(session, fam)
    deny_later(session, ctx, sorted(families), principal.user_id)
    await deny(ctx.bus, principal.jti, principal.token_exp, principal.user_id)
    await audit.record(
        session, ctx.actor_as(principal.user_id, principal.username), "auth.logout", "user",
        principal.user_id, {"refresh_tokens_revoked": revoked},
    )
