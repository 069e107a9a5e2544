"""Audit of access and control: video sessions reported on ``argus:audit`` (one start and
one end row per session, idempotent), event snapshots, PTZ lock sessions, purge batches,
and anonymous floods aggregated to one row per (action, result, address) and minute."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import STREAM_AUDIT, VideoAccess
from argus_management.audit import throttle
from argus_management.audit.models import AuditEntry
from argus_management.audit.verify import verify_connection
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.ptz import accounting
from argus_management.ptz.lock import PtzLock
from argus_management.recordings import purge
from argus_management.recordings.schemas import PurgeRequest

from factories.analysis import jpeg_bytes
from factories.cameras import create_camera
from factories.events import internal_headers, report_event
from factories.recordings import add_segment
from factories.users import bearer, create_user


async def _rows(maker: async_sessionmaker[AsyncSession], prefix: str) -> list[AuditEntry]:
    async with maker() as s:
        return list(await s.scalars(
            select(AuditEntry).where(AuditEntry.action.like(f"{prefix}%"))
            .order_by(AuditEntry.id)))


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> None:
    """Poll ``check`` (the stream consumer works in the background) for at most
    ``timeout_s``."""
    for _ in range(int(timeout_s / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def _chain_ok(app: FastAPI) -> None:
    async with app_state(app).engine.connect() as conn:
        report = await verify_connection(conn)
    assert report.ok, report.problem


async def test_video_sessions_from_the_stream_are_written_once(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[cam.id])
    started = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    common: dict[str, Any] = {
        "session_id": "sess-live-0001", "kind": "live", "camera_id": cam.id,
        "user_id": viewer.id, "client_ip": "198.51.100.7", "user_agent": "Firefox",
        "stream": "main", "started_at": started,
    }
    start = VideoAccess(phase="start", **common)
    end = VideoAccess(phase="end", ended_at=started + timedelta(seconds=93.5),
                      duration_s=93.5, reason="closed", **common)
    playback = VideoAccess(
        phase="end", session_id="sess-play-0001", kind="playback", camera_id=cam.id,
        user_id=viewer.id, started_at=started, ended_at=started + timedelta(seconds=10),
        duration_s=10, range_start=started - timedelta(hours=2),
        range_end=started - timedelta(hours=2) + timedelta(seconds=40),
    )
    bus = app_state(app).bus
    for msg in (start, end, start, end, playback):  # redelivered: written once each
        await bus.add(STREAM_AUDIT, msg)
    await bus.redis.xadd(bus.key(STREAM_AUDIT), {"data": '{"phase": "nonsense"}'})

    async def written() -> bool:
        return len(await _rows(maker, "video.")) >= 3

    await _until(written)
    # The duplicates come after the first copies: once the stream is drained they are acked.
    await _until(lambda: _drained(app))
    # Row order is arrival order: with more than one consumer in the group (a second app of
    # the session, or a second uvicorn worker) a start and its end may be written either way
    # round; each row's own time says when it happened.
    rows = sorted(await _rows(maker, "video."), key=lambda r: (r.summary["session_id"], r.action))
    assert [(r.action, r.summary["session_id"]) for r in rows] == [
        ("video.end", "sess-live-0001"), ("video.start", "sess-live-0001"),
        ("video.end", "sess-play-0001"),
    ]
    live_end, live_start, play = rows
    for row in rows:
        assert (row.user_id, row.username) == (viewer.id, viewer.username)
        assert (row.target_type, row.target_id) == ("camera", str(cam.id))
    assert live_end.ip == "198.51.100.7" and live_end.user_agent == "Firefox"
    assert live_start.ts == started and live_end.ts == started + timedelta(seconds=93.5)
    assert live_end.summary["kind"] == "live" and live_end.summary["duration_s"] == 93.5
    assert live_end.summary["reason"] == "closed" and "range_start" not in live_end.summary
    assert play.summary["kind"] == "playback"
    assert play.summary["range_start"] == (started - timedelta(hours=2)).isoformat()
    await _chain_ok(app)


async def _drained(app: FastAPI) -> bool:
    bus = app_state(app).bus
    groups = await bus.redis.xinfo_groups(bus.key(STREAM_AUDIT))
    return all(int(g["pending"]) == 0 and g.get("lag") in (0, None) for g in groups)


async def test_snapshot_access_is_audited(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    event = await report_event(client, settings, cam.id, "motion.start")
    resp = await client.post(
        f"/internal/events/{event['id']}/snapshot", content=jpeg_bytes(),
        headers={**internal_headers(settings, "analysis"), "Content-Type": "image/jpeg"})
    assert resp.status_code == 200, resp.text
    viewer = await create_user(maker, "viewer", camera_ids=[cam.id])
    headers = {**bearer(app_state(app), viewer), "User-Agent": "snap-test"}
    got = await client.get(f"/api/v1/events/{event['id']}/snapshot", headers=headers)
    assert got.status_code == 200
    [row] = await _rows(maker, "video.")
    assert (row.action, row.user_id, row.target_id, row.ip, row.user_agent) == (
        "video.snapshot", viewer.id, str(cam.id), "127.0.0.1", "snap-test")
    assert row.summary == {"kind": "snapshot", "event_id": event["id"]}


async def test_ptz_lock_session_row_per_release_takeover_and_expiry(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    runtime = app_state(app).ptz
    cam = await create_camera(maker, settings.secret_key)
    alice = PtzLock.new(cam.id, 11, "alice", 10, 60_000)
    bob = PtzLock.new(cam.id, 12, "bob", 50, 60_000)
    for command in ("move", "move", "move", "preset"):
        await accounting.count_command(runtime.bus, alice, command)  # type: ignore[arg-type]
    await accounting.count_command(runtime.bus, bob, "move")
    async with maker() as s:
        await accounting.record_session(s, runtime.bus, alice, "takeover",
                                        accounting.holder(alice), by=bob)
        await accounting.record_session(s, runtime.bus, bob, "released",
                                        accounting.holder(bob, ip="192.0.2.5"))
        await s.commit()
    # Expiry: found by the runtime's check once the Redis key has run out.
    carol = PtzLock.new(cam.id, 13, "carol", 10, 50)
    assert (await runtime.locks.acquire(carol, 50, False)).outcome == "acquired"
    await accounting.count_command(runtime.bus, carol, "move")

    async def expired() -> bool:
        return (await runtime.check_lock(cam.id)).outcome in ("expired", "none")

    await _until(expired, 5)
    await _until(lambda: _has(maker, 3))
    rows = await _rows(maker, "ptz_session")
    assert [(r.username, r.summary["end"], r.summary["moves"], r.summary["preset_changes"])
            for r in rows] == [("alice", "takeover", 3, 1), ("bob", "released", 1, 0),
                               ("carol", "expired", 1, 0)]
    assert rows[0].summary["taken_by"] == "bob" and rows[1].ip == "192.0.2.5"
    assert rows[2].summary["duration_s"] == pytest.approx(0.05, abs=0.01)
    for row in rows:
        assert row.target_id == str(cam.id) and row.summary["duration_s"] >= 0
    # Counts are taken once: a second row for the same session would count nothing.
    assert await runtime.bus.redis.exists(runtime.bus.key(f"ptz:session:{alice.token}")) == 0


async def _has(maker: async_sessionmaker[AsyncSession], n: int) -> bool:
    return len(await _rows(maker, "ptz_session")) >= n


async def test_purge_batch_is_one_row(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    cams = [await create_camera(maker, settings.secret_key) for _ in range(2)]
    old = datetime.now(UTC) - timedelta(days=60)
    for i in range(3):
        await add_segment(maker, cams[0].id, old + timedelta(minutes=i), size=1000)
    await add_segment(maker, cams[1].id, old, size=5000)
    async with maker() as s:
        items = await purge.purge_candidates(s, PurgeRequest(mode="age"), datetime.now(UTC))
        await s.commit()
    assert len(items) == 4
    async with maker() as s:
        assert await purge.confirm_purged(s, [i.id for i in items]) == 4
        await s.commit()
    [row] = await _rows(maker, "recording.purge")
    assert row.username == "recording-service" and row.user_id is None
    assert row.summary["camera_ids"] == sorted(c.id for c in cams)
    assert (row.summary["segments"], row.summary["bytes"]) == (4, 8000)
    assert row.summary["cameras"][str(cams[0].id)]["segments"] == 3
    assert row.summary["cameras"][str(cams[0].id)]["from"] == old.isoformat()
    async with maker() as s:  # confirming again removes nothing and writes nothing
        assert await purge.confirm_purged(s, [i.id for i in items]) == 0
        await s.commit()
    assert len(await _rows(maker, "recording.purge")) == 1


async def test_anonymous_flood_is_one_row_per_address_and_minute(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
) -> None:
    for i in range(30):
        resp = await client.post("/api/v1/auth/login",
                                 data={"username": f"nobody-{i}", "password": "x" * 12})
        assert resp.status_code in (401, 429), resp.text
    for _ in range(5):
        resp = await client.post("/api/v1/auth/password-reset",
                                 json={"username": "nobody"})
        assert resp.status_code == 202, resp.text
    rows = await _rows(maker, "auth.")
    unknown = [r for r in rows if r.action == "auth.login_failed"]
    resets = [r for r in rows if r.action == "auth.password_reset_request"]
    assert len(resets) == 1 and "count" not in resets[0].summary
    assert len({(r.result, r.ip) for r in unknown}) == len(unknown) <= 2  # failure, denied
    # A minute later the counted events get their row, then the key is quiet again.
    later = datetime.now(UTC) + timedelta(seconds=61)
    assert await throttle.flush_due(maker, later) >= 2
    rows = await _rows(maker, "auth.")
    counted = [r for r in rows if r.action == "auth.password_reset_request"]
    assert [r.summary.get("count") for r in counted] == [None, 4]
    assert counted[1].ip == "127.0.0.1" and "first_at" in counted[1].summary
    failed_total = sum(r.summary.get("count", 1) for r in rows
                       if r.action == "auth.login_failed")
    assert failed_total == 30
    assert await throttle.flush_due(maker, later) == 0
    await _chain_ok(app)


async def test_throttle_keys_by_address_and_keeps_counts(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    from argus_management.audit import service as audit
    from argus_management.rbac.principal import Actor

    t0 = datetime(2030, 1, 1, 10, 0, 5, tzinfo=UTC)

    async def refused(ip: str, at: datetime) -> None:
        async with maker() as s:
            row = audit.entry(Actor(None, None, ip, "ffmpeg"), "rtmp.publish", "rtmp_stream",
                              "cam", {"reason": "bad_key"}, "denied")
            await throttle.count(s, row, at)
            await s.commit()

    for i in range(10):
        await refused("203.0.113.1", t0 + timedelta(seconds=i))
    await refused("203.0.113.2", t0)
    rows = await _rows(maker, "rtmp.publish")
    assert [r.ip for r in rows] == ["203.0.113.1", "203.0.113.2"]
    # The next minute's first event carries the count of the nine held back before it.
    await refused("203.0.113.1", t0 + timedelta(seconds=65))
    rows = await _rows(maker, "rtmp.publish")
    assert [(r.ip, r.summary.get("count")) for r in rows] == [
        ("203.0.113.1", None), ("203.0.113.2", None), ("203.0.113.1", 10)]
    assert rows[2].summary["reason"] == "bad_key"
    assert await throttle.flush_due(maker, t0 + timedelta(seconds=200)) == 0
