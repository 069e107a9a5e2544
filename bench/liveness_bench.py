"""Camera liveness: cost of a check cycle over 200 cameras, and time from outage to alert.

Setup: PostgreSQL scratch database (migrated), a unique Redis namespace, the camera
simulator as a real process (4 cameras, RTSP Digest, 320x180 at 5 fps), 200 camera rows
pointing at its 4 main streams (50 rows per stream), and management's ``LivenessChecker``
run in this process, so its CPU time is this process's CPU time.

Scenarios (each cycle checks all 200 cameras):
  A. every camera probed: RTSP DESCRIBE, answered 401, then again with Digest -> 200;
  B. every camera with fresh stream.up evidence: no probe;
  C. every camera refusing connections (the first cycles also raise 200 alerts);
  D. every camera accepting TCP and never answering: probes end on the read timeout (3 s);
  E. outage to alert: one camera, the checker loop at 10 s and at 2 s, simulator fault
     ``offline_s`` -> ``camera.offline`` on ``argus:alerts``; restore -> ``camera.online``.

Usage: ``.venv/bin/python bench/liveness_bench.py [--cameras 200] [--cycles 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from _stack import INTERNAL, SECRET, free_port, scratch_database
from redis.asyncio import Redis
from sqlalchemy import update

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_ALERTS
from argus_common.logging import configure_logging
from argus_management import migrate
from argus_management.cameras.crypto import encrypt_secret
from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.db import make_engine, make_sessionmaker
from argus_management.liveness import evidence
from argus_management.liveness.checker import CycleReport, LivenessChecker

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SIM_CAMERAS = 4


def start_simulator() -> tuple[subprocess.Popen[str], int, int]:
    """The simulator on free ports; returns (process, rtsp port, control port)."""
    rtsp, control = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "argus_camsim", "--cameras", str(SIM_CAMERAS), "--host",
         "127.0.0.1", "--rtsp-port", str(rtsp), "--control-port", str(control), "--no-onvif",
         "--auth", "digest", "--username", "admin", "--password", "admin",
         "--resolution", "320x180", "--sub-resolution", "160x90", "--fps", "5",
         "--linger", "30", "--log-level", "WARNING"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("argus-camsim ready"):
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(60) or proc.poll() is not None:
        raise SystemExit("simulator did not start")
    return proc, rtsp, control


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_cycles(checker: LivenessChecker, cycles: int, sim_pid: int | None = None
                     ) -> tuple[list[float], list[float], float, CycleReport]:
    """Wall and CPU seconds of ``cycles`` cycles, the simulator's CPU, the last report."""
    walls, cpus = [], []
    sim_before = cpu_of(sim_pid) if sim_pid else 0.0
    report = CycleReport()
    for _ in range(cycles):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = await checker.cycle()
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    sim_cpu = (cpu_of(sim_pid) - sim_before) / cycles if sim_pid else 0.0
    return walls, cpus, sim_cpu, report


def line(label: str, walls: list[float], cpus: list[float], interval: float,
         report: CycleReport, extra: str = "") -> None:
    outcomes: dict[str, int] = {}
    for r in report.results.values():
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    cpu = statistics.median(cpus)
    print(f"{label}: {report.checked} checked, {report.probed} probed {outcomes}; cycle wall "
          f"p50 {statistics.median(walls) * 1000:.0f} ms, max {max(walls) * 1000:.0f} ms; "
          f"checker CPU {cpu * 1000:.0f} ms/cycle = {cpu / interval * 100:.1f} % of a core "
          f"at {interval:g} s{extra}")


async def outage_to_alert(
    settings: Settings, maker: Any, bus: RedisBus, control: int, interval: float, trials: int
) -> None:
    fast = settings.model_copy(update={"liveness_interval_s": interval,
                                       "liveness_alert_window_s": 0.0})
    checker = LivenessChecker(fast, maker, bus)
    seen: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def listen() -> None:
        async for _, raw in bus.subscribe(CHANNEL_ALERTS):
            await seen.put(json.loads(raw))

    async def until(kind: str, state: str, limit: float) -> float:
        start = time.monotonic()
        async with asyncio.timeout(limit):
            while True:
                msg = await seen.get()
                if msg["kind"] == kind and msg["state"] == state:
                    return time.monotonic() - start

    listener = asyncio.create_task(listen())
    loop_task = asyncio.create_task(checker.run())
    down, up = [], []
    try:
        await asyncio.sleep(interval * 2 + 1)  # first cycle comes one interval after start
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{control}") as client:
            for _ in range(trials):
                await asyncio.sleep(interval * 0.37)  # do not align faults with cycles
                await client.post("/faults/cam1", json={"offline_s": 600})
                down.append(await until("camera.offline", "open", interval * 4 + 10))
                await client.post("/faults/cam1", json={"offline_s": 0})
                up.append(await until("camera.online", "open", interval * 2 + 10))
    finally:
        loop_task.cancel()
        listener.cancel()
        await asyncio.gather(loop_task, listener, return_exceptions=True)
    print(f"E. interval {interval:g} s, {trials} outages: outage -> camera.offline "
          f"{', '.join(f'{d:.1f}' for d in down)} s (mean {statistics.mean(down):.1f}); "
          f"restore -> camera.online {', '.join(f'{u:.1f}' for u in up)} s")


async def main(args: argparse.Namespace, url: str) -> None:
    sim, rtsp, control = start_simulator()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1024)  # accepts in the kernel, never answers: scenario D
    namespace = f"argus-bench-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(REDIS_URL)
    try:
        await migrate.upgrade_async(url)
        settings = Settings(
            ARGUS_ENV="test", DATABASE_URL=url, REDIS_URL=REDIS_URL,
            ARGUS_REDIS_NAMESPACE=namespace, SECRET_KEY=SECRET, INTERNAL_API_KEY=INTERNAL,
            MANAGEMENT_LIVENESS_INTERVAL_S=10,
        )
        engine = make_engine(url)
        maker = make_sessionmaker(engine)
        bus = RedisBus(redis, namespace)
        async with maker() as session:
            session.add_all(
                Camera(name=f"bench-{i}", stream_url=f"rtsp://127.0.0.1:{rtsp}/cam"
                       f"{i % SIM_CAMERAS + 1}/main", username="admin",
                       password_enc=encrypt_secret(SECRET, "admin"))
                for i in range(args.cameras)
            )
            await session.commit()
        checker = LivenessChecker(settings, maker, bus)
        interval = settings.liveness_interval_s
        await checker.cycle()  # warm-up: encoders start, connections, caches
        walls, cpus, sim_cpu, report = await run_cycles(checker, args.cycles, sim.pid)
        line("A. probe every camera (DESCRIBE+Digest)", walls, cpus, interval, report,
             f"; simulator CPU {sim_cpu * 1000:.0f} ms/cycle")
        now = time.time()
        for cid in report.results:
            await evidence.mark_seen(bus, cid, now)
        walls, cpus, _, report = await run_cycles(checker, args.cycles)
        line("B. fresh stream.up evidence, no probe", walls, cpus, interval, report)
        await redis.delete(*[evidence.seen_key(bus, cid) for cid in report.results])
        dead = f"rtsp://127.0.0.1:{free_port()}/x"
        async with maker() as session:
            await session.execute(update(Camera).values(stream_url=dead))
            await session.commit()
        walls, cpus, _, report = await run_cycles(checker, 2)
        line("C1. all refusing, 2 cycles -> 200 go offline with alerts", walls, cpus,
             interval, report, f"; {len(report.transitions)} transitions in the 2nd")
        walls, cpus, _, report = await run_cycles(checker, args.cycles)
        line("C2. all refusing, steady state", walls, cpus, interval, report)
        mute = f"rtsp://127.0.0.1:{silent.getsockname()[1]}/x"
        async with maker() as session:
            await session.execute(update(Camera).values(stream_url=mute))
            await session.commit()
        walls, cpus, _, report = await run_cycles(checker, 1)
        line(f"D. all silent (read timeout 3 s, concurrency "
             f"{settings.liveness_concurrency})", walls, cpus, interval, report)
        await checker.aclose()
        async with maker() as session:
            await session.execute(update(Camera).values(enabled=False, status="unknown"))
            await session.execute(update(Camera).where(Camera.name == "bench-0").values(
                enabled=True, stream_url=f"rtsp://127.0.0.1:{rtsp}/cam1/main"))
            await session.commit()
        await outage_to_alert(settings, maker, bus, control, 10.0, args.trials_10s)
        await outage_to_alert(settings, maker, bus, control, 2.0, args.trials_2s)
        await engine.dispose()
    finally:
        silent.close()
        keys = [k async for k in redis.scan_iter(match=f"{namespace}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        os.kill(sim.pid, signal.SIGTERM)
        sim.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--trials-10s", type=int, default=2)
    parser.add_argument("--trials-2s", type=int, default=3)
    configure_logging("liveness-bench", "WARNING")
    with scratch_database() as database_url:
        asyncio.run(main(parser.parse_args(), database_url))
