"""Backfilled segments (restored from a camera's own storage after an outage): indexed
with their flag from ``argus:segments`` and shown as their own ranges on the timeline, in
the detailed and the summary view; a gap that was not filled keeps its cause."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import STREAM_SEGMENTS, SegmentClosed
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.rbac.models import User
from argus_management.recordings.models import RecordingSegment

from factories.cameras import create_camera
from factories.recordings import segment_path
from factories.users import bearer

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _message(camera_id: int, start: datetime, seconds: float, backfilled: bool) -> SegmentClosed:
    return SegmentClosed(
        camera_id=camera_id, path=segment_path(camera_id, start), start=start,
        end=start + timedelta(seconds=seconds), duration=seconds, bytes=1000,
        kind="continuous", codec="h264", width=320, height=180, backfilled=backfilled)


async def _admin(app: FastAPI, maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with maker() as session:
        admin = await session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    return bearer(app_state(app), admin)


async def test_backfilled_segments_are_indexed_and_drawn_apart(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    bus = app_state(app).bus
    # Live 10:00-10:01, an outage filled 10:01-10:03 (two backfilled segments), live after;
    # then a hole 10:05-10:06 that nothing filled.
    plan = [(T0, 60, False), (T0 + timedelta(minutes=1), 60, True),
            (T0 + timedelta(minutes=2), 60, True), (T0 + timedelta(minutes=3), 120, False),
            (T0 + timedelta(minutes=6), 60, False)]
    for start, seconds, backfilled in plan:
        await bus.add(STREAM_SEGMENTS, _message(cam.id, start, seconds, backfilled))
    for _ in range(100):
        async with maker() as session:
            rows = list(await session.scalars(select(RecordingSegment).where(
                RecordingSegment.camera_id == cam.id).order_by(RecordingSegment.started_at)))
        if len(rows) == len(plan):
            break
        await asyncio.sleep(0.1)
    assert [r.backfilled for r in rows] == [b for _s, _n, b in plan]
    headers = await _admin(app, maker)
    window = {"start": "2026-11-22T10:00:00Z", "end": "2026-11-22T10:08:00Z"}
    detail = await client.get(f"/api/v1/cameras/{cam.id}/timeline", params=window,
                              headers=headers)
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["backfilled"] == [{"start": "2026-11-22T10:01:00Z",
                                   "end": "2026-11-22T10:03:00Z"}]
    assert [s["backfilled"] for s in body["segments"]] == [b for _s, _n, b in plan]
    assert body["recordings"][0] == {"start": "2026-11-22T10:00:00Z",
                                     "end": "2026-11-22T10:05:00Z"}
    summary = await client.get(f"/api/v1/cameras/{cam.id}/timeline",
                               params={**window, "resolution_s": 1}, headers=headers)
    assert summary.status_code == 200, summary.text
    sbody = summary.json()
    assert sbody["backfilled"] == body["backfilled"]
    # The hole nothing filled stays a gap (no alert explains it here: cause unknown).
    assert [(g["start"], g["end"], g["cause"]) for g in sbody["gaps"]] == [
        ("2026-11-22T10:05:00Z", "2026-11-22T10:06:00Z", "unknown"),
        ("2026-11-22T10:07:00Z", "2026-11-22T10:08:00Z", "unknown")]
