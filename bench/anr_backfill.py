"""Edge recording backfill (ANR) benchmark: how fast the recorder restores an outage from a
camera's own storage, and what it costs the recorder.

    .venv/bin/python bench/anr_backfill.py                        # 1080p 4 Mbit/s, 60 s
    .venv/bin/python bench/anr_backfill.py --seconds 120 --cap-mbps 50

One simulated camera with edge storage (``--source loop`` over a 1080p30 clip that FFmpeg
encodes at exactly 4 Mbit/s CBR, moving test pattern plus noise, so the stream really is
4 Mbit/s even on a loaded 2-core machine, where a live 1080p encoder falls behind; GOP
1 s) runs in its own process; after ``--seconds`` of footage are on its "SD card", this
process does what the recorder's backfill does for an outage of that length: Profile G discovery
over ONVIF (GetServices, FindRecordings, GetRecordingSearchResults, GetReplayUri), then the
replay (``Scale``, ``Rate-Control: no``, the 0xABAC capture times) into the recorder's own
``BackfillWriter`` (fMP4 segments of 60 s, fsynced) in a temporary directory. Figures:
footage restored per wall-clock second (x real time), throughput, the recorder side's CPU
(this process, in % of one core) and the simulator's (from /proc), once without a
bandwidth cap and once with ``--cap-mbps``; and the leading edge: the outage starts
mid-GOP, so the frames up to the first keyframe are re-encoded into a bridge segment
(``bridge.py``): its CPU seconds (this thread's) and where the first segment starts after
the outage's start (``lead_gap_ms``, 0 when the bridge starts exactly there). The simulator
is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from argus_common.cameras import Camera
from argus_recording.backfill.onvif import OnvifRecordings
from argus_recording.backfill.replay import read_replay
from argus_recording.backfill.segments import BackfillWriter
from argus_recording.cameras import CameraConfig
from argus_recording.layout import DirMaker
from argus_recording.writer import ClosedSegment
from argus_testkit.ports import free_port
from argus_testkit.process import Proc, Ready

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_clip(args: argparse.Namespace, directory: Path) -> Path:
    """A 10 s clip at exactly ``--kbps`` (CBR with filler), moving test pattern plus noise."""
    path = directory / f"anr-{args.resolution}-{args.kbps}k.mp4"
    if not path.exists():
        kbps = args.kbps
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size={args.resolution}:rate=30,noise=alls=12:allf=t",
                "-t",
                "10",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-profile:v",
                "main",
                "-g",
                "30",
                "-keyint_min",
                "30",
                "-sc_threshold",
                "0",
                "-b:v",
                f"{kbps}k",
                "-minrate",
                f"{kbps}k",
                "-maxrate",
                f"{kbps}k",
                "-bufsize",
                f"{kbps}k",
                "-x264-params",
                "nal-hrd=cbr:repeat-headers=1",
                "-pix_fmt",
                "yuv420p",
                str(path),
            ],
            check=True,
            timeout=600,
        )
    return path


def start_camera(args: argparse.Namespace, logs: Path) -> tuple[Proc, int, int]:
    rtsp, control, onvif = free_port(), free_port(), free_port()
    argv = [
        sys.executable,
        "-m",
        "argus_camsim",
        "--cameras",
        "1",
        "--host",
        "127.0.0.1",
        "--rtsp-port",
        str(rtsp),
        "--control-port",
        str(control),
        "--onvif-port",
        str(onvif),
        "--resolution",
        args.resolution,
        "--bitrate",
        str(args.kbps),
        "--fps",
        "30",
        "--gop",
        "1",
        "--edge-minutes",
        str(args.seconds / 60 + 1),
    ]
    if args.source == "loop":
        argv += [
            "--source",
            "loop",
            "--loop-file",
            str(make_clip(args, Path(tempfile.gettempdir()))),
        ]
    proc = Proc.start("camera-simulator", argv, env=os.environ, log=logs / "camsim.log")
    proc.wait_ready(Ready(line="argus-camsim ready ", timeout_s=600))
    return proc, rtsp, onvif


def camera_config(onvif: int, rtsp: int) -> CameraConfig:
    base = Camera.from_api(
        {
            "id": 1,
            "stream_url": f"rtsp://127.0.0.1:{rtsp}/cam1/main",
            "onvif_host": "127.0.0.1",
            "onvif_port": onvif,
        }
    )
    return CameraConfig(**{f: getattr(base, f) for f in base.__dataclass_fields__})


async def backfill_once(
    camera: CameraConfig, lo: int, hi: int, cap_bytes_s: float, root: Path
) -> dict[str, float | None]:
    profile = await OnvifRecordings(camera).profile_g()
    assert profile is not None, "the simulated camera offers no Profile G"
    closed: list[ClosedSegment] = []
    writer = BackfillWriter(
        root=root,
        dirs=DirMaker(root, True),
        camera_id=camera.id,
        lo_ms=lo,
        hi_ms=hi,
        segment_ms=60_000,
        durable=True,
        sprop=(None, None),
        on_closed=closed.append,
    )
    cpu0, t0 = own_cpu_s(), time.monotonic()
    result = await read_replay(
        profile.replay_uri,
        None,
        None,
        lo,
        hi,
        speed=64,
        max_bytes_per_s=cap_bytes_s,
        read_timeout_s=10,
        on_unit=writer.feed,
        stop=threading.Event(),
        on_setup=writer.set_sprop,
    )
    writer.close()
    wall, cpu = time.monotonic() - t0, own_cpu_s() - cpu0
    footage = sum(s.end_ms - s.start_ms for s in closed) / 1000
    return {
        "footage_s": round(footage, 2),
        "wall_s": round(wall, 2),
        "x_real_time": round(footage / wall, 2),
        "mbit_s": round(result.nbytes * 8 / wall / 1e6, 1),
        "recorder_cpu_pct": round(100 * cpu / wall, 1),
        "segments": len(closed),
        "frames": result.units,
        "stream_mbit_s": round(result.nbytes * 8 / footage / 1e6, 2) if footage else 0.0,
        "stream_fps": round(result.units / footage, 1) if footage else 0.0,
        "bridge_cpu_s": round(writer.bridge_s, 3),
        "lead_gap_ms": closed[0].start_ms - lo if closed else None,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="outage to restore")
    parser.add_argument("--resolution", default="1920x1080")
    parser.add_argument("--kbps", type=int, default=4000)
    parser.add_argument("--source", choices=("loop", "live"), default="loop")
    parser.add_argument(
        "--cap-mbps",
        type=float,
        default=50.0,
        help="second run: the link share a backfill may use (Mbit/s)",
    )
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="anr-bench-"))
    proc, rtsp, onvif = start_camera(args, logs)
    try:
        camera = camera_config(onvif, rtsp)
        await asyncio.sleep(args.seconds + 5)  # footage on the camera's own storage
        now = int(time.time() * 1000)
        lo, hi = now - int(args.seconds * 1000) - 2000, now - 2000
        print(
            json.dumps(
                {
                    "bench": "anr_backfill",
                    "resolution": args.resolution,
                    "kbps": args.kbps,
                    "outage_s": args.seconds,
                    "load_avg": os.getloadavg(),
                }
            )
        )
        for label, cap in (
            ("uncapped", 1e12),
            (f"cap {args.cap_mbps:g} Mbit/s", args.cap_mbps * 1e6 / 8),
        ):
            sim0, t0 = proc_cpu_s(proc.pid), time.monotonic()
            with tempfile.TemporaryDirectory(prefix="anr-bench-rec-") as root:
                figures = await backfill_once(camera, lo, hi, cap, Path(root))
            figures["camera_cpu_pct"] = round(
                100 * (proc_cpu_s(proc.pid) - sim0) / (time.monotonic() - t0), 1
            )
            print(json.dumps({"run": label, **figures}))
    finally:
        proc.stop()


if __name__ == "__main__":
    asyncio.run(main())
