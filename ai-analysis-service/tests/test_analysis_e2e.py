"""ai-analysis-service end to end: real processes (PostgreSQL, Redis, management, the camera
simulator with Digest auth, the analyser) on 127.0.0.1.

The simulator's cameras (320x180 sub-streams at 15 fps):
- cam1: nothing moves for the whole module (at least 60 s): no event may appear;
- cam2: moving objects on, then off: one motion.start and one motion.end;
- cam3: a zone in the sky, where the simulator's objects never go: no event;
- cam4: a zone over the street, where they move: one event.
- cam5: one motion event before the tests, to warm the event path up; later its
  connection is cut and must come back.
The 60 s of cam1 run while the other tests run; the last test waits for what is left.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from anaclips import make_clip
from anastack import (
    REDIS_URL,
    Database,
    Proc,
    add_camera,
    login,
    set_motion,
    start_analysis,
    start_management,
    start_simulator,
    wait_until,
)
from redis.asyncio import Redis
from websockets.asyncio.client import connect

from argus_common.events import STREAM_SEGMENTS, SegmentClosed

NOISE_S = 60.0
SUMMARY_S = 0.5
QUIET_S = 0.3
SKY = [[0.0, 0.0], [1.0, 0.0], [1.0, 0.24], [0.0, 0.24]]  # the objects stay below 0.3
STREET = [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0], [0.0, 1.0]]
OVERLAY = [[0.0, 0.0], [0.86, 0.0], [0.86, 0.22], [0.0, 0.22]]  # stamp and clock


@dataclass
class Stack:
    api: str
    analysis: str
    token: str
    control: int
    namespace: str
    db: Database
    recordings: Path
    cams: dict[str, int]
    analyser: Proc
    noise_since: float

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def events(self, camera_id: int) -> list[dict[str, Any]]:
        return self.db.fetch(
            "SELECT id, type, started_at, ended_at, payload, snapshot_path FROM events "
            "WHERE camera_id = $1 AND type LIKE 'motion.%' ORDER BY id", camera_id)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    db = Database()
    db.create()
    namespace = f"argus-ana-{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="argus-ana-"))
    procs: list[Proc] = []
    try:
        management, api = start_management(db, namespace, tmp / "data")
        procs.append(management)
        sim, rtsp, control = start_simulator(
            5, "--resolution", "320x180", "--sub-resolution", "320x180", "--fps", "15",
            "--gop", "1",
        )
        procs.append(sim)
        token = login(api)
        cams = {}
        for index, (name, analysis) in enumerate([
            ("noise", {"end_quiet_s": QUIET_S}),
            ("motion", {"end_quiet_s": QUIET_S}),
            ("sky", {"end_quiet_s": QUIET_S, "zones": [SKY], "masks": [OVERLAY]}),
            ("street", {"end_quiet_s": QUIET_S, "zones": [STREET], "masks": [OVERLAY]}),
            ("warmup", {"end_quiet_s": QUIET_S}),
        ], start=1):
            cams[name] = add_camera(
                api, token, f"cam {name}", f"rtsp://127.0.0.1:{rtsp}/cam{index}/main",
                analysis, sub_url=f"rtsp://127.0.0.1:{rtsp}/cam{index}/sub",
            )
        recordings = tmp / "recordings"
        recordings.mkdir()
        analyser, url = start_analysis(namespace, api, recordings,
                                       ANALYSIS_RESULTS_SUMMARY_S=str(SUMMARY_S))
        procs.append(analyser)

        def connected() -> bool:
            status = httpx.get(f"{url}/status", timeout=2).json()
            return set(cams.values()) <= set(status["connected"])

        wait_until(connected, 30, 0.2, "the analyser connected to every camera")
        noise_since = time.time()
        # One motion event on cam5 first: the start-up burst is over and every process has
        # run the event path once (connections, compiled statements) before timing starts.
        set_motion(control, 5, True)
        wait_until(lambda: db.fetch("SELECT 1 FROM events WHERE camera_id = $1",
                                    cams["warmup"]), 10, 0.1, "the warm-up event")
        set_motion(control, 5, False)
        yield Stack(api, url, token, control, namespace, db, recordings, cams, analyser,
                    noise_since=noise_since)
    finally:
        for proc in reversed(procs):
            proc.stop()
        db.drop()
        shutil.rmtree(tmp, ignore_errors=True)


async def _last_id(redis: Redis, key: str) -> str:
    entries = await redis.xrevrange(key, count=1)
    return entries[0][0].decode() if entries else "0-0"


async def _next_event(
    redis: Redis, key: str, after: str, camera_id: int, kind: str, timeout: float
) -> tuple[dict[str, Any], float, str]:
    """The next ``kind`` event of ``camera_id`` on ``argus:events`` after entry ``after``:
    the message, when it was read, and its entry id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        block = max(1, int((deadline - time.monotonic()) * 1000))
        answer = await redis.xread({key: after}, block=block, count=50)
        for _stream, entries in answer or []:
            for entry_id, fields in entries:
                after = entry_id.decode()
                message = json.loads(fields[b"data"])
                if message["camera_id"] == camera_id and message["type"] == kind:
                    return message, time.time(), after
    raise AssertionError(f"no {kind} for camera {camera_id} within {timeout} s")


async def test_motion_on_off_gives_one_start_and_one_end_within_a_second(stack: Stack) -> None:
    cam = stack.cams["motion"]
    ws_url = f"ws://{stack.api.split('://', 1)[1]}/ws/alerts"
    redis = Redis.from_url(REDIS_URL)
    key = f"{stack.namespace}:events"
    try:
        async with connect(ws_url, subprotocols=["bearer", stack.token]) as alerts:  # type: ignore[list-item]
            assert json.loads(await alerts.recv())["type"] == "ready"
            after = await _last_id(redis, key)
            turned_on = await asyncio.to_thread(set_motion, stack.control, 2, True)
            async with asyncio.timeout(3):
                while True:
                    alert = json.loads(await alerts.recv())
                    if alert.get("type") == "alert.motion" and alert["camera_id"] == cam:
                        break
            alert_at = time.time()
            start, _, after = await _next_event(redis, key, after, cam, "motion.start", 3)
            await asyncio.sleep(1.5)
            turned_off = await asyncio.to_thread(set_motion, stack.control, 2, False)
            end, end_at, _ = await _next_event(redis, key, after, cam, "motion.end", 3)
    finally:
        await redis.aclose()
    timings = [line for line in stack.analyser.output if "motion_started" in line]
    detail = (f"on={turned_on:.3f} first={start['ts']} trigger={start['payload']['trigger_ts']} "
              f"alert={alert_at:.3f} {timings}")
    # Figures, not assertions (no timing assertions in the suite): the goal of <= 1 s is
    # measured by bench/analysis_latency.py; the waits above only bound how long it may take.
    print(f"motion -> alert {alert_at - turned_on:.3f} s, end {end_at - turned_off:.3f} s "
          f"after motion stopped ({detail})")
    assert alert["event_id"] == start["event_id"]  # the alert of the stored event
    assert end["payload"]["start_event_id"] == start["event_id"]
    await asyncio.sleep(1.0)  # nothing more may follow
    rows = stack.events(cam)
    assert [r["type"] for r in rows] == ["motion.start", "motion.end"]
    assert rows[0]["ended_at"] is not None and rows[0]["ended_at"] <= rows[1]["started_at"] + \
        timedelta(milliseconds=1)
    payload = json.loads(rows[0]["payload"])
    assert payload["boxes"] and all(0 <= b["y"] and b["y"] + b["h"] <= 1 for b in payload["boxes"])

    async with httpx.AsyncClient(base_url=stack.api, headers=stack.auth) as client:
        async with asyncio.timeout(5):
            while (resp := await client.get(f"/api/v1/events/{start['event_id']}/snapshot")
                   ).status_code == 404:
                await asyncio.sleep(0.1)
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(resp.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (180, 320, 3)


async def test_zone_without_the_objects_stays_quiet_and_one_with_them_fires(
    stack: Stack,
) -> None:
    sky, street = stack.cams["sky"], stack.cams["street"]
    for index in (3, 4):
        await asyncio.to_thread(set_motion, stack.control, index, True)
    try:
        async with asyncio.timeout(5):
            while not stack.events(street):
                await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)  # the objects keep moving below the sky zone
        assert stack.events(sky) == []
    finally:
        for index in (3, 4):
            await asyncio.to_thread(set_motion, stack.control, index, False)
    async with asyncio.timeout(5):
        while len(stack.events(street)) < 2:
            await asyncio.sleep(0.1)
    assert [r["type"] for r in stack.events(street)] == ["motion.start", "motion.end"]
    assert stack.events(sky) == []


async def test_ws_analysis_streams_the_frames_of_a_live_camera(stack: Stack) -> None:
    cam = stack.cams["noise"]
    url = f"ws://{stack.api.split('://', 1)[1]}/ws/analysis"
    frames: list[dict[str, Any]] = []
    async with connect(url, additional_headers=stack.auth, subprotocols=["json"]) as ws:  # type: ignore[list-item]
        started = json.loads(await ws.recv())
        assert started["event"] == "sessionStarted"
        await ws.send(json.dumps({"subscribe": [cam]}))
        first = time.monotonic()
        async with asyncio.timeout(5):
            while len(frames) < 15:
                message = json.loads(await ws.recv())
                if message["event"] == "frameAnalyzed":
                    frames.append(message)
        elapsed = time.monotonic() - first
    assert elapsed < 3.0  # 15 fps, not a trickle (frames are sent only while someone listens)
    for message in frames:
        assert set(message) == {"sessionId", "timestamp", "event", "payload"}
        assert message["sessionId"] == started["sessionId"]
        payload = message["payload"]
        assert payload["cameraId"] == cam and (payload["width"], payload["height"]) == (320, 180)
        assert payload["motion"] is False and payload["boxes"] == []
    stamps = [datetime.fromisoformat(m["timestamp"]) for m in frames]
    assert stamps == sorted(stamps) and abs(time.time() - stamps[-1].timestamp()) < 2


async def test_results_are_stored_at_the_configured_rate(stack: Stack) -> None:
    cam = stack.cams["noise"]
    since = datetime.now(UTC)
    await asyncio.sleep(4.0 + 1.0)  # four seconds of summaries, and time to store them
    rows = stack.db.fetch(
        "SELECT event, payload FROM analysis_results WHERE camera_id = $1 AND timestamp >= $2 "
        "AND timestamp < $3", cam, since, since + timedelta(seconds=4))
    assert {r["event"] for r in rows} == {"summary"}  # nothing moves: summaries only
    assert 4 / SUMMARY_S - 1 <= len(rows) <= 4 / SUMMARY_S + 1
    frames = sum(json.loads(r["payload"])["frames"] for r in rows)
    assert 40 <= frames <= 75  # 15 fps over four seconds


async def _wait_job(client: httpx.AsyncClient, job_id: str, timeout: float = 40) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            job: dict[str, Any] = (await client.get(f"/api/v1/analysis/jobs/{job_id}")).json()
            assert 0.0 <= job["progress"] <= 1.0
            if job["state"] in ("done", "failed"):
                return job
            await asyncio.sleep(0.2)


async def test_jobs_on_an_upload_and_on_a_recorded_range(stack: Stack, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "upload.mp4")
    async with httpx.AsyncClient(base_url=stack.api, headers=stack.auth, timeout=30) as client:
        resp = await client.post("/api/v1/analysis/jobs",
                                 files={"file": ("upload.mp4", clip.read_bytes(), "video/mp4")})
        assert resp.status_code == 202, resp.text
        upload = await _wait_job(client, resp.json()["id"])
        assert upload["state"] == "done", upload
        assert (upload["frames"], upload["events"]) == (45, 1) and upload["motion_frames"] > 5
        results = (await client.get(f"/api/v1/analysis/jobs/{upload['id']}/results",
                                    params={"event": "motion.start"})).json()
        assert results["total"] == 1 and results["items"][0]["session_id"] == upload["id"]

        cam = stack.cams["motion"]
        start = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
        relative = f"{cam}/2026-11-22/10/{int(start.timestamp() * 1000)}.mp4"
        (stack.recordings / relative).parent.mkdir(parents=True)
        make_clip(stack.recordings / relative)
        redis = Redis.from_url(REDIS_URL)
        try:  # announced as recording-service does; management indexes it
            await redis.xadd(f"{stack.namespace}:{STREAM_SEGMENTS}", {"data": SegmentClosed(
                camera_id=cam, path=relative, start=start, end=start + timedelta(seconds=3),
                duration=3.0, bytes=clip.stat().st_size, codec="h264", width=320, height=180,
            ).model_dump_json()})
        finally:
            await redis.aclose()
        body = {"camera_id": cam, "start": (start + timedelta(seconds=0.5)).isoformat(),
                "end": (start + timedelta(seconds=10)).isoformat()}
        async with asyncio.timeout(10):
            while (resp := await client.post("/api/v1/analysis/jobs", json=body)
                   ).status_code == 422:  # until the segment is indexed
                await asyncio.sleep(0.2)
        assert resp.status_code == 202, resp.text
        recorded = await _wait_job(client, resp.json()["id"])
        assert recorded["state"] == "done", recorded
        assert 30 <= recorded["frames"] <= 40 and recorded["events"] == 1  # from 0.5 s on
        rows = stack.db.fetch("SELECT min(timestamp) AS first FROM analysis_results "
                              "WHERE session_id = $1", recorded["id"])
        assert rows[0]["first"] >= start + timedelta(seconds=0.5)


async def _announce_backfilled(stack: Stack, camera_id: int, start: datetime, clip: Path) -> str:
    """``clip`` copied where the recorder would have written the backfilled segment of
    ``camera_id`` from ``start``, and announced as the recorder announces it."""
    relative = f"{camera_id}/{start:%Y-%m-%d/%H}/{int(start.timestamp() * 1000)}.mp4"
    (stack.recordings / relative).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(clip, stack.recordings / relative)
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.xadd(f"{stack.namespace}:{STREAM_SEGMENTS}", {"data": SegmentClosed(
            camera_id=camera_id, path=relative, start=start, end=start + timedelta(seconds=3),
            duration=3.0, bytes=clip.stat().st_size, codec="h264", width=320, height=180,
            backfilled=True,
        ).model_dump_json()})
    finally:
        await redis.aclose()
    return relative


async def test_backfilled_footage_is_analysed_into_past_events(
    stack: Stack, tmp_path: Path
) -> None:
    """A backfilled segment (real H.264, a square moving from 1 s to 2 s) of a camera with
    ``analysis.backfill`` gives a motion.start and a motion.end at the footage's own
    (past) times, marked ``backfill``, stored once however often the segment is analysed;
    the same footage of a camera without it gives nothing."""
    clip = make_clip(tmp_path / "outage.mp4")
    # A camera that opted in; its live stream (cam1's: nothing moves) gives no event.
    url = stack.db.fetch("SELECT stream_url FROM cameras WHERE id = $1",
                         stack.cams["noise"])[0]["stream_url"]
    cam = add_camera(stack.api, stack.token, "cam backfill", url,
                     {"end_quiet_s": QUIET_S, "backfill": True})
    async with httpx.AsyncClient(base_url=stack.analysis) as client:
        async with asyncio.timeout(15):  # the analyser heard of the new camera
            while cam not in (await client.get("/status")).json()["desired"]:
                await asyncio.sleep(0.1)
        start = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
        await _announce_backfilled(stack, stack.cams["noise"], start, clip)  # not opted in
        await _announce_backfilled(stack, cam, start, clip)
        events = await asyncio.to_thread(
            wait_until, lambda: [e for e in stack.events(cam) if e["ended_at"]], 20, 0.2,
            "the backfilled motion event, closed by its end")
        # The same segment again (an analyser died before its ack): the same event ids.
        await _announce_backfilled(stack, cam, start, clip)
        analysed = 'argus_analysis_backfill_segments_total{outcome="analysed"} 2.0'
        async with asyncio.timeout(20):
            while analysed not in (text := (await client.get("/metrics")).text):
                await asyncio.sleep(0.2)
    started = [e for e in stack.events(cam) if e["type"] == "motion.start"]
    ended = [e for e in stack.events(cam) if e["type"] == "motion.end"]
    assert len(started) == 1 and len(ended) == 1 and events[0]["id"] == started[0]["id"]
    first, last = started[0], ended[0]
    # The square moves from 1 s to 2 s of the footage (3 frames to start, 0.3 s of quiet).
    assert start + timedelta(seconds=0.9) <= first["started_at"] <= start + timedelta(seconds=1.5)
    assert start + timedelta(seconds=1.9) <= last["started_at"] <= start + timedelta(seconds=2.5)
    assert first["ended_at"] == last["started_at"]
    for event in (first, last):
        payload = event["payload"]
        payload = json.loads(payload) if isinstance(payload, str) else payload
        assert payload["backfill"] is True
    assert 'argus_analysis_backfill_segments_total{outcome="skipped"} 1.0' in text


async def test_metrics_of_the_analyser(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.analysis) as client:
        text = (await client.get("/metrics")).text
    fps = {line.split("}")[0].split('"')[1]: float(line.split()[-1])
           for line in text.splitlines() if line.startswith("argus_analysis_fps{")}
    assert all(10 <= fps[str(c)] <= 20 for c in stack.cams.values()), fps
    for name in ("argus_analysis_frame_to_event_seconds_count",
                 'argus_analysis_events_total{type="motion.start"}',
                 "argus_analysis_decoder_errors_total", "argus_analysis_frames_dropped_total"):
        assert name in text, name
    lines = "\n".join(stack.analyser.output)
    assert "p@ss" not in lines and "w%2Frd" not in lines  # credentials never logged


async def test_a_dropped_connection_is_reconnected(stack: Stack) -> None:
    cam = stack.cams["warmup"]
    async with httpx.AsyncClient() as client:
        resp = await client.post(f"http://127.0.0.1:{stack.control}/faults/cam5",
                                 json={"drop": True})
        assert resp.status_code == 200
        async with asyncio.timeout(10):  # first backoff step: 1 s
            while f'argus_analysis_reconnects_total{{camera_id="{cam}"}} 1.0' not in (
                await client.get(f"{stack.analysis}/metrics")
            ).text:
                await asyncio.sleep(0.1)
            while cam not in (await client.get(f"{stack.analysis}/status")).json()["connected"]:
                await asyncio.sleep(0.1)


async def test_noise_only_scene_gives_no_event_for_60_s(stack: Stack) -> None:
    """Runs last: cam1 has been analysed since the stack started; wait for the rest."""
    remaining = stack.noise_since + NOISE_S - time.time()
    if remaining > 0:
        await asyncio.sleep(remaining)
    async with httpx.AsyncClient(base_url=stack.analysis) as client:
        status = (await client.get("/status")).json()
    assert stack.cams["noise"] in status["connected"]  # analysed the whole time
    assert stack.events(stack.cams["noise"]) == []
    rows = stack.db.fetch(
        "SELECT count(*) AS n FROM analysis_results WHERE camera_id = $1 AND event = 'frame'",
        stack.cams["noise"])
    assert rows[0]["n"] == 0  # not a single frame with motion
