"""The recording index: the argus:segments consumer and the recorder's internal API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import STREAM_SEGMENTS, SegmentClosed
from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.events.models import Event
from argus_management.recordings.models import RecordingSegment

from factories.cameras import create_camera
from factories.events import internal_headers
from factories.recordings import add_segment, segment_path

NOW = datetime.now(UTC).replace(microsecond=0)


def _message(camera_id: int, start: datetime, **extra: Any) -> SegmentClosed:
    fields: dict[str, Any] = {
        "camera_id": camera_id, "path": segment_path(camera_id, start), "start": start,
        "end": start + timedelta(seconds=5), "duration": 5.0, "bytes": 12345,
        "kind": "continuous", "codec": "h264", "width": 320, "height": 180, "has_audio": True,
    }
    fields.update(extra)
    return SegmentClosed(**fields)


async def _rows(maker: async_sessionmaker[AsyncSession]) -> list[RecordingSegment]:
    async with maker() as s:
        return list(await s.scalars(select(RecordingSegment).order_by(RecordingSegment.id)))


async def _wait_rows(maker: async_sessionmaker[AsyncSession], count: int) -> list[RecordingSegment]:
    for _ in range(100):  # the consumer blocks up to 2 s per read
        rows = await _rows(maker)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.1)
    return await _rows(maker)


async def test_consumer_indexes_announced_segments_once(
    app: FastAPI, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    bus = app_state(app).bus
    first = _message(cam.id, NOW)
    await bus.add(STREAM_SEGMENTS, first)
    await bus.add(STREAM_SEGMENTS, first)  # redelivery / adopted again
    await bus.add(STREAM_SEGMENTS, _message(cam.id, NOW, path="../../etc/passwd"))  # refused
    await bus.add(STREAM_SEGMENTS, _message(cam.id, NOW, path=f"{cam.id + 1}/x/1.mp4"))
    await bus.add(STREAM_SEGMENTS, _message(cam.id, NOW + timedelta(seconds=5), kind="event"))
    rows = await _wait_rows(maker, 2)
    await asyncio.sleep(0.3)
    rows = await _rows(maker)
    assert [r.path for r in rows] == [first.path, segment_path(cam.id, NOW + timedelta(seconds=5))]
    row = rows[0]
    assert (row.camera_id, row.kind, row.codec, row.width, row.height, row.has_audio) == (
        cam.id, "continuous", "h264", 320, 180, True)
    assert row.started_at == NOW and row.ended_at == NOW + timedelta(seconds=5)
    assert row.bytes == 12345 and row.deleted_at is None and not row.kept
    assert rows[1].kind == "event"


async def test_internal_segment_api_needs_the_key(client: httpx.AsyncClient) -> None:
    for method, url, body in (
        ("GET", "/internal/segments/index?camera_id=1", None),
        ("POST", "/internal/segments/purge-candidates", {"mode": "age"}),
        ("POST", "/internal/segments/purged", {"ids": [1]}),
        ("POST", "/internal/segments/missing", {"camera_id": 1, "paths": []}),
    ):
        resp = await client.request(method, url, json=body,
                                    headers={"X-Internal-Api-Key": "wrong-key-0123456789abc"})
        assert resp.status_code == 401, (url, resp.text)


async def test_index_purge_by_age_skips_kept_and_confirms(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    async with maker() as s:
        await s.execute(update(Camera).where(Camera.id == cam.id).values(retention_days=2))
        await s.commit()
    old = NOW - timedelta(days=3)
    a = await add_segment(maker, cam.id, old)
    b = await add_segment(maker, cam.id, old + timedelta(minutes=1))
    kept_seg = await add_segment(maker, cam.id, old + timedelta(minutes=2), kept=True)
    covered = await add_segment(maker, cam.id, old + timedelta(minutes=3))
    recent = await add_segment(maker, cam.id, NOW - timedelta(days=1))
    async with maker() as s:
        s.add(Event(source_id="kept-1", camera_id=cam.id, type="manual", severity="info",
                    started_at=old + timedelta(minutes=3, seconds=10),
                    ended_at=old + timedelta(minutes=3, seconds=20), payload={},
                    snapshot_path=None, kept=True, created_at=old))
        await s.commit()
    h = internal_headers(settings)
    resp = await client.post("/internal/segments/purge-candidates", headers=h,
                             json={"mode": "age", "pre_roll_s": 5, "post_roll_s": 10})
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert [i["id"] for i in items] == [a.id, b.id]  # oldest first; kept ones never
    assert items[0] == {"id": a.id, "camera_id": cam.id, "path": a.path, "bytes": 1000,
                        "kind": "continuous", "tier": "local", "object_key": None}

    index = (await client.get(f"/internal/segments/index?camera_id={cam.id}", headers=h)).json()
    assert sorted(index["paths"]) == sorted([kept_seg.path, covered.path, recent.path])
    assert [d["id"] for d in index["deleted"]] == [a.id, b.id]

    again = await client.post("/internal/segments/purge-candidates", headers=h,
                              json={"mode": "age"})
    assert again.json()["items"] == []  # marked rows are not handed out twice
    done = await client.post("/internal/segments/purged", headers=h,
                             json={"ids": [a.id, b.id, recent.id]})
    assert done.json() == {"count": 2}  # an unmarked row is never removed this way
    assert {r.id for r in await _rows(maker)} == {kept_seg.id, covered.id, recent.id}


async def test_disk_purge_takes_continuous_oldest_first_then_events(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    cam2 = await create_camera(maker, settings.secret_key)
    t = NOW - timedelta(hours=5)
    event_old = await add_segment(maker, cam.id, t, kind="event", size=100)
    c1 = await add_segment(maker, cam2.id, t + timedelta(minutes=1), size=100)
    c2 = await add_segment(maker, cam.id, t + timedelta(minutes=2), size=100)
    c3 = await add_segment(maker, cam.id, t + timedelta(minutes=3), size=100)
    h = internal_headers(settings)
    resp = await client.post("/internal/segments/purge-candidates", headers=h,
                             json={"mode": "space", "bytes": 150})
    assert [i["id"] for i in resp.json()["items"]] == [c1.id, c2.id]
    resp = await client.post("/internal/segments/purge-candidates", headers=h,
                             json={"mode": "space", "bytes": 10_000, "limit": 10})
    assert [i["id"] for i in resp.json()["items"]] == [c3.id, event_old.id]
    none = await client.post("/internal/segments/purge-candidates", headers=h,
                             json={"mode": "space", "bytes": 0})
    assert none.json()["items"] == []


async def test_missing_files_are_forgotten(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    a = await add_segment(maker, cam.id, NOW)
    b = await add_segment(maker, cam.id, NOW + timedelta(minutes=1))
    resp = await client.post("/internal/segments/missing", headers=internal_headers(settings),
                             json={"camera_id": cam.id, "paths": [a.path, "nope.mp4"]})
    assert resp.json() == {"count": 1}
    assert [r.id for r in await _rows(maker)] == [b.id]


@pytest.mark.parametrize("body", [
    {"mode": "forever"}, {"mode": "space", "bytes": -1}, {"mode": "age", "limit": 0},
    {"mode": "age", "camera_ids": [0]}, {"mode": "age", "extra": 1}, [],
])
async def test_bad_purge_requests_are_422(
    client: httpx.AsyncClient, settings: Settings, body: Any
) -> None:
    resp = await client.post("/internal/segments/purge-candidates",
                             headers=internal_headers(settings), json=body)
    assert resp.status_code == 422, resp.text
