"""The generated first-admin password (issue 16 finding 11): never in the log, only in a 0600
file of the data directory; ``argus-management users reset-admin`` replaces it and ends the
account's sessions. On a SQLite database of its own (the first admin needs an empty one)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.jwt import JwtCodec
from argus_management import migrate
from argus_management.admin_cli import ResetError, reset_admin
from argus_management.audit.models import AuditEntry
from argus_management.auth import refresh as refresh_tokens
from argus_management.auth.models import RefreshToken
from argus_management.bootstrap import INITIAL_PASSWORD_FILE, ensure_admin
from argus_management.config import Settings
from argus_management.db import make_engine
from argus_management.rbac.models import User
from argus_management.users.passwords import PasswordHasher
from argus_testkit import stack as kit

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, password: str | None = None) -> Settings:
    return Settings(
        ARGUS_ENV="test", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/argus.db",
        REDIS_URL=kit.REDIS_URL, ARGUS_REDIS_NAMESPACE=f"argus-pw-{uuid.uuid4().hex[:8]}",
        SECRET_KEY="admin-pw-secret-key-0123456789", INTERNAL_API_KEY="admin-pw-internal-0123",
        ARGUS_ADMIN_USERNAME="admin", ARGUS_ADMIN_PASSWORD=password,
        ARGUS_DATA_DIR=str(tmp_path / "data"), MANAGEMENT_BCRYPT_ROUNDS=4,
    )


async def _admin(maker: async_sessionmaker[AsyncSession]) -> User:
    async with maker() as session:
        user = await session.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        return user


async def test_generated_password_goes_to_a_private_file_not_the_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path)
    await migrate.upgrade_async(settings.database_url)
    engine = make_engine(settings.database_url)
    hasher = PasswordHasher(4)
    try:
        maker = async_sessionmaker(engine, expire_on_commit=False)
        await ensure_admin(maker, settings, hasher)
        path = Path(settings.data_dir) / INITIAL_PASSWORD_FILE
        password = path.read_text().strip()
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o077 == 0
        assert await hasher.verify(password, (await _admin(maker)).password_hash)
        # Not in the JSON log (stdout) nor on stderr (not a terminal here: a container's log).
        assert password not in "".join(capfd.readouterr())

        # reset-admin: a new password, the old one and the open sessions end, audited.
        async with maker() as session:
            codec = JwtCodec(settings.token_keys(), settings.jwt_issuer, settings.jwt_audience)
            await refresh_tokens.issue(session, codec, 1, 600, refresh_tokens.new_family_id(),
                                       0)
            await session.commit()
        new = await reset_admin(settings, "admin")
        admin = await _admin(maker)
        assert await hasher.verify(new, admin.password_hash)
        assert not await hasher.verify(password, admin.password_hash)
        async with maker() as session:
            live = await session.scalars(
                select(RefreshToken).where(RefreshToken.revoked_at.is_(None)))
            assert list(live) == []
            [row] = await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "user.password_reset"))
            assert row.summary == {"via": "cli", "sessions_ended": 1}
        with pytest.raises(ResetError):
            await reset_admin(settings, "nobody")
        with pytest.raises(ResetError):
            await reset_admin(settings, "admin", "short")
    finally:
        await engine.dispose()


def test_reset_admin_command(tmp_path: Path) -> None:
    """The console script's subcommand, as an operator runs it."""
    settings = _settings(tmp_path, "first-admin-pw-1")
    env = {"ARGUS_ENV": "test", "DATABASE_URL": settings.database_url,
           "REDIS_URL": kit.REDIS_URL, "ARGUS_REDIS_NAMESPACE": settings.redis_namespace,
           "SECRET_KEY": settings.secret_key, "INTERNAL_API_KEY": settings.internal_api_key,
           "ARGUS_ADMIN_PASSWORD": "first-admin-pw-1", "ARGUS_DATA_DIR": settings.data_dir,
           "MANAGEMENT_BCRYPT_ROUNDS": "4", "PATH": "/usr/bin:/bin"}
    migrate.upgrade(settings.database_url)

    async def create() -> None:
        engine = make_engine(settings.database_url)
        await ensure_admin(async_sessionmaker(engine), settings, PasswordHasher(4))
        await engine.dispose()

    asyncio.run(create())
    done = subprocess.run(
        [sys.executable, "-c", "from argus_management.main import run; run()", "users",
         "reset-admin", "--password-stdin"],
        input="second-admin-pw-2\n", env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "second-admin-pw-2" not in done.stdout + done.stderr
    generated = subprocess.run(
        [sys.executable, "-c", "from argus_management.main import run; run()", "users",
         "reset-admin"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        check=False)
    assert generated.returncode == 0, generated.stderr
    assert generated.stdout.startswith("new password for admin: ")


async def test_an_unwritable_data_dir_does_not_stop_the_start(tmp_path: Path) -> None:
    """The admin is created and the start goes on; reset-admin then sets a password."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings = _settings(tmp_path).model_copy(update={"data_dir": str(blocker / "data")})
    await migrate.upgrade_async(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        maker = async_sessionmaker(engine, expire_on_commit=False)
        await ensure_admin(maker, settings, PasswordHasher(4))
        assert (await _admin(maker)).username == "admin"
        new = await reset_admin(settings, "admin")
        assert await PasswordHasher(4).verify(new, (await _admin(maker)).password_hash)
    finally:
        await engine.dispose()
