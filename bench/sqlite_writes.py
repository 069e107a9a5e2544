"""The SQLite write path under concurrent writers (issue 17).

Setup: management-service as a real process (2 uvicorn workers) on the default SQLite stack
(``sqlite+aiosqlite:///...`` in a temporary directory, as ``make run``), liveness checker
off. ``--writers`` clients (default 10) each loop for ``--seconds`` (default 20) over
POST /layouts, DELETE /layouts/{id} and POST /cameras (each write also appends an audit
row). Prints p50/p99/max per request kind and overall, and the load average.

``--compare REV`` also runs management's code as it was at git revision ``REV`` (its
``management-service/src`` first on ``PYTHONPATH``, everything else from the working tree),
each on its own database, and alternates ``--rounds`` runs between the two so that both
see the same load on a shared machine.

Usage: ``.venv/bin/python bench/sqlite_writes.py [--writers 10] [--seconds 20]
[--compare REV --rounds 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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


async def _writer(
    client: httpx.AsyncClient,
    n: str,
    until: float,
    timings: dict[str, list[float]],
    errors: list[str],
) -> None:
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
        r = await client.post(
            "/api/v1/cameras",
            json={"name": f"bench-{n}-{i}", "stream_url": f"rtsp://127.0.0.1:9/{n}/{i}"},
        )
        timings["POST /cameras"].append((time.perf_counter() - t) * 1000)
        if r.status_code != 201:
            errors.append(f"POST /cameras {r.status_code}")


Timings = dict[str, list[float]]


def _report(label: str, timings: Timings, errors: list[str], wall: float, writers: int) -> None:
    every = [v for vs in timings.values() for v in vs]
    print(
        f"{label}: {writers} writers, {wall:.1f} s, {len(every)} writes "
        f"({len(every) / wall:.0f}/s), errors {len(errors)} {sorted(set(errors))[:5]}"
    )
    for kind, vs in [*timings.items(), ("all writes", every)]:
        if vs:
            print(
                f"  {kind:22s} n={len(vs):5d}  p50 {statistics.median(vs):7.1f} ms  "
                f"p99 {_pct(vs, 99):7.1f} ms  max {max(vs):7.1f} ms"
            )
    print("  load average (1/5/15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


async def _run(
    base: str, writers: int, seconds: float, timings: Timings, errors: list[str]
) -> float:
    """One round of ``writers`` for ``seconds``; adds to ``timings``; returns its wall time."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as anon:
        login = await anon.post(
            "/api/v1/auth/login", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        login.raise_for_status()
        token = login.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    # One connection per writer, as ten separate clients would have.
    clients = [
        httpx.AsyncClient(base_url=base, timeout=60, headers=headers) for _ in range(writers)
    ]
    until = time.monotonic() + seconds
    t0 = time.perf_counter()
    try:
        # Names unique across rounds (camera names are).
        tag = f"{time.time_ns():x}"
        await asyncio.gather(
            *(_writer(c, f"{tag}-{n}", until, timings, errors) for n, c in enumerate(clients))
        )
    finally:
        for c in clients:
            await c.aclose()
    return time.perf_counter() - t0


@contextmanager
def sqlite_management(tmp: Path, workers: int, pythonpath: Path | None = None) -> Iterator[str]:
    """``argus-management`` on SQLite in ``tmp`` as a real process; yields its base URL.
    (Readiness may take minutes on a loaded 2-CPU machine: migrations, then two workers.)
    ``pythonpath``: a management ``src`` directory to run instead of the installed one."""
    extra = {"PYTHONPATH": str(pythonpath)} if pythonpath else {}
    cfg = kit.test_config(tmp, ports=StackPorts(management=free_port()))
    redis_url = os.environ.get("REDIS_URL", kit.REDIS_URL)
    with (
        kit.redis_namespace("argus-bench", redis_url) as namespace,
        launched(tmp / "logs", ROOT) as launcher,
    ):
        env = kit.base_env(SECRETS, namespace, redis_url)
        kit.start(
            launcher,
            cfg,
            "management",
            env,
            ready=Ready(http=f"{cfg.management_url}/readyz", timeout_s=300),
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'argus.db'}",
            MANAGEMENT_WORKERS=str(workers),
            MANAGEMENT_LIVENESS_ENABLED="false",
            **extra,
        )
        yield cfg.management_url


def _source_at(rev: str, into: Path) -> Path:
    """management-service/src as it was at ``rev``, extracted into ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "management-service/src"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True, timeout=60)
    return into / "management-service" / "src"


async def _rounds(bases: dict[str, str], writers: int, seconds: float, rounds: int) -> None:
    kinds = ("POST /layouts", "DELETE /layouts/{id}", "POST /cameras")
    results = {label: ({k: [] for k in kinds}, [], [0.0]) for label in bases}
    for n in range(rounds):
        for label, base in bases.items():
            timings, errors, wall = results[label]
            wall[0] += await _run(base, writers, seconds, timings, errors)
            print(
                f"round {n + 1}/{rounds} {label} done; load average "
                + " ".join(f"{x:.2f}" for x in os.getloadavg()),
                flush=True,
            )
    for label, (timings, errors, wall) in results.items():
        _report(label, timings, errors, wall[0], writers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--compare", metavar="REV", help="also run management as at REV")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    args = parser.parse_args()
    print("load average before (1/5/15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="argus-sqlite-bench-") as tmp, ExitStack() as stack:
        bases: dict[str, str] = {}
        if args.compare:
            (Path(tmp) / "old").mkdir()
            src = _source_at(args.compare, Path(tmp) / "old")
            bases[f"at {args.compare}"] = stack.enter_context(
                sqlite_management(Path(tmp) / "old", workers=args.workers, pythonpath=src)
            )
        (Path(tmp) / "new").mkdir()
        bases["working tree"] = stack.enter_context(
            sqlite_management(Path(tmp) / "new", workers=args.workers)
        )
        asyncio.run(_rounds(bases, args.writers, args.seconds, args.rounds))


if __name__ == "__main__":
    main()
