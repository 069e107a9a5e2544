"""Analysis uploads have a budget of their own (issue 16, finding 8).

Per-user count and bytes, a total budget, a disk reserve (uploads must never fill the disk
the recorder's guard watches, or it deletes recordings to make room), all refused with a
4xx in the common envelope before the file is written; a janitor expires uploads whose job
never started and removes files nothing refers to, never a running job's.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import utcnow
from argus_management.analysis import uploads
from argus_management.analysis.models import AnalysisJob
from argus_management.config import Settings
from argus_management.deps import app_state

from factories.analysis import mp4_bytes
from factories.events import internal_headers
from factories.users import bearer, create_user

JOBS = "/api/v1/analysis/jobs"
CLIP = mp4_bytes()


async def _upload(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.post(JOBS, headers=headers, files={"file": ("c.mp4", CLIP, "video/mp4")})


async def _operator(app: FastAPI, maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return bearer(app_state(app), await create_user(maker, "operator"))


def _empty(folder: Path) -> None:
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink()


@pytest.fixture(autouse=True)
def _empty_upload_dir(settings: Settings) -> Iterator[None]:
    """Uploads of jobs whose rows the previous test's cleanup removed are orphans: they
    would count as stored here, and ours would elsewhere."""
    _empty(uploads.upload_dir(settings))
    yield
    _empty(uploads.upload_dir(settings))


def _stored(settings: Settings) -> list[Path]:
    return sorted(uploads.upload_dir(settings).glob("*.mp4"))


async def test_pending_upload_count_per_user(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "upload_user_max_files", 2)
    alice, bob = await _operator(app, maker), await _operator(app, maker)
    first = await _upload(client, alice)
    assert first.status_code == 202 and (await _upload(client, alice)).status_code == 202
    third = await _upload(client, alice)
    assert third.status_code == 429, third.text
    assert third.json()["error"] == "TooManyRequests" and "upload quota" in third.json()["detail"]
    assert (await _upload(client, bob)).status_code == 202  # per user
    assert len(_stored(settings)) == 3
    # A finished job frees its slot (its file is deleted).
    done = await client.put(f"/internal/analysis/jobs/{first.json()['id']}",
                            headers=internal_headers(settings, "analysis"),
                            json={"state": "done"})
    assert done.status_code == 200, done.text
    assert (await _upload(client, alice)).status_code == 202


async def test_bytes_quota_budget_and_disk_reserve(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, bob = await _operator(app, maker), await _operator(app, maker)
    monkeypatch.setattr(settings, "upload_user_max_bytes", len(CLIP) * 3 // 2)
    assert (await _upload(client, alice)).status_code == 202
    over = await _upload(client, alice)
    assert over.status_code == 413 and over.json()["error"] == "PayloadTooLarge"
    assert "upload quota exceeded" in over.json()["detail"]
    # The total budget holds whoever uploads.
    monkeypatch.setattr(settings, "upload_total_max_bytes", len(CLIP) * 3 // 2)
    budget = await _upload(client, bob)
    assert budget.status_code == 413 and "budget" in budget.json()["detail"]
    # Whatever the budgets, an upload never eats into the disk the recordings need.
    monkeypatch.setattr(settings, "upload_total_max_bytes", 2**40)
    monkeypatch.setattr(settings, "upload_min_free_bytes", 2**62)
    disk = await _upload(client, bob)
    assert disk.status_code == 413 and "disk space" in disk.json()["detail"]
    assert len(_stored(settings)) == 1  # nothing was written for the refusals
    usage = json.loads(await app_state(app).bus.redis.get(
        app_state(app).bus.key(uploads.USAGE_KEY)))
    assert usage["bytes"] == len(CLIP) and usage["files"] == 1


async def test_janitor_expires_stale_uploads_and_orphans(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    alice = await _operator(app, maker)
    stale = (await _upload(client, alice)).json()["id"]
    running = (await _upload(client, alice)).json()["id"]
    fresh = (await _upload(client, alice)).json()["id"]
    await client.put(f"/internal/analysis/jobs/{running}",
                     headers=internal_headers(settings, "analysis"),
                     json={"state": "running", "progress": 0.1})
    long_ago = utcnow() - timedelta(hours=settings.upload_stale_hours + 1)
    async with maker() as s:
        await s.execute(update(AnalysisJob).where(AnalysisJob.id.in_([stale, running]))
                        .values(created_at=long_ago))
        await s.commit()
    folder = uploads.upload_dir(settings)
    old_orphan, new_orphan, old_part = (folder / "orphan-old.mp4", folder / "orphan-new.mp4",
                                        folder / "gone.part")
    for path in (old_orphan, new_orphan, old_part):
        path.write_bytes(b"x")
    then = time.time() - (settings.upload_stale_hours + 1) * 3600
    os.utime(old_orphan, (then, then))
    os.utime(old_part, (time.time() - 7200, time.time() - 7200))
    expired, removed = await uploads.sweep(maker, settings, app_state(app).bus)
    assert (expired, removed) == (1, 2)
    names = {p.name for p in folder.iterdir()}
    assert names == {f"{running}.mp4", f"{fresh}.mp4", "orphan-new.mp4"}
    async with maker() as s:
        row = await s.get(AnalysisJob, stale)
        assert row is not None and row.state == "failed" and "expired" in (row.error or "")
        kept = await s.get(AnalysisJob, running)
        assert kept is not None and kept.state == "running"
    # Expired uploads no longer count against the quota.
    async with maker() as s:
        assert (await uploads.usage(s)).files == 2

