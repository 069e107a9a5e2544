"""The audit log's hash chain: every row chained, concurrent writers never fork it, and the
verifier finds an edited, a deleted and an inserted row (bypassing the append-only trigger
the way someone with database access would)."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from argus_management import migrate
from argus_management.audit import service as audit
from argus_management.audit.chain import GENESIS, canonical, row_hash
from argus_management.audit.models import AuditEntry
from argus_management.audit.verify import Report, main, verify_connection
from argus_management.config import Settings
from argus_management.db import make_engine, make_sessionmaker
from argus_management.deps import app_state
from argus_management.rbac.principal import Actor

ACTOR = Actor(user_id=7, username="alice", ip="192.0.2.10", user_agent="chain-test")


async def _verify(engine: AsyncEngine) -> Report:
    async with engine.connect() as conn:
        return await verify_connection(conn)


async def _write(maker: async_sessionmaker[AsyncSession], n: int, tag: str = "t") -> None:
    for i in range(n):
        async with maker() as s:
            await audit.record(s, ACTOR, "test.write", "thing", f"{tag}{i}", {"i": i})
            await s.commit()


@pytest.fixture
async def engine(app: FastAPI) -> AsyncEngine:
    return app_state(app).engine


async def _untriggered(engine: AsyncEngine, sql: str, **params: object) -> None:
    """Run ``sql`` with the append-only trigger disabled (as an intruder with the owner's
    rights could), then put the trigger back."""
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        await conn.execute(text(sql), params)
        await conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))


async def test_rows_are_chained_in_id_order(
    maker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
    client: httpx.AsyncClient, admin_headers: dict[str, str],
) -> None:
    # Through the API (rows added at commit), detached, and several in one flush.
    resp = await client.post("/api/v1/camera-groups", headers=admin_headers,
                             json={"name": "Yard"})
    assert resp.status_code == 201, resp.text
    await audit.record_detached(maker, ACTOR, "test.refused", summary={"x": 1.0, "y": [1, 2]})
    async with maker() as s:
        for i in range(5):
            s.add(AuditEntry(user_id=i, username=f"u{i}", action="test.batch",
                             summary={"big": 1e20, "small": 0.1, "text": "é\u2603"}))
        await s.commit()
    async with maker() as s:
        rows = list(await s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert len(rows) >= 7
    prev = GENESIS
    for row in rows:
        assert row.prev_hash == prev, row.id
        assert row.row_hash == row_hash(row, prev), canonical(row, prev)
        prev = row.row_hash
    report = await _verify(engine)
    assert report.ok, report.problem
    assert (report.rows, report.head_id, report.head_hash) == (len(rows), rows[-1].id, prev)


async def test_a_rolled_back_row_leaves_no_trace(
    maker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
) -> None:
    await _write(maker, 2)
    async with maker() as s:
        await audit.record(s, ACTOR, "test.rolled_back")
        await s.rollback()
        await s.commit()  # nothing pending any more: the row is not written
    async with maker() as s:
        s.add(AuditEntry(action="test.flushed_then_rolled_back"))
        await s.flush()
        await s.rollback()
    await _write(maker, 2, "after")
    async with maker() as s:
        actions = list(await s.scalars(select(AuditEntry.action)))
    assert "test.rolled_back" not in actions and "test.flushed_then_rolled_back" not in actions
    report = await _verify(engine)
    assert report.ok and report.rows == 4, report.problem


async def test_concurrent_writers_never_fork_the_chain(
    settings: Settings, maker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
    live_server: str, admin_headers: dict[str, str],
) -> None:
    # A second engine stands for a second uvicorn worker (its own connection pool).
    other = make_engine(settings.database_url)
    other_maker = make_sessionmaker(other)
    try:
        async with httpx.AsyncClient(base_url=f"http://{live_server}", timeout=30) as http:

            async def group(i: int) -> None:
                resp = await http.post("/api/v1/camera-groups", headers=admin_headers,
                                       json={"name": f"G{i}"})
                assert resp.status_code == 201, resp.text

            await asyncio.gather(
                *(group(i) for i in range(20)),
                *(_write(maker, 5, f"a{i}-") for i in range(4)),
                *(_write(other_maker, 5, f"b{i}-") for i in range(4)),
            )
    finally:
        await other.dispose()
    report = await _verify(engine)
    assert report.ok, report.problem
    assert report.rows == 20 + 40
    async with maker() as s:
        prevs = list(await s.scalars(select(AuditEntry.prev_hash)))
    assert len(set(prevs)) == len(prevs)  # no two rows follow the same row


async def test_verify_finds_an_edited_row(
    maker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
) -> None:
    await _write(maker, 5)
    async with maker() as s:
        ids = list(await s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE audit_log SET username = 'mallory' WHERE id = :i"),
                               {"i": ids[2]})
    assert (await _verify(engine)).ok
    await _untriggered(engine, "UPDATE audit_log SET username = 'mallory' WHERE id = :i",
                       i=ids[2])
    problem = (await _verify(engine)).problem
    assert problem is not None and (problem.kind, problem.row_id) == ("edited", ids[2])


async def test_verify_finds_an_edit_with_a_recomputed_hash(
    maker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
) -> None:
    await _write(maker, 5)
    async with maker() as s:
        rows = list(await s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    victim = rows[1]
    victim.username = "mallory"
    forged = row_hash(victim, victim.prev_hash)
    await _untriggered(engine, "UPDATE audit_log SET username = 'mallory', row_hash = :h "
                       "WHERE id = :i", h=forged, i=victim.id)
    problem = (await _verify(engine)).problem
    # Row 2 is consistent in itself; the break shows at row 3, which names the old hash.
    assert problem is not None and (problem.kind, problem.row_id) == ("deleted", rows[2].id)
    assert str(victim.id) in problem.detail


async def test_verify_finds_a_deleted_row(
    maker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
) -> None:
    await _write(maker, 5)
    async with maker() as s:
        ids = list(await s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    await _untriggered(engine, "DELETE FROM audit_log WHERE id = :i", i=ids[2])
    problem = (await _verify(engine)).problem
    assert problem is not None and (problem.kind, problem.row_id) == ("deleted", ids[3])
    assert f"between {ids[1]} and {ids[3]}" in problem.detail


async def test_verify_finds_a_deleted_last_row(
    maker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
) -> None:
    await _write(maker, 3)
    async with maker() as s:
        ids = list(await s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    await _untriggered(engine, "DELETE FROM audit_log WHERE id = :i", i=ids[-1])
    problem = (await _verify(engine)).problem
    assert problem is not None and (problem.kind, problem.row_id) == ("truncated", ids[-2])


@pytest.mark.parametrize("hashed", [False, True], ids=["garbage-hash", "computed-hash"])
async def test_verify_finds_an_inserted_row(
    maker: async_sessionmaker[AsyncSession], engine: AsyncEngine, hashed: bool,
) -> None:
    await _write(maker, 3)
    async with maker() as s:
        last = (await s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()))).first()
    assert last is not None
    forged = AuditEntry(ts=datetime.now(UTC), user_id=1, username="admin", ip="10.0.0.1",
                        user_agent=None, action="user.delete", target_type="user",
                        target_id="9", summary={}, result="success", dedupe_key=None)
    prev, digest = ("f" * 64, "e" * 64)
    if hashed:  # someone who knows the algorithm chains the forged row properly
        prev, digest = last.row_hash, row_hash(forged, last.row_hash)
    async with engine.begin() as conn:  # INSERT is allowed: only the hashes can tell
        forged_id = (await conn.execute(text(
            "INSERT INTO audit_log (ts, user_id, username, ip, action, target_type, target_id,"
            " summary, result, prev_hash, row_hash) VALUES (:ts, 1, 'admin', '10.0.0.1', "
            "'user.delete', 'user', '9', '{}', 'success', :p, :h) RETURNING id"),
            {"ts": forged.ts, "p": prev, "h": digest})).scalar_one()
    problem = (await _verify(engine)).problem
    assert problem is not None and (problem.kind, problem.row_id) == ("inserted", forged_id)
    await _write(maker, 2, "later")  # appends after it link over it: still found
    problem = (await _verify(engine)).problem
    assert problem is not None and (problem.kind, problem.row_id) == ("inserted", forged_id)


async def test_verify_command(
    settings: Settings, maker: async_sessionmaker[AsyncSession], engine: AsyncEngine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _write(maker, 3)
    url = settings.database_url
    assert await asyncio.to_thread(main, ["--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "audit chain OK: 3 rows" in out
    head = out.strip().rsplit("head ", 1)[1]
    assert await asyncio.to_thread(main, ["--database-url", url, "--anchor", head]) == 0
    async with maker() as s:
        ids = list(await s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    await _untriggered(engine, "UPDATE audit_log SET ip = '10.9.9.9' WHERE id = :i", i=ids[0])
    assert await asyncio.to_thread(main, ["--database-url", url]) == 1
    assert f"edited at row {ids[0]}" in capsys.readouterr().out
    # The console script: argus-management audit verify.
    script = Path(sys.executable).with_name("argus-management")
    proc = await asyncio.create_subprocess_exec(
        str(script), "audit", "verify", "--database-url", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out_bytes, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1, out_bytes
    assert f"edited at row {ids[0]}".encode() in out_bytes


# -- SQLite and the migration --------------------------------------------------------------
@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{tmp_path / 'argus.db'}"


async def test_sqlite_chain_and_verify(sqlite_url: str) -> None:
    await migrate.upgrade_async(sqlite_url)
    engine = make_engine(sqlite_url)
    maker = make_sessionmaker(engine)
    try:
        await asyncio.gather(*(_write(maker, 5, f"w{i}-") for i in range(4)))
        report = await _verify(engine)
        assert report.ok and report.rows == 20, report.problem
        async with maker() as s:
            ids = list(await s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE audit_log SET ip = 'x' WHERE id = :i"),
                                   {"i": ids[4]})
        async with engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER audit_log_no_update"))
            await conn.execute(text("UPDATE audit_log SET ip = 'x' WHERE id = :i"), {"i": ids[4]})
        problem = (await _verify(engine)).problem
        assert problem is not None and (problem.kind, problem.row_id) == ("edited", ids[4])
    finally:
        await engine.dispose()


async def test_sqlite_head_trigger_rolled_back_and_on_new_connections(sqlite_url: str) -> None:
    """On SQLite the head follows inserted rows through a temp trigger that an append
    creates on its connection: a rollback of that append takes the trigger away, and the
    next append (on that or any other connection) must still move the head."""
    await migrate.upgrade_async(sqlite_url)
    engine = make_engine(sqlite_url)
    maker = make_sessionmaker(engine)
    present = text("SELECT count(*) FROM sqlite_temp_master WHERE name = 'argus_audit_head'")
    try:
        async with maker() as s:
            s.add(audit.entry(ACTOR, "test.rolled_back", None, None, None, "success"))
            await s.flush()  # chained: the trigger is created in this transaction
            assert (await s.execute(present)).scalar_one() == 1
            await s.rollback()
            assert (await s.execute(present)).scalar_one() == 0
        await _write(maker, 3, "after-rollback-")
        await asyncio.gather(*(_write(maker, 3, f"c{i}-") for i in range(3)))
        report = await _verify(engine)
        assert report.ok and report.rows == 12, report.problem
    finally:
        await engine.dispose()


def _seed_0004(url: str) -> None:
    """Rows written before the chain existed (revision 0004)."""
    command.upgrade(migrate.alembic_config(url), "0004")

    async def seed() -> None:
        engine = make_engine(url)
        async with engine.begin() as conn:
            for i in range(7):
                await conn.execute(text(
                    "INSERT INTO audit_log (ts, user_id, username, action, summary, result) "
                    "VALUES (:ts, :u, 'old', 'legacy.action', :s, 'success')"),
                    {"ts": datetime(2026, 1, 1, 0, i, 30, 123456, tzinfo=UTC), "u": i,
                     "s": json.dumps({"n": i, "f": 2.0})})
        await engine.dispose()

    asyncio.run(seed())


async def _migrated_rows_verify(url: str) -> None:
    await asyncio.to_thread(_seed_0004, url)
    await migrate.upgrade_async(url)
    engine = make_engine(url)
    try:
        report = await _verify(engine)
        assert report.ok and report.rows == 7, report.problem
        await _write(make_sessionmaker(engine), 2)
        report = await _verify(engine)
        assert report.ok and report.rows == 9, report.problem
        # The triggers are back after the migration chained the old rows.
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM audit_log"))
    finally:
        await engine.dispose()
    await asyncio.to_thread(command.downgrade, migrate.alembic_config(url), "0004")
    await migrate.upgrade_async(url)


async def test_migration_chains_existing_rows_sqlite(sqlite_url: str) -> None:
    await _migrated_rows_verify(sqlite_url)


async def test_migration_chains_existing_rows_postgresql() -> None:
    import asyncpg

    from argus_testkit.stack import PG_DSN

    name = f"argus_chain_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        await _migrated_rows_verify(f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}")
    finally:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
