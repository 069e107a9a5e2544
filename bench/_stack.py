"""Helpers shared by the benchmarks: scratch database, free ports, a management process."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("ARGUS_BENCH_PG", "postgres@127.0.0.1:5432")
SECRET = "bench-secret-key-0123456789abcdef"
INTERNAL = "bench-internal-key-0123456789abcdef"
ADMIN_PASSWORD = "bench-admin-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new PostgreSQL database for one benchmark run, dropped afterwards."""
    name = f"argus_bench_{uuid.uuid4().hex[:8]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(f"postgresql://{PG}/postgres")
        await conn.execute(sql)
        await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{PG}/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def management(database_url: str, workers: int = 2, **extra: str) -> Iterator[str]:
    """Run ``argus-management`` as a real process; yields its base URL."""
    port = free_port()
    namespace = f"argus-bench-{uuid.uuid4().hex[:8]}"
    data_dir = tempfile.mkdtemp(prefix="argus-bench-")
    env = {
        **os.environ, "ARGUS_ENV": "test", "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET, "INTERNAL_API_KEY": INTERNAL, "ARGUS_REDIS_NAMESPACE": namespace,
        "ARGUS_ADMIN_USERNAME": "admin", "ARGUS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MANAGEMENT_PORT": str(port), "MANAGEMENT_WORKERS": str(workers), "LOG_LEVEL": "WARNING",
        "ARGUS_DATA_DIR": data_dir, **extra,
    }
    proc = subprocess.Popen([str(ROOT / ".venv/bin/argus-management")], env=env,
                            stdout=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("management did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        _drop_namespace(namespace)
        shutil.rmtree(data_dir, ignore_errors=True)


def _drop_namespace(namespace: str) -> None:
    """Delete the Redis keys the benchmark's management process created."""
    import redis

    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its children that have exited, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f) for f in fields[11:15]) / ticks
