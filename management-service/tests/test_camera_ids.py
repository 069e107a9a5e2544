"""Camera ids are never reused, and a deleted camera's recordings stay its own (issue 16,
finding 7).

SQLite without AUTOINCREMENT gave the highest id out again after a delete: the new camera
inherited the old one's recordings, and whoever was granted the new camera saw them.
Now ids are AUTOINCREMENT there (migration 0006; PostgreSQL sequences never go back), and a
deleted camera's recordings are kept under its id, visible to administrators, and purged
by retention with the retention the camera had.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management import migrate
from argus_management.db import make_engine
from argus_management.deps import app_state
from argus_management.recordings.purge import purge_candidates
from argus_management.recordings.schemas import PurgeRequest

from factories import sqlite
from factories.recordings import add_segment
from factories.users import bearer, create_user

CAMERAS = "/api/v1/cameras"
START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = {"start": "2026-11-20T11:00:00Z", "end": "2026-11-20T13:00:00Z"}


@pytest.fixture
async def sqlite_app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The service on its embedded default, SQLite, migrated from scratch."""
    async with sqlite.sqlite_app(tmp_path, "argus-ids", MANAGEMENT_LIVENESS_ENABLED=False) as app:
        yield app


async def _admin(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    resp = await client.post("/api/v1/auth/login",
                             data={"username": "root", "password": "sqlite-admin-pw"})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


async def _timeline(client: httpx.AsyncClient, cid: int, headers: dict[str, str]) -> httpx.Response:
    return await client.get(f"{CAMERAS}/{cid}/timeline", params=WINDOW, headers=headers)


async def test_a_new_camera_never_inherits_a_deleted_ones_recordings(
    sqlite_app: FastAPI,
) -> None:
    maker = app_state(sqlite_app).sessionmaker
    transport = httpx.ASGITransport(app=sqlite_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        admin = await _admin(sqlite_app, client)
        first = await client.post(CAMERAS, json={"name": "Old", "stream_url": "rtsp://10.0.0.1/a"},
                                  headers=admin)
        old_id = first.json()["id"]
        await add_segment(maker, old_id, START)
        assert (await client.delete(f"{CAMERAS}/{old_id}", headers=admin)).status_code == 204
        second = await client.post(CAMERAS, json={"name": "New", "stream_url": "rtsp://10.0.0.2/a"},
                                   headers=admin)
        new_id = second.json()["id"]
        assert new_id != old_id  # the id that used to come back
        viewer = await create_user(maker, "viewer", camera_ids=[new_id])
        as_viewer = bearer(app_state(sqlite_app), viewer)
        mine = await _timeline(client, new_id, as_viewer)
        assert mine.status_code == 200 and mine.json()["segments"] == []
        assert (await _timeline(client, old_id, as_viewer)).status_code == 404
        # The administrator still finds the deleted camera's recordings.
        kept = await _timeline(client, old_id, admin)
        assert kept.status_code == 200, kept.text
        assert [s["path"].split("/")[0] for s in kept.json()["segments"]] == [str(old_id)]
        # Nothing else about a deleted camera answers.
        assert (await client.get(f"{CAMERAS}/{old_id}", headers=admin)).status_code == 404
        trigger = await client.post(f"{CAMERAS}/{old_id}/record", json={"duration_s": 5},
                                    headers=admin)
        assert trigger.status_code == 404


async def test_deleted_cameras_recordings_follow_its_retention(
    client: httpx.AsyncClient, app: FastAPI, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    resp = await client.post(CAMERAS, json={"name": "Shortlived", "stream_url": "rtsp://10.0.0.3/a",
                                            "retention_days": 2}, headers=admin_headers)
    cid = resp.json()["id"]
    now = datetime.now(UTC)
    old = await add_segment(maker, cid, now - timedelta(days=3))
    recent = await add_segment(maker, cid, now - timedelta(hours=1))
    assert (await client.delete(f"{CAMERAS}/{cid}", headers=admin_headers)).status_code == 204
    viewer = await create_user(maker, "operator")
    denied = await _timeline(client, cid, bearer(app_state(app), viewer))
    assert denied.status_code == 404
    async with maker() as session:
        picked = await purge_candidates(session, PurgeRequest(mode="age"), now)
        await session.commit()
    # Two days, the camera's own setting, not the 30-day fallback.
    assert [p.id for p in picked] == [old.id] and recent.id != old.id


def _at(url: str, target: str) -> None:
    command.upgrade(migrate.alembic_config(url), target)


def test_migration_keeps_rows_and_starts_above_every_recorded_camera(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    _at(url, "0005")

    async def run(statements: list[str]) -> list[list[tuple[object, ...]]]:
        engine = make_engine(url)
        out = []
        async with engine.begin() as conn:
            for stmt in statements:
                result = await conn.execute(sa.text(stmt))
                out.append([tuple(r) for r in result] if result.returns_rows else [])
        await engine.dispose()
        return out

    asyncio.run(run([
        "INSERT INTO users (id, username, password_hash, is_active, created_at, updated_at) "
        "VALUES (3, 'u3', 'x', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO cameras (id, name, kind, stream_url, has_ptz, enabled, recording_mode, "
        "retention_days, analysis, connect_timeout_s, read_timeout_s, status, created_at, "
        "updated_at) VALUES (4, 'c4', 'rtsp', 'rtsp://10.0.0.4/', 0, 1, 'continuous', 30, "
        "'{}', 5, 3, 'unknown', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO camera_grants (user_id, camera_id) VALUES (3, 4)",
        "INSERT INTO events (source_id, camera_id, type, severity, started_at, payload, kept) "
        "VALUES ('e1', 4, 'motion.start', 'info', CURRENT_TIMESTAMP, '{}', 0)",
        # Recordings of camera 9, deleted before the migration.
        "INSERT INTO recording_segments (camera_id, path, kind, started_at, ended_at, "
        "duration_s, bytes, codec, width, height, has_audio, kept) VALUES (9, "
        "'9/2026-11-20/12/1.mp4', 'continuous', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, 1, "
        "'h264', 1, 1, 0, 0)",
    ]))
    _at(url, "head")
    grants, events, new_id = asyncio.run(run([
        "SELECT user_id, camera_id FROM camera_grants",
        "SELECT camera_id FROM events",
        "INSERT INTO cameras (name, kind, stream_url, has_ptz, enabled, recording_mode, "
        "retention_days, analysis, connect_timeout_s, read_timeout_s, status, created_at, "
        "updated_at) VALUES ('c-new', 'rtsp', 'rtsp://10.0.0.5/', 0, 1, 'continuous', 30, "
        "'{}', 5, 3, 'unknown', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id",
    ]))
    assert grants == [(3, 4)] and events == [(4,)]  # the rebuild cascaded nothing
    assert new_id == [(10,)]  # above camera 9's recordings, not 5
    command.downgrade(migrate.alembic_config(url), "0005")
    _at(url, "head")
