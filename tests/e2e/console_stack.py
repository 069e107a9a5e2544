"""The native ARGUS stack for the console's end-to-end tests and benchmark.

Starts, on free ports and stopped by PID: a scratch PostgreSQL database, management (own
Redis namespace), the camera simulator (N small cameras, ONVIF with PTZ on cam1),
streaming-service, recording-service when installed, and Debian's nginx serving the built
console with the same template as the Docker image (web-frontend/nginx/argus.conf.template).
Seeds users (operator, viewer), a shared layout and grants. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
CONSOLE = ROOT / "web-frontend"
TEMPLATE = CONSOLE / "nginx" / "argus.conf.template"
PG_DSN = os.environ.get("ARGUS_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("ARGUS_TEST_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "console-e2e-secret-0123456789abcdef"
INTERNAL = "console-e2e-internal-0123456789abcdef"
ADMIN_PASSWORD = "admin-password-123"
OPERATOR = ("operator1", "operator-password-1")
VIEWER = ("viewer1", "viewer-password-1")
CAM_USER, CAM_PASSWORD = "admin", "camera-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise TimeoutError(f"{what} not ready within {timeout_s:.0f} s")


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def render_nginx(template: str, values: dict[str, str]) -> str:
    """Substitute the ``${ARGUS_*}`` placeholders (as envsubst does in the image)."""
    return re.sub(r"\$\{(ARGUS_[A-Z_]+)\}", lambda m: values[m.group(1)], template)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def tail(self, n: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


@dataclass
class ConsoleStack:
    """URLs, credentials and ids of a running stack."""

    url: str  # the console, through nginx
    management: str
    streaming: str
    control: str  # camera simulator control API
    cameras: dict[str, int]
    run_dir: Path
    recordings: Path
    recording: bool
    procs: list[Proc] = field(default_factory=list)

    admin = ("admin", ADMIN_PASSWORD)
    operator = OPERATOR
    viewer = VIEWER

    def token(self, user: tuple[str, str] | None = None) -> str:
        username, password = user or self.admin
        r = httpx.post(f"{self.management}/api/v1/auth/login",
                       data={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        return str(r.json()["access_token"])

    def api(self, user: tuple[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.management, timeout=15,
                            headers={"Authorization": f"Bearer {self.token(user)}"})

    def internal_event(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.management}/internal/events", json=body, timeout=10,
                          headers={"X-Internal-Api-Key": INTERNAL})

    def camsim(self, camera: str) -> dict[str, Any]:
        r = httpx.get(f"{self.control}/cameras/{camera}", timeout=5)
        r.raise_for_status()
        return dict(r.json())

    def fault(self, camera: str, body: dict[str, Any]) -> None:
        httpx.post(f"{self.control}/faults/{camera}", json=body, timeout=5).raise_for_status()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in self.procs)


class _Launcher:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.procs: list[Proc] = []

    def start(self, name: str, argv: list[str], env: dict[str, str],
              ready_line: str | None = None, timeout_s: float = 60) -> tuple[Proc, str]:
        log = self.run_dir / f"{name}.log"
        out: IO[bytes] | int = subprocess.PIPE if ready_line else log.open("wb")
        popen = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        if not ready_line:
            return proc, ""
        assert popen.stdout is not None
        sink = log.open("wb")
        found: list[str] = []
        got = threading.Event()

        def pump() -> None:  # drain forever so a full pipe never blocks the child
            assert popen.stdout is not None
            for raw in iter(popen.stdout.readline, b""):
                sink.write(raw)
                sink.flush()
                line = raw.decode(errors="replace")
                if not got.is_set() and line.startswith(ready_line):
                    found.append(line[len(ready_line):].strip())
                    got.set()
            got.set()

        threading.Thread(target=pump, daemon=True).start()
        if not got.wait(timeout_s) or not found:
            raise RuntimeError(f"{name} did not start:\n{proc.tail()}")
        return proc, found[0]


def _pg(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _drop_namespace(namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def build_console() -> Path:
    """web-frontend/dist, built once if missing (``make test`` builds it before pytest)."""
    dist = CONSOLE / "dist"
    if not (dist / "index.html").exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("web-frontend/dist is missing and npm is not installed")
        if not (CONSOLE / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONSOLE, check=True,
                           timeout=600)
        subprocess.run([npm, "run", "build"], cwd=CONSOLE, check=True, timeout=600)
    return dist


def _seed(api: httpx.Client, rtsp: int, onvif: dict[str, int], n: int) -> dict[str, int]:
    ids: dict[str, int] = {}
    for i in range(1, n + 1):
        cam = f"cam{i}"
        body: dict[str, Any] = {
            "name": f"Camera {i}" + (" (PTZ)" if i == 1 else ""),
            "stream_url": f"rtsp://127.0.0.1:{rtsp}/{cam}/main",
            "sub_stream_url": f"rtsp://127.0.0.1:{rtsp}/{cam}/sub",
            "username": CAM_USER, "password": CAM_PASSWORD, "has_ptz": i == 1,
            "connect_timeout_s": 2.0, "read_timeout_s": 2.0,
        }
        if cam in onvif:
            body |= {"onvif_host": "127.0.0.1", "onvif_port": onvif[cam]}
        r = api.post("/api/v1/cameras", json=body)
        r.raise_for_status()
        ids[cam] = int(r.json()["id"])
    every = list(ids.values())
    for (username, password), role, grant in ((OPERATOR, "operator", every),
                                              (VIEWER, "viewer", every[:2])):
        r = api.post("/api/v1/users", json={"username": username, "password": password,
                                             "roles": [role]})
        r.raise_for_status()
        api.put(f"/api/v1/users/{r.json()['id']}/cameras",
                json={"camera_ids": grant}).raise_for_status()
    cells: list[int | None] = [*every[:4], *[None] * max(0, 4 - len(every))]
    api.post("/api/v1/layouts", json={"name": "Lobby (shared)", "grid": 4, "cells": cells[:4],
                                      "shared": True}).raise_for_status()
    return ids


@contextlib.contextmanager
def console_stack(cameras: int = 4, recording: bool = True, resolution: str = "320x180",
                  sub_resolution: str = "160x90", fps: int = 30,
                  log_dir: Path | None = None) -> Iterator[ConsoleStack]:
    """Start the whole stack; yields when the console answers through nginx."""
    dist = build_console()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    run_dir = Path(tempfile.mkdtemp(prefix="argus-console-"))
    run_dir.chmod(0o755)  # nginx workers (nobody when started as root) use its temp dirs
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
    launcher = _Launcher(log_dir or run_dir)
    namespace = f"argus-console-{uuid.uuid4().hex[:8]}"
    db_name = f"argus_console_{uuid.uuid4().hex[:10]}"
    _pg(f'CREATE DATABASE "{db_name}"')
    recordings = run_dir / "recordings"
    recordings.mkdir()
    base = {**os.environ, "ARGUS_ENV": "test", "SECRET_KEY": SECRET, "INTERNAL_API_KEY": INTERNAL,
            "REDIS_URL": REDIS_URL, "ARGUS_REDIS_NAMESPACE": namespace, "LOG_LEVEL": "WARNING",
            "RECORDINGS_DIR": str(recordings)}
    try:
        control = free_port()
        _, ready = launcher.start("camera-simulator", [
            str(BIN / "argus-camsim"), "--cameras", str(cameras), "--host", "127.0.0.1",
            "--rtsp-port", str(free_port()), "--control-port", str(control),
            "--onvif-port", "0", "--auth", "digest", "--username", CAM_USER,
            "--password", CAM_PASSWORD, "--resolution", resolution,
            "--sub-resolution", sub_resolution, "--fps", str(fps), "--gop", "1",
            "--linger", "5", "--log-level", "WARNING",
        ], dict(os.environ), ready_line="argus-camsim ready ", timeout_s=90)
        info = json.loads(ready)

        mport = free_port()
        management = f"http://127.0.0.1:{mport}"
        launcher.start("management", [str(BIN / "argus-management")], {
            **base, "DATABASE_URL": f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{db_name}",
            "ARGUS_ADMIN_USERNAME": "admin", "ARGUS_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "MANAGEMENT_PORT": str(mport), "MANAGEMENT_HOST": "127.0.0.1",
            "MANAGEMENT_BCRYPT_ROUNDS": "4", "ARGUS_DATA_DIR": str(run_dir),
            "MANAGEMENT_LIVENESS_INTERVAL_S": "1", "MANAGEMENT_LIVENESS_EVIDENCE_S": "2",
            "MANAGEMENT_LIVENESS_ALERT_WINDOW_S": "0", "ARGUS_PUBLIC_URL": "http://127.0.0.1",
        })
        wait_until(lambda: http_ok(f"{management}/readyz"), 60, "management")
        token = httpx.post(f"{management}/api/v1/auth/login", timeout=10, data={
            "username": "admin", "password": ADMIN_PASSWORD}).json()["access_token"]
        with httpx.Client(base_url=management, timeout=15,
                          headers={"Authorization": f"Bearer {token}"}) as api:
            ids = _seed(api, int(info["rtsp_port"]), dict(info["onvif_ports"]), cameras)

        sport = free_port()
        streaming = f"http://127.0.0.1:{sport}"
        launcher.start("streaming", [str(BIN / "argus-streaming")], {
            **base, "MANAGEMENT_URL": management, "STREAMING_PORT": str(sport),
            "STREAMING_HOST": "127.0.0.1", "STREAMING_ICE_ADDRESSES": "127.0.0.1",
            "STREAMING_SOURCE_LINGER_S": "5", "STREAMING_ACCESS_CACHE_S": "5",
        })
        wait_until(lambda: http_ok(f"{streaming}/healthz"), 60, "streaming-service")

        recorder = BIN / "argus-recording"
        has_recorder = recording and recorder.exists()
        if has_recorder:
            launcher.start("recording", [str(recorder)], {
                **base, "MANAGEMENT_URL": management, "RECORDING_SEGMENT_SECONDS": "2",
                "RECORDING_METRICS_PORT": str(free_port()), "RECORDING_FSYNC": "false",
                "RECORDING_INSTANCE_ID": f"e2e-{uuid.uuid4().hex[:6]}",
                "RECORDINGS_MIN_FREE_BYTES": "0", "RECORDING_MIN_FREE_PERCENT": "0",
            })

        port = free_port()
        runtime = run_dir / "nginx"
        runtime.mkdir()
        runtime.chmod(0o755)
        conf = run_dir / "nginx.conf"
        conf.write_text(render_nginx(TEMPLATE.read_text(), {
            "ARGUS_LISTEN": f"127.0.0.1:{port}", "ARGUS_STATIC_ROOT": str(dist),
            "ARGUS_MANAGEMENT_UPSTREAM": f"127.0.0.1:{mport}",
            "ARGUS_STREAMING_UPSTREAM": f"127.0.0.1:{sport}",
            "ARGUS_RUNTIME_DIR": str(runtime), "ARGUS_ACCESS_LOG": str(runtime / "access.log"),
        }))
        launcher.start("nginx", [nginx, "-e", "stderr", "-c", str(conf)], dict(os.environ))
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_ok(f"{url}/nginx-healthz"), 20, "nginx")
        yield ConsoleStack(url=url, management=management, streaming=streaming,
                           control=f"http://127.0.0.1:{control}", cameras=ids, run_dir=run_dir,
                           recordings=recordings, recording=has_recorder, procs=launcher.procs)
    finally:
        for proc in reversed(launcher.procs):
            proc.stop()
        with contextlib.suppress(Exception):
            _pg(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        with contextlib.suppress(Exception):
            _drop_namespace(namespace)
        shutil.rmtree(run_dir, ignore_errors=True)


def motion_event(camera_id: int, start: datetime, seconds: float) -> dict[str, Any]:
    """An ``EventMessage`` body for ``POST /internal/events`` (a red range on the timeline)."""
    return {"id": f"e2e-{uuid.uuid4().hex[:12]}", "type": "motion.start", "camera_id": camera_id,
            "ts": start.isoformat(), "ends_at": (start + timedelta(seconds=seconds)).isoformat(),
            "severity": "warning", "payload": {"source": "console-e2e"}}


def utcnow() -> datetime:
    return datetime.now(UTC)
