"""Fixtures for the simulator's media tests: the simulator as a real subprocess.

Every simulator binds 127.0.0.1 on free ports, is awaited through its ``ready`` line (bounded),
writes its output to a log file of its own and is stopped by PID (process group) at the end
of its fixture; launching, ports and cleanup come from argus_testkit.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from argus_testkit.ports import free_port
from argus_testkit.process import Proc, Ready

READY_PREFIX = "argus-camsim ready "
LOGS = Path(tempfile.mkdtemp(prefix="argus-camsim-tests-"))



@dataclass
class SimProcess:
    """A running ``argus-camsim`` subprocess (an argus_testkit ``Proc``) and how to reach it."""

    sim: Proc
    rtsp_port: int
    control_port: int
    onvif_ports: dict[str, int]

    @property
    def proc(self) -> Any:
        """The ``subprocess.Popen`` (``.pid``, ``.poll()``)."""
        return self.sim.proc

    @property
    def output(self) -> list[str]:
        """Every line the simulator printed so far."""
        return self.sim.output

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
        return self.sim.tail(400)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in 10 s."""
        self.sim.stop(10)


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
    log = LOGS / f"camsim-{rtsp}.log"
    sim = Proc.start("camera-simulator", cmd, env=os.environ, log=log)
    try:
        sim.wait_ready(Ready(line=READY_PREFIX), ready_timeout)
    except (RuntimeError, AssertionError) as exc:
        raise RuntimeError(f"simulator did not start: {exc}") from None
    info = json.loads(sim.ready_line or "{}")
    return SimProcess(
        sim, int(info["rtsp_port"]), int(info["control_port"]), dict(info["onvif_ports"])
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
