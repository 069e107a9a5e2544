"""SQLite connections get WAL, a busy timeout and NORMAL sync (issue 17: the write path)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from argus_management.db import SQLITE_BUSY_TIMEOUT_MS, make_engine


async def test_sqlite_connections_get_wal_busy_timeout_and_normal_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'argus.db'}")
    try:
        async with engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
            sync = (await conn.execute(text("PRAGMA synchronous"))).scalar_one()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
    finally:
        await engine.dispose()
    assert str(journal).lower() == "wal"
    assert busy == SQLITE_BUSY_TIMEOUT_MS == 30_000
    assert sync == 1  # NORMAL
    assert fks == 1
