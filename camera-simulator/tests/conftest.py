"""Fixtures for the simulator's media tests: the simulator as a real subprocess.

Every simulator binds 127.0.0.1 on free ports, is awaited through its ``ready`` line (no
polling), and is stopped by PID at the end of its fixture.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import av
import httpx
import numpy as np
import pytest

READY_PREFIX = "argus-camsim ready "


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SimProcess:
    """A running ``argus-camsim`` subprocess and how to reach it."""

    proc: subprocess.Popen[str]
    rtsp_port: int
    control_port: int
    onvif_ports: dict[str, int]
    output: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=400))

    def url(
        self,
        cam: int = 1,
        variant: str = "main",
        user: str | None = None,
        password: str | None = None,
    ) -> str:
        """RTSP URL of a stream, with credentials when given."""
        cred = f"{user}:{password}@" if user is not None else ""
        return f"rtsp://{cred}127.0.0.1:{self.rtsp_port}/cam{cam}/{variant}"

    def post(self, path: str, body: Any) -> httpx.Response:
        """POST JSON to the control API."""
        return httpx.post(f"http://127.0.0.1:{self.control_port}{path}", json=body, timeout=10)

    def get(self, path: str) -> httpx.Response:
        """GET from the control API."""
        return httpx.get(f"http://127.0.0.1:{self.control_port}{path}", timeout=10)

    async def apost(self, path: str, body: Any) -> httpx.Response:
        """POST JSON to the control API without blocking the test's event loop."""
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(f"http://127.0.0.1:{self.control_port}{path}", json=body)

    def log_text(self) -> str:
        """The last lines the simulator printed (for failure messages)."""
        return "\n".join(self.output)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in 10 s."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def launch(*args: str, ready_timeout: float = 90.0) -> SimProcess:
    """Start the simulator on free ports and wait for its ready line."""
    rtsp, control = free_port(), free_port()
    cmd = [
        sys.executable,
        "-m",
        "argus_camsim",
        "--host",
        "127.0.0.1",
        "--rtsp-port",
        str(rtsp),
        "--control-port",
        str(control),
        "--linger",
        "2",
        *args,
    ]
    if "--onvif-port" not in args:
        cmd.append("--no-onvif")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: collections.deque[str] = collections.deque(maxlen=400)
    ready = threading.Event()
    info: dict[str, Any] = {}

    def pump() -> None:
        # Drains the pipe for the whole life of the process so it never blocks on output.
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip())
            if line.startswith(READY_PREFIX):
                info.update(json.loads(line[len(READY_PREFIX) :]))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(ready_timeout) or not info:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        raise RuntimeError("simulator did not start:\n" + "\n".join(output))
    return SimProcess(
        proc, int(info["rtsp_port"]), int(info["control_port"]), dict(info["onvif_ports"]), output
    )


@pytest.fixture(scope="session")
def camsim_launcher() -> Iterator[Callable[..., SimProcess]]:
    """``launch(*args)``; anything still running at the end of the session is stopped."""
    started: list[SimProcess] = []

    def _launch(*args: str, ready_timeout: float = 90.0) -> SimProcess:
        sim = launch(*args, ready_timeout=ready_timeout)
        started.append(sim)
        return sim

    yield _launch
    for sim in started:
        sim.stop()


Frames = list[np.ndarray]


def read_frames(
    url: str,
    count: int,
    until: Callable[[av.VideoFrame], bool] | None = None,
    max_frames: int = 300,
) -> list[av.VideoFrame]:
    """Decode frames from an RTSP URL with PyAV over TCP.

    Returns ``count`` frames, or with ``until`` the frames up to and including the first
    one it accepts (at most ``max_frames``).
    """
    frames: list[av.VideoFrame] = []
    with av.open(
        url, options={"rtsp_transport": "tcp", "timeout": "10000000"}, timeout=10
    ) as container:
        for frame in container.decode(video=0):
            frames.append(frame)
            if until is not None:
                if until(frame) or len(frames) >= max_frames:
                    break
            elif len(frames) >= count:
                break
    return frames


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane of a decoded frame as a 2-D array."""
    return frame.to_ndarray(format="gray")


@pytest.fixture(scope="session")
def pyav() -> Callable[..., list[av.VideoFrame]]:
    """``read_frames(url, count, until=None)`` (see above)."""
    return read_frames


@pytest.fixture(scope="session")
def gray() -> Callable[[av.VideoFrame], np.ndarray]:
    """``luma(frame)``: the Y plane of a decoded frame."""
    return luma
