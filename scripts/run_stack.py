"""Supervisor of the native stack started by ``make run``.

Starts (in order) a private Redis when ``REDIS_URL`` is unset, management-service (SQLite by
default), the camera simulator with two demo cameras (registered in management once), and
every other service that exists, and the operator console (Debian's nginx serving
web-frontend/dist with the Docker image's template); prints the URLs and admin credentials;
stops them all, by PID, on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
VENV_BIN = ROOT / ".venv" / "bin"
MANAGEMENT_PORT = int(os.environ.get("MANAGEMENT_PORT", "8001"))
PRIVATE_REDIS_PORT = 6380
CONSOLE = ROOT / "web-frontend"
CONSOLE_PORT = int(os.environ.get("ARGUS_CONSOLE_PORT", "3000"))


class Stack:
    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        print(f"  starting {name}: {' '.join(argv[:3])}…", flush=True)
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True)
        self.procs.append((name, proc))

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                print(f"  stopping {name} (pid {proc.pid})", flush=True)
                proc.terminate()
        deadline = time.monotonic() + 10
        for _, proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def wait_any(self) -> str:
        """Block until one child exits; returns its name."""
        while True:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    return name
            time.sleep(0.5)


def _env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def _persisted_secret(name: str) -> str:
    """A random secret kept under data/ so restarts keep sessions and encrypted credentials."""
    path = DATA / f".{name.lower()}"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_http(url: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def build_env() -> dict[str, str]:
    DATA.mkdir(exist_ok=True)
    env = {**_env_file(ROOT / ".env"), **os.environ}
    env.setdefault("ARGUS_ENV", "development")
    env.setdefault("SECRET_KEY", _persisted_secret("SECRET_KEY"))
    env.setdefault("INTERNAL_API_KEY", _persisted_secret("INTERNAL_API_KEY"))
    env.setdefault("ARGUS_ADMIN_USERNAME", "admin")
    if "ARGUS_ADMIN_PASSWORD" not in env:
        env["ARGUS_ADMIN_PASSWORD"] = _persisted_secret("ADMIN_PASSWORD")[:16]
    env.setdefault("RECORDINGS_DIR", str(DATA / "recordings"))
    env["MANAGEMENT_PORT"] = str(MANAGEMENT_PORT)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    return env


def start_redis(stack: Stack, env: dict[str, str]) -> None:
    if env.get("REDIS_URL"):
        return
    server = shutil.which("redis-server")
    if server is None:
        sys.exit("REDIS_URL is unset and redis-server is not installed")
    if not _port_open(PRIVATE_REDIS_PORT):
        stack.start("redis", [server, "--port", str(PRIVATE_REDIS_PORT), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], env)
        for _ in range(50):
            if _port_open(PRIVATE_REDIS_PORT):
                break
            time.sleep(0.1)
    env["REDIS_URL"] = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"


def _console_stale(dist: Path) -> bool:
    index = dist / "index.html"
    if not index.exists():
        return True
    built = index.stat().st_mtime
    sources = [CONSOLE / "index.html", CONSOLE / "package-lock.json", CONSOLE / "vite.config.ts",
               *(CONSOLE / "src").rglob("*")]
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


def _build_console(dist: Path) -> bool:
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


def start_console(stack: Stack, env: dict[str, str]) -> str | None:
    """Serve the console with Debian's nginx at 127.0.0.1:3000 (the Docker image's template,
    rendered into data/console/); returns its URL, or None when it cannot run here."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if nginx is None and os.geteuid() == 0:
        print("  installing Debian's nginx for the console…", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if nginx is None or not Path(nginx).exists():
        print("  console not served: nginx is missing (apt-get install nginx)", flush=True)
        return None
    dist = CONSOLE / "dist"
    if not _build_console(dist):
        return None
    runtime = DATA / "console"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o755)  # started as root, nginx's worker runs as nobody
    values = {
        "ARGUS_LISTEN": f"127.0.0.1:{CONSOLE_PORT}",
        "ARGUS_STATIC_ROOT": str(dist),
        "ARGUS_MANAGEMENT_UPSTREAM": f"127.0.0.1:{MANAGEMENT_PORT}",
        "ARGUS_STREAMING_UPSTREAM": f"127.0.0.1:{env.get('STREAMING_PORT', '8080')}",
        "ARGUS_RUNTIME_DIR": str(runtime),
        "ARGUS_ACCESS_LOG": str(runtime / "access.log"),
    }
    template = (CONSOLE / "nginx" / "argus.conf.template").read_text()
    conf = runtime / "nginx.conf"
    conf.write_text(re.sub(r"\$\{(ARGUS_[A-Z_]+)\}", lambda m: values[m.group(1)], template))
    stack.start("console (nginx)", [nginx, "-e", "stderr", "-c", str(conf)], env)
    url = f"http://127.0.0.1:{CONSOLE_PORT}"
    return url if _wait_http(f"{url}/nginx-healthz", 15) else None


def start_rtmp(stack: Stack, env: dict[str, str], api: str) -> str | None:
    """RTMP push (phones): Debian's nginx with libnginx-mod-rtmp and the rtmp-server image's
    template (nginx-rtmp/), rendered into data/nginx-rtmp/; returns the publish URL base."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    module = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
    if not Path(nginx).exists() or not module.exists():
        print("  RTMP push off: apt-get install nginx libnginx-mod-rtmp", flush=True)
        return None
    runtime = DATA / "nginx-rtmp"
    runtime.mkdir(parents=True, exist_ok=True)
    conf = runtime / "nginx.conf"  # holds the internal key: render-conf.sh writes it 0600
    port = env.get("RTMP_PORT", "1935")
    rtmp_env = {**env, "MANAGEMENT_URL": api, "RTMP_PORT": port,
                "RTMP_PID_FILE": str(runtime / "nginx.pid"), "RTMP_ERROR_LOG": "stderr"}
    render = [str(ROOT / "nginx-rtmp" / "render-conf.sh"),
              str(ROOT / "nginx-rtmp" / "nginx.conf.template"), str(conf)]
    if subprocess.run(["bash", *render], env=rtmp_env, check=False).returncode != 0:
        print("  RTMP push off: nginx-rtmp configuration not rendered", flush=True)
        return None
    stack.start("rtmp-server (nginx)", [nginx, "-p", f"{runtime}/", "-c", str(conf), "-e",
                                        "stderr", "-g", "daemon off;"], rtmp_env)
    return env.get("RTMP_PUBLIC_URL", f"rtmp://127.0.0.1:{port}")


def seed_demo_layout(api: str, env: dict[str, str]) -> None:
    """A shared "Demo cameras" layout for the console, created once (when there is none)."""
    try:
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
    except httpx.HTTPError:
        pass


def main() -> None:
    env = build_env()
    stack = Stack()

    def _stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print("ARGUS: starting the native stack", flush=True)
    try:
        start_redis(stack, env)
        stack.start("management-service", [str(VENV_BIN / "argus-management")], env)
        api = f"http://127.0.0.1:{MANAGEMENT_PORT}"
        if not _wait_http(f"{api}/readyz", 60):
            raise SystemExit("management-service did not become ready")
        streaming = VENV_BIN / "argus-streaming"
        if streaming.exists():  # live and recorded video to browsers (WHEP, HLS)
            env.setdefault("MANAGEMENT_URL", api)
            stack.start("streaming-service", [str(streaming)], env)
        recording = VENV_BIN / "argus-recording"
        if recording.exists():  # records every camera whose recording_mode is not off
            env.setdefault("MANAGEMENT_URL", api)
            stack.start("recording-service", [str(recording)], env)
        analysis = VENV_BIN / "argus-analysis"
        if analysis.exists():  # motion detection on cameras whose analysis is enabled
            env.setdefault("MANAGEMENT_URL", api)
            stack.start("ai-analysis-service", [str(analysis)], env)
        rtmp = start_rtmp(stack, env, api)
        from demo import start_demo_cameras  # after management is up

        start_demo_cameras(stack, env, api)
        seed_demo_layout(api, env)
        console = start_console(stack, env)
        print(
            "\nARGUS is running:\n"
            + (f"  console         {console}\n" if console else "")
            + f"  management API  {api}/api/v1/docs\n"
            f"  admin login     {env['ARGUS_ADMIN_USERNAME']} / {env['ARGUS_ADMIN_PASSWORD']}"
            "  (only if the database was new when this password was set)\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        if rtmp:
            print(f"  RTMP push       {rtmp}/live/<name>?key=<key> (keys: /api/v1/rtmp/keys)",
                  flush=True)
        if streaming.exists():
            port = env.get("STREAMING_PORT", "8080")
            print(f"  streaming       http://127.0.0.1:{port}/v1/docs (WHEP, HLS)", flush=True)
        name = stack.wait_any()
        print(f"{name} exited; stopping the stack", flush=True)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
    finally:
        # A second Ctrl-C / SIGTERM must not cut the orderly stop short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    main()
