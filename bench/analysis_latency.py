"""Motion latency benchmark: simulator picture -> analyser -> management -> ``/ws/alerts``.

    .venv/bin/python bench/analysis_latency.py --events 20 --fps 30

Real processes on 127.0.0.1 (ai-analysis-service/tests/anastack.py): a scratch PostgreSQL
database, management, the camera simulator (one camera, 320x180 sub-stream, Digest auth)
and the analyser. Motion is turned on and off ``--events`` times. For each motion start:

- **picture -> alert**: the alert's arrival on a ``/ws/alerts`` client minus the wall-clock
  stamp burnt into the triggering frame by the simulator. The triggering frame is the
  event's snapshot (``GET /api/v1/events/{id}/snapshot``), whose stamp is read back with
  ``argus_camsim.stamp.read_timestamp_ms``. It covers encode, RTSP, decode, detection,
  the POST to management (store, alert, Redis) and the WebSocket push;
- **decoder -> stored**: from the triggering frame's packet entering the decoder to the
  event accepted by management (the analyser's ``motion_started`` log line).

Debounce is excluded by construction (the stamp is that of the frame completing the
``start_frames`` run). Every process is stopped by PID before the script exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import cv2
import httpx
import numpy as np
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ai-analysis-service" / "tests"))

from _stack import percentile  # noqa: E402
from anastack import (  # noqa: E402
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

from argus_camsim.stamp import read_timestamp_ms  # noqa: E402


def stamp_of(jpeg: bytes) -> float | None:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        return None
    ms = read_timestamp_ms(image, image.shape[1], image.shape[0])
    return None if ms is None else ms / 1000


async def measure(api: str, token: str, control: int, events: int) -> list[float]:
    ws_url = f"ws://{api.split('://', 1)[1]}/ws/alerts"
    latencies = []
    async with httpx.AsyncClient(base_url=api, headers={"Authorization": f"Bearer {token}"}) \
            as client, connect(ws_url, subprotocols=["bearer", token]) as alerts:  # type: ignore[list-item]
        assert json.loads(await alerts.recv())["type"] == "ready"
        for _ in range(events):
            await asyncio.to_thread(set_motion, control, 1, True)
            async with asyncio.timeout(5):
                while True:
                    alert = json.loads(await alerts.recv())
                    if alert.get("type") == "alert.motion":
                        arrived = time.time()
                        break
            await asyncio.sleep(1.0)
            await asyncio.to_thread(set_motion, control, 1, False)
            resp = await client.get(f"/api/v1/events/{alert['event_id']}/snapshot")
            stamp = stamp_of(resp.content) if resp.status_code == 200 else None
            if stamp is None:
                print("  (snapshot stamp unreadable; event skipped)", flush=True)
            else:
                latencies.append(arrived - stamp)
                print(f"  picture -> alert {1000 * (arrived - stamp):6.1f} ms", flush=True)
            await asyncio.sleep(1.5)  # the event ends (end_quiet_s 0.5) before the next one
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--fps", type=int, default=30)
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
            1, "--resolution", "640x360", "--sub-resolution", "320x180", "--fps", str(args.fps))
        procs.append(sim)
        token = login(api)
        cam = add_camera(api, token, "bench", f"rtsp://127.0.0.1:{rtsp}/cam1/main",
                         {"end_quiet_s": 0.5}, sub_url=f"rtsp://127.0.0.1:{rtsp}/cam1/sub")
        analyser, url = start_analysis(namespace, api, tmp / "recordings")
        procs.append(analyser)
        wait_until(lambda: cam in httpx.get(f"{url}/status").json()["connected"], 30)
        time.sleep(2.0)  # past the connection's first GOP
        latencies = asyncio.run(measure(api, token, control, args.events))
        stored = [line["decode_to_event_ms"] / 1000 for line in analyser.json_lines()
                  if line.get("event") == "motion_started"]
        print(f"\nanalysis latency, {args.events} motion starts, 320x180 @ {args.fps} fps")
        for name, values in (("picture -> /ws/alerts", latencies),
                             ("decoder -> event stored", stored)):
            if values:
                print(f"  {name:24s} p50 {1000 * statistics.median(values):6.1f} ms   "
                      f"p95 {1000 * percentile(values, 95):6.1f} ms   "
                      f"max {1000 * max(values):6.1f} ms"
                      f"   (n={len(values)})")
    finally:
        for proc in reversed(procs):
            proc.stop()
        db.drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
