"""Objects end to end: a person walking through a zone of a simulator camera gives an
``object.zone_enter`` alert on ``/ws/alerts`` within a second of crossing into it, a line
crossing, a zone leave and the track's summary with its snapshot; the frames on
``analysis.frames`` carry the detections.

Real processes (PostgreSQL, Redis, management, the simulator with Digest auth, the
analyser with the committed test model). Management does not store ``analysis.objects``
yet (the console half of the issue), so the zone and the line come from the analyser's
``ANALYSIS_OBJECT_DEFAULTS``; the alert rule from ``MANAGEMENT_ALERT_RULES``.
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
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from anastack import (
    REDIS_URL,
    Database,
    Proc,
    add_camera,
    login,
    start_analysis,
    start_management,
    start_simulator,
    wait_until,
)
from redis.asyncio import Redis
from websockets.asyncio.client import connect

MODEL = Path(__file__).resolve().parents[1] / "models" / "sim-detector.onnx"
RIGHT = [[0.5, 0.3], [1.0, 0.3], [1.0, 1.0], [0.5, 1.0]]
OBJECTS = {"enabled": True, "labels": ["person", "vehicle"], "min_score": 0.5,
           "zones": [{"name": "right", "polygon": RIGHT}],
           "lines": [{"name": "middle", "a": [0.5, 0.3], "b": [0.5, 1.0]}]}
RULES = {"object.zone_enter": {"kind": "object.zone", "title": "Object entered a zone"}}


@dataclass
class Stack:
    api: str
    token: str
    control: int
    namespace: str
    db: Database
    camera: int
    analyser: Proc

    def events(self, kind: str) -> list[dict[str, Any]]:
        rows = self.db.fetch(
            "SELECT id, type, started_at, ended_at, payload, snapshot_path FROM events "
            "WHERE camera_id = $1 AND type = $2 ORDER BY id", self.camera, kind)
        return [{**r, "payload": json.loads(r["payload"])} for r in rows]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    db = Database()
    db.create()
    namespace = f"argus-obj-{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="argus-obj-"))
    procs: list[Proc] = []
    try:
        management, api = start_management(db, namespace, tmp / "data",
                                           MANAGEMENT_ALERT_RULES=json.dumps(RULES))
        procs.append(management)
        sim, rtsp, control = start_simulator(1, "--resolution", "640x360", "--sub-resolution",
                                             "640x360", "--fps", "10", "--gop", "1")
        procs.append(sim)
        token = login(api)
        camera = add_camera(api, token, "cam objects", f"rtsp://127.0.0.1:{rtsp}/cam1/main",
                            {"end_quiet_s": 1.0}, sub_url=f"rtsp://127.0.0.1:{rtsp}/cam1/sub")
        recordings = tmp / "recordings"
        recordings.mkdir()
        analyser, url = start_analysis(
            namespace, api, recordings, ANALYSIS_OBJECT_MODEL=str(MODEL),
            ANALYSIS_OBJECT_DEFAULTS=json.dumps(OBJECTS), ANALYSIS_OBJECT_FPS="5")
        procs.append(analyser)

        def connected() -> bool:
            status = httpx.get(f"{url}/status", timeout=2).json()
            assert status["objects"]["default"] == "onnx"
            return camera in status["connected"]

        wait_until(connected, 30, 0.2, "the analyser connected to the camera")
        yield Stack(api, token, control, namespace, db, camera, analyser)
    finally:
        for proc in reversed(procs):
            proc.stop()
        db.drop()
        shutil.rmtree(tmp, ignore_errors=True)


async def test_a_person_walking_into_a_zone_raises_an_alert_within_a_second(
    stack: Stack,
) -> None:
    ws_url = f"ws://{stack.api.split('://', 1)[1]}/ws/alerts"
    redis = Redis.from_url(REDIS_URL)
    frames = redis.pubsub()
    await frames.subscribe(f"{stack.namespace}:analysis.frames")
    try:
        async with connect(ws_url, subprotocols=["bearer", stack.token]) as alerts:  # type: ignore[list-item]
            assert json.loads(await alerts.recv())["type"] == "ready"
            async with httpx.AsyncClient() as client:
                resp = await client.post(
                    f"http://127.0.0.1:{stack.control}/objects/cam1",
                    json={"label": "person", "start": [0.15, 0.62], "end": [0.85, 0.62],
                          "speed": 0.15, "color": "red", "size": 0.32, "delay_s": 1})
            script = resp.json()["applied"]["objects"][0]
            # Its feet (the box's bottom centre) cross x = 0.5 at:
            crossing = script["t0_ms"] / 1000 + (0.5 - 0.15) / 0.15
            async with asyncio.timeout(10):
                while True:
                    alert = json.loads(await alerts.recv())
                    if alert.get("type") == "alert.object.zone":
                        break
            alert_at = time.time()
        assert alert["camera_id"] == stack.camera
        # A figure, not an assertion (no timing assertions in the suite): the goal of <= 1 s
        # is measured by bench/objects_latency.py; the 10 s wait above bounds the test.
        print(f"zone alert {alert_at - crossing:.3f} s after the person crossed into it")
        # The frames on analysis.frames carry the detections (for /ws/analysis).
        detected = []
        async with asyncio.timeout(5):
            while not detected:
                msg = await frames.get_message(ignore_subscribe_messages=True, timeout=1)
                if msg is not None:
                    detected = json.loads(msg["data"]).get("objects") or []
        assert detected[0]["label"] == "person" and set(detected[0]["box"]) == set("xywh")
    finally:
        await frames.aclose()
        await redis.aclose()

    enter = stack.events("object.zone_enter")
    assert len(enter) == 1 and enter[0]["id"] == alert["event_id"]
    p = enter[0]["payload"]
    assert p["zone"] == "right" and p["label"] == "person" and p["color"] == "red"
    assert abs(enter[0]["started_at"].timestamp() - crossing) < 0.6
    # The person walks on and is gone at 0.85: line crossed, zone left, track summary.
    wait_until(lambda: stack.events("object.track"), 15, 0.2, "the track summary")
    cross = stack.events("object.line_cross")
    assert [c["payload"]["direction"] for c in cross] == ["right_to_left"]
    assert cross[0]["payload"]["track_id"] == p["track_id"]
    assert [e["payload"]["zone"] for e in stack.events("object.zone_leave")] == ["right"]
    (track,) = stack.events("object.track")
    s = track["payload"]
    assert s["track_id"] == p["track_id"] and s["label"] == "person" and s["color"] == "red"
    assert s["direction"] == "right" and s["zones"] == ["right"] and s["lines"] == ["middle"]
    assert s["speed"] == pytest.approx(0.15, rel=0.25)
    assert 3.0 <= s["dwell_s"] <= 5.5 and len(s["path"]) >= 5
    assert track["ended_at"] is None or track["ended_at"] >= track["started_at"]
    async with httpx.AsyncClient(base_url=stack.api,
                                 headers={"Authorization": f"Bearer {stack.token}"}) as client:
        async with asyncio.timeout(5):
            while (resp := await client.get(f"/api/v1/events/{track['id']}/snapshot")
                   ).status_code == 404:
                await asyncio.sleep(0.1)
    assert resp.status_code == 200
    image = cv2.imdecode(np.frombuffer(resp.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (360, 640, 3)
    box = s["box"]  # the best snapshot shows the red shirt inside its box
    x, y, w, h = (round(box["x"] * 640), round(box["y"] * 360), round(box["w"] * 640),
                  round(box["h"] * 360))
    shirt = image[y + h // 4 : y + h // 2, x + w // 3 : x + 2 * w // 3].reshape(-1, 3).mean(0)
    assert shirt[2] > shirt[1] + 60 and shirt[2] > shirt[0] + 60, shirt
