"""ARGUS recorder against FFmpeg's segmenter (the anchor), side by side on the same streams.

    .venv/bin/python bench/recording_vs_ffmpeg.py --streams 50 --seconds 60

One camera simulator (looped 1080p30 4 Mbit/s, 1 s GOP) serves N cameras; ``argus-recording``
(with management, as in bench/recording_bench.py) records all of them while N
``ffmpeg -c copy -f segment -segment_format mp4`` processes (one per camera, as Frigate
records) record the same streams at the same time. CPU time (user + sys from /proc) of
the recorder, of all ffmpeg processes together, and of the simulator over ``--seconds``.
Then, apart, the floor (bench/recording_floor.py): the RTSP/TCP read alone for N cameras,
and the fMP4 remux alone. Packets lost: timestamp gaps in the recorded files plus packets
the recorder refused. Every process started here is stopped by PID.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stack import ADMIN_PASSWORD, INTERNAL, ROOT, SECRET, free_port, scratch_database
from recording_bench import FPS, Proc, check_files, cpu_seconds, management_process, metrics


def ffmpeg_argv(url: str, out: Path) -> list[str]:
    """Frigate's recording command, in essence: copy into 60 s MP4 segments."""
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-rtsp_transport",
            "tcp", "-timeout", "10000000", "-i", url, "-c", "copy", "-map", "0", "-f",
            "segment", "-segment_time", "60", "-segment_format", "mp4", "-reset_timestamps",
            "1", "-strftime", "1", str(out / "%Y%m%d%H%M%S.mp4")]


def floor(mode: str, template: str, streams: int, seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), str(ROOT / "bench/recording_floor.py"), mode,
         "--url-template", template, "--streams", str(streams), "--seconds", str(seconds)],
        capture_output=True, text=True, timeout=seconds + 120, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run(streams: int, seconds: float, cache: Path) -> dict[str, Any]:
    recordings = Path(tempfile.mkdtemp(prefix="argus-rec-vs-"))
    anchor_dir = Path(tempfile.mkdtemp(prefix="argus-ffmpeg-seg-"))
    result: dict[str, Any] = {"streams": streams, "seconds": seconds}
    namespace = f"argus-rec-vs-{uuid.uuid4().hex[:8]}"
    with scratch_database() as db_url, management_process(db_url, namespace) as api_url:
        sim_rtsp, sim_ctl = free_port(), free_port()
        sim = Proc([str(ROOT / ".venv/bin/argus-camsim"), "--cameras", str(streams), "--source",
                    "loop", "--resolution", "1920x1080", "--bitrate", "4000", "--fps", str(FPS),
                    "--gop", "1", "--rtsp-port", str(sim_rtsp), "--control-port", str(sim_ctl),
                    "--no-onvif", "--cache-dir", str(cache), "--log-level", "WARNING"],
                   dict(os.environ), ready="argus-camsim ready ")
        rec: Proc | None = None
        anchors: list[subprocess.Popen[bytes]] = []
        template = f"rtsp://127.0.0.1:{sim_rtsp}/cam{{n}}/main"
        try:
            if not sim.ready.wait(300):
                raise RuntimeError("simulator did not start:\n" + "\n".join(sim.lines))
            api = httpx.Client(base_url=api_url, timeout=30)
            token = api.post("/api/v1/auth/login",
                             data={"username": "admin", "password": ADMIN_PASSWORD})
            api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            for n in range(1, streams + 1):
                api.post("/api/v1/cameras", json={
                    "name": f"bench-{n}", "stream_url": template.format(n=n),
                    "connect_timeout_s": 10, "read_timeout_s": 10}).raise_for_status()
            api.close()
            port = free_port()
            env = {
                **os.environ, "ARGUS_ENV": "test", "SECRET_KEY": SECRET,
                "INTERNAL_API_KEY": INTERNAL, "MANAGEMENT_URL": api_url,
                "RECORDINGS_DIR": str(recordings), "RECORDING_METRICS_PORT": str(port),
                "LOG_LEVEL": "WARNING", "RECORDINGS_MIN_FREE_BYTES": "0",
                "RECORDING_MIN_FREE_PERCENT": "0", "RECORDING_INSTANCE_ID": "bench",
                "ARGUS_REDIS_NAMESPACE": namespace,
            }
            rec = Proc([str(ROOT / ".venv/bin/argus-recording")], env)
            for n in range(1, streams + 1):
                out = anchor_dir / f"cam{n}"
                out.mkdir()
                anchors.append(subprocess.Popen(ffmpeg_argv(template.format(n=n), out),
                                                stdin=subprocess.DEVNULL))
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if metrics(url).get("argus_recording_active_recordings", 0) >= streams:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1)
            else:
                raise RuntimeError("not every camera started recording:\n"
                                   + "\n".join(rec.lines[-30:]))
            time.sleep(5)  # past the first keyframes, every ffmpeg connected
            pids = [a.pid for a in anchors]
            m0, t0 = metrics(url), time.monotonic()
            c0, s0 = cpu_seconds(rec.proc.pid), cpu_seconds(sim.proc.pid)
            f0 = sum(cpu_seconds(p) for p in pids)
            time.sleep(seconds)
            m1, t1 = metrics(url), time.monotonic()
            c1, s1 = cpu_seconds(rec.proc.pid), cpu_seconds(sim.proc.pid)
            f1 = sum(cpu_seconds(p) for p in pids)
            dead = [a.pid for a in anchors if a.poll() is not None]
            wall = t1 - t0
            key = "argus_recording_dropped_packets_total:out_of_order"
            packets = streams * FPS * wall
            result.update({
                "recorder_cpu_pct": (c1 - c0) / wall * 100,
                "recorder_us_per_packet": (c1 - c0) / packets * 1e6,
                "ffmpeg_cpu_pct": (f1 - f0) / wall * 100,
                "ffmpeg_us_per_packet": (f1 - f0) / packets * 1e6,
                "simulator_cpu_pct": (s1 - s0) / wall * 100,
                "refused_packets": m1.get(key, 0) - m0.get(key, 0),
                "reconnects": m1.get("argus_recording_ingest_reconnects_total", 0),
                "ffmpeg_exited": len(dead), "load_avg": os.getloadavg(),
            })
            result["ratio"] = result["recorder_cpu_pct"] / result["ffmpeg_cpu_pct"]
            rec.stop()
            for a in anchors:
                a.terminate()
            for a in anchors:
                a.wait(30)
            result["floor_read"] = floor("read", template, streams, min(seconds, 30))
            result["floor_remux"] = floor("remux", template, 1, 10)
        finally:
            if rec is not None:
                rec.stop()
            for a in anchors:
                if a.poll() is None:
                    a.kill()
                    a.wait(10)
            sim.stop()
    result["check"] = check_files(recordings, full=3)
    shutil.rmtree(recordings, ignore_errors=True)
    shutil.rmtree(anchor_dir, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "argus-camsim")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    r = run(args.streams, args.seconds, args.cache_dir)
    print(json.dumps(r, default=str, indent=1))
    check = r["check"]
    fr, fm = r["floor_read"]["us_per_packet"], r["floor_remux"]["us_per_packet"]
    print(f"\n{r['streams']} x 1080p30 4 Mbit/s, {r['seconds']:.0f} s, side by side")
    print(f"ARGUS recorder:   {r['recorder_cpu_pct']:.1f}% of one core, "
          f"{r['recorder_us_per_packet']:.0f} us per video packet")
    print(f"ffmpeg segmenter: {r['ffmpeg_cpu_pct']:.1f}% ({r['ffmpeg_us_per_packet']:.0f} us), "
          f"{r['ffmpeg_exited']} exited early")
    print(f"ratio:            {r['ratio']:.2f} x the anchor (goal <= 0.5)")
    print(f"floor:            read {fr:.0f} us + remux {fm:.0f} us = {fr + fm:.0f} us per packet")
    print(f"lost:             {check['lost']} (gaps) + {r['refused_packets']:.0f} refused; "
          f"{check['files']} files, {len(check['bad'])} bad")
    print(f"simulator:        {r['simulator_cpu_pct']:.1f}%; load {r['load_avg']}")


if __name__ == "__main__":
    main()
