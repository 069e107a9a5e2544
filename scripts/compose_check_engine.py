"""The engine side of ``make compose-check`` (scripts/compose_check.py): Podman's
Docker-compatible API service, Debian's docker-compose against it, and waiting for the
project's healthchecks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "argus-compose-check"
FILES = ("docker-compose.yml", "docker-compose.standins.yml")
# Services whose healthcheck must pass (all of the project's but the one-shot demo-register).
HEALTHY = ("db", "redis", "management-service", "recording-service", "streaming-service",
           "ai-analysis-service", "web-frontend", "rtmp-server", "camera-simulator",
           "prometheus")
# Podman's settings for this machine: its hybrid cgroups refuse crun, and podman's default
# ulimits cannot be applied inside it. Podman reads this file instead of containers.conf.
CONTAINERS_CONF = """[containers]
default_ulimits = []
default_capabilities = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
  "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]

[engine]
runtime = "runc"
"""


class CheckFailed(Exception):
    """A step did not see what it waited for."""


class Podman:
    """Podman's Docker-compatible API service, started and stopped (by PID) by this check,
    and, on machines without systemd (podman runs healthchecks from systemd timers), a
    thread that runs the project's healthchecks at their intervals."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.sock = run_dir / "podman.sock"
        conf = run_dir / "containers.conf"
        conf.write_text(CONTAINERS_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}
        self.proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.intervals: dict[str, float] = {}
        # Compose projects whose healthchecks the thread runs (the PITR step adds its own).
        self.projects: list[str] = [PROJECT]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def start(self) -> None:
        log = (self.run_dir / "podman-service.log").open("wb")
        self.proc = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{self.sock}"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self._ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise CheckFailed(f"podman system service did not answer "
                                        f"(log: {self.run_dir / 'podman-service.log'})")
            time.sleep(0.2)
        if not Path("/run/systemd/system").exists():
            self._thread = threading.Thread(target=self._healthchecks, daemon=True)
            self._thread.start()

    def _ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(str(self.sock))
                s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
                return b" 200 " in s.recv(256)
        except OSError:
            return False

    def _healthchecks(self) -> None:
        due: dict[str, float] = {}
        while not self._stop.wait(1.0):
            ids: list[str] = []
            for project in list(self.projects):
                ids += self.run("ps", "--filter", f"label=com.docker.compose.project={project}",
                                "--format", "{{.ID}}", timeout=30).stdout.split()
            for cid in ids:
                if cid not in due:
                    info = self.run("inspect", "--format",
                                    "{{json .Config.Healthcheck}}", cid, timeout=30)
                    try:
                        interval = json.loads(info.stdout or "null")["Interval"] / 1e9
                    except (TypeError, KeyError, ValueError):
                        interval = -1.0  # no healthcheck
                    due[cid] = time.monotonic() + interval if interval > 0 else float("inf")
                    self.intervals[cid] = interval
                if time.monotonic() >= due[cid]:
                    self.run("healthcheck", "run", cid, timeout=60)
                    due[cid] = time.monotonic() + self.intervals[cid]

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=70)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class Compose:
    """Debian's docker-compose against the Podman API, for this check's project."""

    def __init__(self, podman: Podman, env_file: Path, log_dir: Path) -> None:
        self.env = {**os.environ, "DOCKER_HOST": f"unix://{podman.sock}",
                    "COMPOSE_HTTP_TIMEOUT": "600"}
        self.base = ["docker-compose", "-p", PROJECT, "--project-directory", str(ROOT),
                     "--env-file", str(env_file), "--profile", "demo"]
        for f in FILES:
            self.base += ["-f", str(ROOT / f)]
        self.log_dir = log_dir

    def __call__(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        log = self.log_dir / f"compose-{args[0]}.log"
        with log.open("a") as out:
            out.write(f"$ docker-compose {' '.join(args)}\n")
            out.flush()
            result = subprocess.run([*self.base, *args], env=self.env, stdout=out,
                                    stderr=subprocess.STDOUT, timeout=timeout, check=False)
        if check and result.returncode != 0:
            tail = log.read_text()[-3000:]
            raise CheckFailed(f"docker-compose {' '.join(args)} exited "
                                    f"{result.returncode}:\n{tail}")
        return log.read_text()

    def output(self, *args: str, timeout: float = 120) -> str:
        return subprocess.run([*self.base, *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False).stdout


def wait_healthy(podman: Podman, timeout_s: float) -> list[str]:
    """Every service in HEALTHY running and healthy, and demo-register exited 0 (it is
    restarted on failure)."""
    deadline = time.monotonic() + timeout_s
    while True:
        listed = podman.run("ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}",
                            "--format", "json", timeout=30)
        state: dict[str, tuple[str, str, int]] = {}
        for c in json.loads(listed.stdout or "[]"):
            labels = c.get("Labels") or {}
            svc = labels.get("com.docker.compose.service", "?")
            health = podman.run("inspect", "--format", "{{.State.Health.Status}}", c["Id"])
            state[svc] = (c["State"], health.stdout.strip(), int(c.get("ExitCode") or 0))
        waiting = [s for s in HEALTHY if state.get(s, ("", "", 0))[1] != "healthy"]
        demo = state.get("demo-register")
        if not (demo and demo[0] == "exited" and demo[2] == 0):
            waiting.append("demo-register")
        if not waiting:
            return sorted(state)
        if time.monotonic() > deadline:
            raise CheckFailed(f"not healthy after {timeout_s:.0f} s: "
                              + ", ".join(f"{s} {state.get(s)}" for s in waiting))
        time.sleep(2)


ARGUS_SERVICES = ("management-service", "recording-service", "streaming-service",
                  "ai-analysis-service", "web-frontend", "rtmp-server", "camera-simulator")


def process_users(podman: Podman) -> dict[str, str]:
    """The users the project's running containers' processes run as, per service; the
    ARGUS images must not run anything as root."""
    listed = podman.run("ps", "--filter", f"label=com.docker.compose.project={PROJECT}",
                        "--format", "json", timeout=30)
    users: dict[str, str] = {}
    for c in json.loads(listed.stdout or "[]"):
        svc = (c.get("Labels") or {}).get("com.docker.compose.service", "?")
        top = podman.run("top", c["Id"], "user", timeout=30)
        users[svc] = ",".join(sorted(set(top.stdout.split()[1:])))
    rooted = [s for s in ARGUS_SERVICES if users.get(s, "root") in ("", "root")
              or "root" in users.get(s, "").split(",")]
    if rooted:
        raise CheckFailed(f"running as root (or not running): {rooted} {users}")
    return users
