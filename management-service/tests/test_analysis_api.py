"""Analysis in management: event snapshots, motion.end closing its start, the
``argus:analysis`` consumer, and analysis jobs (recorded ranges and uploads)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import STREAM_ANALYSIS, STREAM_ANALYSIS_JOBS, AnalysisJobRequest
from argus_management.analysis.models import AnalysisJob, AnalysisResult
from argus_management.config import Settings
from argus_management.deps import app_state

from factories.analysis import analysis_frame, jpeg_bytes, mp4_bytes
from factories.cameras import create_camera
from factories.events import internal_headers, report_event
from factories.recordings import add_segment
from factories.users import bearer, create_user


async def admin_headers(app: FastAPI, maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return bearer(app_state(app), await create_user(maker, "admin"))


async def test_snapshot_stored_and_served_with_visibility(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    other = await create_camera(maker, settings.secret_key)
    event = await report_event(client, settings, cam.id, "motion.start")
    url = f"/internal/events/{event['id']}/snapshot"
    jpeg = jpeg_bytes()
    jpeg_headers = {**internal_headers(settings, "analysis"), "Content-Type": "image/jpeg"}
    assert (await client.post(url, content=jpeg, headers={"Content-Type": "image/jpeg"})
            ).status_code == 401
    resp = await client.post(url, content=jpeg, headers=jpeg_headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["snapshot_path"] == f"snapshots/{cam.id}/{event['id']}.jpg"
    assert (Path(settings.data_dir) / resp.json()["snapshot_path"]).read_bytes() == jpeg

    admin = await admin_headers(app, maker)
    got = await client.get(f"/api/v1/events/{event['id']}/snapshot", headers=admin)
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(got.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (48, 64, 3)

    granted = bearer(app_state(app), await create_user(maker, "viewer", camera_ids=[cam.id]))
    stranger = bearer(app_state(app), await create_user(maker, "viewer", camera_ids=[other.id]))
    path = f"/api/v1/events/{event['id']}/snapshot"
    assert (await client.get(path, headers=granted)).status_code == 200
    assert (await client.get(path, headers=stranger)).status_code == 404
    assert (await client.get(path)).status_code == 401

    bare = await report_event(client, settings, cam.id, "motion.start")
    assert (await client.get(f"/api/v1/events/{bare['id']}/snapshot", headers=admin)
            ).status_code == 404
    assert (await client.get("/api/v1/events/99999/snapshot", headers=admin)).status_code == 404
    assert (await client.get("/api/v1/events/0/snapshot", headers=admin)).status_code == 422

    bad = await client.post(url, content=b"GIF89a....", headers=jpeg_headers)
    assert bad.status_code == 422 and bad.json()["error"] == "Unprocessable"
    wrong_type = await client.post(url, content=jpeg, headers=internal_headers(settings, "analysis"))
    assert wrong_type.status_code == 422
    assert (await client.post("/internal/events/99999/snapshot", content=jpeg,
                              headers=jpeg_headers)).status_code == 404
    monkeypatch.setattr(settings, "analysis_snapshot_max_bytes", 1024)
    big = await client.post(url, content=jpeg_bytes(640, 480) + b"\0" * 2048,
                            headers=jpeg_headers)
    assert big.status_code == 413 and big.json()["error"] == "PayloadTooLarge"


async def test_motion_end_sets_the_start_events_end(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    other = await create_camera(maker, settings.secret_key)
    t0 = datetime.now(UTC) - timedelta(seconds=10)
    start = await report_event(client, settings, cam.id, "motion.start", ts=t0)
    foreign = await report_event(client, settings, other.id, "motion.end",
                                 ts=t0 + timedelta(seconds=1),
                                 payload={"start_event_id": start["id"]})
    assert foreign["payload"]["start_event_id"] == start["id"]
    admin = await admin_headers(app, maker)
    got = (await client.get(f"/api/v1/events/{start['id']}", headers=admin)).json()
    assert got["ended_at"] is None  # another camera's end does not close it
    end_ts = t0 + timedelta(seconds=4)
    await report_event(client, settings, cam.id, "motion.end", ts=end_ts,
                       payload={"start_event_id": start["id"], "frames": 40})
    got = (await client.get(f"/api/v1/events/{start['id']}", headers=admin)).json()
    assert datetime.fromisoformat(got["ended_at"]) == end_ts
    for payload in ({"start_event_id": "x"}, {"start_event_id": True}, {"start_event_id": 2**40}):
        await report_event(client, settings, cam.id, "motion.end", payload=payload)  # no 500


async def _count(maker: async_sessionmaker[AsyncSession], session_id: str | None = None) -> int:
    async with maker() as session:
        query = select(func.count()).select_from(AnalysisResult)
        if session_id is not None:
            query = query.where(AnalysisResult.session_id == session_id)
        return int(await session.scalar(query) or 0)


async def test_consumer_stores_each_result_once(
    app: FastAPI, maker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    gone = await create_camera(maker, settings.secret_key)
    async with maker() as session:
        await session.delete(await session.get(type(gone), gone.id))
        await session.commit()
    bus = app_state(app).bus
    motion = analysis_frame(cam.id, session_id="s1")
    summary = analysis_frame(cam.id, session_id="s1", kind="summary", motion=False, boxes=[],
                             frames=15, motion_frames=0)
    for message in (motion, summary, motion, analysis_frame(gone.id, session_id="s1")):
        await bus.add(STREAM_ANALYSIS, message)  # the motion frame twice: a redelivery
    await bus.redis.xadd(bus.key(STREAM_ANALYSIS), {"data": json.dumps({"type": "junk"})})
    await bus.redis.xadd(bus.key(STREAM_ANALYSIS), {"data": json.dumps(
        {"type": "analysis.frame", "session_id": "s1", "media_s": "NaN"})})
    async with asyncio.timeout(15):
        while await _count(maker, "s1") < 2:
            await asyncio.sleep(0.1)
        while int((await bus.redis.xpending(bus.key(STREAM_ANALYSIS), "management"))["pending"]):
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)
    assert await _count(maker, "s1") == 2
    async with maker() as session:
        rows = list(await session.scalars(select(AnalysisResult).order_by(AnalysisResult.id)))
    assert {r.event for r in rows} == {"frame", "summary"}
    frame_row = next(r for r in rows if r.event == "frame")
    assert frame_row.camera_id == cam.id and frame_row.payload["boxes"][0]["w"] == 0.3
    assert next(r for r in rows if r.event == "summary").payload["frames"] == 15


async def _job_entries(app: FastAPI) -> list[AnalysisJobRequest]:
    bus = app_state(app).bus
    entries = await bus.redis.xrange(bus.key(STREAM_ANALYSIS_JOBS))
    return [AnalysisJobRequest.model_validate_json(f[b"data"]) for _, f in entries]


async def test_range_job_is_queued_with_its_segments_and_tracks_progress(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    t0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    for i in range(3):
        await add_segment(maker, cam.id, t0 + timedelta(minutes=i), 60)
    operator = await create_user(maker, "operator", camera_ids=[cam.id])
    headers = bearer(app_state(app), operator)
    body = {"camera_id": cam.id, "start": (t0 + timedelta(seconds=30)).isoformat(),
            "end": (t0 + timedelta(seconds=90)).isoformat()}
    resp = await client.post("/api/v1/analysis/jobs", json=body, headers=headers)
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert job["state"] == "queued" and job["source"] == "recording" and job["progress"] == 0
    (queued,) = await _job_entries(app)
    assert queued.job_id == job["id"] and queued.camera_id == cam.id
    assert [s.start for s in queued.segments] == [t0, t0 + timedelta(minutes=1)]

    internal = internal_headers(settings, "analysis")
    path = f"/internal/analysis/jobs/{job['id']}"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=internal)).json()["state"] == "queued"
    update = {"state": "running", "progress": 0.5, "frames": 100, "motion_frames": 3,
              "events": 1}
    assert (await client.put(path, json=update, headers=internal)).status_code == 200
    mine = await client.get(f"/api/v1/analysis/jobs/{job['id']}", headers=headers)
    assert mine.json()["progress"] == 0.5 and mine.json()["frames"] == 100
    done = await client.put(path, json={"state": "done"}, headers=internal)
    assert done.json()["progress"] == 1.0 and done.json()["finished_at"] is not None
    assert (await client.put(path, json={"state": "done"}, headers=internal)).status_code == 200
    late = await client.put(path, json={"state": "running", "progress": 0.7}, headers=internal)
    assert late.status_code == 409
    assert (await client.put(path, json={"state": "paused"}, headers=internal)).status_code == 422

    await app_state(app).bus.add(STREAM_ANALYSIS, analysis_frame(cam.id, session_id=job["id"]))
    async with asyncio.timeout(15):
        while await _count(maker, job["id"]) < 1:
            await asyncio.sleep(0.1)
    results = await client.get(f"/api/v1/analysis/jobs/{job['id']}/results", headers=headers)
    assert results.status_code == 200 and results.json()["total"] == 1
    listed = await client.get("/api/v1/analysis/jobs", headers=headers)
    assert [j["id"] for j in listed.json()["items"]] == [job["id"]]

    stranger = bearer(app_state(app), await create_user(maker, "operator", camera_ids=[cam.id]))
    assert (await client.get(f"/api/v1/analysis/jobs/{job['id']}", headers=stranger)
            ).status_code == 404
    admin = await admin_headers(app, maker)
    assert (await client.get(f"/api/v1/analysis/jobs/{job['id']}", headers=admin)
            ).status_code == 200


async def test_range_job_refusals(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    hidden = await create_camera(maker, settings.secret_key)
    operator = bearer(app_state(app), await create_user(maker, "operator", camera_ids=[cam.id]))
    viewer = bearer(app_state(app), await create_user(maker, "viewer", camera_ids=[cam.id]))
    t0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    ok = {"camera_id": cam.id, "start": t0.isoformat(),
          "end": (t0 + timedelta(minutes=5)).isoformat()}
    url = "/api/v1/analysis/jobs"
    cases = [
        (viewer, ok, 403),  # no analysis:read
        (operator, {**ok, "camera_id": hidden.id}, 404),  # not granted
        (operator, {**ok, "camera_id": 2**31}, 422),
        (operator, {**ok, "end": ok["start"]}, 422),
        (operator, {**ok, "extra": 1}, 422),
        (operator, ok, 422),  # no recordings in the range
        (operator, {**ok, "end": (t0 + timedelta(days=3)).isoformat()}, 422),  # too long
    ]
    for headers, body, status in cases:
        resp = await client.post(url, json=body, headers=headers)
        assert resp.status_code == status, (body, resp.text)
        assert set(resp.json()) == {"error", "detail"}
    assert (await client.post(url, content=b"{not json", headers={
        **operator, "Content-Type": "application/json"})).status_code == 422
    assert (await client.post(url, content=b"x", headers={
        **operator, "Content-Type": "text/plain"})).status_code == 415
    assert (await client.get(f"{url}/{'f' * 32}", headers=operator)).status_code == 404
    assert (await client.get(f"{url}/not-a-job", headers=operator)).status_code == 422
    assert await _job_entries(app) == []


async def test_upload_job_stores_the_file_until_it_is_done(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    headers = bearer(app_state(app), await create_user(maker, "operator", camera_ids=[cam.id]))
    clip = mp4_bytes()
    resp = await client.post(
        "/api/v1/analysis/jobs", headers=headers,
        files={"file": ("clip.mp4", clip, "video/mp4")}, data={"camera_id": str(cam.id)},
    )
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert job["source"] == "upload" and job["upload_bytes"] == len(clip)
    assert job["camera_id"] == cam.id and job["upload_name"] == "clip.mp4"
    (queued,) = await _job_entries(app)
    assert queued.source == "upload" and queued.segments == []
    internal = internal_headers(settings, "analysis")
    got = await client.get(f"/internal/analysis/jobs/{job['id']}/upload", headers=internal)
    assert got.status_code == 200 and got.content == clip
    await client.put(f"/internal/analysis/jobs/{job['id']}", headers=internal,
                     json={"state": "failed", "error": "no frame could be decoded"})
    assert (await client.get(f"/internal/analysis/jobs/{job['id']}/upload", headers=internal)
            ).status_code == 404  # removed once finished
    async with maker() as session:
        row = await session.get(AnalysisJob, job["id"])
        assert row is not None and row.error == "no frame could be decoded"


async def test_upload_refusals(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = bearer(app_state(app), await create_user(maker, "operator"))
    url = "/api/v1/analysis/jobs"
    not_mp4 = await client.post(url, headers=headers,
                                files={"file": ("x.mp4", b"\0" * 100, "video/mp4")})
    assert not_mp4.status_code == 422
    no_file = await client.post(url, headers=headers, files={"other": ("x", b"1", "text/plain")})
    assert no_file.status_code == 422
    garbage = await client.post(url, content=b"--x\r\nnonsense", headers={
        **headers, "Content-Type": "multipart/form-data; boundary=x"})
    assert garbage.status_code in (400, 422) and set(garbage.json()) == {"error", "detail"}
    no_boundary = await client.post(url, content=b"abc", headers={
        **headers, "Content-Type": "multipart/form-data"})
    assert no_boundary.status_code == 400
    for camera_id in ("abc", "²", "0", "9" * 30):
        bad_camera = await client.post(url, headers=headers, data={"camera_id": camera_id},
                                       files={"file": ("c.mp4", mp4_bytes(), "video/mp4")})
        assert bad_camera.status_code == 422, camera_id
    hidden = await create_camera(maker, settings.secret_key)
    not_granted = await client.post(url, headers=headers, data={"camera_id": str(hidden.id)},
                                    files={"file": ("c.mp4", mp4_bytes(), "video/mp4")})
    assert not_granted.status_code == 404

    monkeypatch.setattr(settings, "analysis_upload_max_bytes", 4096)
    big = mp4_bytes(frames=60, width=320, height=240)
    assert len(big) > 4096
    too_big = await client.post(url, headers=headers, files={"file": ("b.mp4", big, "video/mp4")})
    assert too_big.status_code == 413 and too_big.json()["error"] == "PayloadTooLarge"

    async def chunks() -> object:  # no Content-Length: refused while streaming
        for _ in range(200):
            yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n"
            yield b"\0" * 1024

    streamed = await client.post(url, content=chunks(), headers={  # type: ignore[arg-type]
        **headers, "Content-Type": "multipart/form-data; boundary=b"})
    assert streamed.status_code == 413
    assert await _job_entries(app) == []
    async with maker() as session:
        assert int(await session.scalar(select(func.count()).select_from(AnalysisJob)) or 0) == 0
    assert not any((Path(settings.data_dir) / "analysis_uploads").glob("*.mp4"))
