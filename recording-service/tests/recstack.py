"""Real processes for the recording tests: PostgreSQL database, management, the camera
simulator and recorders, each on free 127.0.0.1 ports and stopped by PID (argus_testkit: the
service table's argv and settings, a log file per process, readiness checks). ``Stack`` is
the four-camera scenario the test_recording_*_e2e modules share (fixture in conftest.py)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import av
import httpx

from argus_camsim.stamp import read_timestamp_ms
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
SECRET = "rec-test-secret-key-0123456789abcdef"
INTERNAL = "rec-test-internal-key-0123456789abcdef"
ADMIN_PASSWORD = "rec-admin-password-1"
CAMERA_PASSWORD = "s3cr@t:/pw%"  # needs percent-encoding in a URL
SECRETS = kit.Secrets(SECRET, INTERNAL, "admin", ADMIN_PASSWORD)
LOGS = Path(tempfile.mkdtemp(prefix="argus-rec-tests-"))  # one log file per process

T = TypeVar("T")

__all__ = ["ROOT", "Proc", "free_port"]

# Processes whose output is attached to a failed wait (set by the test module).
WATCHED: list[Proc] = []


def wait_until(check: Callable[[], T], timeout: float, interval: float = 0.5,
               what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    def logs() -> str:
        return "\n".join(f"--- {p.name} (pid {p.pid})\n{p.tail(25)}" for p in WATCHED)

    return _wait_until(check, timeout, what, interval, logs)


def run_async(coro: Any) -> Any:
    return kit.run_sync(coro)


class Database(kit.Database):
    """A scratch PostgreSQL database, migrated to head."""

    def __init__(self) -> None:
        super().__init__("argus_rec")

    def create(self, migrate: bool = True) -> Database:
        super().create(migrate)
        return self


def _start(name: str, argv: list[str], env: dict[str, str], ready: Ready | None) -> Proc:
    """Start a process and wait until it is ``ready`` (None: return at once, for a test
    that must watch what it does while it starts)."""
    proc = Proc.start(name, argv, env=env, log=LOGS / f"{name.replace(' ', '-')}-{free_port()}.log",
                      cwd=ROOT)
    if ready is not None:
        proc.wait_ready(ready)  # stops the process when it fails: never left half-started
    return proc


def base_env(namespace: str) -> dict[str, str]:
    return kit.base_env(SECRETS, namespace, log_level="INFO")


def _table(data_dir: Path, **ports: int) -> kit.StackConfig:
    return kit.test_config(data_dir, ports=StackPorts(**ports))


def start_management(db: Database, namespace: str, data_dir: Path) -> tuple[Proc, str]:
    port = free_port()
    spec = kit.service_table(_table(data_dir, management=port))["management"]
    env = {
        **base_env(namespace), **spec.env, **kit.MANAGEMENT_TEST_ENV, "DATABASE_URL": db.url,
        "LOG_LEVEL": "WARNING",
    }
    proc = _start("management", list(spec.argv), env, spec.ready)
    return proc, f"http://127.0.0.1:{port}"


def start_simulator(cameras: int, *extra: str) -> tuple[Proc, int, int]:
    rtsp, control = free_port(), free_port()
    argv = [str(BIN / "argus-camsim"), "--cameras", str(cameras), "--host", "127.0.0.1",
            "--rtsp-port", str(rtsp), "--control-port", str(control), "--no-onvif",
            "--linger", "2", *extra]
    proc = _start("camera-simulator", argv, dict(os.environ), Ready(line=kit.CAMSIM_READY,
                                                                   timeout_s=90))
    info = json.loads(proc.ready_line or "{}")
    return proc, int(info["rtsp_port"]), int(info["control_port"])


def start_recorder(
    namespace: str, management_url: str, recordings: Path, instance: str, wait: bool = True,
    **settings: str,
) -> tuple[Proc, str]:
    port = free_port()
    spec = kit.service_table(_table(recordings.parent, recording_metrics=port))["recording"]
    env = {
        **base_env(namespace), **spec.env, "MANAGEMENT_URL": management_url,
        "RECORDINGS_DIR": str(recordings), "RECORDING_INSTANCE_ID": instance, **settings,
    }
    url = f"http://127.0.0.1:{port}"
    env = redis_acl.as_service("recording", env, kit.REDIS_URL)  # ARGUS_TEST_REDIS_ACL=1
    proc = _start(f"recorder {instance}", list(spec.argv), env,
                  Ready(http=f"{url}/readyz", timeout_s=30) if wait else None)
    return proc, url


def admin_api(management_url: str) -> httpx.Client:
    """A client of management, logged in as the tests' admin (the login is asserted)."""
    api = httpx.Client(base_url=management_url, timeout=10)
    token = api.post("/api/v1/auth/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert token.status_code == 200, token.text
    api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return api


def drop_namespace(namespace: str) -> None:
    """Delete the Redis keys a stack wrote under ``namespace:``."""
    kit.drop_namespace(namespace, REDIS_URL)


def burnt_stamps(path: Path) -> tuple[int, int | None, int | None]:
    """A recording's frame count and the simulator's burnt-in times (epoch ms) of its
    first and last frame (None where a frame carries no readable stamp)."""
    first = last = None
    count = 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            stamp = read_timestamp_ms(frame.to_ndarray(format="gray"), frame.width, frame.height)
            first = stamp if count == 0 else first
            last = stamp
            count += 1
    return count, first, last


# The scenario shared by test_recording_{content,faults,handover}_e2e: segments are 5 s,
# GOPs 1 s, pictures 320x180 at 15 fps.
FPS = 15
FRAME_MS = 1000 / FPS
SEGMENT_S = 5
RECORDER = {
    "RECORDING_SEGMENT_SECONDS": str(SEGMENT_S),
    "RECORDING_LEASE_TTL_S": "3",
    "RECORDING_PRE_ROLL_S": "5",
    "RECORDING_POST_ROLL_S": "2",
    "RECORDING_DISK_CHECK_INTERVAL_S": "1",
    "RECORDING_RETENTION_INTERVAL_S": "1",
    "RECORDINGS_MIN_FREE_BYTES": "0",
    "RECORDING_MIN_FREE_PERCENT": "0",
    "RECORDING_CAMERA_REFRESH_S": "30",
}


@dataclass
class Stack:
    """Management, a four-camera simulator and the recorders a test module started."""

    db: Database
    namespace: str
    api: httpx.Client
    recordings: Path
    control: str
    management: str
    cameras: dict[str, int]
    recorders: dict[str, tuple[Proc, str]] = field(default_factory=dict)
    started: list[Proc] = field(default_factory=list)

    def start_recorder(self, instance: str, **extra: str) -> tuple[Proc, str]:
        self.recorders[instance] = start_recorder(
            self.namespace, self.management, self.recordings, instance, **{**RECORDER, **extra}
        )
        self.started.append(self.recorders[instance][0])
        WATCHED[:] = [proc for proc, _ in self.recorders.values()]
        return self.recorders[instance]

    def errors(self) -> list[str]:
        """Error lines and tracebacks any recorder logged (none is expected)."""
        return [
            line
            for proc in self.started
            for line in proc.output
            if ('"level": "error"' in line or "Traceback" in line)
            and '"route": "/readyz"' not in line
        ]  # 503 until cameras are loaded

    def status(self, instance: str) -> dict[str, Any]:
        proc, url = self.recorders[instance]
        assert proc.alive, proc.tail()
        return dict(httpx.get(f"{url}/status", timeout=5).json())

    def fault(self, cam: str, body: dict[str, Any]) -> None:
        resp = httpx.post(f"{self.control}/faults/{cam}", json=body, timeout=10)
        assert resp.status_code == 200, resp.text

    def timeline(self, camera_id: int, since: datetime) -> dict[str, Any]:
        now = datetime.now(UTC)
        resp = self.api.get(
            f"/api/v1/cameras/{camera_id}/timeline",
            params={"start": since.isoformat(), "end": (now + timedelta(minutes=1)).isoformat()},
        )
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def rows(self, camera_id: int) -> list[dict[str, Any]]:
        return self.db.fetch(
            "SELECT * FROM recording_segments WHERE camera_id = $1 ORDER BY started_at", camera_id
        )

    def events(self, camera_id: int, type: str) -> list[dict[str, Any]]:
        resp = self.api.get("/api/v1/events", params={"camera_id": camera_id, "type": type})
        assert resp.status_code == 200, resp.text
        return list(resp.json()["items"])


def ts_ms(value: str) -> float:
    """An API timestamp (ISO 8601) in epoch milliseconds."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000


def stamps(path: Path) -> tuple[int, list[int | None]]:
    """Frame count and the burnt-in times of the first and last frame."""
    count, first, last = burnt_stamps(path)
    return count, [first, last]
