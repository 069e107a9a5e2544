"""First start: create the first admin on an empty database."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.rbac.models import Role, User
from argus_management.users.passwords import PasswordHasher, check_policy

log = structlog.get_logger("argus.bootstrap")

INITIAL_PASSWORD_FILE = "initial-admin-password"  # noqa: S105 - a file name


async def ensure_admin(
    maker: async_sessionmaker[AsyncSession], settings: Settings, hasher: PasswordHasher
) -> None:
    """Create the admin account when there is no user at all.

    Uses ARGUS_ADMIN_USERNAME / ARGUS_ADMIN_PASSWORD; without a password, a random one is
    generated and written once to ``ARGUS_DATA_DIR/initial-admin-password`` (0600, in a
    0700 directory), never to the log: container logs are read by more people than the
    admin. It is shown on stderr too, only when stderr is a terminal.
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
        if not generated:
            log.info("admin_created", username=username, generated=False)
            return
        try:
            path = write_initial_password(Path(settings.data_dir), password)
        except OSError as exc:
            # The account exists now: starting matters more than this copy of its password.
            log.error("admin_password_not_saved", username=username, error=exc.strerror,
                      reset="argus-management users reset-admin")
            return
        log.info("admin_created", username=username, generated=True, password_file=str(path),
                 reset="argus-management users reset-admin")
        if sys.stderr.isatty():
            sys.stderr.write(
                f"\n*** ARGUS first admin: username={username} password={password} "
                f"(also in {path}, 0600; change it after logging in) ***\n\n"
            )


def write_initial_password(data_dir: Path, password: str) -> Path:
    """``password`` in ``data_dir/initial-admin-password``, readable by this user only."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / INITIAL_PASSWORD_FILE
    path.unlink(missing_ok=True)  # a stale one from an earlier database
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    return path
