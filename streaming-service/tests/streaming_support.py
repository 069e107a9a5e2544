"""Test support of streaming-service: real PostgreSQL, Redis, management, cameras.

Once per run: a fresh PostgreSQL database, ``argus-management`` as a subprocess on it, the
camera simulator as a subprocess (small pictures: 320x180), and streaming-service served by
uvicorn in this process on 127.0.0.1. Processes are stopped by PID; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from argus_common.jwt import JwtCodec
from argus_streaming.config import Settings
from argus_streaming.main import create_app

PG_DSN = os.environ.get("ARGUS_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("ARGUS_TEST_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "test-secret-key-0123456789abcdef"
INTERNAL = "test-internal-key-0123456789abcdef"
ADMIN_PASSWORD = "admin-password-123"
CAM_USER = "admin"
CAM_PASSWORD = "p@ss:w/rd %"  # characters that must be percent-encoded in a URL
BIN = Path(sys.executable).parent
WIDTH, HEIGHT, FPS = 320, 180, 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    name = f"argus_stream_test_{uuid.uuid4().hex[:10]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}"
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def management_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``argus-management`` as a real process (it migrates the new database itself)."""
    port = free_port()
    env = {
        **os.environ, "ARGUS_ENV": "test", "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL, "ARGUS_REDIS_NAMESPACE": f"argus-st-{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": SECRET, "INTERNAL_API_KEY": INTERNAL, "ARGUS_ADMIN_USERNAME": "admin",
        "ARGUS_ADMIN_PASSWORD": ADMIN_PASSWORD, "MANAGEMENT_PORT": str(port),
        "MANAGEMENT_HOST": "127.0.0.1", "MANAGEMENT_BCRYPT_ROUNDS": "4",
        "ARGUS_DATA_DIR": str(tmp_path_factory.mktemp("mgmt")), "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen([str(BIN / "argus-management")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        assert _wait_http(f"{url}/healthz", 60), "management did not start"
        yield url
    finally:
        _stop(proc)


@dataclass
class Camsim:
    rtsp_port: int
    proc: subprocess.Popen[bytes]
    control_port: int = 0

    def url(self, n: int, stream: str = "main") -> str:
        return f"rtsp://127.0.0.1:{self.rtsp_port}/cam{n}/{stream}"


def start_camsim(*extra: str, cameras: int = 2) -> Camsim:
    """Start ``argus-camsim`` and wait (bounded) for its ready line."""
    port, control = free_port(), free_port()
    argv = [str(BIN / "argus-camsim"), "--cameras", str(cameras), "--rtsp-port", str(port),
            "--control-port", str(control), "--onvif-port", "0", "--no-onvif",
            "--resolution", f"{WIDTH}x{HEIGHT}", "--sub-resolution", "160x90",
            "--fps", str(FPS), "--gop", "1", "--linger", "2", "--log-level", "WARNING", *extra]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        if line.startswith("argus-camsim ready"):
            json.loads(line.split(" ", 2)[2])
            # Drain later output so a full pipe can never block the simulator.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return Camsim(port, proc, control)
        if not line and proc.poll() is not None:
            break
    _stop(proc)
    raise RuntimeError("camera simulator did not start")


@pytest.fixture(scope="session")
def camsim() -> Iterator[Camsim]:
    sim = start_camsim("--auth", "digest", "--username", CAM_USER, "--password", CAM_PASSWORD)
    try:
        yield sim
    finally:
        _stop(sim.proc)


@dataclass
class World:
    """Everything a test needs: URLs, tokens, camera ids."""

    management_url: str
    base_url: str
    app: FastAPI
    codec: JwtCodec
    admin_id: int
    viewer_id: int  # may see ``camera_id`` only
    outsider_id: int  # may see nothing
    camera_id: int  # simulator cam1 (credentials in management)
    camera2_id: int  # simulator cam2
    dead_camera_id: int  # nothing listens at its URL
    camsim: Camsim
    recordings: Path
    extra: dict[str, int] = field(default_factory=dict)

    def token(self, user_id: int, ttl_s: int = 900) -> str:
        return self.codec.issue(str(user_id), "access", ttl_s).token

    def auth(self, user_id: int | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id or self.admin_id)}"}

    async def add_camera(self, name: str, stream_url: str, **fields: object) -> int:
        """Register a camera in management (as admin); returns its id."""
        async with httpx.AsyncClient(base_url=self.management_url, timeout=10) as mgmt:
            resp = await mgmt.post("/api/v1/cameras", headers=self.auth(), json={
                "name": name, "stream_url": stream_url, **fields})
        assert resp.status_code == 201, resp.text
        return int(resp.json()["id"])


def _setup_management(url: str, camsim: Camsim) -> dict[str, int]:
    with httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/api/v1/auth/login", data={"username": "admin", "password": ADMIN_PASSWORD})
        r.raise_for_status()
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        me = c.get("/api/v1/users/me", headers=h).json()
        ids: dict[str, int] = {"admin": int(me["id"])}
        for key, n in (("cam1", 1), ("cam2", 2)):
            r = c.post("/api/v1/cameras", headers=h, json={
                "name": f"sim {n}", "stream_url": camsim.url(n, "main"),
                "sub_stream_url": camsim.url(n, "sub"), "username": CAM_USER,
                "password": CAM_PASSWORD, "connect_timeout_s": 2.0, "read_timeout_s": 2.0,
            })
            assert r.status_code == 201, r.text
            ids[key] = int(r.json()["id"])
        dead = free_port()  # nothing listens there
        r = c.post("/api/v1/cameras", headers=h, json={
            "name": "dead", "stream_url": f"rtsp://127.0.0.1:{dead}/x",
            "connect_timeout_s": 1.0, "read_timeout_s": 1.0,
        })
        assert r.status_code == 201, r.text
        ids["dead"] = int(r.json()["id"])
        for role in ("viewer", "outsider"):
            r = c.post("/api/v1/users", headers=h, json={
                "username": f"{role}-{uuid.uuid4().hex[:6]}", "password": "viewer-password-1",
                "roles": ["viewer"]})
            assert r.status_code == 201, r.text
            ids[role] = int(r.json()["id"])
        r = c.put(f"/api/v1/users/{ids['viewer']}/cameras", headers=h,
                  json={"camera_ids": [ids["cam1"]]})
        assert r.status_code == 200, r.text
        return ids


def streaming_settings(management_url: str, recordings: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "ARGUS_ENV": "test", "SECRET_KEY": SECRET, "INTERNAL_API_KEY": INTERNAL,
        "REDIS_URL": REDIS_URL, "MANAGEMENT_URL": management_url,
        "RECORDINGS_DIR": str(recordings), "STREAMING_ICE_ADDRESSES": "127.0.0.1",
        "STREAMING_SOURCE_LINGER_S": 1.0, "STREAMING_HLS_SWEEP_S": 0.2,
        "STREAMING_ACCESS_CACHE_S": 2.0, "STREAMING_MAX_VIEWERS_PER_CAMERA": 6,
        "STREAMING_RTSP_CONNECT_TIMEOUT_S": 3.0, "LOG_LEVEL": "WARNING",
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


async def serve(app: FastAPI) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "streaming-service did not start"
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
async def world(
    management_url: str, camsim: Camsim, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    ids = await asyncio.to_thread(_setup_management, management_url, camsim)
    recordings = tmp_path_factory.mktemp("recordings")
    settings = streaming_settings(management_url, recordings)
    app = create_app(settings)
    server, task, base = await serve(app)
    yield World(
        management_url=management_url, base_url=base, app=app,
        codec=JwtCodec(SECRET, settings.jwt_issuer, settings.jwt_audience),
        admin_id=ids["admin"], viewer_id=ids["viewer"], outsider_id=ids["outsider"],
        camera_id=ids["cam1"], camera2_id=ids["cam2"], dead_camera_id=ids["dead"],
        camsim=camsim, recordings=recordings,
    )
    server.should_exit = True
    await asyncio.wait_for(task, 15)


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=world.base_url, timeout=15) as c:
        yield c


def chromium_path() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
