"""The RTMP path as real processes on 127.0.0.1, for tests/test_rtmp_e2e.py and
bench/rtmp_bench.py: a scratch PostgreSQL database, management, nginx-rtmp (Debian's nginx
with the rendered nginx-rtmp/nginx.conf.template), recording-service and streaming-service,
each on a free port, each stopped by PID: the service table's entries, started by
argus_testkit. Pushers: ffmpeg, and PyAV with the camera
simulator's burnt-in wall-clock stamp (``argus_camsim.stamp``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np

from argus_camsim.stamp import draw_stamp, stamp_layout
from argus_testkit import stack as kit
from argus_testkit.factories import login
from argus_testkit.ports import free_port
from argus_testkit.process import Launcher, Proc, Ready
from argus_testkit.services import NGINX, StackConfig, StackPorts
from argus_testkit.wait import wait_until as _wait_until

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_DSN = kit.PG_DSN
REDIS_URL = kit.REDIS_URL
SECRET = "rtmp-test-secret-key-0123456789abcdef"
INTERNAL = "rtmp-test-internal/key+0123456789abcdef"  # needs percent-encoding in the URL
ADMIN_PASSWORD = "rtmp-admin-password-1"
SECRETS = kit.Secrets(SECRET, INTERNAL, "admin", ADMIN_PASSWORD)

__all__ = ["NGINX", "Proc", "free_port"]


def wait_until(check: Callable[[], Any], timeout_s: float, what: str,
               interval_s: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy; AssertionError after the timeout."""
    return _wait_until(check, timeout_s, what, interval_s)


@dataclass
class RtmpStack:
    """Everything started, with what a test needs to reach it."""

    work: Path
    namespace: str
    db_name: str
    management: str = ""
    rtmp_port: int = 0
    streaming: str = ""
    recordings: Path = field(default_factory=Path)
    procs: list[Proc] = field(default_factory=list)
    admin_token: str = ""

    @property
    def base_env(self) -> dict[str, str]:
        return kit.base_env(SECRETS, self.namespace)

    def rtmp_url(self, name: str, key: str | None) -> str:
        query = f"?key={key}" if key is not None else ""
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{name}{query}"

    def proc(self, name: str) -> Proc:
        return next(p for p in self.procs if p.name == name)

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return httpx.Client(base_url=self.management, headers=headers, timeout=10)


def _config(work: Path, rtmp_port: int) -> StackConfig:
    ports = StackPorts.free()
    ports.rtmp = rtmp_port
    return kit.test_config(work, ports=ports, recordings_dir=work / "recordings")


def start_nginx(work: Path, management_url: str, rtmp_port: int, update_s: int,
                name: str = "nginx-rtmp") -> Proc:
    """Debian's nginx in the foreground with the rendered template: the service table's
    ``rtmp`` entry, as ``make run`` starts it."""
    launcher = Launcher(work / "logs", ROOT)
    return kit.start(launcher, _config(work, rtmp_port), "rtmp",
                     {**os.environ, "INTERNAL_API_KEY": INTERNAL}, proc_name=name,
                     ready=Ready(tcp=rtmp_port, timeout_s=15), MANAGEMENT_URL=management_url,
                     RTMP_UPDATE_INTERVAL_S=str(update_s), RTMP_DROP_IDLE_S="5")


@contextlib.contextmanager
def rtmp_stack(*, recorder: bool = True, streaming: bool = True,
               update_s: int = 2) -> Iterator[RtmpStack]:
    """Start the stack; stop every process (by PID) and drop the database at the end."""
    work = Path(tempfile.mkdtemp(prefix="argus-rtmp-"))
    stack = RtmpStack(work=work, namespace=f"argus-rtmp-{uuid.uuid4().hex[:8]}",
                      db_name="", rtmp_port=free_port())
    cfg = _config(work, stack.rtmp_port)
    launcher = Launcher(work / "logs", ROOT)
    stack.procs = launcher.procs
    db = kit.Database("argus_rtmp")
    stack.db_name = db.name
    stack.recordings = cfg.recordings
    try:
        db.create()
        env = stack.base_env
        kit.start(launcher, cfg, "management", env, DATABASE_URL=db.url,
                  **kit.MANAGEMENT_TEST_ENV, ARGUS_DATA_DIR=str(work / "mgmt"),
                  RTMP_INTERNAL_HOST="127.0.0.1",
                  RTMP_PUBLIC_URL=f"rtmp://127.0.0.1:{stack.rtmp_port}",
                  RTMP_UPDATE_INTERVAL_S=str(update_s), MANAGEMENT_LIVENESS_ENABLED="false",
                  LOG_LEVEL="INFO")  # INFO: the accept/refuse lines, checked for leaked keys
        stack.management = cfg.management_url
        stack.admin_token = login(stack.management, "admin", ADMIN_PASSWORD)
        kit.start(launcher, cfg, "rtmp", env, proc_name="nginx-rtmp",
                  RTMP_UPDATE_INTERVAL_S=str(update_s), RTMP_DROP_IDLE_S="5")
        if recorder:
            kit.start(launcher, cfg, "recording", env, ready=Ready(
                http=f"http://127.0.0.1:{cfg.ports.recording_metrics}/readyz", timeout_s=30),
                RECORDING_INSTANCE_ID="rtmp-rec", RECORDING_SEGMENT_SECONDS="4",
                RECORDING_PRE_ROLL_S="2", RECORDING_POST_ROLL_S="1", RECORDING_LEASE_TTL_S="3",
                RECORDINGS_MIN_FREE_BYTES="0", RECORDING_MIN_FREE_PERCENT="0",
                RECORDING_BACKOFF_S="0.5,1,2")
        if streaming:
            kit.start(launcher, cfg, "streaming", env, STREAMING_ICE_ADDRESSES="127.0.0.1",
                      STREAMING_SOURCE_LINGER_S="2", STREAMING_ACCESS_CACHE_S="0")
            stack.streaming = cfg.streaming_url
        yield stack
    finally:
        launcher.stop_all(15)
        with contextlib.suppress(Exception):
            db.drop()
        kit.drop_namespace(stack.namespace)
        shutil.rmtree(work, ignore_errors=True)


def operator_with_key(stack: RtmpStack, name: str) -> tuple[str, dict[str, Any]]:
    """A new operator's token and a stream key ``name`` created with it."""
    username = f"op-{uuid.uuid4().hex[:6]}"
    with stack.api() as api:
        api.post("/api/v1/users", json={"username": username, "password": "operator-pw-123",
                                         "roles": ["operator"]}).raise_for_status()
    token = httpx.post(f"{stack.management}/api/v1/auth/login",
                       data={"username": username, "password": "operator-pw-123"},
                       timeout=10).json()["access_token"]
    with stack.api(token) as api:
        resp = api.post("/api/v1/rtmp/keys", json={"name": name})
        resp.raise_for_status()
        return token, dict(resp.json())


def ffmpeg_push(url: str, seconds: float, size: str = "1280x720", fps: int = 30,
                audio: bool = True) -> subprocess.Popen[bytes]:
    """Debian's ffmpeg pushing H.264 (+ AAC) test patterns to ``url`` in real time."""
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    if audio:
        argv += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    argv += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune",
             "zerolatency", "-g", str(fps), "-pix_fmt", "yuv420p"]
    if audio:
        argv += ["-c:a", "aac", "-b:a", "64k"]
    argv += ["-f", "flv", url]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class StampedPusher(threading.Thread):
    """PyAV pushing frames that carry the camera simulator's burnt-in wall-clock stamp
    (epoch ms at encode time), so a viewer can measure push-to-screen latency."""

    def __init__(self, url: str, seconds: float, width: int = 640, height: int = 360,
                 fps: int = 30) -> None:
        super().__init__(name="stamped-pusher", daemon=True)
        self.url, self.seconds = url, seconds
        self.width, self.height, self.fps = width, height, fps
        self.error: BaseException | None = None
        self.frames_sent = 0
        self.stop_flag = threading.Event()
        # Wall-clock seconds: the publish request starts / nginx answered "publish start"
        # (FFmpeg's RTMP output waits for that answer, which follows the on_publish hook).
        self.open_started = 0.0
        self.open_done = 0.0

    def run(self) -> None:
        try:
            self._push()
        except BaseException as exc:  # reported to the test through .error
            self.error = exc

    def _push(self) -> None:
        out = av.open(self.url, "w", format="flv", timeout=(5.0, 5.0))
        try:
            stream = out.add_stream("libx264", rate=self.fps)
            stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
            stream.options = {"preset": "ultrafast", "tune": "zerolatency",
                              "g": str(self.fps), "bf": "0"}
            stream.codec_context.time_base = Fraction(1, self.fps)
            layout = stamp_layout(self.width, self.height)
            y = np.full((self.height, self.width), 80, dtype=np.uint8)
            uv = np.full((self.height // 2, self.width // 2), 128, dtype=np.uint8)
            start = time.monotonic()
            for i in range(int(self.seconds * self.fps)):
                if self.stop_flag.is_set():
                    break
                delay = start + i / self.fps - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                y[layout.bottom + 8:, :] = (i * 3) % 200 + 20  # moving content below the stamp
                draw_stamp(y, time.time_ns() // 1_000_000, layout)
                # yuv420p as PyAV takes it: the Y rows, then U and V packed two per row.
                planar = np.concatenate([y.ravel(), uv.ravel(), uv.ravel()])
                frame = av.VideoFrame.from_ndarray(planar.reshape(-1, self.width),
                                                   format="yuv420p")
                frame.pts = i
                for packet in stream.encode(frame):
                    if not self.open_started:
                        # The first mux connects and publishes (PyAV opens the output
                        # lazily); it returns once nginx answered "publish start".
                        self.open_started = time.time()
                        out.mux(packet)
                        self.open_done = time.time()
                    else:
                        out.mux(packet)
                self.frames_sent += 1
            for packet in stream.encode(None):
                out.mux(packet)
        finally:
            out.close()


def ffprobe_frames(path: Path) -> int:
    """Decoded video frames of a recording according to Debian's ffprobe (-count_frames)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()
    return int(out or 0)


def _push_main(argv: list[str]) -> None:
    """``python bench/rtmp_stack.py URL SECONDS [WxH]``: a StampedPusher in a process of its
    own (so that encoding does not share a GIL with what is measured); prints its timings
    as one JSON line."""
    import json

    width, height = (int(v) for v in (argv[2] if len(argv) > 2 else "1280x720").split("x"))
    pusher = StampedPusher(argv[0], float(argv[1]), width, height)
    pusher.run()
    print(json.dumps({"open_started": pusher.open_started, "open_done": pusher.open_done,
                      "frames_sent": pusher.frames_sent,
                      "error": repr(pusher.error) if pusher.error else None}), flush=True)


if __name__ == "__main__":
    _push_main(sys.argv[1:])
