"""Helpers shared by the benchmarks: scratch database, free ports, a management process
(argus_testkit: the service table's argv and settings, readiness, cleanup by PID)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from argus_testkit import stack as kit
from argus_testkit.ports import free_port
from argus_testkit.process import launched
from argus_testkit.services import StackPorts

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("ARGUS_BENCH_PG", "postgres@127.0.0.1:5432")
SECRET = "bench-secret-key-0123456789abcdef"


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))]
INTERNAL = "bench-internal-key-0123456789abcdef"
ADMIN_PASSWORD = "bench-admin-password"
SECRETS = kit.Secrets(SECRET, INTERNAL, "admin", ADMIN_PASSWORD)

__all__ = ["ADMIN_PASSWORD", "INTERNAL", "ROOT", "SECRET", "free_port", "management",
           "proc_cpu_seconds", "scratch_database"]


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new PostgreSQL database for one benchmark run, dropped afterwards."""
    with kit.scratch_database("argus_bench") as db:
        yield db.url


@contextmanager
def management(database_url: str, workers: int = 2, **extra: str) -> Iterator[str]:
    """Run ``argus-management`` as a real process; yields its base URL."""
    data_dir = Path(tempfile.mkdtemp(prefix="argus-bench-"))
    cfg = kit.test_config(data_dir, ports=StackPorts(management=free_port()))
    redis_url = os.environ.get("REDIS_URL", kit.REDIS_URL)
    try:
        with kit.redis_namespace("argus-bench", redis_url) as namespace, \
                launched(data_dir / "logs", ROOT) as launcher:
            env = kit.base_env(SECRETS, namespace, redis_url)
            kit.start(launcher, cfg, "management", env, DATABASE_URL=database_url,
                      MANAGEMENT_WORKERS=str(workers), **extra)
            yield cfg.management_url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its children that have exited, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f) for f in fields[11:15]) / ticks
