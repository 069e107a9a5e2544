"""Real processes for the analysis tests and benchmarks: a scratch PostgreSQL database,
management, the camera simulator and the analyser, each on free 127.0.0.1 ports and
stopped by PID."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_DSN = os.environ.get("ARGUS_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("ARGUS_TEST_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "ana-test-secret-key-0123456789abcdef"
INTERNAL = "ana-test-internal-key-0123456789abcdef"
ADMIN_PASSWORD = "ana-admin-password-1"
CAM_USER, CAM_PASSWORD = "viewer", "p@ss:w/rd%"  # needs percent-encoding in a URL

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], T], timeout: float, interval: float = 0.2,
               what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Proc:
    """A child process whose output is kept (last lines) and scanned for a ready line."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str],
                 ready: str | None = None, keep: int = 2000) -> None:
        self.name = name
        self.output: collections.deque[str] = collections.deque(maxlen=keep)
        self.ready_line: str | None = None
        self._ready = threading.Event()
        self._marker = ready
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip())
            if self._marker and line.startswith(self._marker):
                self.ready_line = line[len(self._marker):]
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float) -> str:
        if not self._ready.wait(timeout) or self.ready_line is None:
            self.stop()
            raise RuntimeError(f"{self.name} did not start:\n{self.tail()}")
        return self.ready_line

    def tail(self, lines: int = 60) -> str:
        return "\n".join(list(self.output)[-lines:])

    def json_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in list(self.output):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
        return out

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM by PID, then SIGKILL if it does not exit in time."""
        if self.alive:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


class Database:
    """A scratch PostgreSQL database, migrated to head."""

    def __init__(self) -> None:
        self.name = f"argus_ana_{uuid.uuid4().hex[:10]}"
        self.url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{self.name}"
        self.dsn = f"{PG_DSN}/{self.name}"

    def create(self) -> None:
        from argus_management import migrate

        async def create() -> None:
            conn = await asyncpg.connect(f"{PG_DSN}/postgres")
            await conn.execute(f'CREATE DATABASE "{self.name}"')
            await conn.close()

        asyncio.run(create())
        migrate.upgrade(self.url)

    def drop(self) -> None:
        async def drop() -> None:
            conn = await asyncpg.connect(f"{PG_DSN}/postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(drop())

    def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        """Rows of ``query``; usable from sync code and from inside a running loop (a
        thread of its own runs the query)."""
        async def fetch() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(self.dsn)
            try:
                return [dict(r) for r in await conn.fetch(query, *args)]
            finally:
                await conn.close()

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return list(pool.submit(asyncio.run, fetch()).result(timeout=30))


def base_env(namespace: str) -> dict[str, str]:
    return {
        **os.environ, "ARGUS_ENV": "test", "SECRET_KEY": SECRET, "INTERNAL_API_KEY": INTERNAL,
        "REDIS_URL": REDIS_URL, "ARGUS_REDIS_NAMESPACE": namespace, "LOG_LEVEL": "INFO",
    }


def _wait_ready(proc: Proc, url: str, timeout: float) -> None:
    def ready() -> bool:
        if not proc.alive:
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout, 0.2, f"{proc.name} /readyz")


def start_management(db: Database, namespace: str, data_dir: Path,
                     **settings: str) -> tuple[Proc, str]:
    port = free_port()
    env = {
        **base_env(namespace), "DATABASE_URL": db.url, "ARGUS_ADMIN_USERNAME": "admin",
        "ARGUS_ADMIN_PASSWORD": ADMIN_PASSWORD, "MANAGEMENT_PORT": str(port),
        "MANAGEMENT_WORKERS": "1", "MANAGEMENT_BCRYPT_ROUNDS": "4",
        "ARGUS_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING",
        "MANAGEMENT_LIVENESS_ENABLED": "false", **settings,
    }
    proc = Proc("management", [str(BIN / "argus-management")], env)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(proc, url, 60)
    return proc, url


def start_simulator(cameras: int, *extra: str) -> tuple[Proc, int, int]:
    rtsp, control = free_port(), free_port()
    argv = [str(BIN / "argus-camsim"), "--cameras", str(cameras), "--host", "127.0.0.1",
            "--rtsp-port", str(rtsp), "--control-port", str(control), "--no-onvif",
            "--auth", "digest", "--username", CAM_USER, "--password", CAM_PASSWORD,
            "--linger", "2", "--log-level", "WARNING", *extra]
    proc = Proc("camera-simulator", argv, dict(os.environ), ready="argus-camsim ready ")
    info = json.loads(proc.wait_ready(90))
    return proc, int(info["rtsp_port"]), int(info["control_port"])


def start_analysis(namespace: str, management_url: str, recordings: Path,
                   **settings: str) -> tuple[Proc, str]:
    port = free_port()
    env = {
        **base_env(namespace), "MANAGEMENT_URL": management_url,
        "RECORDINGS_DIR": str(recordings), "ANALYSIS_METRICS_PORT": str(port),
        "ANALYSIS_DEVICE": "auto", **settings,
    }
    proc = Proc("ai-analysis-service", [str(BIN / "argus-analysis")], env)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(proc, url, 30)
    return proc, url


def login(api: str) -> str:
    resp = httpx.post(f"{api}/api/v1/auth/login",
                      data={"username": "admin", "password": ADMIN_PASSWORD}, timeout=10)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def add_camera(api: str, token: str, name: str, url: str, analysis: dict[str, Any],
               sub_url: str | None = None) -> int:
    body: dict[str, Any] = {
        "name": name, "stream_url": url, "username": CAM_USER, "password": CAM_PASSWORD,
        "recording_mode": "off", "analysis": {"enabled": True, **analysis},
    }
    if sub_url:
        body["sub_stream_url"] = sub_url
    resp = httpx.post(f"{api}/api/v1/cameras", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def set_motion(control_port: int, index: int, on: bool) -> float:
    """Turn the simulator's moving objects on/off; returns the time the change took effect."""
    resp = httpx.post(f"http://127.0.0.1:{control_port}/motion/cam{index}", json={"on": on},
                      timeout=5)
    resp.raise_for_status()
    return time.time()
