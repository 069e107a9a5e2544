"""PTZ latency and PTZ lock throughput.

1. API call -> SOAP request at the camera: ``POST /api/v1/cameras/{id}/ptz/move`` (continuous)
   sent one after another; the simulator logs each ContinuousMove it handles with its own
   timestamp (ms), which is matched to the request by its unique pan velocity. Printed: p50 /
   p95 of send -> camera, and of the full API round trip; for reference, the same command
   sent straight to the camera with ``OnvifDevice`` (no API in between).
2. Lock acquire + release (``POST`` / ``DELETE .../ptz/lock``) on 16 cameras with 16 concurrent
   clients for a few seconds: requests/s and latency percentiles.

Setup: PostgreSQL scratch database, management-service as a real process (2 workers), the
camera simulator as a subprocess (1 ONVIF camera, digest auth), all on 127.0.0.1.
Usage: ``.venv/bin/python bench/ptz_bench.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
from _stack import ADMIN_PASSWORD, ROOT, free_port, management, scratch_database

MOVES = 300
LOCK_CLIENTS = 16
LOCK_SECONDS = 5.0
USER, PASSWORD = "admin", "admin"
# "2026-11-22 21:47:04,088 INFO argus_camsim.onvif.ptz cam1 ptz continuous move (0.123, ..."
_MOVE_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO \S+ cam1 ptz continuous move \(([-\d.e]+),"
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_simulator() -> tuple[subprocess.Popen[str], int, list[str]]:
    """argus-camsim with one ONVIF camera; returns the process, its ONVIF port, its lines."""
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/argus-camsim"), "--cameras", "1", "--rtsp-port", str(free_port()),
         "--control-port", str(free_port()), "--onvif-port", "0", "--auth", "digest",
         "--username", USER, "--password", PASSWORD, "--resolution", "320x180",
         "--sub-resolution", "160x90", "--fps", "10", "--log-level", "INFO"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    ready: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith("argus-camsim ready "):
                ready.put(line.split(" ", 2)[2])

    threading.Thread(target=pump, daemon=True).start()
    info = json.loads(ready.get(timeout=30))
    return proc, int(info["onvif_ports"]["cam1"]), lines


def camera_arrivals(lines: list[str]) -> dict[float, float]:
    """pan velocity -> epoch seconds at which the camera handled that ContinuousMove."""
    out = {}
    for line in list(lines):
        match = _MOVE_LINE.match(line)
        if match:
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
            out[float(match.group(2))] = stamp.timestamp()
    return out


def bench_moves(client: httpx.Client, headers: dict[str, str], camera_id: int,
                lines: list[str]) -> None:
    base = f"/api/v1/cameras/{camera_id}/ptz"
    client.post(f"{base}/lock", headers=headers).raise_for_status()
    sent: dict[float, float] = {}
    round_trips = []
    for i in range(MOVES):
        pan = (i + 1) / 1000 * (1 if i % 2 else -1)
        body = {"mode": "continuous", "pan": pan, "timeout_s": 1}
        t0 = time.time()
        client.post(f"{base}/move", json=body, headers=headers).raise_for_status()
        round_trips.append((time.time() - t0) * 1000)
        sent[pan] = t0
    client.post(f"{base}/stop", headers=headers).raise_for_status()
    client.delete(f"{base}/lock", headers=headers).raise_for_status()
    time.sleep(0.5)  # the last log lines
    arrivals = camera_arrivals(lines)
    to_camera = [(arrivals[p] - t) * 1000 for p, t in sent.items() if p in arrivals]
    print(f"PTZ move, API call -> SOAP ContinuousMove handled at the camera ({len(to_camera)} "
          f"of {MOVES} matched, camera log has 1 ms resolution): "
          f"p50 {statistics.median(to_camera):.1f} ms, p95 {pct(to_camera, 0.95):.1f} ms")
    print(f"PTZ move, full API round trip: p50 {statistics.median(round_trips):.1f} ms, "
          f"p95 {pct(round_trips, 0.95):.1f} ms, max {max(round_trips):.1f} ms")


async def bench_direct(port: int) -> None:
    """The same command straight to the camera: what the API adds is the difference."""
    from argus_management.onvif.device import OnvifDevice

    device = OnvifDevice("127.0.0.1", port, USER, PASSWORD)
    try:
        await device.continuous_move(0.001, 0, 0, 1)  # connect, build clients
        timings = []
        for i in range(MOVES):
            t0 = time.perf_counter()
            await device.continuous_move((i + 1) / 2000, 0, 0, 1)
            timings.append((time.perf_counter() - t0) * 1000)
        await device.stop()
    finally:
        await device.close()
    print(f"reference, OnvifDevice.continuous_move straight to the camera: "
          f"p50 {statistics.median(timings):.1f} ms, p95 {pct(timings, 0.95):.1f} ms")


async def bench_locks(base_url: str, headers: dict[str, str], camera_ids: list[int]) -> None:
    latencies: list[float] = []
    count = 0

    async def worker(client: httpx.AsyncClient, camera_id: int, deadline: float) -> None:
        nonlocal count
        lock = f"/api/v1/cameras/{camera_id}/ptz/lock"
        while time.monotonic() < deadline:
            for method in ("POST", "DELETE"):
                t0 = time.perf_counter()
                resp = await client.request(method, lock, headers=headers)
                latencies.append((time.perf_counter() - t0) * 1000)
                if resp.status_code not in (200, 204):
                    raise RuntimeError(f"{method} lock: {resp.status_code} {resp.text}")
                count += 1

    limits = httpx.Limits(max_connections=LOCK_CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        started = time.monotonic()
        deadline = started + LOCK_SECONDS
        await asyncio.gather(*(worker(client, cid, deadline) for cid in camera_ids))
        elapsed = time.monotonic() - started
    print(f"PTZ lock acquire+release, {len(camera_ids)} camera(s) x 1 client each: "
          f"{count / elapsed:.0f} req/s ({count / 2 / elapsed:.0f} acquire/release pairs/s), "
          f"p50 {statistics.median(latencies):.1f} ms, p95 {pct(latencies, 0.95):.1f} ms")


def main() -> None:
    # Importing onvif-zeep-async configures the root logger at INFO: keep httpx quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    proc, onvif_port, lines = start_simulator()
    extra = {"MANAGEMENT_PTZ_RATE_PER_S": "10000", "MANAGEMENT_LIVENESS_ENABLED": "false"}
    try:
        with scratch_database() as db, management(db, workers=2, **extra) as base:
            client = httpx.Client(base_url=base, timeout=30)
            login = client.post("/api/v1/auth/login",
                                data={"username": "admin", "password": ADMIN_PASSWORD})
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            ids = []
            for i in range(LOCK_CLIENTS):
                resp = client.post("/api/v1/cameras", headers=headers, json={
                    "name": f"ptz-{i:02d}", "onvif_host": "127.0.0.1", "onvif_port": onvif_port,
                    "username": USER, "password": PASSWORD, "onvif_profile": "main",
                    "onvif_sub_profile": "sub", "recording_mode": "off",
                })
                resp.raise_for_status()
                ids.append(resp.json()["id"])
            for _ in range(20):  # warm both workers' device caches
                client.get(f"/api/v1/cameras/{ids[0]}/ptz/status", headers=headers)
            bench_moves(client, headers, ids[0], lines)
            asyncio.run(bench_direct(onvif_port))
            asyncio.run(bench_locks(base, headers, ids[:1]))
            asyncio.run(bench_locks(base, headers, ids))
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average (1/5/15 min) after the run: {' '.join(load)}; cpus {os.cpu_count()}")


if __name__ == "__main__":
    sys.exit(main())
