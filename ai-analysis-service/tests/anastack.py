"""Real processes for the analysis tests and benchmarks: a scratch PostgreSQL database,
management, the camera simulator and the analyser, each on free 127.0.0.1 ports and
stopped by PID (argus_testkit: the service table's argv and settings, a log file per
process, readiness checks)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from argus_testkit import redis_acl
from argus_testkit import stack as kit
from argus_testkit.ports import free_port
from argus_testkit.process import Proc, Ready
from argus_testkit.services import StackPorts
from argus_testkit.wait import wait_until as _wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_DSN = kit.PG_DSN
REDIS_URL = kit.REDIS_URL
SECRET = "ana-test-secret-key-0123456789abcdef"
INTERNAL = "ana-test-internal-key-0123456789abcdef"
ADMIN_PASSWORD = "ana-admin-password-1"
CAM_USER, CAM_PASSWORD = "viewer", "p@ss:w/rd%"  # needs percent-encoding in a URL
SECRETS = kit.Secrets(SECRET, INTERNAL, "admin", ADMIN_PASSWORD)
LOGS = Path(tempfile.mkdtemp(prefix="argus-ana-tests-"))  # one log file per process

T = TypeVar("T")

__all__ = ["ROOT", "Proc", "free_port"]


def wait_until(check: Callable[[], T], timeout: float, interval: float = 0.2,
               what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    return _wait_until(check, timeout, what, interval)


class Database(kit.Database):
    """A scratch PostgreSQL database, migrated to head; ``fetch`` works from sync code and
    from inside a running loop."""

    def __init__(self) -> None:
        super().__init__("argus_ana")

    def create(self, migrate: bool = True) -> Database:
        super().create(migrate)
        return self


def base_env(namespace: str) -> dict[str, str]:
    return kit.base_env(SECRETS, namespace, log_level="INFO")


def _start(name: str, argv: list[str], env: dict[str, str], ready: Ready) -> Proc:
    proc = Proc.start(name, argv, env=env, log=LOGS / f"{name}-{free_port()}.log", cwd=ROOT)
    proc.wait_ready(ready)  # stops the process when it fails: never left half-started
    return proc


def _table(data_dir: Path, **ports: int) -> kit.StackConfig:
    return kit.test_config(data_dir, ports=StackPorts(**ports))


def start_management(db: Database, namespace: str, data_dir: Path,
                     **settings: str) -> tuple[Proc, str]:
    port = free_port()
    spec = kit.service_table(_table(data_dir, management=port))["management"]
    env = {
        **base_env(namespace), **spec.env, **kit.MANAGEMENT_TEST_ENV, "DATABASE_URL": db.url,
        "LOG_LEVEL": "WARNING", "MANAGEMENT_LIVENESS_ENABLED": "false", **settings,
    }
    proc = _start("management", list(spec.argv), env, spec.ready)
    return proc, f"http://127.0.0.1:{port}"


def start_simulator(cameras: int, *extra: str) -> tuple[Proc, int, int]:
    rtsp, control = free_port(), free_port()
    argv = [str(BIN / "argus-camsim"), "--cameras", str(cameras), "--host", "127.0.0.1",
            "--rtsp-port", str(rtsp), "--control-port", str(control), "--no-onvif",
            "--auth", "digest", "--username", CAM_USER, "--password", CAM_PASSWORD,
            "--linger", "2", "--log-level", "WARNING", *extra]
    proc = _start("camera-simulator", argv, dict(os.environ),
                  Ready(line=kit.CAMSIM_READY, timeout_s=90))
    info = json.loads(proc.ready_line or "{}")
    return proc, int(info["rtsp_port"]), int(info["control_port"])


def start_analysis(namespace: str, management_url: str, recordings: Path,
                   **settings: str) -> tuple[Proc, str]:
    port = free_port()
    spec = kit.service_table(_table(recordings.parent, analysis_metrics=port))["analysis"]
    env = {
        **base_env(namespace), **spec.env, "MANAGEMENT_URL": management_url,
        "RECORDINGS_DIR": str(recordings), "ANALYSIS_DEVICE": "auto", **settings,
    }
    url = f"http://127.0.0.1:{port}"
    env = redis_acl.as_service("analysis", env, kit.REDIS_URL)  # ARGUS_TEST_REDIS_ACL=1
    proc = _start("ai-analysis-service", list(spec.argv), env,
                  Ready(http=f"{url}/readyz", timeout_s=30))
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
