"""The declarative service table of the native stack.

One place says how each ARGUS process is started natively: its argv, the settings it gets
on top of the stack's shared environment (secrets, Redis, database), when it counts as
ready, what it waits for and how it is restarted. ``make run`` supervises the table
(:mod:`argus_testkit.supervisor`); the e2e stack, the service tests and the benchmarks start
entries of the same table with :mod:`argus_testkit.stack`, overriding settings they need.

Both nginx configurations are rendered one way, the way their Docker images do it: the
console by ``web-frontend/nginx/entrypoint.sh`` (envsubst of ``argus.conf.template``), RTMP by
``nginx-rtmp/render-conf.sh``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from argus_testkit.ports import free_port
from argus_testkit.process import Ready

if TYPE_CHECKING:
    from argus_testkit.objectstore import ObjectStorePorts

ROOT = Path(__file__).resolve().parents[4]
BIN = ROOT / ".venv" / "bin"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")

RestartPolicy = Literal["always", "on-failure", "never"]


@dataclass(frozen=True)
class Restart:
    """What happens when the process exits while the stack runs: ``always`` restart it,
    ``on-failure`` only after a non-zero exit, ``never``. Delays are ``backoff`` steps (the
    last repeating); after ``stable_s`` seconds up they start over."""

    policy: RestartPolicy = "always"
    backoff: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    stable_s: float = 30.0


@dataclass(frozen=True)
class Service:
    """One entry of the table."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]  # added to the stack's shared environment
    ready: Ready
    restart: Restart = Restart()
    after: tuple[str, ...] = ()  # services that must be ready before this one starts
    requires: tuple[str, ...] = ()  # files that must exist for the service to run here
    dirs: tuple[str, ...] = ()  # directories created (mode 0755: nginx workers) before start
    stop_timeout_s: float = 10.0

    def available(self) -> bool:
        """Whether everything the service needs is installed."""
        return all(Path(p).exists() for p in (self.argv[0], *self.requires))

    def with_env(self, **env: str) -> Service:
        """This entry with more (or overridden) settings."""
        return replace(self, env={**self.env, **env})


@dataclass
class StackPorts:
    """Every port the stack listens on (127.0.0.1 unless said otherwise)."""

    management: int = 8001
    streaming: int = 8080
    rtsp: int = 8554
    onvif: int = 8100
    camsim_control: int = 8099
    console: int = 3000  # plain HTTP: redirects to console_tls
    console_tls: int = 3443
    rtmp: int = 1935
    recording_metrics: int = 9101
    analysis_metrics: int = 9102
    redis: int = 6380

    ENV = {
        "management": "MANAGEMENT_PORT", "streaming": "STREAMING_PORT",
        "rtsp": "CAMSIM_RTSP_PORT", "onvif": "CAMSIM_ONVIF_PORT",
        "camsim_control": "CAMSIM_CONTROL_PORT", "console": "ARGUS_CONSOLE_PORT",
        "console_tls": "ARGUS_CONSOLE_TLS_PORT",
        "rtmp": "RTMP_PORT", "recording_metrics": "RECORDING_METRICS_PORT",
        "analysis_metrics": "ANALYSIS_METRICS_PORT", "redis": "ARGUS_PRIVATE_REDIS_PORT",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StackPorts:
        """The defaults, each overridable by its environment variable (``ENV``)."""
        ports = cls()
        for f in fields(cls):
            value = env.get(cls.ENV[f.name])
            if value:
                setattr(ports, f.name, int(value))
        return ports

    @classmethod
    def free(cls) -> StackPorts:
        """Free ports for every service (tests; ONVIF gets a block of ports via 0)."""
        ports = cls(**{f.name: free_port() for f in fields(cls)})
        ports.onvif = 0
        return ports

    def as_env(self) -> dict[str, str]:
        """``{"MANAGEMENT_PORT": "8001", ...}``."""
        return {self.ENV[f.name]: str(getattr(self, f.name)) for f in fields(self)}


@dataclass
class StackConfig:
    """What the table is built from."""

    data_dir: Path
    ports: StackPorts = field(default_factory=StackPorts)
    bin_dir: Path = BIN
    cameras: int = 2
    camera_user: str = "admin"
    camera_password: str = "admin"  # noqa: S105 - the simulator's demo cameras
    resolution: str = "1280x720"
    camsim_args: tuple[str, ...] = ("--discovery",)
    rtmp_listen: str = "0.0.0.0"
    console_dist: Path = ROOT / "web-frontend" / "dist"
    recordings_dir: Path | None = None  # default <data_dir>/recordings
    # The local S3 store (SeaweedFS, <data_dir>/objectstore) and its ports, or None: no
    # local store (make run: ARGUS_OBJECT_STORE=local; any other S3 through ARGUS_S3_*).
    object_store: ObjectStorePorts | None = None

    @property
    def recordings(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.management}"

    @property
    def streaming_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.streaming}"

    @property
    def console_url(self) -> str:
        """The console (HTTPS; its plain HTTP port only redirects here)."""
        return f"https://127.0.0.1:{self.ports.console_tls}"

    @property
    def console_http_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.console}"

    @property
    def console_cert(self) -> Path:
        """The console's self-signed certificate (made on its first start)."""
        return self.data_dir / "tls" / "console.crt"


def service_table(cfg: StackConfig) -> dict[str, Service]:
    """Every service of the stack, in start order (dependencies first)."""
    p, b, data = cfg.ports, cfg.bin_dir, cfg.data_dir
    media = {"MANAGEMENT_URL": cfg.management_url, "RECORDINGS_DIR": str(cfg.recordings)}
    console_run = data / "console"
    rtmp_run = data / "nginx-rtmp"
    table: list[Service] = []
    s3: dict[str, str] = {}
    if cfg.object_store is not None:
        from argus_testkit import objectstore  # imports this module

        store = objectstore.objectstore_service(data / "objectstore", cfg.object_store)
        s3 = objectstore.client_env(cfg.object_store.s3,
                                    objectstore.ensure_credentials(data / "objectstore")[1])
        table.append(store)
        media = {**media, **s3}
    table += [
        # Only when REDIS_URL is unset (make run); tests use the machine's Redis.
        Service("redis", (shutil.which("redis-server") or "/usr/bin/redis-server",
                          "--port", str(p.redis), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no"),
                {}, Ready(tcp=p.redis, timeout_s=20)),
        Service("management", (str(b / "argus-management"),), {
            "MANAGEMENT_PORT": str(p.management), "MANAGEMENT_HOST": "127.0.0.1",
            "ARGUS_DATA_DIR": str(data),
            "RTMP_PORT": str(p.rtmp),
            # The console's nginx: its X-Forwarded-For names the browser.
            "ARGUS_TRUSTED_PROXIES": "127.0.0.1", **s3,
        }, Ready(http=f"{cfg.management_url}/readyz", timeout_s=90), after=("redis",)),
        Service("camera-simulator", (
            str(b / "argus-camsim"), "--cameras", str(cfg.cameras), "--host", "127.0.0.1",
            "--rtsp-port", str(p.rtsp), "--control-port", str(p.camsim_control),
            "--onvif-port", str(p.onvif), "--auth", "digest", "--username", cfg.camera_user,
            "--password", cfg.camera_password, "--resolution", cfg.resolution,
            *cfg.camsim_args,
        ), {}, Ready(tcp=p.rtsp, timeout_s=120)),  # a loop clip is encoded once first
        Service("streaming", (str(b / "argus-streaming"),), {
            **media, "STREAMING_PORT": str(p.streaming), "STREAMING_HOST": "127.0.0.1",
            "ARGUS_TRUSTED_PROXIES": "127.0.0.1",
        }, Ready(http=f"{cfg.streaming_url}/healthz"), after=("management",)),
        Service("recording", (str(b / "argus-recording"),), {
            **media, "RECORDING_METRICS_PORT": str(p.recording_metrics),
        }, Ready(http=f"http://127.0.0.1:{p.recording_metrics}/healthz"),
            after=("management",)),
        Service("analysis", (str(b / "argus-analysis"),), {
            **media, "ANALYSIS_METRICS_PORT": str(p.analysis_metrics),
        }, Ready(http=f"http://127.0.0.1:{p.analysis_metrics}/healthz"),
            after=("management",)),
        # The console image's entrypoint: envsubst of the template, nginx -t, exec nginx.
        Service("console", ("/bin/sh", str(ROOT / "web-frontend" / "nginx" / "entrypoint.sh")), {
            "ARGUS_TEMPLATE": str(ROOT / "web-frontend" / "nginx" / "argus.conf.template"),
            "ARGUS_LISTEN": f"127.0.0.1:{p.console}",
            "ARGUS_TLS_LISTEN": f"127.0.0.1:{p.console_tls}",
            # Kept across runs: the fingerprint users accepted stays valid. A certificate of
            # their own: ARGUS_TLS_CERT and ARGUS_TLS_KEY in .env.
            "ARGUS_TLS_DIR": str(data / "tls"),
            "ARGUS_STATIC_ROOT": str(cfg.console_dist),
            "ARGUS_MANAGEMENT_UPSTREAM": f"127.0.0.1:{p.management}",
            "ARGUS_STREAMING_UPSTREAM": f"127.0.0.1:{p.streaming}",
            "ARGUS_RUNTIME_DIR": str(console_run),
            "ARGUS_ACCESS_LOG": str(console_run / "access.log"),
            "PATH": f"{Path(NGINX).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }, Ready(http=f"{cfg.console_http_url}/nginx-healthz", timeout_s=20),
            requires=(NGINX, str(cfg.console_dist / "index.html")), dirs=(str(console_run),)),
        # The rtmp-server image's renderer (it checks and percent-encodes every value).
        Service("rtmp", (
            "/bin/bash", "-c",
            'bash "$0" "$1" "$2" && exec "$3" -p "$4/" -c "$2" -e stderr -g "daemon off;"',
            str(ROOT / "nginx-rtmp" / "render-conf.sh"),
            str(ROOT / "nginx-rtmp" / "nginx.conf.template"), str(rtmp_run / "nginx.conf"),
            NGINX, str(rtmp_run),
        ), {
            "MANAGEMENT_URL": cfg.management_url, "RTMP_PORT": str(p.rtmp),
            "RTMP_LISTEN": cfg.rtmp_listen, "RTMP_PID_FILE": str(rtmp_run / "nginx.pid"),
            "RTMP_ERROR_LOG": "stderr",
        }, Ready(tcp=p.rtmp, timeout_s=20), after=("management",),
            requires=(NGINX, str(RTMP_MODULE)), dirs=(str(rtmp_run), str(rtmp_run / "logs"))),
    ]
    return {s.name: s for s in table}


def merged_env(base: Mapping[str, str], service: Service, **extra: str) -> dict[str, str]:
    """The environment ``service`` runs with: the stack's, its own settings, ``extra``."""
    return {**base, **service.env, **extra}
