"""Camera simulator benchmark: CPU cost of looped and live streams.

    .venv/bin/python bench/camsim_bench.py                 # both parts
    .venv/bin/python bench/camsim_bench.py --part loop --streams 100 --seconds 20
    .venv/bin/python bench/camsim_bench.py --part live --seconds 10

Loop part: ``--streams`` cameras in ``--source loop`` mode (1080p30, 4 Mbit/s clip), one
client per camera main stream. Clients are light raw RTSP/TCP readers in this process
(``argus_common.rtsp.RtspClient`` with a ``FrameCounter``): they split interleaved frames
and count RTP marker bits, they do not decode, so the client side costs little next to the
simulator. Figures: simulator CPU (from /proc/<pid>/stat, in % of one core), delivered
frame rate per stream (min/median), delivered bitrate.

Live part: one camera in ``--source live`` mode at 720p and at 1080p, with a static
scene and with moving objects; CPU of the simulator with one client on the main stream,
then with clients on main and sub (the sub stream has its own encoder).

Every simulator started here is stopped by PID before the script exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from argus_common.rtsp import RtspClient
from argus_common.rtsp.counter import FrameCounter
from argus_testkit.ports import free_port
from argus_testkit.process import Proc, Ready

TICKS = os.sysconf("SC_CLK_TCK")
READY = "argus-camsim ready "


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Sim:
    proc: Proc
    rtsp_port: int

    def url(self, cam: int, variant: str = "main") -> str:
        return f"rtsp://127.0.0.1:{self.rtsp_port}/cam{cam}/{variant}"

    def stop(self) -> None:
        self.proc.stop(15)


def start_sim(*args: str, ready_timeout: float = 300.0) -> Sim:
    """The simulator on free ports (argus_testkit's launcher: log file, ready line)."""
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
        "--no-onvif",
        "--log-level",
        "WARNING",
        *args,
    ]
    log = Path(tempfile.mkdtemp(prefix="argus-camsim-bench-")) / "camsim.log"
    proc = Proc.start("camera-simulator", cmd, env=os.environ, log=log)
    proc.wait_ready(Ready(line=READY), ready_timeout)
    for line in proc.output:
        if "WARNING" in line or "ERROR" in line:
            sys.stderr.write("  sim: " + line + "\n")
    return Sim(proc, int(json.loads(proc.ready_line or "{}")["rtsp_port"]))


async def measure(
    sim: Sim,
    urls: list[str],
    warmup: float,
    seconds: float,
) -> tuple[float, list[float], float, float]:
    """Play every URL, then count for ``seconds``.

    Returns (simulator CPU %, fps per stream, delivered Mbit/s, client CPU %).
    """
    counters = [FrameCounter(0) for _ in urls]
    clients = [RtspClient(u, k, connect_timeout_s=30, request_timeout_s=30)
               for u, k in zip(urls, counters, strict=True)]
    await asyncio.gather(*(c.start() for c in clients))
    await asyncio.sleep(warmup)  # a fixed measuring window, not a wait for an event
    for k in counters:
        k.take()
    sim_cpu0, own0, t0 = cpu_seconds(sim.proc.pid), time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    counts = [k.take() for k in counters]
    elapsed = time.monotonic() - t0
    sim_cpu = (cpu_seconds(sim.proc.pid) - sim_cpu0) / elapsed * 100
    own_cpu = (time.process_time() - own0) / elapsed * 100
    for c in clients:
        c.abort()
    fps = [c.frames / elapsed for c in counts]
    mbps = sum(c.bytes for c in counts) * 8 / elapsed / 1e6
    return sim_cpu, fps, mbps, own_cpu


def loop_part(streams: int, seconds: float, cache: Path) -> None:
    print(f"== loop source: {streams} x 1080p30 4 Mbit/s, one raw client per stream ==")
    sim = start_sim(
        "--cameras",
        str(streams),
        "--source",
        "loop",
        "--resolution",
        "1920x1080",
        "--bitrate",
        "4000",
        "--fps",
        "30",
        "--gop",
        "1",
        "--sub-resolution",
        "640x360",
        "--cache-dir",
        str(cache),
    )
    try:
        idle0, t0 = cpu_seconds(sim.proc.pid), time.monotonic()
        time.sleep(3)
        idle = (cpu_seconds(sim.proc.pid) - idle0) / (time.monotonic() - t0) * 100
        urls = [sim.url(i) for i in range(1, streams + 1)]
        cpu, fps, mbps, own = asyncio.run(measure(sim, urls, 3.0, seconds))
    finally:
        sim.stop()
    print(f"simulator CPU, idle (no clients): {idle:.1f}% of one core")
    print(f"simulator CPU, {streams} streams:  {cpu:.1f}% of one core")
    print(
        f"per-stream frame rate: min {min(fps):.1f}  median {statistics.median(fps):.1f}"
        f"  max {max(fps):.1f} fps (target 30)"
    )
    print(f"streams at >= 29 fps: {sum(f >= 29 for f in fps)}/{streams}")
    print(f"delivered: {mbps:.1f} Mbit/s total, {mbps / streams:.2f} Mbit/s per stream")
    print(f"client process CPU (raw readers, all {streams}): {own:.1f}% of one core")


def live_part(seconds: float) -> None:
    for size in ("1280x720", "1920x1080"):
        for motion in (False, True):
            scene = "moving objects" if motion else "static scene"
            print(f"== live source: 1 camera, main {size}, sub 640x360, 30 fps, {scene} ==")
            extra = ("--motion",) if motion else ()
            sim = start_sim("--cameras", "1", "--resolution", size, "--fps", "30", *extra)
            try:
                cpu, fps, mbps, _ = asyncio.run(measure(sim, [sim.url(1)], 3.0, seconds))
                print(
                    f"main only:  simulator CPU {cpu:.1f}% of one core, {fps[0]:.1f} fps, "
                    f"{mbps:.2f} Mbit/s"
                )
                urls = [sim.url(1), sim.url(1, "sub")]
                cpu2, fps2, mbps2, _ = asyncio.run(measure(sim, urls, 3.0, seconds))
                print(
                    f"main + sub: simulator CPU {cpu2:.1f}% of one core, "
                    f"{fps2[0]:.1f}/{fps2[1]:.1f} fps, {mbps2:.2f} Mbit/s"
                )
            finally:
                sim.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("loop", "live", "all"), default="all")
    p.add_argument("--streams", type=int, default=100)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument(
        "--cache-dir", type=Path, default=None, help="clip cache (default: a temporary directory)"
    )
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir or Path(tmp)
        if args.part in ("loop", "all"):
            loop_part(args.streams, args.seconds, cache)
        if args.part in ("live", "all"):
            live_part(min(args.seconds, 10.0))


if __name__ == "__main__":
    main()
