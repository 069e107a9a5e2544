"""Settings for the service on its embedded default, SQLite, for the SQLite tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.main import create_app
from argus_testkit.stack import REDIS_URL


def sqlite_settings(data_dir: Path, prefix: str, **overrides: Any) -> Settings:
    """The test deployment on SQLite: the database ``data_dir/argus.db`` (made, and migrated
    from scratch, when the app starts), ``data_dir`` as the data directory, a Redis
    namespace ``<prefix>-<8 hex>`` of its own (the test deletes its keys), admin
    ``root`` / ``sqlite-admin-pw``; ``overrides`` are more settings by their env names."""
    return Settings(
        ARGUS_ENV="test", DATABASE_URL=f"sqlite+aiosqlite:///{data_dir / 'argus.db'}",
        REDIS_URL=REDIS_URL, ARGUS_REDIS_NAMESPACE=f"{prefix}-{uuid.uuid4().hex[:8]}",
        SECRET_KEY="sqlite-secret-key-0123456789", INTERNAL_API_KEY="sqlite-internal-key-0123",
        ARGUS_ADMIN_USERNAME="root", ARGUS_ADMIN_PASSWORD="sqlite-admin-pw",
        ARGUS_DATA_DIR=str(data_dir), MANAGEMENT_BCRYPT_ROUNDS=4,
        **overrides,
    )


@asynccontextmanager
async def sqlite_app(data_dir: Path, prefix: str, **overrides: Any) -> AsyncIterator[FastAPI]:
    """The app on ``sqlite_settings(data_dir, prefix, **overrides)``, started (lifespan) for
    the block; its Redis namespace's keys are deleted at the end, whatever the block raised.
    The settings are ``app_state(app).settings``."""
    app = create_app(sqlite_settings(data_dir, prefix, **overrides))
    async with app.router.lifespan_context(app):
        try:
            yield app
        finally:
            state = app_state(app)
            pattern = f"{state.settings.redis_namespace}:*"
            keys = [k async for k in state.bus.redis.scan_iter(match=pattern)]
            if keys:
                await state.bus.redis.delete(*keys)
