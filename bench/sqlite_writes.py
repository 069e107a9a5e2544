"""The SQLite write path under concurrent writers (issue 17).

Setup: management-service as a real process (2 uvicorn workers) on the default SQLite stack
(``sqlite+aiosqlite:///...`` in a temporary directory, as ``make run``), liveness checker
off. ``--writers`` clients (default 10) each loop for ``--seconds`` (default 20) over
POST /layouts, DELETE /layouts/{id} and POST /cameras (each write also appends an audit
row). Prints p50/p99/max per request kind and overall, and the load average.

Usage: ``.venv/bin/python bench/sqlite_writes.py [--writers 10] [--seconds 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from _stack import ADMIN_PASSWORD, ROOT, SECRETS

from argus_testkit import stack as kit
from argus_testkit.ports import free_port
from argus_testkit.process import Ready, launched
from argus_testkit.services import StackPorts


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _writer(client: httpx.AsyncClient, n: int, until: float,
                  timings: dict[str, list[float]], errors: list[str]) -> None:
    i = 0
    while time.monotonic() < until and i < 100_000:
        i += 1
        t = time.perf_counter()
        r = await client.post("/api/v1/layouts", json={"name": f"w{n}-{i}", "grid": 4})
        timings["POST /layouts"].append((time.perf_counter() - t) * 1000)
        if r.status_code != 201:
            errors.append(f"POST /layouts {r.status_code}")
            continue
        t = time.perf_counter()
        r = await client.delete(f"/api/v1/layouts/{r.json()['id']}")
        timings["DELETE /layouts/{id}"].append((time.perf_counter() - t) * 1000)
        if r.status_code != 204:
            errors.append(f"DELETE /layouts {r.status_code}")
        t = time.perf_counter()
        r = await client.post("/api/v1/cameras", json={
            "name": f"bench-{n}-{i}", "stream_url": f"rtsp://127.0.0.1:9/{n}/{i}"})
        timings["POST /cameras"].append((time.perf_counter() - t) * 1000)
        if r.status_code != 201:
            errors.append(f"POST /cameras {r.status_code}")


async def _run(base: str, writers: int, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as anon:
        login = await anon.post("/api/v1/auth/login",
                                data={"username": "admin", "password": ADMIN_PASSWORD})
        login.raise_for_status()
        token = login.json()["access_token"]
    timings: dict[str, list[float]] = {
        "POST /layouts": [], "DELETE /layouts/{id}": [], "POST /cameras": []}
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    # One connection per writer, as ten separate clients would have.
    clients = [httpx.AsyncClient(base_url=base, timeout=60, headers=headers)
               for _ in range(writers)]
    until = time.monotonic() + seconds
    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(_writer(c, n, until, timings, errors)
                               for n, c in enumerate(clients)))
    finally:
        for c in clients:
            await c.aclose()
    wall = time.perf_counter() - t0
    every = [v for vs in timings.values() for v in vs]
    print(f"{writers} writers, {wall:.1f} s, {len(every)} writes "
          f"({len(every) / wall:.0f}/s), errors {len(errors)} {sorted(set(errors))[:5]}")
    for kind, vs in [*timings.items(), ("all writes", every)]:
        if vs:
            print(f"  {kind:22s} n={len(vs):5d}  p50 {statistics.median(vs):7.1f} ms  "
                  f"p99 {_pct(vs, 99):7.1f} ms  max {max(vs):7.1f} ms")
    print("load average (1/5/15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


@contextmanager
def sqlite_management(tmp: Path, workers: int) -> Iterator[str]:
    """``argus-management`` on SQLite in ``tmp`` as a real process; yields its base URL.
    (Readiness may take minutes on a loaded 2-CPU machine: migrations, then two workers.)"""
    cfg = kit.test_config(tmp, ports=StackPorts(management=free_port()))
    redis_url = os.environ.get("REDIS_URL", kit.REDIS_URL)
    with kit.redis_namespace("argus-bench", redis_url) as namespace, \
            launched(tmp / "logs", ROOT) as launcher:
        env = kit.base_env(SECRETS, namespace, redis_url)
        kit.start(launcher, cfg, "management", env,
                  ready=Ready(http=f"{cfg.management_url}/readyz", timeout_s=300),
                  DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'argus.db'}",
                  MANAGEMENT_WORKERS=str(workers), MANAGEMENT_LIVENESS_ENABLED="false")
        yield cfg.management_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print("load average before (1/5/15 min): "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="argus-sqlite-bench-") as tmp:
        with sqlite_management(Path(tmp), workers=2) as base:
            asyncio.run(_run(base, args.writers, args.seconds))


if __name__ == "__main__":
    main()
