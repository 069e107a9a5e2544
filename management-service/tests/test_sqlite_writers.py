"""Concurrent writers on SQLite all succeed (issue 17: the write path).

Two engines on one database file stand for two uvicorn workers (``flock`` locks of two
open files conflict like those of two processes). Each runs concurrent writers; none may
see "database is locked", and no update may be lost. Before the write gate
(``sqlite_gate.py``), a transaction begun by a ``SAVEPOINT`` read under a snapshot and
then failed at once with "database is locked" when it tried to write after another
writer's commit.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from argus_management import sqlite_gate
from argus_management.audit.verify import verify
from argus_management.config import Settings
from argus_management.db import make_engine, make_sessionmaker
from argus_management.deps import app_state
from argus_management.main import create_app

from conftest import REDIS_URL

WRITERS = 10
ROUNDS = 8


async def _read_modify_write(engine: AsyncEngine, writer: int) -> None:
    maker = make_sessionmaker(engine)
    for n in range(ROUNDS):
        async with maker() as session:
            # A savepoint first, then a read, then writes that depend on it.
            async with session.begin_nested():
                value = (await session.execute(text("SELECT n FROM counter"))).scalar_one()
                await asyncio.sleep(0)  # let the other writers run between read and write
                await session.execute(text("UPDATE counter SET n = :n"), {"n": value + 1})
            await session.execute(
                text("INSERT INTO log (writer, n) VALUES (:w, :n)"), {"w": writer, "n": n}
            )
            await session.commit()


async def test_concurrent_writers_of_two_engines_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'argus.db'}"
    engines = [make_engine(url), make_engine(url)]
    try:
        async with engines[0].begin() as conn:
            await conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
            await conn.execute(text("INSERT INTO counter VALUES (0)"))
            await conn.execute(text("CREATE TABLE log (writer INTEGER, n INTEGER)"))
        await asyncio.wait_for(
            asyncio.gather(*(_read_modify_write(engines[w % 2], w) for w in range(WRITERS))), 120
        )
        async with engines[1].connect() as conn:
            counter = (await conn.execute(text("SELECT n FROM counter"))).scalar_one()
            rows = (await conn.execute(text("SELECT count(*) FROM log"))).scalar_one()
    finally:
        for engine in engines:
            await engine.dispose()
    assert rows == WRITERS * ROUNDS
    assert counter == WRITERS * ROUNDS  # no update lost
    assert (tmp_path / "argus.db-writer.lock").exists()


async def test_concurrent_api_writers_on_two_apps_all_succeed(tmp_path: Path) -> None:
    """Ten clients over two apps on one SQLite file (two workers): every write answers 2xx
    and the audit chain they all append to is intact."""
    db = tmp_path / "argus.db"
    namespace = f"argus-sqlite-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        ARGUS_ENV="test",
        DATABASE_URL=f"sqlite+aiosqlite:///{db}",
        REDIS_URL=REDIS_URL,
        ARGUS_REDIS_NAMESPACE=namespace,
        SECRET_KEY="sqlite-secret-key-0123456789",
        INTERNAL_API_KEY="sqlite-internal-key-0123",
        ARGUS_ADMIN_USERNAME="root",
        ARGUS_ADMIN_PASSWORD="sqlite-admin-pw",
        ARGUS_DATA_DIR=str(tmp_path),
        MANAGEMENT_BCRYPT_ROUNDS=4,
        MANAGEMENT_LIVENESS_ENABLED=False,
    )
    first = create_app(settings)
    second = create_app(settings, run_migrations=False)
    statuses: list[int] = []

    async def writer(app_client: httpx.AsyncClient, headers: dict[str, str], n: int) -> None:
        for i in range(4):
            made = await app_client.post(
                "/api/v1/layouts", headers=headers, json={"name": f"w{n}-{i}", "grid": 4}
            )
            statuses.append(made.status_code)
            if made.status_code == 201:
                gone = await app_client.delete(
                    f"/api/v1/layouts/{made.json()['id']}", headers=headers
                )
                statuses.append(gone.status_code)
            cam = await app_client.post(
                "/api/v1/cameras",
                headers=headers,
                json={"name": f"cam-{n}-{i}", "stream_url": f"rtsp://10.0.0.9/{n}/{i}"},
            )
            statuses.append(cam.status_code)

    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            for app in (first, second)
        ]
        try:
            login = await clients[0].post(
                "/api/v1/auth/login", data={"username": "root", "password": "sqlite-admin-pw"}
            )
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            await asyncio.wait_for(
                asyncio.gather(*(writer(clients[n % 2], headers, n) for n in range(WRITERS))), 300
            )
        finally:
            for client in clients:
                await client.aclose()
            redis = app_state(first).bus.redis
            keys = [k async for k in redis.scan_iter(match=f"{namespace}:*")]
            if keys:
                await redis.delete(*keys)
    assert len(statuses) == WRITERS * 4 * 3
    assert set(statuses) <= {201, 204}, sorted(statuses)
    report = await verify(settings.database_url)
    assert report.ok, report


async def test_a_second_write_transaction_of_the_same_task_fails_at_once(tmp_path: Path) -> None:
    """A task that writes in one transaction and, before it ends, in another (a detached
    audit write) would wait for itself until the busy timeout: it fails at once."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'argus.db'}")
    maker = make_sessionmaker(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        async with maker() as first, maker() as second:
            await first.execute(text("INSERT INTO t VALUES (1)"))
            with pytest.raises(OperationalError, match="this task's own open write"):
                async with asyncio.timeout(10):  # (the same task: not wait_for)
                    await second.execute(text("INSERT INTO t VALUES (2)"))
            await first.commit()
        async with maker() as third:  # the gate is free again
            await third.execute(text("INSERT INTO t VALUES (3)"))
            await third.commit()
            assert (await third.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
    finally:
        await engine.dispose()


def test_the_lock_is_taken_at_once_only_when_free_and_nobody_waits(tmp_path: Path) -> None:
    """The gate's fast path (no thread) takes the cross-process lock only when it is free
    and no other process waits for it; a waiter (a shared lock on the wait file, held by
    ``_wait_for`` while it waits) gets it first. Two open files stand for two processes."""
    lock, wait = tmp_path / "argus.db-writer.lock", tmp_path / "argus.db-writer.wait"
    mine = (sqlite_gate._open(lock), sqlite_gate._open(wait))
    other = (sqlite_gate._open(lock), sqlite_gate._open(wait))
    try:
        assert sqlite_gate._take_if_free(*mine)  # free, nobody waits
        assert not sqlite_gate._take_if_free(*other)  # held by "mine"
        fcntl.flock(mine[0], fcntl.LOCK_UN)
        fcntl.flock(other[1], fcntl.LOCK_SH)  # "other" waits (as _wait_for does)
        assert not sqlite_gate._take_if_free(*mine)  # free, but someone waits
        fcntl.flock(other[1], fcntl.LOCK_UN)
        assert sqlite_gate._take_if_free(*mine)
        fcntl.flock(mine[0], fcntl.LOCK_UN)
        sqlite_gate._wait_for(*other)  # free: no wait, and it leaves the wait file free
        assert not sqlite_gate._take_if_free(*mine)
        fcntl.flock(other[0], fcntl.LOCK_UN)
        assert sqlite_gate._take_if_free(*mine)
    finally:
        for fd in (*mine, *other):
            os.close(fd)
