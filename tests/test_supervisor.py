"""``make run``'s supervisor (scripts/run_stack.py over argus_testkit.supervisor), as real
processes on free ports with a temporary data directory: management (SQLite), the camera
simulator and the recorder, Redis under a namespace of its own.

- its process group stopped with SIGTERM twice and SIGINT in quick succession (what
  ``kill -TERM -- -<pgid>`` does to ``make run``, make forwarding it): an orderly stop, no
  traceback, and no service process left (by the PIDs it reported, and by a scan of /proc
  for its stack id and its data directory);
- the recorder killed with SIGKILL: restarted with backoff while management keeps
  answering /healthz; then the supervisor itself killed with SIGKILL: PR_SET_PDEATHSIG
  stops every service.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from argus_testkit import stack as kit
from argus_testkit.ports import free_port
from argus_testkit.runstate import pid_alive, stack_pids
from argus_testkit.stack import redis_namespace
from argus_testkit.wait import wait_until

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("management", "camera-simulator", "recording")
pytestmark = pytest.mark.timeout(180)


class Run:
    """``run_stack.py`` in a session (process group) of its own."""

    def __init__(self, data: Path, namespace: str) -> None:
        self.data = data
        self.mport = free_port()
        env = {
            **os.environ, "ARGUS_ENV": "test", "ARGUS_REDIS_NAMESPACE": namespace,
            "REDIS_URL": kit.REDIS_URL,
            "MANAGEMENT_PORT": str(self.mport), "MANAGEMENT_BCRYPT_ROUNDS": "4",
            "MANAGEMENT_LIVENESS_ENABLED": "false", "CAMSIM_RTSP_PORT": str(free_port()),
            "CAMSIM_CONTROL_PORT": str(free_port()), "CAMSIM_ONVIF_PORT": "0",
            "CAMSIM_DISCOVERY_PORT": str(free_port()), "CAMSIM_RESOLUTION": "320x180",
            "RECORDING_METRICS_PORT": str(free_port()), "LOG_LEVEL": "WARNING",
        }
        env.pop("DATABASE_URL", None)
        env.pop("RECORDINGS_DIR", None)
        data.mkdir(parents=True)
        self.out = (data / "supervisor.out").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "run_stack.py"), "--data-dir", str(data),
             "--services", ",".join(SERVICES), "--no-demo"],
            env=env, cwd=ROOT, stdout=self.out, stderr=subprocess.STDOUT,
            start_new_session=True)

    @property
    def management(self) -> str:
        return f"http://127.0.0.1:{self.mport}"

    def status(self) -> dict[str, Any]:
        try:
            return dict(json.loads((self.data / "run" / "status.json").read_text()))
        except (OSError, ValueError):
            return {}

    def service(self, name: str) -> dict[str, Any]:
        return next(s for s in self.status().get("services", []) if s["name"] == name)

    def output(self) -> str:
        return (self.data / "supervisor.out").read_text(errors="replace")

    def details(self) -> str:
        logs = "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                       for p in sorted((self.data / "logs").glob("*.log")))
        return f"supervisor:\n{self.output()[-3000:]}{logs}"

    def all_ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"supervisor exited early:\n{self.details()}")
        services = self.status().get("services", [])
        return len(services) == len(SERVICES) and all(s["state"] == "ready" for s in services)

    def wait_ready(self) -> dict[str, Any]:
        wait_until(self.all_ready, 120, "every service ready", 0.2, self.details)
        return self.status()

    def leftovers(self, stack_id: str) -> list[int]:
        """Live processes of this stack: its stack id in their environment, or the data
        directory on their command line."""
        found = set(stack_pids(stack_id))
        marker = str(self.data).encode()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    cmdline = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if marker in cmdline and b"run_stack.py" not in cmdline \
                        and pid_alive(int(entry.name)):
                    found.add(int(entry.name))
        return sorted(found)

    def kill_everything(self) -> None:
        """Test cleanup whatever happened: the supervisor's group, then every service
        group it reported."""
        status = self.status()
        for pgid in [self.proc.pid, *(s.get("pgid") for s in status.get("services", []))]:
            if pgid:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.out.close()


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    with redis_namespace("argus-sup") as namespace:
        r = Run(tmp_path / "data", namespace)
        try:
            yield r
        finally:
            r.kill_everything()


def test_sigterm_twice_to_the_process_group_leaves_no_service(run: Run) -> None:
    status = run.wait_ready()
    pids = [s["pid"] for s in status["services"]]
    assert all(pid_alive(p) for p in pids)
    assert run.leftovers(status["stack_id"]), "the /proc scan finds the running services"
    # What systemd or `kill -TERM -- -<pgid>` does to `make run` (make forwards it once
    # more), then an impatient Ctrl-C.
    os.killpg(run.proc.pid, signal.SIGTERM)
    time.sleep(0.05)
    os.killpg(run.proc.pid, signal.SIGTERM)
    os.killpg(run.proc.pid, signal.SIGINT)
    assert run.proc.wait(60) == 0, run.details()
    out = run.output()
    assert "Traceback" not in out, out
    assert "stopping the stack" in out and "already stopping" in out, out
    assert not [p for p in pids if pid_alive(p)], run.details()
    assert run.leftovers(status["stack_id"]) == [], run.details()
    final = run.status()
    assert {s["state"] for s in final["services"]} == {"stopped"}
    listing = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_stack.py"), "status",
                              "--data-dir", str(run.data)], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    assert "not running" in listing and "recording" in listing


def test_killed_recorder_is_restarted_while_management_keeps_serving(run: Run) -> None:
    status = run.wait_ready()
    recorder = run.service("recording")
    others = {s["name"]: s["pid"] for s in status["services"] if s["name"] != "recording"}
    os.kill(recorder["pid"], signal.SIGKILL)

    answers = []

    def restarted() -> bool:
        answers.append(httpx.get(f"{run.management}/healthz", timeout=2).status_code)
        now = run.service("recording")
        return now["restarts"] == 1 and now["state"] == "ready" and now["pid"] != recorder["pid"]

    wait_until(restarted, 60, "the recorder restarted", 0.2, run.details)
    assert answers and set(answers) == {200}
    assert "recording exited with -9" in run.output()
    assert "recording: restart 1 in 1 s" in run.output()
    after = run.status()
    assert {s["name"]: s["pid"] for s in after["services"] if s["name"] != "recording"} == others
    assert all(s["restarts"] == 0 for s in after["services"] if s["name"] != "recording")

    # The supervisor killed outright: the kernel stops each service (PR_SET_PDEATHSIG).
    pids = [s["pid"] for s in after["services"]]
    os.kill(run.proc.pid, signal.SIGKILL)
    run.proc.wait(10)
    wait_until(lambda: not [p for p in pids if pid_alive(p)], 30,
               "every service gone after the supervisor's SIGKILL", 0.2, run.details)
    assert run.leftovers(after["stack_id"]) == []
