"""Helpers of the streaming benchmarks (not a benchmark itself): management, a simulator
camera, argus-streaming."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stack import (
    ADMIN_PASSWORD,
    INTERNAL,
    ROOT,
    SECRET,
    free_port,
    management,
    scratch_database,
)

BIN = ROOT / ".venv" / "bin"


@dataclass
class StreamingStack:
    base_url: str
    management_url: str
    token: str
    camera_id: int
    pid: int


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(values: list[float]) -> str:
    return (f"n={len(values)} p50={percentile(values, 50):.1f} p95={percentile(values, 95):.1f} "
            f"min={min(values):.1f} max={max(values):.1f} mean={statistics.fmean(values):.1f}")


def bytes_sent(base: str) -> float:
    """streaming-service's counter of media bytes handed to WebRTC viewers."""
    for line in httpx.get(f"{base}/metrics", timeout=5).text.splitlines():
        if line.startswith('argus_streaming_bytes_sent_total{kind="webrtc"}'):
            return float(line.split()[-1])
    return 0.0


def load() -> str:
    return open("/proc/loadavg").read().split(" ", 3)[:3].__str__()


def _wait(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def camsim(resolution: str, fps: int = 30, gop: float = 1.0, cameras: int = 1,
           motion: bool = True, loop_kbps: int = 0) -> Iterator[int]:
    """The camera simulator (no auth); yields its RTSP port.

    ``loop_kbps`` > 0 replays a pre-encoded clip at that bitrate (no encoding, no stamp)."""
    port = free_port()
    source = (["--source", "loop", "--bitrate", str(loop_kbps)] if loop_kbps
              else ["--motion"] if motion else [])
    proc = subprocess.Popen(
        [str(BIN / "argus-camsim"), "--cameras", str(cameras), "--rtsp-port", str(port),
         "--control-port", str(free_port()), "--onvif-port", "0", "--no-onvif",
         "--resolution", resolution, "--fps", str(fps), "--gop", str(gop),
         "--log-level", "WARNING", *source],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        deadline = time.monotonic() + 300  # a loop clip is encoded once, then cached
        while time.monotonic() < deadline:
            line = proc.stdout.readline().decode()
            if not line:
                raise RuntimeError(f"simulator exited with {proc.wait()}")
            if line.startswith("argus-camsim ready"):
                json.loads(line.split(" ", 2)[2])
                threading.Thread(target=proc.stdout.read, daemon=True).start()
                break
        else:
            raise RuntimeError("simulator did not start")
        yield port
    finally:
        _stop(proc)


@contextmanager
def streaming_stack(resolution: str = "1280x720", fps: int = 30, gop: float = 1.0,
                    motion: bool = True, loop_kbps: int = 0,
                    **env_extra: str) -> Iterator[StreamingStack]:
    """Scratch database, management, one simulator camera and argus-streaming."""
    with scratch_database() as db, management(db, workers=1) as mgmt, \
            camsim(resolution, fps, gop, motion=motion, loop_kbps=loop_kbps) as rtsp_port:
        with httpx.Client(base_url=mgmt, timeout=10) as c:
            r = c.post("/api/v1/auth/login",
                       data={"username": "admin", "password": ADMIN_PASSWORD})
            r.raise_for_status()
            token = r.json()["access_token"]
            h = {"Authorization": f"Bearer {token}"}
            cam = c.post("/api/v1/cameras", headers=h, json={
                "name": "bench", "stream_url": f"rtsp://127.0.0.1:{rtsp_port}/cam1/main",
                "sub_stream_url": f"rtsp://127.0.0.1:{rtsp_port}/cam1/sub"})
            cam.raise_for_status()
        port = free_port()
        env = {**os.environ, "ARGUS_ENV": "test", "SECRET_KEY": SECRET,
               "INTERNAL_API_KEY": INTERNAL, "MANAGEMENT_URL": mgmt,
               "STREAMING_PORT": str(port), "STREAMING_ICE_ADDRESSES": "127.0.0.1",
               "STREAMING_MAX_VIEWERS_PER_CAMERA": "500", "LOG_LEVEL": "WARNING",
               "RECORDINGS_DIR": tempfile.mkdtemp(prefix="argus-bench-rec-"), **env_extra}
        out = None if os.environ.get("BENCH_VERBOSE") else subprocess.DEVNULL
        proc = subprocess.Popen([str(BIN / "argus-streaming")], env=env,
                                stdout=out, start_new_session=True)
        try:
            _wait(f"http://127.0.0.1:{port}/healthz", 30)
            yield StreamingStack(f"http://127.0.0.1:{port}", mgmt, token,
                                 int(cam.json()["id"]), proc.pid)
        finally:
            _stop(proc)
