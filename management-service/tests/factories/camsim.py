"""The camera simulator (``argus-camsim``) as a subprocess on free 127.0.0.1 ports.

``launch(*flags)`` starts it, waits for its ready line and returns a ``Camsim`` with its ports;
``stop()`` ends it by PID. Its output is read continuously (kept in ``lines``), so a chatty
simulator never blocks on a full pipe.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from argus_testkit.ports import free_port

_READY = "argus-camsim ready "


@dataclass
class Camsim:
    """A running simulator: ports, output lines so far, and its control API."""

    proc: subprocess.Popen[str]
    rtsp_port: int
    control_port: int
    onvif_ports: dict[str, int]
    lines: list[str] = field(default_factory=list)

    @property
    def control(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    def url(self, index: int, variant: str = "main") -> str:
        """RTSP URL of ``cam<index>`` (no credentials)."""
        return f"rtsp://127.0.0.1:{self.rtsp_port}/cam{index}/{variant}"

    async def fault(self, index: int, **payload: Any) -> dict[str, Any]:
        """``POST /faults/cam<index>`` (stall, offline_s, corrupt, drop, resolution)."""
        async with httpx.AsyncClient(timeout=5) as client:
            resp = await client.post(f"{self.control}/faults/cam{index}", json=payload)
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def stop(self) -> None:
        """SIGTERM by PID, SIGKILL if it does not end within 10 s."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def launch(*flags: str, onvif: bool = False, timeout_s: float = 30.0) -> Camsim:
    """Start ``argus-camsim`` with ``flags`` on free ports (ONVIF on free ports too when
    ``onvif``, else off) and wait until it is ready."""
    ports = ["--rtsp-port", str(free_port()), "--control-port", str(free_port())]
    onvif_flags = ["--onvif-port", "0"] if onvif else ["--no-onvif"]
    exe = Path(sys.executable).parent / "argus-camsim"
    proc = subprocess.Popen(
        [str(exe), *ports, *onvif_flags, *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    ready: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith(_READY):
                ready.put(line[len(_READY):])

    threading.Thread(target=pump, name="camsim-output", daemon=True).start()
    try:
        info = json.loads(ready.get(timeout=timeout_s))
    except queue.Empty:
        proc.kill()
        proc.wait(5)
        raise RuntimeError("camera simulator did not start:\n" + "\n".join(lines[-20:])) from None
    return Camsim(
        proc=proc, rtsp_port=int(info["rtsp_port"]), control_port=int(info["control_port"]),
        onvif_ports={k: int(v) for k, v in (info.get("onvif_ports") or {}).items()},
        lines=lines,
    )
