"""Self-service account flows: signup, password reset, password change, own profile."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import structlog
from redis.exceptions import RedisError
from sqlalchemy import false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import BadRequest, Conflict, Forbidden, Unauthorized
from argus_management.audit import service as audit
from argus_management.auth import refresh as refresh_tokens
from argus_management.auth.mailer import Mail
from argus_management.auth.models import PasswordResetToken
from argus_management.auth.schemas import (
    MeResponse,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    SignupRequest,
    SignupResponse,
)
from argus_management.auth.service import (
    AuthContext,
    audit_blocks,
    db_safe,
    deny_later,
    find_user,
)
from argus_management.rbac.models import Role, User
from argus_management.rbac.principal import Principal

log = structlog.get_logger("argus.auth")

SIGNUP_ROLE = "viewer"
# At most one reset mail per account per this many seconds: the endpoint is anonymous and
# must not become a way to flood someone's mailbox.
RESET_MAIL_COOLDOWN_S = 60
INVALID_RESET = "invalid or expired reset token"


def token_hash(token: str) -> str:
    """What is stored of a reset token: a leaked table row cannot be used as a link."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def signup(session: AsyncSession, ctx: AuthContext, body: SignupRequest) -> SignupResponse:
    """Create a viewer account, when the site allows self-service signup."""
    if not ctx.settings.allow_signup:
        raise Forbidden("signup is disabled on this server")
    email = str(body.email) if body.email else None
    # Case-insensitive, so nobody can sign up as "Admin" next to "admin".
    taken = await session.scalar(
        select(User.id).where(
            or_(
                func.lower(User.username) == body.username.lower(),
                func.lower(User.email) == email.lower() if email else false(),
            )
        ).limit(1)
    )
    if taken is not None:
        raise Conflict("username or email already taken")
    role = await session.scalar(select(Role).where(Role.name == SIGNUP_ROLE))
    if role is None:
        raise RuntimeError(f"role {SIGNUP_ROLE} missing: run the migrations")
    user = User(
        username=body.username, email=email, password_hash=await ctx.hasher.hash(body.password)
    )
    user.roles = [role]
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # lost a race with a concurrent signup of the same name
        raise Conflict("username or email already taken") from None
    await audit.record(
        session, ctx.actor_as(user.id, user.username), "auth.signup", "user", user.id,
        {"username": user.username, "role": SIGNUP_ROLE},
    )
    return SignupResponse(id=user.id, username=user.username, email=email, roles=[SIGNUP_ROLE])


async def _reset_target(session: AsyncSession, body: PasswordResetRequest) -> User | None:
    if body.username:
        return await find_user(session, body.username)
    if body.email and db_safe(body.email):
        return await session.scalar(
            select(User).where(func.lower(User.email) == body.email.strip().lower())
        )
    return None


async def request_reset(
    session: AsyncSession, ctx: AuthContext, body: PasswordResetRequest
) -> Mail | None:
    """Create a single-use reset token; returns the mail to send, if there is one.

    The caller answers 202 whatever happens here: the answer must not tell whether the
    account exists.
    """
    user = await _reset_target(session, body)
    mail: Mail | None = None
    if user is not None and user.is_active and user.email:
        if await _cooldown_free(ctx, user.id):
            now = datetime.now(UTC)
            # Only the newest link works.
            await session.execute(
                update(PasswordResetToken)
                .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
                .values(used_at=now)
            )
            token = secrets.token_urlsafe(32)
            session.add(
                PasswordResetToken(
                    user_id=user.id,
                    token_hash=token_hash(token),
                    expires_at=now + timedelta(seconds=ctx.settings.reset_token_ttl_s),
                )
            )
            await session.flush()
            mail = _reset_mail(ctx, user, token)
    await audit.record(
        session, ctx.actor, "auth.password_reset_request", "user",
        user.id if user else None,
        {"by": "username" if body.username else "email", "mail_sent": mail is not None},
    )
    return mail


async def _cooldown_free(ctx: AuthContext, user_id: int) -> bool:
    key = ctx.bus.key(f"login:reset:{user_id}")
    try:
        return bool(await ctx.bus.redis.set(key, b"1", ex=RESET_MAIL_COOLDOWN_S, nx=True))
    except RedisError:
        # Failing here only for existing accounts would reveal them: go on, unthrottled.
        log.warning("reset_cooldown_unavailable")
        return True


def _reset_mail(ctx: AuthContext, user: User, token: str) -> Mail:
    minutes = ctx.settings.reset_token_ttl_s // 60
    link = f"{ctx.settings.public_url.rstrip('/')}/reset-password?{urlencode({'token': token})}"
    body = (
        f"Hello {user.username},\n\n"
        "Someone asked to reset the password of your ARGUS account. To choose a new one, "
        f"open this link within {minutes} minutes:\n\n{link}\n\n"
        "The link works once. If you did not ask for it, ignore this message.\n"
    )
    assert user.email is not None
    return Mail(to=user.email, subject="ARGUS password reset", body=body)


async def confirm_reset(
    session: AsyncSession, ctx: AuthContext, body: PasswordResetConfirm
) -> None:
    """Set a new password with a reset token; the token dies, and so do all sessions."""
    now = datetime.now(UTC)
    hashed = token_hash(body.token)
    # One conditional UPDATE: of two concurrent uses of a token, exactly one wins.
    user_id = (
        await session.execute(
            update(PasswordResetToken)
            .where(
                PasswordResetToken.token_hash == hashed,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.expires_at > now,
            )
            .values(used_at=now)
            .returning(PasswordResetToken.user_id)
        )
    ).scalar_one_or_none()
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        if user_id is None:  # spent or expired: still worth knowing whose link it was
            user_id = await session.scalar(
                select(PasswordResetToken.user_id).where(PasswordResetToken.token_hash == hashed)
            )
            user = await session.get(User, user_id) if user_id is not None else None
        username = user.username if user else None
        # The UPDATE above changed nothing but began a write: end it before the detached
        # audit write, which on SQLite would otherwise wait for this transaction's lock.
        await session.rollback()
        await audit.record_detached(
            ctx.maker, ctx.actor_as(user_id, username),
            "auth.password_reset", "user", user_id, {"reason": "invalid_token"},
        )
        raise BadRequest(INVALID_RESET)
    user.password_hash = await ctx.hasher.hash(body.new_password)
    user.password_changed_at = now
    deny_later(session, ctx, await refresh_tokens.live_families(session, user.id),
               user.id)
    revoked = await refresh_tokens.revoke_user(session, user.id)
    # The owner proved control of the mailbox: an attacker's lockout no longer applies.
    await ctx.guard.unlock(user.username)
    await audit.record(
        session, ctx.actor_as(user.id, user.username), "auth.password_reset", "user", user.id,
        {"password": "changed", "refresh_tokens_revoked": revoked},
    )


async def change_password(
    session: AsyncSession,
    ctx: AuthContext,
    principal: Principal,
    family: str | None,
    body: PasswordChange,
) -> None:
    """Change one's own password; every other session (refresh family) is revoked."""
    actor = ctx.actor_as(principal.user_id, principal.username)
    guard = ctx.guard
    # The current password is a secret a stolen access token must not be able to guess.
    block = await guard.check(principal.username, ctx.actor.ip)
    if block is not None:
        raise block.error()
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Unauthorized("user disabled or deleted")
    if not await ctx.hasher.verify(body.current_password, user.password_hash):
        blocks = await guard.failure(principal.username, ctx.actor.ip)
        await audit.record_detached(
            ctx.maker, actor, "auth.password_change", "user", user.id,
            {"reason": "wrong_current_password"},
        )
        await audit_blocks(ctx, actor, blocks)
        raise BadRequest("current password is incorrect")
    user.password_hash = await ctx.hasher.hash(body.new_password)
    user.password_changed_at = datetime.now(UTC)
    deny_later(session, ctx,
               await refresh_tokens.live_families(session, user.id, family), user.id)
    revoked = await refresh_tokens.revoke_user(session, user.id, keep_family=family)
    await audit.record(
        session, actor, "auth.password_change", "user", user.id,
        {"password": "changed", "refresh_tokens_revoked": revoked},
    )


async def profile(session: AsyncSession, principal: Principal) -> MeResponse:
    """The caller's profile, with the permissions and cameras the principal resolved."""
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Unauthorized("user disabled or deleted")
    return MeResponse(
        id=user.id,
        username=user.username,
        email=user.email,
        roles=list(principal.roles),
        permissions=sorted(principal.permissions),
        camera_ids=sorted(principal.camera_ids),
        all_cameras=principal.sees_all_cameras,
    )
