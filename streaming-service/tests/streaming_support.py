"""Test support of streaming-service: real PostgreSQL, Redis, management, cameras.

Once per run: a fresh PostgreSQL database, ``argus-management`` as a subprocess on it, the
camera simulator as a subprocess (small pictures: 320x180), and streaming-service served by
uvicorn in this process on 127.0.0.1. Processes come from argus_testkit (the service table, a
log file each) and are stopped by PID; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from argus_common.jwt import JwtCodec
from argus_common.keys import development_keys
from argus_streaming.config import Settings
from argus_streaming.main import create_app
from argus_testkit import stack as kit
from argus_testkit.ports import free_port
from argus_testkit.process import Launcher, Proc

PG_DSN = kit.PG_DSN
REDIS_URL = kit.REDIS_URL
SECRET = "test-secret-key-0123456789abcdef"
INTERNAL = "test-internal-key-0123456789abcdef"
ADMIN_PASSWORD = "admin-password-123"
CAM_USER = "admin"
CAM_PASSWORD = "p@ss:w/rd %"  # characters that must be percent-encoded in a URL
WIDTH, HEIGHT, FPS = 320, 180, 30
SECRETS = kit.Secrets(SECRET, INTERNAL, "admin", ADMIN_PASSWORD)
# Every process of this run logs to a file of its own here.
LOGS = Path(tempfile.mkdtemp(prefix="argus-streaming-tests-"))
# management's Redis namespace this run (streaming follows its argus:authz there).
NAMESPACE: dict[str, str] = {}


def _stop(proc: Proc) -> None:
    """Stop a process started here (SIGTERM to its group, then SIGKILL)."""
    proc.stop()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with kit.scratch_database("argus_stream_test") as db:
        yield db.url


@pytest.fixture(scope="session")
def redis_namespace() -> Iterator[str]:
    """The Redis namespace management and streaming share in this run (``argus:audit``,
    ``argus:authz`` …)."""
    with kit.redis_namespace("argus-st") as namespace:
        yield namespace


@pytest.fixture(scope="session")
def management_url(
    database_url: str, redis_namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``argus-management`` as a real process (it migrates the new database itself)."""
    data = tmp_path_factory.mktemp("mgmt")
    cfg = kit.test_config(data)
    namespace = redis_namespace
    with Launcher(LOGS) as launcher:
        NAMESPACE["name"] = namespace
        kit.start(launcher, cfg, "management", kit.base_env(SECRETS, namespace),
                  DATABASE_URL=database_url, MANAGEMENT_BCRYPT_ROUNDS="4")
        yield cfg.management_url


@dataclass
class Camsim:
    rtsp_port: int
    proc: Proc
    control_port: int = 0

    def url(self, n: int, stream: str = "main") -> str:
        return f"rtsp://127.0.0.1:{self.rtsp_port}/cam{n}/{stream}"


def start_camsim(*extra: str, cameras: int = 2) -> Camsim:
    """Start ``argus-camsim`` (no auth unless ``extra`` asks) and wait (bounded) for its
    ready line."""
    cfg = kit.test_config(LOGS, cameras=cameras, resolution=f"{WIDTH}x{HEIGHT}")
    sim = kit.start_simulator(Launcher(LOGS), cfg, "--auth", "none", "--no-onvif",
                              "--sub-resolution", "160x90", "--fps", str(FPS), "--gop", "1",
                              "--linger", "2", "--log-level", "WARNING", *extra,
                              timeout_s=30, name=f"camsim-{uuid.uuid4().hex[:6]}")
    return Camsim(sim.rtsp_port, sim.proc, sim.control_port)


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
        "ARGUS_REDIS_NAMESPACE": NAMESPACE.get("name", "argus-st-unset"),
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


async def serve(app: FastAPI) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    port = free_port()
    # A client a test left connected (a WebSocket, a keep-alive) delays the shutdown 5 s at
    # most; the app's own shutdown is still waited for.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           lifespan="on", timeout_graceful_shutdown=5))
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "streaming-service did not start"
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
async def world(
    management_url: str, camsim: Camsim, tmp_path_factory: pytest.TempPathFactory,
    redis_namespace: str,
) -> AsyncIterator[World]:
    ids = await asyncio.to_thread(_setup_management, management_url, camsim)
    recordings = tmp_path_factory.mktemp("recordings")
    settings = streaming_settings(management_url, recordings,
                                  ARGUS_REDIS_NAMESPACE=redis_namespace)
    app = create_app(settings)
    server, task, base = await serve(app)
    yield World(
        management_url=management_url, base_url=base, app=app,
        codec=JwtCodec(development_keys(), settings.jwt_issuer, settings.jwt_audience),
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
