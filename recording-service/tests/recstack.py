"""Real processes for the recording tests: PostgreSQL database, management, the camera
simulator and recorders, each on free 127.0.0.1 ports and stopped by PID."""

from __future__ import annotations

import asyncio
import collections
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
SECRET = "rec-test-secret-key-0123456789abcdef"
INTERNAL = "rec-test-internal-key-0123456789abcdef"
ADMIN_PASSWORD = "rec-admin-password-1"
CAMERA_PASSWORD = "s3cr@t:/pw%"  # needs percent-encoding in a URL

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Processes whose output is attached to a failed wait (set by the test module).
WATCHED: list[Proc] = []


def wait_until(check: Callable[[], T], timeout: float, interval: float = 0.5,
               what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name} (pid {p.proc.pid})\n{p.tail(25)}" for p in WATCHED)
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")
        time.sleep(interval)


class Proc:
    """A child process whose output is kept (last lines) for failure messages."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str],
                 ready: str | None = None) -> None:
        self.name = name
        self.output: collections.deque[str] = collections.deque(maxlen=3000)
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
            self.kill()
            raise RuntimeError(f"{self.name} did not start:\n{self.tail()}")
        return self.ready_line

    def tail(self, lines: int = 60) -> str:
        return "\n".join(list(self.output)[-lines:])

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL (what ``kill -9`` does)."""
        if self.alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.alive:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)


class Database:
    """A scratch PostgreSQL database, migrated to head."""

    def __init__(self) -> None:
        self.name = f"argus_rec_{uuid.uuid4().hex[:10]}"
        self.url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{self.name}"
        self.dsn = f"{PG_DSN}/{self.name}"

    def create(self) -> None:
        from argus_management import migrate

        async def create() -> None:
            conn = await asyncpg.connect(f"{PG_DSN}/postgres")
            await conn.execute(f'CREATE DATABASE "{self.name}"')
            await conn.close()

        run_async(create())
        migrate.upgrade(self.url)

    def drop(self) -> None:
        async def drop() -> None:
            conn = await asyncpg.connect(f"{PG_DSN}/postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            await conn.close()

        run_async(drop())

    def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        async def fetch() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(self.dsn)
            try:
                return [dict(r) for r in await conn.fetch(query, *args)]
            finally:
                await conn.close()

        return list(run_async(fetch()))

    def execute(self, query: str, *args: Any) -> None:
        async def execute() -> None:
            conn = await asyncpg.connect(self.dsn)
            try:
                await conn.execute(query, *args)
            finally:
                await conn.close()

        run_async(execute())


def base_env(namespace: str) -> dict[str, str]:
    return {
        **os.environ, "ARGUS_ENV": "test", "SECRET_KEY": SECRET, "INTERNAL_API_KEY": INTERNAL,
        "REDIS_URL": REDIS_URL, "ARGUS_REDIS_NAMESPACE": namespace, "LOG_LEVEL": "INFO",
    }


def start_management(db: Database, namespace: str, data_dir: Path) -> tuple[Proc, str]:
    port = free_port()
    env = {
        **base_env(namespace), "DATABASE_URL": db.url, "ARGUS_ADMIN_USERNAME": "admin",
        "ARGUS_ADMIN_PASSWORD": ADMIN_PASSWORD, "MANAGEMENT_PORT": str(port),
        "MANAGEMENT_WORKERS": "1", "MANAGEMENT_BCRYPT_ROUNDS": "4",
        "ARGUS_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING",
    }
    proc = Proc("management", [str(BIN / "argus-management")], env)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if not proc.alive:
            raise RuntimeError(f"management exited:\n{proc.tail()}")
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 60, 0.3, "management /readyz")
    except BaseException:
        proc.kill()  # never leave a half-started process behind
        raise
    return proc, url


def start_simulator(cameras: int, *extra: str) -> tuple[Proc, int, int]:
    rtsp, control = free_port(), free_port()
    argv = [str(BIN / "argus-camsim"), "--cameras", str(cameras), "--host", "127.0.0.1",
            "--rtsp-port", str(rtsp), "--control-port", str(control), "--no-onvif",
            "--linger", "2", *extra]
    proc = Proc("camera-simulator", argv, dict(os.environ), ready="argus-camsim ready ")
    info = json.loads(proc.wait_ready(90))
    return proc, int(info["rtsp_port"]), int(info["control_port"])


def start_recorder(
    namespace: str, management_url: str, recordings: Path, instance: str, **settings: str
) -> tuple[Proc, str]:
    port = free_port()
    env = {
        **base_env(namespace), "MANAGEMENT_URL": management_url,
        "RECORDINGS_DIR": str(recordings), "RECORDING_INSTANCE_ID": instance,
        "RECORDING_METRICS_PORT": str(port), **settings,
    }
    proc = Proc(f"recorder {instance}", [str(BIN / "argus-recording")], env)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if not proc.alive:
            raise RuntimeError(f"recorder exited:\n{proc.tail()}")
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 30, 0.3, f"recorder {instance} /readyz")
    except BaseException:
        proc.kill()
        raise
    return proc, url
