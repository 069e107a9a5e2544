"""First start: create the first admin on an empty database."""

from __future__ import annotations

import secrets
import sys

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.rbac.models import Role, User
from argus_management.users.passwords import PasswordHasher, check_policy

log = structlog.get_logger("argus.bootstrap")


async def ensure_admin(
    maker: async_sessionmaker[AsyncSession], settings: Settings, hasher: PasswordHasher
) -> None:
    """Create the admin account when there is no user at all.

    Uses ARGUS_ADMIN_USERNAME / ARGUS_ADMIN_PASSWORD; without a password, a random one is
    generated and printed once on stderr (never to the JSON log).
    """
    async with maker() as session:
        if (await session.scalar(select(func.count()).select_from(User))) or 0:
            return
        username = settings.admin_username or "admin"
        password = settings.admin_password
        generated = password is None
        if password is None:
            password = secrets.token_urlsafe(12)
        check_policy(password)
        admin_role = await session.scalar(select(Role).where(Role.name == "admin"))
        if admin_role is None:
            raise RuntimeError("roles missing: run the migrations first")
        user = User(username=username, email=None, password_hash=await hasher.hash(password))
        user.roles = [admin_role]
        session.add(user)
        try:
            await session.commit()
        except Exception:  # another worker created it at the same time
            await session.rollback()
            return
        log.info("admin_created", username=username, generated=generated)
        if generated:
            sys.stderr.write(
                f"\n*** ARGUS first admin: username={username} password={password} "
                "(shown once; change it after logging in) ***\n\n"
            )
