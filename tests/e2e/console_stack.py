"""The native ARGUS stack for the console's end-to-end tests and benchmark.

Starts, on free ports and stopped by PID (argus_testkit: the service table that ``make run``
uses, a log file per process, readiness checks): a scratch PostgreSQL database, management
(own Redis namespace), the camera simulator (N small cameras, ONVIF with PTZ on cam1),
streaming-service, recording-service when installed, and Debian's nginx serving the built
console through the Docker image's entrypoint (envsubst of web-frontend/nginx/
argus.conf.template).
Seeds users (operator, viewer), a shared layout and grants. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import ssl
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from argus_common.service_keys import derive_service_key
from argus_testkit import stack as kit
from argus_testkit.factories import login
from argus_testkit.ports import free_port
from argus_testkit.process import Launcher, Proc, Ready
from argus_testkit.services import ROOT
from argus_testkit.wait import http_ok, wait_until

CONSOLE = ROOT / "web-frontend"
SECRET = "console-e2e-secret-0123456789abcdef"
INTERNAL = "console-e2e-internal-0123456789abcdef"
ADMIN_PASSWORD = "admin-password-123"
OPERATOR = ("operator1", "operator-password-1")
VIEWER = ("viewer1", "viewer-password-1")
CAM_USER, CAM_PASSWORD = "admin", "camera-pass"
SECRETS = kit.Secrets(SECRET, INTERNAL, "admin", ADMIN_PASSWORD)

__all__ = ["ROOT", "free_port", "http_ok", "wait_until"]


@dataclass
class ConsoleStack:
    """URLs, credentials and ids of a running stack."""

    url: str  # the console, through nginx (HTTPS)
    management: str
    streaming: str
    control: str  # camera simulator control API
    cameras: dict[str, int]
    run_dir: Path
    recordings: Path
    recording: bool
    procs: list[Proc] = field(default_factory=list)
    http_url: str = ""  # the console's plain HTTP port (redirects to url)
    cert: Path | None = None  # the certificate nginx made for itself (self-signed)

    @property
    def verify(self) -> ssl.SSLContext:
        """TLS verification for httpx against the console's own certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

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
                          headers={"X-Internal-Api-Key": derive_service_key(INTERNAL,
                                                                            "analysis")})

    def camsim(self, camera: str) -> dict[str, Any]:
        r = httpx.get(f"{self.control}/cameras/{camera}", timeout=5)
        r.raise_for_status()
        return dict(r.json())

    def fault(self, camera: str, body: dict[str, Any]) -> None:
        httpx.post(f"{self.control}/faults/{camera}", json=body, timeout=5).raise_for_status()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in self.procs)


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
                  log_dir: Path | None = None, segment_seconds: int = 2,
                  camsim_args: tuple[str, ...] = (),
                  analysis: dict[str, str] | None = None) -> Iterator[ConsoleStack]:
    """Start the whole stack; yields when the console answers through nginx.
    ``camsim_args``: more simulator arguments; ``analysis``: start ai-analysis-service too,
    with these settings."""
    dist = build_console()
    run_dir = Path(tempfile.mkdtemp(prefix="argus-console-"))
    run_dir.chmod(0o755)  # nginx workers (nobody when started as root) use its temp dirs
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
    launcher = Launcher(log_dir or run_dir, ROOT)
    cfg = kit.test_config(run_dir, cameras=cameras, resolution=resolution,
                          camera_user=CAM_USER, camera_password=CAM_PASSWORD,
                          console_dist=dist)
    recordings = cfg.recordings
    recordings.mkdir()
    db = kit.Database("argus_console")
    namespace = f"argus-console-{uuid.uuid4().hex[:8]}"
    base = {**kit.base_env(SECRETS, namespace), "RECORDINGS_DIR": str(recordings)}
    try:
        db.create()
        sim = kit.start_simulator(launcher, cfg, "--onvif-port", "0", "--sub-resolution",
                                  sub_resolution, "--fps", str(fps), "--gop", "1",
                                  "--linger", "5", "--log-level", "WARNING", *camsim_args)
        management = cfg.management_url
        kit.start(launcher, cfg, "management", base, DATABASE_URL=db.url,
                  MANAGEMENT_BCRYPT_ROUNDS="4", MANAGEMENT_LIVENESS_INTERVAL_S="1",
                  MANAGEMENT_LIVENESS_EVIDENCE_S="2", MANAGEMENT_LIVENESS_ALERT_WINDOW_S="0",
                  ARGUS_PUBLIC_URL="http://127.0.0.1")
        token = login(management, "admin", ADMIN_PASSWORD)
        with httpx.Client(base_url=management, timeout=15,
                          headers={"Authorization": f"Bearer {token}"}) as api:
            ids = _seed(api, sim.rtsp_port, sim.onvif_ports, cameras)

        kit.start(launcher, cfg, "streaming", base, STREAMING_ICE_ADDRESSES="127.0.0.1",
                  STREAMING_SOURCE_LINGER_S="5", STREAMING_ACCESS_CACHE_S="5")
        has_recorder = recording and (cfg.bin_dir / "argus-recording").exists()
        if has_recorder:
            # Not awaited, as before: the console tests need it only for the timeline.
            kit.start(launcher, cfg, "recording", base,
                      ready=Ready(tcp=cfg.ports.recording_metrics, timeout_s=60),
                      RECORDING_SEGMENT_SECONDS=str(segment_seconds), RECORDING_FSYNC="false",
                      RECORDING_INSTANCE_ID=f"e2e-{uuid.uuid4().hex[:6]}",
                      RECORDINGS_MIN_FREE_BYTES="0", RECORDING_MIN_FREE_PERCENT="0")
        if analysis is not None:
            kit.start(launcher, cfg, "analysis", base, **analysis)
        # The console image's entrypoint renders the template (envsubst) and runs nginx.
        kit.start(launcher, cfg, "console", dict(os.environ))
        yield ConsoleStack(url=cfg.console_url, http_url=cfg.console_http_url,
                           cert=cfg.console_cert, management=management,
                           streaming=cfg.streaming_url, control=sim.control, cameras=ids,
                           run_dir=run_dir, recordings=recordings, recording=has_recorder,
                           procs=launcher.procs)
    finally:
        launcher.stop_all()
        with contextlib.suppress(Exception):
            db.drop()
        with contextlib.suppress(Exception):
            kit.drop_namespace(namespace)
        shutil.rmtree(run_dir, ignore_errors=True)


def motion_event(camera_id: int, start: datetime, seconds: float) -> dict[str, Any]:
    """An ``EventMessage`` body for ``POST /internal/events`` (a red range on the timeline)."""
    return {"id": f"e2e-{uuid.uuid4().hex[:12]}", "type": "motion.start", "camera_id": camera_id,
            "ts": start.isoformat(), "ends_at": (start + timedelta(seconds=seconds)).isoformat(),
            "severity": "warning", "payload": {"source": "console-e2e"}}


def utcnow() -> datetime:
    return datetime.now(UTC)
