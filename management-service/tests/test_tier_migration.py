"""Migration 0009 (segment tier, object key) upgrades and downgrades on SQLite and
PostgreSQL, and existing rows come out as local segments."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from argus_management import migrate
from argus_testkit.stack import scratch_database


def _columns(url: str) -> set[str]:
    async def inspect() -> set[str]:
        from argus_management.db import make_engine

        engine = make_engine(url)
        async with engine.connect() as conn:
            cols = await conn.run_sync(
                lambda c: {col["name"] for col in sa.inspect(c).get_columns("recording_segments")}
            )
            tiers: set[str] = set()
            if "tier" in cols:
                rows = await conn.execute(sa.text("SELECT tier FROM recording_segments"))
                tiers = {f"tier={r[0]}" for r in rows}
        await engine.dispose()
        return cols | tiers

    return asyncio.run(inspect())


def _insert_row(url: str) -> None:
    async def insert() -> None:
        from argus_management.db import make_engine

        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO recording_segments (camera_id, path, kind, started_at, ended_at,"
                    " duration_s, bytes, codec, width, height, has_audio, kept) VALUES (1, "
                    "'1/2026-12-05/10/1.mp4', 'continuous', '2026-12-05 10:00:00', "
                    "'2026-12-05 10:01:00', 60, 10, 'h264', 1, 1, false, false)"
                )
            )
        await engine.dispose()

    asyncio.run(insert())


def _cycle(url: str) -> list[set[str]]:
    cfg = migrate.alembic_config(url)
    command.upgrade(cfg, "0008")
    _insert_row(url)  # a segment recorded before tiering existed
    seen = []
    for target, step in (
        ("head", command.upgrade),
        ("0008", command.downgrade),
        ("head", command.upgrade),
    ):
        step(cfg, target)
        seen.append(_columns(url))
    return seen


def _check(seen: list[set[str]]) -> None:
    head, base, again = seen
    assert {"tier", "object_key", "tier=local"} <= head
    assert "tier" not in base and "object_key" not in base and "path" in base
    assert again == head


def test_0009_on_sqlite(tmp_path: Path) -> None:
    _check(_cycle(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"))


def test_0009_on_postgresql() -> None:
    with scratch_database("argus_mig") as db:  # dropped afterwards
        _check(_cycle(db.url))
