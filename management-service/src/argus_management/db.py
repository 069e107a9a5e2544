"""Database engine, the declarative base and the per-request session dependency."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, event, make_url
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from argus_management.db_tls import postgres_tls
from argus_management.sqlite_driver import one_trip_dbapi
from argus_management.sqlite_gate import install_write_gate

log = structlog.get_logger("argus.db")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on PostgreSQL and SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Fetch server-side defaults (created_at, updated_at) at flush, so a row can be
    # serialized after flush without lazy loads (which async sessions cannot do).
    __mapper_args__ = {"eager_defaults": True}
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JsonType}


# How long a SQLite connection waits for another writer's lock before SQLITE_BUSY. The lock
# is held for one short transaction, so this is only reached when something is badly wrong.
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    # WAL: readers never wait for the writer, and a commit appends to the log.
    "PRAGMA journal_mode=WAL",
    # In WAL, NORMAL syncs at checkpoints instead of at every commit: a commit can be lost
    # to a power cut (never to a crash of the process) but the database stays consistent;
    # an fsync per commit made concurrent writers queue behind the disk (issue 17).
    "PRAGMA synchronous=NORMAL",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)


def make_engine(url: str) -> AsyncEngine:
    """An engine for ``url``; SQLite gets foreign keys, WAL, NORMAL sync, a busy timeout,
    one writer at a time (``sqlite_gate``) and one thread round trip per statement
    (``sqlite_driver``, for aiosqlite)."""
    if url.startswith("sqlite"):
        driver = (
            {"module": one_trip_dbapi()} if make_url(url).get_driver_name() == "aiosqlite" else {}
        )
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **driver
        )
        install_write_gate(engine, _writer_lock_file(url), SQLITE_BUSY_TIMEOUT_MS / 1000)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            for pragma in SQLITE_PRAGMAS:
                cur.execute(pragma)
            cur.close()

        return engine
    target, connect_args = postgres_tls(url)
    return create_async_engine(
        target, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args
    )


def _writer_lock_file(url: str) -> Path | None:
    """``<database>-writer.lock`` beside a database file; None for an in-memory one."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}-writer.lock")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Run ``action`` once the request's transaction has committed (publish to Redis, bump a
    cache version): never for a change that rolls back, never before it is visible."""
    session.info.setdefault("after_commit", []).append(action)


async def run_after_commit(session: AsyncSession) -> None:
    """Run and clear the queued after-commit actions; a failing action is logged, not raised
    (the change is already committed)."""
    actions: list[AfterCommit] = session.info.pop("after_commit", [])
    for action in actions:
        try:
            await action()
        except Exception:
            log.exception("after_commit_failed", action=getattr(action, "__name__", "?"))
