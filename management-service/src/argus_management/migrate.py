"""Apply the Alembic migrations (at start, and from ``argus-management migrate``)."""

from __future__ import annotations

import asyncio
from importlib import resources

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("argus_management") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str) -> None:
    """Migrate ``database_url`` to the newest revision (blocking)."""
    command.upgrade(alembic_config(database_url), "head")


async def upgrade_async(database_url: str) -> None:
    """Same as ``upgrade`` from a running loop (env.py starts its own loop, so use a thread)."""
    await asyncio.to_thread(upgrade, database_url)
