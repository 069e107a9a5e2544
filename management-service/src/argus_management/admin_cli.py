"""``argus-management users reset-admin [--username NAME] [--password-stdin]``: give an
administrator account a new password from the command line (a lost or leaked first-admin
password; ``make run`` and Compose print the generated one only once).

The account must exist and hold the ``admin`` role. It is enabled, its sessions end (refresh
families revoked; their access tokens refused through Redis when it is reachable) and the
change is audited (``user.password_reset``, ``via: cli``). The new password is generated
unless one is read from stdin, and is printed on stdout only: run it on a terminal
(``docker compose exec management-service argus-management users reset-admin``), never
from a job whose output is collected.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from argus_common.bus import RedisBus, redis_client
from argus_common.errors import Unprocessable
from argus_management.audit import service as audit
from argus_management.auth import refresh as refresh_tokens
from argus_management.config import Settings, get_settings
from argus_management.db import make_engine
from argus_management.rbac.models import User
from argus_management.rbac.principal import Actor
from argus_management.rbac.tokens import deny_families
from argus_management.users.passwords import PasswordHasher, check_policy

CLI_ACTOR = Actor(user_id=None, username=None, ip=None, user_agent="argus-management cli")


class ResetError(Exception):
    """The reset could not be done (no such admin, a password the policy refuses)."""


async def reset_admin(settings: Settings, username: str, password: str | None = None) -> str:
    """Set a new password for the admin ``username``; returns the password."""
    password = password if password is not None else secrets.token_urlsafe(12)
    try:
        check_policy(password)
    except Unprocessable as exc:
        raise ResetError(exc.detail) from None
    engine = make_engine(settings.database_url)
    try:
        maker = async_sessionmaker(engine, expire_on_commit=False)
        async with maker() as session:
            user = await session.scalar(select(User).where(User.username == username))
            if user is None or "admin" not in user.role_names:
                raise ResetError(f"no administrator named {username!r}")
            user.password_hash = await PasswordHasher(settings.bcrypt_rounds).hash(password)
            user.is_active = True
            families = await refresh_tokens.live_families(session, user.id)
            revoked = await refresh_tokens.revoke_user(session, user.id)
            await audit.record(session, CLI_ACTOR, "user.password_reset", "user", user.id,
                               {"via": "cli", "sessions_ended": revoked})
            await session.commit()
            user_id = user.id
    finally:
        await engine.dispose()
    await _deny(settings, families, user_id)
    return password


async def _deny(settings: Settings, families: list[str], user_id: int) -> None:
    """Refuse the ended sessions' access tokens now (else they lapse within their TTL)."""
    if not families:
        return
    redis = redis_client(settings)
    try:
        await deny_families(RedisBus(redis, settings.redis_namespace), families,
                            settings.access_token_ttl_s, user_id)
    except Exception as exc:
        sys.stderr.write(f"warning: Redis unreachable ({type(exc).__name__}); the old access "
                         f"tokens lapse within {settings.access_token_ttl_s} s\n")
    finally:
        await redis.aclose()


def main(argv: list[str]) -> int:
    """Entry point of ``argus-management users reset-admin``."""
    parser = argparse.ArgumentParser(prog="argus-management users reset-admin",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--username", help="the admin account (default ARGUS_ADMIN_USERNAME "
                                           "or admin)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the new password from stdin instead of generating one")
    args = parser.parse_args(argv)
    settings = get_settings()
    username = args.username or settings.admin_username or "admin"
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    try:
        new = asyncio.run(reset_admin(settings, username, password))
    except ResetError as exc:
        sys.stderr.write(f"reset-admin: {exc}\n")
        return 2
    if password is None:
        sys.stdout.write(f"new password for {username}: {new}\n")
    else:
        sys.stdout.write(f"password of {username} changed\n")
    sys.stdout.write("every session of this account has ended\n")
    return 0
