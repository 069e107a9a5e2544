"""Recording benchmark: N looped 1080p30 4 Mbit/s cameras recorded by one recorder.

    .venv/bin/python bench/recording_bench.py --streams 10 50 100 --seconds 120

For each N: a scratch PostgreSQL database and ``argus-management`` (bench/_stack.py), the
camera simulator in ``--source loop`` mode with N cameras, N cameras registered through the
API, and ``argus-recording`` as a real process (60 s segments, fsync on). Once every camera
is being written, the recorder is measured for ``--seconds``:

- CPU of the recorder from /proc (% of one core), split between camera threads and the
  rest (asyncio loop, HTTP), and of the simulator for reference;
- packets lost: timestamp gaps inside the recorded video (the loop source has none) plus
  packets the recorder refused; must be 0;
- packet-to-disk latency: ``argus_recording_write_latency_seconds`` (first packet of a
  fragment received -> fragment written; a fragment is one GOP, here 1 s);
- every segment: box structure complete, every packet demuxes, the first GOP decodes; a
  few segments are decoded in full (decoding everything would take longer than the run).

Every process started here is stopped by PID before the script exits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import httpx
from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stack import (
    ADMIN_PASSWORD,
    INTERNAL,
    ROOT,
    SECRET,
    free_port,
    scratch_database,
)

from argus_recording.mp4box import walk

TICKS = os.sysconf("SC_CLK_TCK")
BIN = ROOT / ".venv" / "bin"
FPS = 30


def cpu_seconds(pid: int, task: str = "") -> float:
    path = f"/proc/{pid}/task/{task}/stat" if task else f"/proc/{pid}/stat"
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (camera threads summed as 'camera-*')."""
    out: dict[str, float] = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            name = Path(f"/proc/{pid}/task/{task}/comm").read_text().strip()
            used = cpu_seconds(pid, task)
        except OSError:
            continue
        key = "camera threads" if name.startswith("camera-") else "other threads"
        out[key] = out.get(key, 0.0) + used
    return out


def metrics(url: str) -> dict[str, float]:
    """Sum of every sample of each metric family (labels dropped), plus histogram buckets."""
    out: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        if "_bucket{" in name:
            le = name.split('le="', 1)[1].split('"', 1)[0]
            key = f"{name.split('{', 1)[0]}:{le}"
        else:
            key = name.split("{", 1)[0]
            if 'reason="' in name:
                key += ":" + name.split('reason="', 1)[1].split('"', 1)[0]
        out[key] = out.get(key, 0.0) + float(value)
    return out


def quantile(before: dict[str, float], after: dict[str, float], q: float) -> float:
    """A quantile of the write-latency histogram over the measured window (bucket bound)."""
    prefix = "argus_recording_write_latency_seconds_bucket:"
    buckets = sorted(
        (float("inf") if k[len(prefix):] == "+Inf" else float(k[len(prefix):]),
         after[k] - before.get(k, 0.0))
        for k in after if k.startswith(prefix)
    )
    total = buckets[-1][1] if buckets else 0
    for bound, count in buckets:
        if total and count >= q * total:
            return bound
    return float("nan")


class Proc:
    def __init__(self, argv: list[str], env: dict[str, str], ready: str | None = None) -> None:
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.info = ""
        self._marker = ready
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines = [*self.lines[-200:], line.rstrip()]
            if self._marker and line.startswith(self._marker):
                self.info = line[len(self._marker):]
                self.ready.set()

    def stop(self, timeout: float = 60) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@contextmanager
def management_process(database_url: str, namespace: str) -> Iterator[str]:
    """``argus-management`` on a free port with a Redis namespace we know."""
    port = free_port()
    env = {
        **os.environ, "ARGUS_ENV": "test", "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
        "INTERNAL_API_KEY": INTERNAL, "ARGUS_REDIS_NAMESPACE": namespace,
        "ARGUS_ADMIN_USERNAME": "admin", "ARGUS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MANAGEMENT_PORT": str(port), "MANAGEMENT_WORKERS": "1", "LOG_LEVEL": "WARNING",
        "ARGUS_DATA_DIR": tempfile.mkdtemp(prefix="argus-rec-bench-data-"),
    }
    proc = Proc([str(BIN / "argus-management")], env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError("management did not start:\n" + "\n".join(proc.lines))
        yield url
    finally:
        proc.stop()
        shutil.rmtree(env["ARGUS_DATA_DIR"], ignore_errors=True)
        redis = Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        keys = list(redis.scan_iter(match=f"{namespace}:*"))
        if keys:
            redis.delete(*keys)
        redis.close()


def check_files(root: Path, full: int) -> dict[str, Any]:
    """Structure, demux and first-GOP decode of every segment; gaps in the video."""
    files = sorted(root.rglob("*.mp4"))
    lost = 0
    packets = 0
    bad: list[str] = []
    for path in files:
        layout = walk(path)
        if not (layout.clean and layout.playable):
            bad.append(f"{path.name}: {layout}")
            continue
        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                step = round(1 / FPS / float(stream.time_base))
                last = None
                decoded = 0
                for packet in container.demux(stream):
                    if packet.dts is None:
                        continue
                    packets += 1
                    if last is not None and packet.dts - last > step * 1.5:
                        lost += round((packet.dts - last) / step) - 1
                    last = packet.dts
                    if decoded < FPS:  # the first GOP must decode
                        decoded += len(stream.codec_context.decode(packet))
        except av.FFmpegError as exc:
            bad.append(f"{path.name}: {exc}")
    sample = random.sample(files, min(full, len(files)))
    for path in sample:
        with av.open(str(path)) as container:
            for _ in container.decode(video=0):
                pass
    return {"files": len(files), "packets": packets, "lost": lost, "bad": bad,
            "fully_decoded": len(sample)}


def run(streams: int, seconds: float, cache: Path, keep_going: bool) -> dict[str, Any]:
    print(f"\n== {streams} x 1080p30 4 Mbit/s looped streams, {seconds:.0f} s ==", flush=True)
    recordings = Path(tempfile.mkdtemp(prefix="argus-rec-bench-"))
    result: dict[str, Any] = {"streams": streams}
    namespace = f"argus-rec-bench-{uuid.uuid4().hex[:8]}"
    with scratch_database() as db_url, management_process(db_url, namespace) as api_url:
        sim_rtsp, sim_ctl = free_port(), free_port()
        sim = Proc([str(BIN / "argus-camsim"), "--cameras", str(streams), "--source", "loop",
                    "--resolution", "1920x1080", "--bitrate", "4000", "--fps", str(FPS),
                    "--gop", "1", "--rtsp-port", str(sim_rtsp), "--control-port", str(sim_ctl),
                    "--no-onvif", "--cache-dir", str(cache), "--log-level", "WARNING"],
                   dict(os.environ), ready="argus-camsim ready ")
        rec: Proc | None = None
        try:
            if not sim.ready.wait(300):
                raise RuntimeError("simulator did not start:\n" + "\n".join(sim.lines))
            api = httpx.Client(base_url=api_url, timeout=30)
            token = api.post("/api/v1/auth/login",
                             data={"username": "admin", "password": ADMIN_PASSWORD})
            api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            for n in range(1, streams + 1):
                resp = api.post("/api/v1/cameras", json={
                    "name": f"bench-{n}", "stream_url": f"rtsp://127.0.0.1:{sim_rtsp}/cam{n}/main",
                    "connect_timeout_s": 10, "read_timeout_s": 10})
                resp.raise_for_status()
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
            rec = Proc([str(BIN / "argus-recording")], env)
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    m = metrics(url)
                    if m.get("argus_recording_active_recordings", 0) >= streams:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1)
            else:
                raise RuntimeError("not every camera started recording:\n"
                                   + "\n".join(rec.lines[-30:]))
            time.sleep(3)  # past the first keyframes
            m0, t0 = metrics(url), time.monotonic()
            c0, s0, th0 = (cpu_seconds(rec.proc.pid), cpu_seconds(sim.proc.pid),
                           thread_cpu(rec.proc.pid))
            time.sleep(seconds)
            m1, t1 = metrics(url), time.monotonic()
            c1, s1, th1 = (cpu_seconds(rec.proc.pid), cpu_seconds(sim.proc.pid),
                           thread_cpu(rec.proc.pid))
            wall = t1 - t0
            written = m1["argus_recording_bytes_written_total"] - m0.get(
                "argus_recording_bytes_written_total", 0)
            refused = m1.get("argus_recording_dropped_packets_total:out_of_order", 0) - m0.get(
                "argus_recording_dropped_packets_total:out_of_order", 0)
            result.update({
                "recorder_cpu_pct": (c1 - c0) / wall * 100,
                "camera_threads_pct": (th1.get("camera threads", 0) - th0.get(
                    "camera threads", 0)) / wall * 100,
                "other_threads_pct": (th1.get("other threads", 0) - th0.get(
                    "other threads", 0)) / wall * 100,
                "simulator_cpu_pct": (s1 - s0) / wall * 100,
                "latency_p50_s": quantile(m0, m1, 0.5),
                "latency_p99_s": quantile(m0, m1, 0.99),
                "refused_packets": refused,
                "reconnects": m1.get("argus_recording_ingest_reconnects_total", 0),
                "load_avg": os.getloadavg(),
            })
            rec.stop()
            result["cpu_per_packet_us"] = (c1 - c0) / (streams * FPS * wall) * 1e6
            result["check"] = check_files(recordings, full=3)
            result["written_mbit_s"] = written * 8 / wall / 1e6 if written else None
        finally:
            if rec is not None:
                rec.stop()
            sim.stop()
            if not keep_going:
                shutil.rmtree(recordings, ignore_errors=True)
    _print(result)
    return result


def _print(r: dict[str, Any]) -> None:
    check = r["check"]
    print(f"recorder CPU:        {r['recorder_cpu_pct']:.1f}% of one core "
          f"(camera threads {r['camera_threads_pct']:.1f}%, rest {r['other_threads_pct']:.1f}%)")
    print(f"  per video packet:  {r['cpu_per_packet_us']:.0f} us (audio none)")
    print(f"simulator CPU:       {r['simulator_cpu_pct']:.1f}% of one core")
    print(f"packets lost:        {check['lost']} (timestamp gaps) + {r['refused_packets']:.0f} "
          f"refused; reconnects {r['reconnects']:.0f}")
    print(f"packet->disk:        p50 <= {r['latency_p50_s']} s, p99 <= {r['latency_p99_s']} s "
          "(fragment = 1 s GOP)")
    print(f"segments:            {check['files']} files, {check['packets']} video packets, "
          f"{len(check['bad'])} bad, {check['fully_decoded']} decoded in full")
    if r.get("written_mbit_s"):
        print(f"written:             {r['written_mbit_s']:.1f} Mbit/s")
    print(f"load average:        {', '.join(f'{x:.2f}' for x in r['load_avg'])}")
    for line in check["bad"][:10]:
        print(f"  BAD {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "argus-camsim")
    parser.add_argument("--keep", action="store_true", help="keep the recordings directory")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    results = [run(n, args.seconds, args.cache_dir, args.keep) for n in args.streams]
    if args.json:
        print(json.dumps(results, default=str, indent=1))
    print("\n| streams | recorder CPU | per packet | lost | p50 / p99 packet->disk | load |")
    for r in results:
        print(f"| {r['streams']} | {r['recorder_cpu_pct']:.1f}% | {r['cpu_per_packet_us']:.0f} us"
              f" | {r['check']['lost'] + r['refused_packets']:.0f} | {r['latency_p50_s']} / "
              f"{r['latency_p99_s']} s | {r['load_avg'][0]:.2f} |")


if __name__ == "__main__":
    main()
