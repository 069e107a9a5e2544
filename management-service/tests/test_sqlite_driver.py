"""The one-round-trip aiosqlite cursor (``sqlite_driver.py``) gives SQLAlchemy everything
the stock cursor gives it: rows, RETURNING, row counts, the last row id, many parameter sets,
errors as SQLAlchemy's exceptions, and server-side streaming; and one statement is one call
to the connection's thread (the stock adapter made three or four)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from argus_management.db import make_engine
from argus_management.sqlite_driver import OneTripCursor

META = MetaData()
ITEMS = Table(
    "items",
    META,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    implicit_returning=False,  # the dialect then reads cursor.lastrowid
)


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    eng = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'argus.db'}")
    async with eng.begin() as conn:
        await conn.run_sync(META.create_all)
    yield eng
    await eng.dispose()


async def test_rows_returning_rowcount_and_lastrowid(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]
        first = await conn.execute(insert(ITEMS).values(name="a"))
        assert first.inserted_primary_key == (1,)  # from lastrowid
        many = await conn.execute(insert(ITEMS), [{"name": "b"}, {"name": "c"}, {"name": "d"}])
        assert many.rowcount == 3
        back = await conn.execute(text("INSERT INTO items (name) VALUES ('e') RETURNING id, name"))
        assert back.one() == (5, "e")
        changed = await conn.execute(text("UPDATE items SET name = name || '!' WHERE id > 2"))
        assert changed.rowcount == 3
        none = await conn.execute(text("DELETE FROM items WHERE id = 99"))
        assert none.rowcount == 0
    async with engine.connect() as conn:
        rows = (await conn.execute(select(ITEMS.c.id, ITEMS.c.name).order_by(ITEMS.c.id))).all()
        assert rows == [(1, "a"), (2, "b"), (3, "c!"), (4, "d!"), (5, "e!")]
        result = await conn.execute(text("SELECT name FROM items WHERE id = 1"))
        assert list(result.keys()) == ["name"]  # the description
        assert result.scalar_one() == "a"
        empty = await conn.execute(text("SELECT name FROM items WHERE id = 99"))
        assert empty.first() is None


async def test_errors_are_sqlalchemy_errors_and_roll_back(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(insert(ITEMS).values(name="x"))
        with pytest.raises(IntegrityError):
            await conn.execute(insert(ITEMS).values(name="x"))
        await conn.rollback()
        with pytest.raises(OperationalError):
            await conn.execute(text("SELECT nope FROM items"))
        await conn.rollback()
    async with engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM items"))).scalar_one()
    assert count == 0


async def test_stream_results_still_streams(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(ITEMS), [{"name": f"n{i}"} for i in range(250)])
    async with engine.connect() as conn:
        stream = await conn.stream(select(ITEMS.c.id).order_by(ITEMS.c.id))
        seen = [row.id async for row in stream]
    assert seen == list(range(1, 251))


async def test_a_statement_is_one_call_to_the_thread(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        aio = raw.driver_connection
        assert aio is not None
        calls: list[str] = []
        original = aio._execute

        async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(getattr(fn, "__name__", repr(fn)))
            return await original(fn, *args, **kwargs)

        aio._execute = counting
        try:
            await conn.execute(text("SELECT 1"))
            assert len(calls) == 1
            await conn.execute(insert(ITEMS).values(name="one"))  # BEGIN rides along
            assert len(calls) == 2
            await conn.execute(text("INSERT INTO items (name) VALUES ('two') RETURNING id"))
            assert len(calls) == 3
            await conn.commit()
            assert len(calls) == 4
        finally:
            del aio._execute
