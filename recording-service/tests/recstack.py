"""Real processes for the recording tests: PostgreSQL database, management, the camera
simulator and recorders, each on free 127.0.0.1 ports and stopped by PID (argus_testkit: the
service table's argv and settings, a log file per process, readiness checks)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import av

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
