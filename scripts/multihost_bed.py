"""The multi-host bed's processes (scripts/multihost.py) on a :class:`multihost_net.Net`:

- ``h1``: PostgreSQL (multihost_pg.py), Redis, management, a recorder and a streaming service;
- ``h2``, ``h3``: a recorder and a streaming service each;
- ``cams``: the camera simulator, with ONVIF and edge storage.

Each is the test kit's service-table entry (``argus_testkit.services``) prefixed with
``ip netns exec <ns>`` (which execs, so the PID is the service's), on fixed ports, and is
stopped by PID. :func:`bed` makes the network and the processes and removes both after."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
from multihost_net import CAMS, GATEWAY, HOSTS, Net
from multihost_pg import PG_PORT, create_database, init_cluster, pg_env, server_argv

from argus_testkit import stack as kit
from argus_testkit.process import Launcher, Proc, Ready
from argus_testkit.provision import PG_READY, pg_bindir
from argus_testkit.services import ROOT, StackConfig, StackPorts, service_table

PORTS = StackPorts(
    management=8001,
    streaming=8080,
    rtsp=8554,
    camsim_control=8099,
    recording_metrics=9101,
    redis=6379,
    onvif=0,
)
SECRETS = kit.Secrets(
    "multihost-secret-key-0123456789abcd",
    "multihost-internal-key-0123456789",
    "admin",
    "multihost-admin-password-1",
)
FPS = 15
RECORDER = {
    "RECORDING_SEGMENT_SECONDS": "2",
    "RECORDING_LEASE_TTL_S": "6",
    "RECORDING_PRE_ROLL_S": "2",
    "RECORDING_POST_ROLL_S": "2",
    "RECORDING_DISK_CHECK_INTERVAL_S": "5",
    "RECORDING_RETENTION_INTERVAL_S": "600",
    "RECORDINGS_MIN_FREE_BYTES": "0",
    "RECORDING_MIN_FREE_PERCENT": "0",
    "RECORDING_CAMERA_REFRESH_S": "5",
    "RECORDING_BACKOFF_S": "0.5,1,2",
}
# Recorder settings for a comparison run, e.g. ARGUS_MULTIHOST_RECORDER=
# "RECORDING_HANDOVER=false,RECORDING_LEASE_TTL_S=3" (before/after figures).
RECORDER |= dict(
    item.split("=", 1)
    for item in os.environ.get("ARGUS_MULTIHOST_RECORDER", "").split(",")
    if "=" in item
)



class Bed:
    """The processes of the bed on a :class:`Net`; :meth:`stop` stops each by PID."""

    def __init__(self, base: Path, net: Net, cameras: int = 12, edge_minutes: float = 3.0) -> None:
        self.base, self.net, self.n_cameras = base, net, cameras
        self.edge_minutes = edge_minutes  # 0: cameras without edge storage (no backfill)
        self.launcher = Launcher(base / "logs", cwd=ROOT)
        self.recordings = base / "recordings"  # shared by every recorder (one filesystem)
        self.recordings.mkdir(parents=True, exist_ok=True)
        self.db_dsn = f"postgresql://postgres@{HOSTS['h1']}:{PG_PORT}/argus"
        self.db_url = self.db_dsn.replace("postgresql://", "postgresql+asyncpg://")
        self.redis_url = f"redis://{HOSTS['h1']}:{PORTS.redis}/0"
        self.env = kit.base_env(
            SECRETS, "argus-multihost", redis_url=self.redis_url, log_level="INFO"
        )
        self.procs: dict[str, Proc] = {}
        self.cameras: dict[str, int] = {}
        self.onvif_ports: dict[str, int] = {}
        self.pg_dir: Path | None = None

    def cfg(self, host: str) -> StackConfig:
        """The table's config for one host: its data directory, the fixed ports."""
        ports = StackPorts(**{k: getattr(PORTS, k) for k in vars(PORTS)})
        cfg = StackConfig(
            data_dir=self.base / host,
            ports=ports,
            resolution="320x180",
            camsim_args=(),
            rtmp_listen="127.0.0.1",
            recordings_dir=self.recordings,
        )
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        return cfg

    @property
    def management_url(self) -> str:
        return f"http://{HOSTS['h1']}:{PORTS.management}"

    def streaming_url(self, host: str) -> str:
        return f"http://{HOSTS[host]}:{PORTS.streaming}"

    def recorder_url(self, host: str) -> str:
        return f"http://{HOSTS[host]}:{PORTS.recording_metrics}"

    def start(
        self,
        host: str,
        name: str,
        ready: Ready,
        argv_extra: tuple[str, ...] = (),
        settings: dict[str, str] | None = None,
        **more: str,
    ) -> Proc:
        """Table entry ``name`` inside host ``host``'s namespace."""
        cfg = self.cfg(host)
        spec = service_table(cfg)[name]
        env = {
            **self.env,
            **spec.env,
            "MANAGEMENT_URL": self.management_url,
            **(settings or {}),
            **more,
        }
        argv = ("ip", "netns", "exec", self.net.ns(host), *spec.argv, *argv_extra)
        proc = self.launcher.start(f"{host}-{name}", argv, env, ready)
        self.procs[f"{host}-{name}"] = proc
        return proc

    def start_postgres(self) -> Proc:
        """A throwaway cluster in h1, listening on h1's address (trust inside the LAN)."""
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        # Its own directory under /tmp: the server's user must reach it (a pytest tmp_path
        # is private to root).
        self.pg_dir = Path(tempfile.mkdtemp(prefix="argus-multihost-pg-"))
        data = init_cluster(bindir, self.pg_dir)
        argv = server_argv(bindir, data, self.net.ns("h1"))
        ready = Ready(line=PG_READY, timeout_s=60)
        proc = self.launcher.start("h1-postgresql", argv, pg_env(), ready)
        self.procs["h1-postgresql"] = proc
        create_database(bindir)
        import argus_management.migrate as alembic

        alembic.upgrade(self.db_url)
        return proc

    def up(self) -> Bed:
        h1 = HOSTS["h1"]
        self.start_postgres()
        self.start(
            "h1",
            "redis",
            Ready(tcp=PORTS.redis, host=h1, timeout_s=20),
            argv_extra=("--bind", "0.0.0.0", "--protected-mode", "no"),
        )
        self.start(
            "h1",
            "management",
            Ready(http=f"{self.management_url}/readyz", timeout_s=120),
            DATABASE_URL=self.db_url,
            MANAGEMENT_PORT=str(PORTS.management),
            MANAGEMENT_HOST="0.0.0.0",
            ARGUS_TRUSTED_PROXIES=GATEWAY,
            **kit.MANAGEMENT_TEST_ENV,
        )
        cams_ns = CAMS[1]
        edge = ("--onvif-port", "0", "--edge-minutes", str(self.edge_minutes))
        sim = self.start(
            "cams",
            "camera-simulator",
            Ready(line=kit.CAMSIM_READY, timeout_s=120),
            argv_extra=(
                "--cameras",
                str(self.n_cameras),
                "--host",
                "0.0.0.0",
                "--public-host",
                cams_ns,
                *(edge if self.edge_minutes > 0 else ("--no-onvif",)),
                "--auth",
                "none",
                "--fps",
                str(FPS),
                "--gop",
                "1",
                "--linger",
                "2",
            ),
        )
        if self.edge_minutes > 0:
            self.onvif_ports = json.loads(sim.ready_line or "{}").get("onvif_ports") or {}
        self.register_cameras()
        for host in HOSTS:
            self.start_recorder(host)
            self.start(
                host,
                "streaming",
                Ready(http=f"{self.streaming_url(host)}/healthz", timeout_s=60),
                STREAMING_HOST="0.0.0.0",
                ARGUS_TRUSTED_PROXIES=GATEWAY,
            )
        return self

    def start_recorder(self, host: str) -> Proc:
        return self.start(
            host,
            "recording",
            Ready(http=f"{self.recorder_url(host)}/healthz", timeout_s=60),
            settings={
                **RECORDER,
                "RECORDING_INSTANCE_ID": f"rec-{host}",
                "RECORDING_METRICS_HOST": "0.0.0.0",
            },
        )

    def api(self) -> httpx.Client:
        client = httpx.Client(base_url=self.management_url, timeout=10)
        token = client.post(
            "/api/v1/auth/login",
            data={"username": SECRETS.admin_username, "password": SECRETS.admin_password},
        )
        token.raise_for_status()
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return client

    def register_cameras(self) -> None:
        api = self.api()
        try:
            for n in range(1, self.n_cameras + 1):
                body: dict[str, object] = {
                    "name": f"cam{n}",
                    "stream_url": f"rtsp://{CAMS[1]}:{PORTS.rtsp}/cam{n}/main",
                    "recording_mode": "continuous",
                    "connect_timeout_s": 2.0,
                    "read_timeout_s": 2.0,
                }
                if f"cam{n}" in self.onvif_ports:
                    body |= {"onvif_host": CAMS[1], "onvif_port": self.onvif_ports[f"cam{n}"]}
                resp = api.post("/api/v1/cameras", json=body)
                if resp.status_code != 201:
                    raise RuntimeError(f"camera {n}: {resp.status_code} {resp.text}")
                self.cameras[f"cam{n}"] = int(resp.json()["id"])
        finally:
            api.close()

    def describe(self) -> str:
        lines = [
            f"multihost bed {self.net.tag} (bridge {self.net.bridge} {GATEWAY}/24)",
            f"  h1 {HOSTS['h1']}: postgresql :{PG_PORT}, redis :{PORTS.redis}, "
            f"management {self.management_url}",
            f"  cams {CAMS[1]}: rtsp://{CAMS[1]}:{PORTS.rtsp}/camN/main (N=1..{self.n_cameras}), "
            f"control http://{CAMS[1]}:{PORTS.camsim_control}, edge storage "
            f"{self.edge_minutes} min",
        ]
        for host, addr in HOSTS.items():
            lines.append(
                f"  {host} {addr}: recorder {self.recorder_url(host)} "
                f"(ns {self.net.ns(host)}), streaming {self.streaming_url(host)}"
            )
        lines += [
            f"  recordings (shared): {self.recordings}",
            f"  logs: {self.base / 'logs'}",
            f"  admin login: {SECRETS.admin_username} / {SECRETS.admin_password}",
            f"  e.g. ip netns exec {self.net.ns('h2')} ip link set eth0 down",
        ]
        return "\n".join(lines)

    def stop(self) -> None:
        for name, proc in reversed(list(self.procs.items())):
            if name.endswith("-recording"):
                proc.stop(20)
        for name, proc in reversed(list(self.procs.items())):
            if name == "h1-postgresql" and proc.alive:
                proc.send(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.proc.wait(15)
        self.launcher.stop_all()
        if self.pg_dir is not None:
            shutil.rmtree(self.pg_dir, ignore_errors=True)


@contextlib.contextmanager
def bed(base: Path, cameras: int = 12, edge_minutes: float = 3.0) -> Iterator[Bed]:
    """The whole bed up; everything removed afterwards, also after an error."""
    if os.geteuid() != 0:
        raise RuntimeError("the multi-host bed needs root (network namespaces)")
    net = Net()
    b: Bed | None = None
    try:
        net.up()
        b = Bed(base, net, cameras, edge_minutes)
        b.up()
        yield b
    finally:
        if b is not None:
            b.stop()
        net.down()
