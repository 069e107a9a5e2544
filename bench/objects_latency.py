"""Picture -> alert for object zones on 16 cameras: the issue's goal (W2 5/10) is p95 <= 1 s.

    .venv/bin/python bench/objects_latency.py [--cameras 16] [--walking 4] [--rounds 5]

Real processes on 127.0.0.1 (ai-analysis-service/tests/anastack.py): a scratch PostgreSQL
database, management, the camera simulator (``--cameras`` cameras, main and sub-streams
640x360 at 10 fps) and one analyser with object detection on every camera (the committed
test model, motion gating, a zone "right" = the right half of the picture). In each round a
person is scripted to walk across ``--walking`` of the cameras (staggered by 0.5 s); the
others show a still scene, so motion gating keeps the detector off them.

For each person: **picture -> alert** = the ``alert.object.zone`` message's arrival on a
``/ws/alerts`` client minus the moment the person's feet (the box's bottom centre) cross
x = 0.5 in the simulator's script (the simulator draws each frame at its wall-clock time,
so that is the capture time of the first frame with the person inside the zone). It covers
encode, RTSP, decode, motion, detection (at ``ANALYSIS_OBJECT_FPS``), tracking, the rule,
the POST to management (store, alert, Redis) and the WebSocket push. Every person must
produce exactly one ``object.zone_enter`` (counted in the database). The analyser's CPU is
read from /proc over the measured rounds. Every process is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ai-analysis-service" / "tests"))

from _stack import percentile  # noqa: E402
from anastack import (  # noqa: E402
    Database,
    Proc,
    add_camera,
    login,
    start_analysis,
    start_management,
    start_simulator,
    wait_until,
)

MODEL = ROOT / "ai-analysis-service" / "models" / "sim-detector.onnx"
ZONE = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]
OBJECTS = {"enabled": True, "labels": ["person"], "min_score": 0.5,
           "zones": [{"name": "right", "polygon": ZONE}]}
START_X, SPEED = 0.15, 0.15  # the person's feet cross x = 0.5 after (0.5 - 0.15) / 0.15 s
ROUND_S = 9.0  # the walk (0.7 / 0.15 = 4.7 s) and the track's end, before the next round


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def rounds(api: str, token: str, control: int, cameras: dict[int, int], walking: int,
                 count: int) -> tuple[list[float], int, int]:
    """(latencies, people scripted, people without an alert)."""
    ws_url = f"ws://{api.split('://', 1)[1]}/ws/alerts"
    latencies: list[float] = []
    scripted = missed = 0
    by_camera = {cam_id: index for index, cam_id in cameras.items()}
    async with httpx.AsyncClient(timeout=5) as client, \
            connect(ws_url, subprotocols=["bearer", token]) as alerts:  # type: ignore[list-item]
        assert json.loads(await alerts.recv())["type"] == "ready"
        for n in range(count):
            crossing: dict[int, float] = {}
            for k in range(walking):
                index = 1 + (n * walking + k) % len(cameras)
                resp = await client.post(
                    f"http://127.0.0.1:{control}/objects/cam{index}",
                    json={"label": "person", "start": [START_X, 0.62], "end": [0.85, 0.62],
                          "speed": SPEED, "color": "red", "size": 0.32,
                          "delay_s": 1 + 0.5 * k})
                script = resp.json()["applied"]["objects"][0]
                crossing[index] = script["t0_ms"] / 1000 + (0.5 - START_X) / SPEED
            scripted += len(crossing)
            deadline = time.monotonic() + ROUND_S
            pending = dict(crossing)
            while pending and time.monotonic() < deadline:
                try:
                    async with asyncio.timeout(max(0.05, deadline - time.monotonic())):
                        alert = json.loads(await alerts.recv())
                except TimeoutError:
                    break
                if alert.get("type") == "ping":
                    await alerts.send(json.dumps({"type": "pong"}))
                if alert.get("type") != "alert.object.zone":
                    continue
                index = by_camera.get(alert.get("camera_id", -1))
                if index in pending:
                    latencies.append(time.time() - pending.pop(index))
            missed += len(pending)
            print(f"  round {n + 1}: {len(crossing) - len(pending)}/{len(crossing)} alerts, "
                  + ", ".join(f"{1000 * v:.0f} ms" for v in latencies[-len(crossing):]),
                  flush=True)
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            for index in crossing:  # the scripted person is gone: clear it
                await client.post(f"http://127.0.0.1:{control}/objects/cam{index}",
                                  json={"clear": True})
    return latencies, scripted, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--walking", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    db = Database()
    db.create()
    namespace = f"argus-bench-{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="argus-bench-"))
    procs: list[Proc] = []
    try:
        management, api = start_management(db, namespace, tmp / "data")
        procs.append(management)
        sim, rtsp, control = start_simulator(
            args.cameras, "--resolution", "640x360", "--sub-resolution", "640x360",
            "--fps", "10")
        procs.append(sim)
        token = login(api)
        cameras = {
            i: add_camera(api, token, f"cam {i}", f"rtsp://127.0.0.1:{rtsp}/cam{i}/main",
                          {"end_quiet_s": 1.0}, sub_url=f"rtsp://127.0.0.1:{rtsp}/cam{i}/sub")
            for i in range(1, args.cameras + 1)
        }
        recordings = tmp / "recordings"
        recordings.mkdir()
        analyser, url = start_analysis(
            namespace, api, recordings, ANALYSIS_OBJECT_MODEL=str(MODEL),
            ANALYSIS_OBJECT_DEFAULTS=json.dumps(OBJECTS), ANALYSIS_OBJECT_FPS="5")
        procs.append(analyser)

        def all_connected() -> bool:
            status: dict[str, Any] = httpx.get(f"{url}/status", timeout=2).json()
            return set(cameras.values()) <= set(status["connected"])

        wait_until(all_connected, 120, 0.5, "the analyser connected to every camera")
        time.sleep(3.0)  # past each connection's first GOP
        cpu0, wall0, load0 = cpu_s(analyser.pid), time.monotonic(), os.getloadavg()[0]
        latencies, scripted, missed = asyncio.run(
            rounds(api, token, control, cameras, args.walking, args.rounds))
        cpu = (cpu_s(analyser.pid) - cpu0) / (time.monotonic() - wall0)
        enters = db.fetch("SELECT count(*) AS n FROM events WHERE type = 'object.zone_enter'")
        print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
              f"{os.cpu_count()} CPUs, load average {load0:.1f} at the start")
        print(f"{args.cameras} cameras 640x360 @ 10 fps, people walking in {args.walking} per "
              f"round, {args.rounds} rounds")
        print(f"  people scripted {scripted}, alerts received {len(latencies)}, without an "
              f"alert {missed}; object.zone_enter events stored {enters[0]['n']}")
        if latencies:
            print(f"  picture -> alert  p50 {1000 * statistics.median(latencies):6.0f} ms   "
                  f"p95 {1000 * percentile(latencies, 95):6.0f} ms   "
                  f"max {1000 * max(latencies):6.0f} ms")
        print(f"  analyser CPU {100 * cpu:.0f} % of one core (decode of {args.cameras} "
              "sub-streams included)")
    finally:
        for proc in reversed(procs):
            proc.stop()
        db.drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
