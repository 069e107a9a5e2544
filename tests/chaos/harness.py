"""The chaos stack: its own Redis (so it can be stopped), management on a scratch database
(or a throwaway PostgreSQL cluster), the camera simulator and a recorder, all real processes
on free 127.0.0.1 ports (argus_testkit's service table and launcher), plus what a fault is
measured by:

- **video lost**: seconds of the camera's timeline not covered by indexed segments around
  the fault, once everything is indexed (segments touch exactly when nothing is lost);
- **rows missing**: segment files on disk that the index has no row for after recovery (the
  file being written, and files being purged, whose rows are marked deleted, are not
  counted);
- **time to resume**: from the end of the fault until the camera's timeline is covered
  again (0 when recording never stopped); **indexed after**: until every file is indexed;
- **alerts**: alerts and system events management recorded from the fault's start.

Each test appends one row to ``ARGUS_CHAOS_REPORT`` (JSON lines) when it is set;
``tests/chaos/report.py`` prints the table (``make chaos``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import platform
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from argus_recording.layout import list_segments
from argus_testkit import stack as kit
from argus_testkit.process import Launcher, Proc, Ready
from argus_testkit.services import StackConfig
from argus_testkit.wait import wait_until as _wait_until

FPS = 15
SEGMENT_S = 2
LEASE_TTL_S = 3
SECRETS = kit.Secrets("chaos-secret-key-0123456789abcdef", "chaos-internal-key-0123456789ab",
                      "admin", "chaos-admin-password-1")
RECORDER = {
    "RECORDING_SEGMENT_SECONDS": str(SEGMENT_S), "RECORDING_LEASE_TTL_S": str(LEASE_TTL_S),
    "RECORDING_PRE_ROLL_S": "2", "RECORDING_POST_ROLL_S": "2",
    "RECORDING_DISK_CHECK_INTERVAL_S": "1", "RECORDING_RETENTION_INTERVAL_S": "600",
    "RECORDINGS_MIN_FREE_BYTES": "0", "RECORDING_MIN_FREE_PERCENT": "0",
    "RECORDING_CAMERA_REFRESH_S": "5", "RECORDING_BACKOFF_S": "0.5,1,2",
    "LOG_LEVEL": "INFO",
}
ALERTING_EVENTS = ("stream.down", "recorder.down", "disk.low", "camera.offline")


@dataclass
class Result:
    """One row of the fault table."""

    fault: str
    user_sees: str
    video_lost_s: float
    segments_lost: int
    rows_missing: int
    resume_s: float
    indexed_after_s: float
    alerts: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def write(self) -> None:
        out = os.environ.get("ARGUS_CHAOS_REPORT")
        if not out:
            return
        row = {**asdict(self), "date": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPU"}
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")


class ChaosStack:
    """One stack per test; every process is stopped by PID at the end."""

    def __init__(self, base: Path, db_url: str, db: kit.Database | None,
                 recordings: Path | None = None, cameras: int = 1) -> None:
        self.base = base
        self.cfg: StackConfig = kit.test_config(base / "data")
        self.launcher = Launcher(base / "logs", cwd=kit_root())
        (base / "logs").mkdir(parents=True, exist_ok=True)
        self.db_url = db_url
        self.db = db
        self.namespace = f"argus-chaos-{uuid.uuid4().hex[:8]}"
        self.redis_url = f"redis://127.0.0.1:{self.cfg.ports.redis}/0"
        self.env = kit.base_env(SECRETS, self.namespace, redis_url=self.redis_url,
                                log_level="WARNING")
        self.recordings = recordings or base / "recordings"
        self.recordings.mkdir(parents=True, exist_ok=True)
        self.n_cameras = cameras
        self.cameras: dict[str, int] = {}
        self.api: httpx.Client | None = None
        self.procs: dict[str, Proc] = {}
        self.restarts: dict[str, int] = {}
        # Settings added to management's and the recorder's (libfaketime for a clock step).
        self.clock_env: dict[str, str] = {}

    # -- processes -------------------------------------------------------------------------
    def _start(self, name: str, **settings: str) -> Proc:
        n = self._bump(name)
        proc = kit.start(self.launcher, self.cfg, name, self.env, proc_name=f"{name}-{n}",
                         **settings)
        self.procs[name] = proc
        return proc

    def start_redis(self) -> Proc:
        return self._start("redis")

    def start_management(self) -> Proc:
        return self._start("management", DATABASE_URL=self.db_url, **kit.MANAGEMENT_TEST_ENV,
                           **self.clock_env)

    def start_recorder(self, **extra: str) -> Proc:
        n = self._bump("recording")
        settings = {**RECORDER, "RECORDINGS_DIR": str(self.recordings),
                    "RECORDING_INSTANCE_ID": f"chaos-rec-{n}", **self.clock_env, **extra}
        # Ready once it answers: a recorder started while a dependency is away is not
        # "ready" (readyz) but records all the same.
        proc = kit.start(self.launcher, self.cfg, "recording", self.env,
                         proc_name=f"recording-{n}",
                         ready=Ready(http=f"{self.recorder_url}/healthz", timeout_s=60),
                         **settings)
        self.procs["recording"] = proc
        return proc

    def restart_recorder_with(self, **extra: str) -> Proc:
        self.recorder = self.start_recorder(**extra)
        return self.recorder

    def _bump(self, name: str) -> int:
        n = self.restarts.get(name, 0)
        self.restarts[name] = n + 1
        return n

    def start_simulator(self) -> kit.Simulator:
        sim = kit.start_simulator(
            self.launcher, self.cfg, "--cameras", str(self.n_cameras), "--no-onvif",
            "--auth", "none", "--fps", str(FPS), "--gop", "1", "--linger", "2",
            name=f"camera-simulator-{self._bump('camera-simulator')}")
        self.procs["camera-simulator"] = sim.proc
        self.sim = sim
        return sim

    @property
    def recorder_url(self) -> str:
        return f"http://127.0.0.1:{self.cfg.ports.recording_metrics}"

    def up(self, modes: tuple[str, ...] = ("continuous",)) -> ChaosStack:
        """Redis, management, cameras registered, simulator, recorder; returns once the
        first camera has indexed segments."""
        self.n_cameras = max(self.n_cameras, len(modes))
        self.start_redis()
        self.start_management()
        self.start_simulator()
        self.login()
        for n, mode in enumerate(modes, start=1):
            assert self.api is not None
            resp = self.api.post("/api/v1/cameras", json={
                "name": f"cam{n}", "stream_url": self.sim.url(n), "recording_mode": mode,
                "connect_timeout_s": 2.0, "read_timeout_s": 2.0,
            })
            assert resp.status_code == 201, resp.text
            self.cameras[f"cam{n}"] = resp.json()["id"]
        self.recorder = self.start_recorder()
        self.wait(lambda: len(self.rows(self.cam)) >= 2, 60, "first segments indexed")
        return self

    def login(self) -> None:
        if self.api is not None:
            self.api.close()
        self.api = httpx.Client(base_url=self.cfg.management_url, timeout=10)
        token = self.api.post("/api/v1/auth/login", data={
            "username": SECRETS.admin_username, "password": SECRETS.admin_password})
        assert token.status_code == 200, token.text
        self.api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def stop(self) -> None:
        if self.api is not None:
            self.api.close()
        # Recorders first (they give back leases and drain their outbox while Redis runs).
        for _, proc in self._all("recording"):
            proc.stop(20)
        self.launcher.stop_all()
        with contextlib.suppress(Exception):
            kit.drop_namespace(self.namespace, self.redis_url)

    def kill(self, name: str) -> None:
        self.procs[name].kill()

    def term(self, name: str) -> None:
        self.procs[name].stop()

    def restart(self, name: str) -> Proc:
        if name == "recording":
            self.recorder = self.start_recorder()
            return self.recorder
        if name == "camera-simulator":
            return self.start_simulator().proc  # same ports: the table's config
        return self._start(name, **({"DATABASE_URL": self.db_url, **kit.MANAGEMENT_TEST_ENV,
                                     **self.clock_env} if name == "management" else {}))

    # -- looking ---------------------------------------------------------------------------
    @property
    def cam(self) -> int:
        return self.cameras["cam1"]

    def wait(self, check: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
        return _wait_until(check, timeout, what, interval,
                           lambda: self.launcher.logs(30))

    def status(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.recorder_url}/status", timeout=5).json())

    def rows(self, camera_id: int) -> list[dict[str, Any]]:
        return fetch(self.db_url, "SELECT path, started_at, ended_at FROM recording_segments "
                     "WHERE camera_id = $1 AND deleted_at IS NULL ORDER BY started_at",
                     camera_id)

    def files(self, camera_id: int) -> set[str]:
        return list_segments(self.recordings, camera_id)

    def unindexed(self, camera_id: int) -> set[str]:
        """Files on disk the index has no row for, but for the newest (being written: the
        last modified, which after a clock stepped back is not the latest name). A file
        whose row is marked deleted is being purged (management marks the rows, then the
        recorder unlinks the files): not missing from the index."""
        files = self.files(camera_id)
        indexed = {r["path"] for r in fetch(
            self.db_url, "SELECT path FROM recording_segments WHERE camera_id = $1",
            camera_id)}
        newest = {max(files, key=self._mtime)} if files else set()
        return files - indexed - newest

    def rows_missing(self, camera_id: int, grace_s: float = 10.0) -> set[str]:
        """Files ``unindexed`` now that stay so for ``grace_s``: a segment that closed a
        moment ago is indexed within that (it had counted as a missing row when the count
        fell between its close and its row). Bounded: at most ``grace_s``."""
        pending = self.unindexed(camera_id)
        deadline = time.monotonic() + grace_s
        while pending and time.monotonic() < deadline:
            time.sleep(0.25)
            pending &= self.unindexed(camera_id)
        return pending

    def _mtime(self, relpath: str) -> float:
        try:
            return (self.recordings / relpath).stat().st_mtime
        except OSError:
            return 0.0

    def alerts_since(self, since: datetime) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in fetch(self.db_url, "SELECT kind, count(*) AS n FROM alerts WHERE "
                         "created_at >= $1 GROUP BY kind", since.replace(tzinfo=None)):
            found[f"alert {row['kind']}"] = int(row["n"])
        for row in fetch(self.db_url, "SELECT type, count(*) AS n FROM events WHERE "
                         "started_at >= $1 AND type = ANY($2::text[]) GROUP BY type",
                         since.replace(tzinfo=None), list(ALERTING_EVENTS)):
            found[f"event {row['type']}"] = int(row["n"])
        return found

    def recorder_errors(self) -> list[str]:
        return [line for name, proc in self._all("recording") for line in proc.output
                if '"level": "error"' in line or "Traceback" in line]

    def _all(self, prefix: str) -> list[tuple[str, Proc]]:
        return [(p.name, p) for p in self.launcher.procs if p.name.startswith(prefix)]

    def recorder_log_has(self, event: str) -> bool:
        return any(f'"event": "{event}"' in line for _, p in self._all("recording")
                   for line in p.output)

    # -- measuring -------------------------------------------------------------------------
    def settle(self, after: float, timeout: float = 90) -> float:
        """Wait until every file is indexed and a segment that started after ``after``
        (epoch s) is indexed; returns when that was reached (epoch s)."""
        cam = self.cam

        def done() -> bool:
            rows = self.rows(cam)
            return bool(rows) and rows[-1]["started_at"].timestamp() > after and not (
                self.unindexed(cam))

        try:
            self.wait(done, timeout, "recording indexed again after the fault")
        except Exception as exc:
            rows = self.rows(cam)
            raise AssertionError(
                f"not settled: unindexed={sorted(self.unindexed(cam))[:10]} last row="
                f"{rows[-1] if rows else None} after={after} files={len(self.files(cam))}"
            ) from exc
        return time.time()

    def measure(self, fault: str, user_sees: str, t_fault: float, t_restored: float,
                since: datetime, note: str = "", margin_s: float = 3.0) -> Result:
        """Gaps in the first camera's index from ``margin_s`` before the fault to the last
        segment, once everything is indexed."""
        t_indexed = self.settle(t_restored)
        rows = [(r["started_at"].timestamp(), r["ended_at"].timestamp())
                for r in self.rows(self.cam)]
        window = [r for r in rows if r[1] >= t_fault - margin_s]
        lost = 0.0
        resume = 0.0
        for (_, end), (start, _) in itertools.pairwise(window):
            gap = start - end
            if gap > 0.05:
                lost += gap
                resume = max(resume, start - t_restored)
        missing = len(self.rows_missing(self.cam))
        result = Result(
            fault=fault, user_sees=user_sees, video_lost_s=round(lost, 2),
            segments_lost=int(lost // SEGMENT_S + (1 if lost % SEGMENT_S > 0.05 else 0)),
            rows_missing=missing, resume_s=round(max(0.0, resume), 1),
            indexed_after_s=round(max(0.0, t_indexed - t_restored), 1),
            alerts=self.alerts_since(since), note=note)
        result.write()
        return result


def kit_root() -> Path:
    return Path(__file__).resolve().parents[2]


def fetch(db_url: str, query: str, *args: Any) -> list[dict[str, Any]]:
    import asyncpg

    dsn = db_url.replace("postgresql+asyncpg://", "postgresql://")

    async def run() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(dsn)
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    return kit.run_sync(run())


def redis_client(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


@contextlib.contextmanager
def tmpfs(path: Path, size_mb: int) -> Iterator[Path]:
    """A size-limited filesystem at ``path`` (root only), unmounted afterwards."""
    import subprocess

    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs",
                    str(path)], check=True, capture_output=True, timeout=30)
    try:
        yield path
    finally:
        for _ in range(20):
            done = subprocess.run(["umount", str(path)], capture_output=True, timeout=30)
            if done.returncode == 0:
                break
            time.sleep(0.5)


def fill(path: Path, leave_bytes: int = 0) -> Path:
    """Write a ballast file until the filesystem at ``path`` has ``leave_bytes`` free."""
    ballast = path / "ballast.bin"
    chunk = b"\0" * (1 << 20)
    with open(ballast, "ab") as f:
        for _ in range(100_000):
            free = os.statvfs(path).f_bavail * os.statvfs(path).f_frsize
            if free <= leave_bytes:
                break
            try:
                f.write(chunk[: max(4096, min(len(chunk), free - leave_bytes))])
                f.flush()
            except OSError:
                break
    return ballast

