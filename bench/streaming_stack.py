"""Helpers of the streaming benchmarks (not a benchmark itself): management, a simulator
camera, argus-streaming (started from the service table by argus_testkit)."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
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
    management,
    scratch_database,
)

from argus_testkit import stack as kit
from argus_testkit.process import launched

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


@contextmanager
def camsim(resolution: str, fps: int = 30, gop: float = 1.0, cameras: int = 1,
           motion: bool = True, loop_kbps: int = 0) -> Iterator[int]:
    """The camera simulator (no auth); yields its RTSP port.

    ``loop_kbps`` > 0 replays a pre-encoded clip at that bitrate (no encoding, no stamp)."""
    source = (["--source", "loop", "--bitrate", str(loop_kbps)] if loop_kbps
              else ["--motion"] if motion else [])
    work = Path(tempfile.mkdtemp(prefix="argus-bench-camsim-"))
    with launched(work) as launcher:
        cfg = kit.test_config(work, cameras=cameras, resolution=resolution)
        # A loop clip is encoded once, then cached: up to 300 s the first time.
        sim = kit.start_simulator(launcher, cfg, "--auth", "none", "--no-onvif",
                                  "--fps", str(fps), "--gop", str(gop), "--log-level",
                                  "WARNING", *source, timeout_s=300)
        yield sim.rtsp_port


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
        work = Path(tempfile.mkdtemp(prefix="argus-bench-streaming-"))
        cfg = kit.test_config(work)
        cfg.recordings.mkdir()
        env = {**os.environ, "ARGUS_ENV": "test", "SECRET_KEY": SECRET,
               "INTERNAL_API_KEY": INTERNAL, "LOG_LEVEL": "WARNING"}
        with launched(work / "logs", ROOT) as launcher:
            proc = kit.start(launcher, cfg, "streaming", env, MANAGEMENT_URL=mgmt,
                             STREAMING_ICE_ADDRESSES="127.0.0.1",
                             STREAMING_MAX_VIEWERS_PER_CAMERA="500", **env_extra)
            if os.environ.get("BENCH_VERBOSE"):
                print(f"streaming-service log: {proc.log}", flush=True)
            yield StreamingStack(cfg.streaming_url, mgmt, token, int(cam.json()["id"]),
                                 proc.pid)
