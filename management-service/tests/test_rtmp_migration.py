"""Migration 0004 (rtmp_keys) on SQLite and PostgreSQL: up, down, up again, and the partial
unique index (a name is unique among keys that are not revoked) enforced by both."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from argus_management import migrate
from argus_management.db import make_engine
from argus_management.deps import app_state
from argus_testkit.stack import scratch_database

from factories.rtmp import create_key, publish
from factories.sqlite import sqlite_app

REVISION, PREVIOUS = "0004", "0003"


def _tables(url: str) -> set[str]:
    async def inspect() -> set[str]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            names: set[str] = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(inspect())


def _partial_index_holds(url: str) -> None:
    """Two live keys may not share a name; a revoked one may."""

    async def check() -> None:
        engine = make_engine(url)
        insert = sa.text("INSERT INTO rtmp_keys (user_id, name, key_hash, revoked_at) "
                         "VALUES (:u, :n, :h, :r)")
        try:
            async with engine.begin() as conn:
                uid = await conn.scalar(sa.text(
                    "INSERT INTO users (username, password_hash, is_active, created_at, "
                    "updated_at) VALUES ('u', 'x', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) "
                    "RETURNING id"))
                old = datetime(2026, 1, 1, tzinfo=UTC)
                await conn.execute(insert, {"u": uid, "n": "cam", "h": "a" * 64, "r": old})
                await conn.execute(insert, {"u": uid, "n": "cam", "h": "b" * 64, "r": None})
            with pytest.raises(IntegrityError):
                async with engine.begin() as conn:
                    await conn.execute(insert, {"u": uid, "n": "cam", "h": "c" * 64, "r": None})
            async with engine.begin() as conn:
                await conn.execute(sa.text("DELETE FROM users"))  # keys go with their user
                assert await conn.scalar(sa.text("SELECT count(*) FROM rtmp_keys")) == 0
        finally:
            await engine.dispose()

    asyncio.run(check())


def _cycle(url: str) -> None:
    cfg = migrate.alembic_config(url)
    command.upgrade(cfg, "head")
    assert "rtmp_keys" in _tables(url)
    _partial_index_holds(url)
    command.downgrade(cfg, PREVIOUS)
    tables = _tables(url)
    assert "rtmp_keys" not in tables and "cameras" in tables
    command.upgrade(cfg, REVISION)
    assert "rtmp_keys" in _tables(url)
    _partial_index_holds(url)


def test_0004_on_sqlite(tmp_path: Path) -> None:
    _cycle(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


def test_0004_on_postgresql() -> None:
    with scratch_database("argus_mig") as db:  # dropped afterwards
        _cycle(db.url)


async def test_keys_and_publish_on_sqlite(tmp_path: Path) -> None:
    """The native default: create a key, publish with it, list the camera, on SQLite."""
    async with sqlite_app(tmp_path, "argus-rtmp", MANAGEMENT_LIVENESS_ENABLED=False) as app:
        settings = app_state(app).settings
        h = {"Authorization": f"Bearer {app_state(app).jwt.issue('1', 'access', 900).token}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            key = await create_key(client, h, "lite")
            assert (await client.post("/api/v1/rtmp/keys", json={"name": "lite"},
                                      headers=h)).status_code == 409
            resp = await publish(client, settings, "lite", key["key"], "1")
            assert resp.status_code == 200, resp.text
            cams = (await client.get("/api/v1/cameras", headers=h)).json()["items"]
            assert [(c["kind"], c["status"]) for c in cams] == [("rtmp", "online")]
            assert (await client.delete(f"/api/v1/rtmp/keys/{key['id']}",
                                        headers=h)).status_code == 204
            again = await create_key(client, h, "lite")
            assert again["camera_id"] == resp.json()["camera_id"]
