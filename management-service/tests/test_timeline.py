"""GET /api/v1/cameras/{id}/timeline: merged ranges with gaps, events, segments, access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.events.models import Event
from argus_management.rbac.models import User

from factories.cameras import create_camera
from factories.recordings import add_segment
from factories.users import bearer, create_user

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _admin(app: FastAPI, maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with maker() as s:
        user = await s.scalar(select(User).where(User.username == "admin"))
    assert user is not None
    return bearer(app_state(app), user)


async def _event(
    maker: async_sessionmaker[AsyncSession], camera_id: int, type: str, at: datetime,
    ended_at: datetime | None = None, kept: bool = False,
) -> Event:
    async with maker() as s:
        event = Event(source_id=f"{type}-{at.timestamp()}-{camera_id}", camera_id=camera_id,
                      type=type, severity="info", started_at=at, ended_at=ended_at, payload={},
                      snapshot_path=None, kept=kept, created_at=at)
        s.add(event)
        await s.commit()
        return event


async def test_ranges_merge_touching_segments_and_keep_gaps(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    other = await create_camera(maker, settings.secret_key)
    # 10:00-10:03 contiguous, gap, 10:05-10:06, a deleted 10:06-10:07, 10:07-10:08.
    for minute in (0, 1, 2, 5, 7):
        await add_segment(maker, cam.id, T0 + timedelta(minutes=minute))
    deleted = await add_segment(maker, cam.id, T0 + timedelta(minutes=6), deleted_at=T0)
    await add_segment(maker, other.id, T0 + timedelta(minutes=3))  # another camera
    motion = await _event(maker, cam.id, "motion.start", T0 + timedelta(seconds=30))
    await _event(maker, cam.id, "motion.end", T0 + timedelta(seconds=50))
    manual = await _event(maker, cam.id, "manual", T0 + timedelta(minutes=5),
                          ended_at=T0 + timedelta(minutes=5, seconds=20), kept=True)
    await _event(maker, cam.id, "stream.down", T0 + timedelta(minutes=3))

    resp = await client.get(
        f"/api/v1/cameras/{cam.id}/timeline",
        params={"start": _iso(T0 + timedelta(seconds=30)), "end": _iso(T0 + timedelta(hours=1))},
        headers=await _admin(app, maker),
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["camera_id"] == cam.id
    ranges = [(_ts(r["start"]), _ts(r["end"])) for r in body["recordings"]]
    assert ranges == [
        (T0 + timedelta(seconds=30), T0 + timedelta(minutes=3)),  # clipped to the window
        (T0 + timedelta(minutes=5), T0 + timedelta(minutes=6)),
        (T0 + timedelta(minutes=7), T0 + timedelta(minutes=8)),
    ]
    starts = [_ts(s["start"]) for s in body["segments"]]
    assert starts == sorted(starts) and len(starts) == 5
    assert deleted.path not in {s["path"] for s in body["segments"]}
    seg = body["segments"][0]
    assert set(seg) == {"id", "path", "start", "end", "kind", "codec", "width", "height",
                        "has_audio", "bytes", "tier", "object_key", "backfilled"}
    assert seg["backfilled"] is False and body["backfilled"] == []
    events = {e["id"]: e for e in body["events"]}
    assert set(events) == {motion.id, manual.id}  # end markers and stream health are not ranges
    assert _ts(events[motion.id]["end"]) == T0 + timedelta(seconds=50)  # paired with motion.end
    assert events[motion.id]["type"] == "motion.start" and not events[motion.id]["kept"]
    assert _ts(events[manual.id]["end"]) == T0 + timedelta(minutes=5, seconds=20)
    assert events[manual.id]["kept"] is True


async def test_open_event_has_no_end_and_empty_window_is_empty(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    opened = await _event(maker, cam.id, "motion.start", T0)
    headers = await _admin(app, maker)
    resp = await client.get(f"/api/v1/cameras/{cam.id}/timeline", headers=headers,
                            params={"start": "2026-11-22T09:59:00", "end": "2026-11-22T10:01:00"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["recordings"] == [] and body["segments"] == []
    assert body["events"] == [{"id": opened.id, "type": "motion.start",
                               "start": "2026-11-22T10:00:00Z", "end": None, "kept": False}]


async def test_ungranted_camera_is_404_and_granted_viewer_reads(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    await add_segment(maker, cam.id, T0)
    params = {"start": _iso(T0), "end": _iso(T0 + timedelta(hours=1))}
    stranger = bearer(app_state(app), await create_user(maker, "viewer"))
    resp = await client.get(f"/api/v1/cameras/{cam.id}/timeline", params=params,
                            headers=stranger)
    assert resp.status_code == 404 and resp.json()["error"] == "NotFound"
    missing = await client.get("/api/v1/cameras/999999/timeline", params=params,
                               headers=stranger)
    assert missing.status_code == 404
    viewer = bearer(app_state(app), await create_user(maker, "viewer", camera_ids=[cam.id]))
    ok = await client.get(f"/api/v1/cameras/{cam.id}/timeline", params=params, headers=viewer)
    assert ok.status_code == 200 and len(ok.json()["segments"]) == 1
    anonymous = await client.get(f"/api/v1/cameras/{cam.id}/timeline", params=params)
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-11-22T10:00:00Z", "end": "2026-11-22T10:00:00Z"},  # empty
        {"start": "2026-11-22T11:00:00Z", "end": "2026-11-22T10:00:00Z"},  # inverted
        {"start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:01Z"},  # > 7 days
        {"start": "yesterday", "end": "2026-11-22T10:00:00Z"},
        {"start": "2026-11-22T10:00:00Z"},
        {"start": "1900-01-01T00:00:00Z", "end": "1900-01-02T00:00:00Z"},
        {"start": "2026-11-22T10:00:00+99:00", "end": "2026-11-22T11:00:00Z"},
    ],
)
async def test_bad_windows_are_422(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], params: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    resp = await client.get(f"/api/v1/cameras/{cam.id}/timeline", params=params,
                            headers=await _admin(app, maker))
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}


async def test_exactly_seven_days_is_allowed(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    resp = await client.get(
        f"/api/v1/cameras/{cam.id}/timeline", headers=await _admin(app, maker),
        params={"start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"},
    )
    assert resp.status_code == 200, resp.text
