"""The camera simulator as a real subprocess for management tests (liveness probes).

Small, slow streams (320x180 at 5 fps) keep the encoder cheap: a probe's DESCRIBE starts
the camera's encoder. The process binds 127.0.0.1 on free ports, is awaited through its
ready line, and is stopped by PID.
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
from dataclasses import dataclass, field
from typing import Any

import httpx

READY_PREFIX = "argus-camsim ready "
SMALL = ("--resolution", "320x180", "--sub-resolution", "160x90", "--fps", "5", "--linger", "3")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Camsim:
    """A running simulator and how to reach it."""

    proc: subprocess.Popen[str]
    rtsp_port: int
    control_port: int
    onvif_ports: dict[str, int]
    output: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=200))

    def url(self, cam: int = 1, variant: str = "main") -> str:
        return f"rtsp://127.0.0.1:{self.rtsp_port}/cam{cam}/{variant}"

    async def fault(self, cam: int, **body: Any) -> None:
        """POST ``body`` to ``/faults/camN`` of the control API."""
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await client.post(
                f"http://127.0.0.1:{self.control_port}/faults/cam{cam}", json=body
            )
        assert resp.status_code == 200, resp.text

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def launch(*args: str, onvif: bool = False, ready_timeout: float = 60.0) -> Camsim:
    """Start ``argus-camsim`` with ``args`` on free ports; returns once it is ready."""
    cmd = [
        sys.executable, "-m", "argus_camsim", "--host", "127.0.0.1",
        "--rtsp-port", str(free_port()), "--control-port", str(free_port()),
        *SMALL, *args,
    ]
    cmd += ["--onvif-port", "0"] if onvif else ["--no-onvif"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: collections.deque[str] = collections.deque(maxlen=200)
    ready = threading.Event()
    info: dict[str, Any] = {}

    def pump() -> None:
        # Drains the pipe for the life of the process so it never blocks on output.
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip())
            if line.startswith(READY_PREFIX):
                info.update(json.loads(line[len(READY_PREFIX):]))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(ready_timeout) or not info:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        raise RuntimeError("simulator did not start:\n" + "\n".join(output))
    return Camsim(proc, int(info["rtsp_port"]), int(info["control_port"]),
                  {k: int(v) for k, v in info["onvif_ports"].items()}, output)
