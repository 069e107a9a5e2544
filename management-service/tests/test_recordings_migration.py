"""Migration 0002 (recording_segments) upgrades and downgrades on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from argus_management import migrate
from argus_testkit.stack import scratch_database


def _cycle(url: str) -> list[set[str]]:
    """Tables after: head, downgrade to 0001, head again."""
    cfg = migrate.alembic_config(url)
    seen = []
    for target, step in (("head", command.upgrade), ("0001", command.downgrade),
                         ("head", command.upgrade)):
        step(cfg, target)
        seen.append(_tables(url))
    return seen


def _tables(url: str) -> set[str]:
    async def inspect() -> set[str]:
        from argus_management.db import make_engine

        engine = make_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
            columns: set[str] = set()
            if "recording_segments" in names:
                columns = await conn.run_sync(
                    lambda c: {col["name"] for col in sa.inspect(c).get_columns(
                        "recording_segments")}
                )
        await engine.dispose()
        return names | {f"recording_segments.{c}" for c in columns}

    return asyncio.run(inspect())


def _check(seen: list[set[str]]) -> None:
    head, base, again = seen
    assert "recording_segments" in head and "recording_segments.deleted_at" in head
    assert {"recording_segments.path", "recording_segments.kept",
            "recording_segments.bytes"} <= head
    assert "recording_segments" not in base and "events" in base
    assert again == head


def test_0002_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    _check(_cycle(url))


def test_0002_on_postgresql() -> None:
    with scratch_database("argus_mig") as db:  # dropped afterwards
        _check(_cycle(db.url))
