"""``make run``, ``make status``: the native stack under the supervisor of argus_testkit.

    run_stack.py [run] [--data-dir DIR] [--services a,b,...] [--no-demo]
    run_stack.py status [--data-dir DIR]
    run_stack.py reset-admin [--data-dir DIR]

``run`` starts the service table (argus_testkit.services): a private Redis when ``REDIS_URL``
is unset, management (SQLite under the data directory by default), the camera simulator with
two demo cameras (registered in management once), streaming, recording, analysis, the
console (Debian's nginx, the Docker image's template and entrypoint) and RTMP push when
Debian's nginx-rtmp module is installed. It supervises them until SIGTERM/SIGINT/SIGHUP
(restarts with backoff, logs in <data>/logs/, state in <data>/run/status.json); everything
it and the services write under the data directory is this user's only (0700/0600). The
generated admin password is shown on the first run only (kept 0600 in <data>/.admin_password
for the demo registration); ``reset-admin`` sets and shows a new one. Ports come
from the environment (MANAGEMENT_PORT, STREAMING_PORT, CAMSIM_RTSP_PORT, CAMSIM_ONVIF_PORT,
CAMSIM_CONTROL_PORT, ARGUS_CONSOLE_PORT, RTMP_PORT, RECORDING_METRICS_PORT,
ANALYSIS_METRICS_PORT, ARGUS_PRIVATE_REDIS_PORT); ``status`` prints what runs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import os
import secrets
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

from argus_testkit import redis_acl
from argus_testkit.credentials import service_secrets
from argus_testkit.objectstore import ObjectStorePorts
from argus_testkit.runstate import format_status, read_status, reap_stale
from argus_testkit.services import ROOT, Service, StackConfig, StackPorts, service_table
from argus_testkit.supervisor import Hook, Supervisor, block_stop_signals

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo import register_demo_cameras

VENV_BIN = ROOT / ".venv" / "bin"
# A person walks to and fro and a car drives through every simulated camera (--objects).
DEMO_CAMSIM_ARGS = ("--discovery", "--objects")
DEMO_MODEL = ROOT / "ai-analysis-service" / "models" / "sim-detector.onnx"
CONSOLE = ROOT / "web-frontend"
ALL = ("redis", "management", "camera-simulator", "streaming", "recording", "analysis",
       "console", "rtmp")


def _env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def _persisted_secret(data: Path, name: str) -> str:
    """A random secret kept in the data directory so restarts keep sessions and encrypted
    credentials."""
    path = data / f".{name.lower()}"
    if not path.exists():
        # Created 0600, never readable by others even for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


ADMIN_PASSWORD_FILE = ".admin_password"  # noqa: S105 - a file name


def build_env(data: Path) -> dict[str, str]:
    """The stack's shared environment: .env, then the caller's, then generated secrets."""
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)  # databases, recordings, keys, logs: this user's only
    env = {**_env_file(ROOT / ".env"), **os.environ}
    env.setdefault("ARGUS_ENV", "development")
    env.setdefault("SECRET_KEY", _persisted_secret(data, "SECRET_KEY"))
    env.setdefault("INTERNAL_API_KEY", _persisted_secret(data, "INTERNAL_API_KEY"))
    env.setdefault("ARGUS_ADMIN_USERNAME", "admin")
    if "ARGUS_ADMIN_PASSWORD" not in env:
        env["ARGUS_ADMIN_PASSWORD"] = _persisted_secret(data, "ADMIN_PASSWORD")[:16]
    env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{data}/argus.db")
    env.setdefault("RECORDINGS_DIR", str(data / "recordings"))
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def _console_stale(dist: Path) -> bool:
    index = dist / "index.html"
    if not index.exists():
        return True
    built = index.stat().st_mtime
    sources = [CONSOLE / "index.html", CONSOLE / "package-lock.json", CONSOLE / "vite.config.ts",
               *(CONSOLE / "src").rglob("*")]
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


def build_console(dist: Path) -> bool:
    """Build web-frontend/dist when it is missing or older than its sources."""
    if not _console_stale(dist):
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("  console not built and npm is missing (apt-get install nodejs npm)", flush=True)
        return (dist / "index.html").exists()
    print("  building the console (npm)…", flush=True)
    try:
        if not (CONSOLE / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONSOLE, check=True,
                           timeout=900)
        subprocess.run([npm, "run", "build"], cwd=CONSOLE, check=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"  console build failed: {exc}", flush=True)
    return (dist / "index.html").exists()


def seed_demo_layout(api: str, env: dict[str, str]) -> None:
    """A shared "Demo cameras" layout for the console, created once (when there is none)."""
    with httpx.Client(base_url=api, timeout=10) as client:
        token = client.post("/api/v1/auth/login", data={
            "username": env["ARGUS_ADMIN_USERNAME"], "password": env["ARGUS_ADMIN_PASSWORD"]})
        if token.status_code != 200:
            return
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        if client.get("/api/v1/layouts", headers=auth).json().get("total", 0):
            return
        cams = client.get("/api/v1/cameras", params={"limit": 4}, headers=auth).json()
        ids: list[int | None] = [c["id"] for c in cams.get("items", [])][:4]
        if ids:
            client.post("/api/v1/layouts", headers=auth, json={
                "name": "Demo cameras", "grid": 4, "cells": ids + [None] * (4 - len(ids)),
                "shared": True})


def choose(table: dict[str, Service], wanted: list[str], cfg: StackConfig) -> list[Service]:
    """The services to run: those asked for that can run here (each absence said once)."""
    chosen = []
    for name in wanted:
        spec = table[name]
        if name == "console" and not build_console(cfg.console_dist):
            print("  console not served: web-frontend/dist is not built", flush=True)
            continue
        if not spec.available():
            print(f"  {name} off: {', '.join((spec.argv[0], *spec.requires))} needed", flush=True)
            continue
        chosen.append(spec)
    return chosen


def _fingerprint(cert: Path) -> str:
    """SHA-256 fingerprint of a PEM certificate, as browsers show it."""
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def banner(cfg: StackConfig, env: dict[str, str], names: set[str],
           new_password: str | None = None) -> str:
    """What runs where, printed once management is ready; the admin password only when
    this run generated it (``new_password``)."""
    lines = ["", "ARGUS is running:"]
    if "console" in names:
        lines.append(f"  console         {cfg.console_url}  ({cfg.console_http_url} "
                     "redirects there)")
        if cfg.console_cert.is_file() and not env.get("ARGUS_TLS_CERT"):
            fingerprint = _fingerprint(cfg.console_cert)
            lines.append(f"  TLS certificate self-signed, SHA-256 {fingerprint}")
    lines.append(f"  management API  {cfg.management_url}/api/v1/docs")
    if new_password:
        lines.append(f"  admin login     {env['ARGUS_ADMIN_USERNAME']} / {new_password}  "
                     "(shown this once; change it after logging in)")
    else:
        lines.append(f"  admin login     {env['ARGUS_ADMIN_USERNAME']}  (password: "
                     "ARGUS_ADMIN_PASSWORD or the one shown on the first run; "
                     "forgot it? python scripts/run_stack.py reset-admin)")
    if "streaming" in names:
        lines.append(f"  streaming       {cfg.streaming_url}/v1/docs (WHEP, HLS)")
    if "rtmp" in names:
        public = env.get("RTMP_PUBLIC_URL", f"rtmp://127.0.0.1:{cfg.ports.rtmp}")
        lines.append(f"  RTMP push       {public}/live/<name>?key=<key> "
                     "(keys: /api/v1/rtmp/keys)")
    lines.append(f"  logs            make logs   ({cfg.data_dir}/logs/<service>.log)")
    lines.append("  status          make status;  Ctrl-C stops everything")
    return "\n".join(lines)


def with_secrets(services: list[Service], env: dict[str, str], cfg: StackConfig,
                 private_redis: bool) -> list[Service]:
    """Each service with only its own secrets: management the token signing key and the
    master, the others their scoped credential and the public keys (keys made in
    <data>/keys on first run); with the private Redis, each its own ACL user
    (<data>/redis/users.acl, no default user)."""
    out = []
    for spec in services:
        own = service_secrets(spec.name, env, cfg.data_dir)
        # Key files named in .env or the environment win over the generated ones.
        out.append(spec.with_env(**{k: v for k, v in own.items()
                                    if not (k.startswith("ARGUS_JWT_") and env.get(k))}))
    if not private_redis:
        return out
    namespace = env.get("ARGUS_REDIS_NAMESPACE", "argus")
    acl, passwords = redis_acl.ensure_users(cfg.data_dir / "redis", namespace)
    port = cfg.ports.redis
    chosen = []
    for spec in out:
        if spec.name == "redis":
            spec = dataclasses.replace(spec, argv=(*spec.argv, "--aclfile", str(acl)))
        elif spec.name in passwords:
            spec = spec.with_env(REDIS_URL=redis_acl.user_url(
                "127.0.0.1", port, spec.name, passwords[spec.name]))
        chosen.append(spec)
    return chosen


def run(args: argparse.Namespace, data: Path) -> int:
    first = not (data / ADMIN_PASSWORD_FILE).exists()
    env = build_env(data)
    # Shown once: on the run that generated it (never again, never in a log file).
    new_password = (env["ARGUS_ADMIN_PASSWORD"]
                    if first and (data / ADMIN_PASSWORD_FILE).exists() else None)
    ports = StackPorts.from_env(env)
    # ARGUS_OBJECT_STORE=local: a SeaweedFS S3 store in <data>/objectstore for tiering.
    local_s3 = env.get("ARGUS_OBJECT_STORE", "") == "local"
    cfg = StackConfig(data_dir=data, ports=ports, recordings_dir=Path(env["RECORDINGS_DIR"]),
                      camsim_args=DEMO_CAMSIM_ARGS,
                      object_store=ObjectStorePorts() if local_s3 else None)
    # The demo cameras look for the simulator's drawn people with the test model; every
    # other camera left on "auto" gets OpenCV's HOG people detector.
    env.setdefault("ANALYSIS_OBJECT_MODEL", str(DEMO_MODEL))
    env.setdefault("ANALYSIS_OBJECT_DETECTOR", "opencv-hog")
    private_redis = not env.get("REDIS_URL") and "redis" in args.services
    if private_redis:
        env["REDIS_URL"] = f"redis://127.0.0.1:{ports.redis}/0"
    wanted = [name for name in args.services if name != "redis" or private_redis]
    if local_s3:
        wanted.insert(0, "objectstore")
    print("ARGUS: starting the native stack", flush=True)
    chosen = choose(service_table(cfg), wanted, cfg)
    # From here on (the console is built) every file the stack creates is this user's only:
    # keys, databases, logs, recordings (the data directory itself is 0700 too).
    os.umask(0o077)
    services = with_secrets(chosen, env, cfg, private_redis)
    names = {s.name for s in services}
    api = cfg.management_url
    hooks = [Hook(("management", "console"),
                  lambda: print(banner(cfg, env, names, new_password), flush=True), "banner")]
    if not args.no_demo and {"management", "camera-simulator"} <= names:
        def demo() -> None:
            register_demo_cameras(api, env["ARGUS_ADMIN_USERNAME"], env["ARGUS_ADMIN_PASSWORD"],
                                  rtsp_port=ports.rtsp, onvif_port=ports.onvif,
                                  object_detector="onnx")
            seed_demo_layout(api, env)

        hooks.append(Hook(("management", "camera-simulator"), demo, "demo cameras"))
    supervisor = Supervisor(services, env, data, hooks, cwd=ROOT)
    reap_stale(supervisor.status_path, supervisor.say)
    return asyncio.run(supervisor.run())


def reset_admin(data: Path) -> int:
    """A new password for the stack's admin (``argus-management users reset-admin`` against
    the stack's database), shown once and kept 0600 for the demo registration; every session
    of the account ends."""
    os.umask(0o077)
    env = build_env(data)
    if not env.get("REDIS_URL"):  # the private Redis: management's ACL user
        _, passwords = redis_acl.ensure_users(data / "redis",
                                              env.get("ARGUS_REDIS_NAMESPACE", "argus"))
        env["REDIS_URL"] = redis_acl.user_url("127.0.0.1", StackPorts.from_env(env).redis,
                                              "management", passwords["management"])
    password = secrets.token_urlsafe(12)
    done = subprocess.run(
        [str(VENV_BIN / "argus-management"), "users", "reset-admin", "--username",
         env["ARGUS_ADMIN_USERNAME"], "--password-stdin"],
        input=password + "\n", env=env, cwd=ROOT, text=True, check=False, timeout=120)
    if done.returncode != 0:
        return done.returncode
    tmp = data / f"{ADMIN_PASSWORD_FILE}.new"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password)
    os.replace(tmp, data / ADMIN_PASSWORD_FILE)
    print(f"admin login     {env['ARGUS_ADMIN_USERNAME']} / {password}  (shown this once)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``make run`` / ``make status``."""
    block_stop_signals()  # handled by the supervisor's loop once it runs
    parser = argparse.ArgumentParser(prog="run_stack.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="run",
                        choices=("run", "status", "reset-admin"))
    parser.add_argument("--data-dir", type=Path, default=Path(
        os.environ.get("ARGUS_RUN_DATA", str(ROOT / "data"))),
        help="databases, secrets, recordings, logs/ and run/status.json (default ./data)")
    parser.add_argument("--services", type=lambda v: [s for s in v.split(",") if s],
                        default=list(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--no-demo", action="store_true",
                        help="do not register the demo cameras")
    args = parser.parse_args(argv)
    data = args.data_dir.resolve()
    unknown = set(args.services) - set(ALL)
    if unknown:
        parser.error(f"unknown services: {', '.join(sorted(unknown))}")
    if args.command == "status":
        print(format_status(read_status(data / "run" / "status.json")))
        return 0
    if args.command == "reset-admin":
        return reset_admin(data)
    return run(args, data)


if __name__ == "__main__":
    sys.exit(main())
