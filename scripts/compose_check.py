"""``make compose-check``: the Compose stack, built from the Dockerfiles and run for real here.

Not part of ``make test``. What a new user does with the README's Compose section - the
secrets from scripts/compose_secrets.py, ``docker compose up --build -d`` with the demo
profile - on this machine's engine: Podman (runc) behind its Docker-compatible API, driven
by Debian's docker-compose. Docker Hub is not reachable here, so debian:bookworm-slim is
made locally (scripts/compose_check_base.sh) and docker-compose.standins.yml replaces
postgres, redis and prometheus with stand-ins built from Debian packages (Grafana is left
out). Then, timed step by step, through the published ports only:

  every healthcheck passes; the console's HTTP port redirects to HTTPS and a login works
  there (its self-signed certificate is the one the container logged); a camera from the
  demo simulator is added; one WHEP frame comes through the published UDP range; a segment
  shows in the timeline; ffmpeg pushes RTMP into 1935; ``down`` and ``up`` again keep the
  users, cameras and recordings (volumes).

Then, the main project removed, the PITR step (scripts/compose_check_pitr.py, its own
project): docker-compose.pitr.yml with the argus-objectstore image over HTTPS, PostgreSQL
archiving WAL through pgBackRest into it and db-backup's first full backup (--no-pitr: skip).

At the end (also on failure) the project is removed with its volumes (``down -v``) and the
Podman API service this started is stopped. ``--write-benchmarks`` puts the result into
docs/benchmarks.md ("Containers"). Needs root, podman, runc, docker-compose and ffmpeg.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import compose_check_steps as steps  # noqa: E402
from compose_check_engine import (  # noqa: E402
    CheckFailed,
    Compose,
    Podman,
    process_users,
    wait_healthy,
)
from compose_check_pitr import run_pitr  # noqa: E402
from compose_secrets import lines as secret_lines  # noqa: E402

ICE_RANGE = (40000, 40099)
TCP_PORTS = (3000, 3443, 1935, 8001, 8080, 9090, 8554, 8099, 8100, 8101)
CONSOLE_HTTP, CONSOLE_HTTPS, RTMP = 3000, 3443, 1935


class Report:
    """Each step's time, printed as it ends."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, str]] = []
        self.started = time.monotonic()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        print(f"[compose-check] {name} …", flush=True)
        note: list[str] = []
        t0 = time.monotonic()
        yield note
        took = time.monotonic() - t0
        self.rows.append((name, took, "; ".join(note)))
        print(f"[compose-check] {name}: {took:.1f} s {('- ' + '; '.join(note)) if note else ''}",
              flush=True)

    def table(self) -> str:
        out = ["| step | seconds | seen |", "|---|---:|---|"]
        out += [f"| {name} | {took:.1f} | {note} |" for name, took, note in self.rows]
        out.append(f"| total | {time.monotonic() - self.started:.1f} | |")
        return "\n".join(out)


def write_env(path: Path, build_ca: str) -> dict[str, str]:
    """The .env a user would make (README), plus this check's settings."""
    env = dict(line.split("=", 1) for line in secret_lines({}))
    env |= {
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "GRAFANA_ADMIN_PASSWORD": secrets.token_urlsafe(24),
        "ARGUS_ADMIN_PASSWORD": secrets.token_urlsafe(18),
        # Browsers (here: the check) reach the media at this host's loopback.
        "STREAMING_PUBLIC_IP": "127.0.0.1",
        "RECORDING_SEGMENT_SECONDS": "10",
        "ARGUS_PUBLIC_URL": f"https://127.0.0.1:{CONSOLE_HTTPS}",
    }
    if build_ca:
        env["ARGUS_BUILD_CA_B64"] = build_ca
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    path.chmod(0o600)
    return env


def local_build_ca() -> str:
    """The CA certificates this host added to its trust store (a TLS-re-signing proxy's):
    the image builds need them to reach PyPI and npm from here."""
    import base64

    pems = b"".join(p.read_bytes() for p in sorted(Path("/usr/local/share/ca-certificates")
                                                   .glob("*.crt")))
    return base64.b64encode(pems).decode() if pems else ""


def busy_ports() -> list[str]:
    """Published host ports something else already holds."""
    busy = []
    for port in TCP_PORTS:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                busy.append(f"{port}/tcp")
    for port in range(ICE_RANGE[0], ICE_RANGE[1] + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                busy.append(f"{port}/udp")
    return busy


def console_fingerprint(compose: Compose) -> str:
    """The SHA-256 fingerprint web-frontend logged for its self-signed certificate."""
    logs = compose.output("logs", "--no-color", "web-frontend")
    found = re.findall(r"SHA-256 fingerprint ([0-9A-F:]{95})", logs)
    if not found:
        raise CheckFailed("web-frontend logged no certificate fingerprint")
    return found[-1]


async def probe_stack(compose: Compose, env: dict[str, str], report: Report,
                      state: dict[str, object]) -> None:
    """The checks of the first `up`: console, camera, WHEP, segment, RTMP."""
    https = f"https://127.0.0.1:{CONSOLE_HTTPS}"
    with report.step("console: HTTP redirects, HTTPS login") as note:
        await steps.console_redirects(f"http://127.0.0.1:{CONSOLE_HTTP}", CONSOLE_HTTPS)
        logged = console_fingerprint(compose)
        served = steps.certificate_fingerprint("127.0.0.1", CONSOLE_HTTPS)
        if served != logged:
            raise CheckFailed(f"certificate {served} is not the logged {logged}")
        console = await steps.login(https, "admin", env["ARGUS_ADMIN_PASSWORD"])
        note.append(f"certificate {served[:11]}… as logged")
    try:
        with report.step("add a camera (demo simulator)") as note:
            demo = await steps.demo_cameras(console, 120)
            camera_id = await steps.add_camera(console)
            note.append(f"demo cameras {len(demo)}, new camera id {camera_id}")
        with report.step("WHEP frame through the published UDP range") as note:
            pair = await steps.whep_frame(console, camera_id, "127.0.0.1", ICE_RANGE, 180)
            note.append(f"ICE pair {pair}")
        with report.step("recorded segment in the timeline") as note:
            segment = await steps.recorded_segment(console, camera_id, 180)
            note.append(f"{segment['path']} ({segment['bytes']} bytes)")
        with report.step("RTMP push into the published 1935") as note:
            key = await steps.rtmp_push(console, RTMP, 15, 120)
            note.append(f"stream {steps.RTMP_STREAM} -> camera {key['camera_id']}, recorded "
                        f"{key['segment']['path']} ({key['segment']['bytes']} bytes)")
        body = await console.get("/api/v1/cameras", limit=500)
        state.update(camera_id=camera_id, segment=segment,
                     cameras={c["name"] for c in body["items"]})
    finally:
        await console.client.aclose()


async def probe_kept(env: dict[str, str], report: Report, state: dict[str, object]) -> None:
    """After `down` and `up`: the same login, cameras and recordings."""
    with report.step("data kept: users, cameras, recordings") as note:
        console = await steps.login(f"https://127.0.0.1:{CONSOLE_HTTPS}", "admin",
                                    env["ARGUS_ADMIN_PASSWORD"])
        try:
            kept = await steps.data_kept(console, state["cameras"],  # type: ignore[arg-type]
                                         state["camera_id"], state["segment"],  # type: ignore[arg-type]
                                         60)
        finally:
            await console.client.aclose()
        note.append(f"admin logs in, {kept['cameras']} cameras, segment {kept['segment']}")


def segment_on_disk(compose: Compose, segment: dict[str, object]) -> int:
    """The segment's file in the recordings volume, read from inside recording-service."""
    out = compose.output("exec", "-T", "recording-service", "python", "-c",
                         "import os, sys; print(os.path.getsize('/recordings/' + sys.argv[1]))",
                         str(segment["path"]))
    try:
        return int(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise CheckFailed(f"segment {segment['path']} not in the volume: {out!r}") from None


def write_benchmarks(report: Report, images: dict[str, int], ok: bool) -> None:
    """Replace the Containers section's last result in docs/benchmarks.md."""
    path = ROOT / "docs" / "benchmarks.md"
    begin, end = "<!-- compose-check:begin -->", "<!-- compose-check:end -->"
    block = "\n".join([
        begin,
        f"Last `make compose-check`: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{'passed' if ok else 'FAILED'} (Podman {podman_version()} with runc, "
        "docker-compose 1.29, stand-ins for postgres/redis/prometheus, 2 shared cores).",
        "", report.table(), "",
        "| image | size (MB) |", "|---|---:|",
        *[f"| {name} | {size // 1_000_000} |" for name, size in sorted(images.items())],
        end,
    ])
    text = path.read_text()
    if begin in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n## Containers\n\n" + block + "\n"
    path.write_text(text)


def podman_version() -> str:
    out = subprocess.run(["podman", "--version"], capture_output=True, text=True, check=False)
    return out.stdout.split()[-1] if out.stdout else "?"


def image_sizes(podman: Podman) -> dict[str, int]:
    """Each project image's size (bytes)."""
    sizes: dict[str, int] = {}
    for name in ("management", "streaming", "recording", "analysis", "camsim", "console",
                 "rtmp"):
        got = podman.run("image", "inspect", "--format", "{{.Size}}", f"argus-{name}:latest")
        if got.returncode == 0:
            sizes[f"argus-{name}"] = int(got.stdout.strip())
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-cache", action="store_true", help="build every image from scratch")
    parser.add_argument("--write-benchmarks", action="store_true",
                        help="put the result into docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    parser.add_argument("--no-pitr", action="store_true",
                        help="skip the PITR step (docker-compose.pitr.yml)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("compose-check needs root (podman, debootstrap)")
    if busy := busy_ports():
        sys.exit("compose-check publishes the Compose ports; busy here: " + ", ".join(busy[:12]))

    report = Report()
    run_dir = Path(tempfile.mkdtemp(prefix="argus-compose-check."))
    print(f"[compose-check] logs in {run_dir}", flush=True)
    env = write_env(run_dir / "compose.env", local_build_ca())
    podman = Podman(run_dir)
    compose = Compose(podman, run_dir / "compose.env", run_dir)
    ok = False
    images: dict[str, int] = {}
    try:
        with report.step("debian:bookworm-slim (local debootstrap when missing)"):
            subprocess.run(["bash", str(ROOT / "scripts" / "compose_check_base.sh"), "podman"],
                           env=podman.env, check=True, timeout=1800)
        podman.start()
        compose("down", "-v", "--remove-orphans", check=False)  # a run that was cut off
        with report.step("build every image" + (" (no cache)" if args.no_cache else "")):
            compose("build", *(["--no-cache"] if args.no_cache else []), timeout=5400)
        images = image_sizes(podman)
        with report.step("up --build -d, every healthcheck passes") as note:
            compose("up", "--build", "-d", timeout=1200)
            note.append(f"{len(wait_healthy(podman, 600))} containers")
            users = process_users(podman)
            note.append("processes run as " + ", ".join(
                sorted(set(users.values()))))
        state: dict[str, object] = {}
        asyncio.run(probe_stack(compose, env, report, state))
        with report.step("down (volumes kept)"):
            compose("down", timeout=300)
        with report.step("up -d again, every healthcheck passes"):
            compose("up", "-d", timeout=1200)
            wait_healthy(podman, 600)
        asyncio.run(probe_kept(env, report, state))
        with report.step("segment file still in the recordings volume") as note:
            note.append(f"{segment_on_disk(compose, state['segment'])} bytes")  # type: ignore[arg-type]
        if not args.no_pitr:
            if not args.keep:
                compose("down", "-v", "--remove-orphans", timeout=300)
            run_pitr(podman, report, run_dir, env.get("ARGUS_BUILD_CA_B64", ""))
        ok = True
    except (CheckFailed, subprocess.SubprocessError) as exc:
        print(f"[compose-check] FAILED: {exc}", file=sys.stderr, flush=True)
        if podman.proc:
            print(compose.output("ps"), file=sys.stderr)
            logs = compose.output("logs", "--no-color", "--timestamps")
            (run_dir / "services.log").write_text(logs)
            print(f"[compose-check] every service's log: {run_dir / 'services.log'}",
                  file=sys.stderr)
    finally:
        if not args.keep and podman.proc:
            with report.step("down -v (cleanup)"):
                compose("down", "-v", "--remove-orphans", check=False, timeout=300)
        if not args.keep:
            podman.stop()
    print("\n" + report.table())
    for name, size in sorted(images.items()):
        print(f"{name:20} {size / 1e6:7.0f} MB")
    if args.write_benchmarks:
        write_benchmarks(report, images, ok)
    print(f"[compose-check] {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
