"""Soak: the whole stack under a steady load for ``--minutes`` (``make soak``, SOAK_MINUTES).

Real processes from argus_testkit's service table on free 127.0.0.1 ports: its own Redis,
management (on a scratch database of the machine's PostgreSQL), the camera simulator with
``--cameras`` cameras, a recorder, the analyser (motion on every camera) and
streaming-service. The load, for the whole run:

- every camera recorded continuously and analysed;
- ``--viewers`` WHEP viewers (aiortc, host candidates on 127.0.0.1 only) on the first
  cameras, in a process of their own: each SRTP packet is decrypted and frames counted
  (bench/streaming_viewers.count_only), not decoded;
- an HLS viewer (playlist polled every second, every new segment and part fetched);
- an API client (camera list, one camera, a timeline, events, alerts; about 5 requests/s);
- every ``--alert-every`` seconds the simulator's motion is turned on on the next camera
  and the ``alert.motion`` is awaited on ``/ws/alerts`` (latency: motion switched on to
  alert received, which includes the analyser's debounce of ``start_frames``).

Every ``--sample`` seconds it records, per service (the process and its children): RSS
and open file descriptors. At the end it reports RSS growth after warm-up (the first
``--warmup`` fraction of the run), fd range, gaps in each camera's indexed segments,
files on disk not indexed, alert latency, API p50/p99 and the viewers' frame rates, and
the analyser's frames analysed, skipped (more than ``ANALYSIS_MAX_LAG_S`` behind the
stream: decoded but not analysed) and reconnects. A probe that saw no alert in time is
explained on the spot: what the analyser did with that camera's frames meanwhile, whether
its ``motion.start`` reached management and whether the alert was raised. Every sample and
the summary are written as JSON lines to ``--out`` too.

The load generators are in soak_load.py (WHEP, HLS, API) and soak_alerts.py (the alert
probe), what is measured in soak_measure.py, the figures in soak_report.py.

    .venv/bin/python bench/soak.py --minutes 60 [--cameras 16] [--viewers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "streaming-service" / "tests"))
from _stack import ROOT, SECRETS
from soak_alerts import alert_prober
from soak_load import Token, api_client, hls_viewer, login, whep_viewers
from soak_measure import Stats, analyser_counts, read_json, rss_and_fds
from soak_report import build_summary
from streaming_stack import load, percentile

from argus_testkit import stack as kit
from argus_testkit.process import Launcher, Proc, launched


# -- the stack -----------------------------------------------------------------------------
def start_stack(
    launcher: Launcher, data: Path, db_url: str, cameras: int
) -> tuple[dict[str, Proc], kit.StackConfig, kit.Simulator]:
    cfg = kit.test_config(data, cameras=cameras)
    redis_url = f"redis://127.0.0.1:{cfg.ports.redis}/0"
    env = kit.base_env(SECRETS, "argus-soak", redis_url=redis_url)
    procs = {"redis": kit.start(launcher, cfg, "redis", env)}
    procs["management"] = kit.start(
        launcher, cfg, "management", env, DATABASE_URL=db_url, MANAGEMENT_WORKERS="1"
    )
    sim = kit.start_simulator(
        launcher,
        cfg,
        "--cameras",
        str(cameras),
        "--no-onvif",
        "--auth",
        "none",
        "--fps",
        "10",
        "--gop",
        "1",
        "--log-level",
        "WARNING",
    )
    procs["camera-simulator"] = sim.proc
    return procs, cfg, sim


def start_media(launcher: Launcher, cfg: kit.StackConfig, procs: dict[str, Proc]) -> None:
    env = kit.base_env(SECRETS, "argus-soak", redis_url=f"redis://127.0.0.1:{cfg.ports.redis}/0")
    procs["recording"] = kit.start(launcher, cfg, "recording", env)
    procs["analysis"] = kit.start(launcher, cfg, "analysis", env, ANALYSIS_DEVICE="cpu")
    procs["streaming"] = kit.start(
        launcher, cfg, "streaming", env, STREAMING_ICE_ADDRESSES="127.0.0.1"
    )


async def soak(
    args: argparse.Namespace,
    procs: dict[str, Proc],
    cfg: kit.StackConfig,
    sim: kit.Simulator,
    db: kit.Database,
    cameras: list[int],
    out: Path,
) -> None:
    token = Token(cfg.management_url)
    t_start = time.time()
    until = t_start + args.minutes * 60
    warm_t = t_start + args.warmup * args.minutes * 60
    stats = Stats()
    stats.analyser_metrics = f"http://127.0.0.1:{cfg.ports.analysis_metrics}/metrics"
    viewer_file = str(out.with_suffix(".viewers.json"))
    ctx = mp.get_context("spawn")
    viewer_proc = ctx.Process(
        target=whep_viewers,
        args=(cfg.streaming_url, cfg.management_url, cameras[: args.viewers], until, viewer_file),
    )
    viewer_proc.start()
    tasks = [
        asyncio.create_task(token.renew(until)),
        asyncio.create_task(api_client(cfg.management_url, token, cameras, until, stats)),
        asyncio.create_task(hls_viewer(cfg.streaming_url, token, cameras[-1], until, stats)),
        asyncio.create_task(
            alert_prober(
                cfg.management_url, token, sim.control, cameras, args.alert_every, until, stats
            )
        ),
    ]
    samples: list[dict[str, Any]] = []
    api_seen, t_before = 0, time.time()
    frames_before: dict[str, int] = {}
    with out.open("a") as log:
        while time.time() < until:
            await asyncio.sleep(min(args.sample, max(0.0, until - time.time())))
            now = time.time()
            sample: dict[str, Any] = {
                "t": now,
                "minute": round((now - t_start) / 60, 1),
                "load": os.getloadavg(),
                "services": {},
            }
            for name, proc in procs.items():
                rss, fds = rss_and_fds(proc.pid)
                sample["services"][name] = {
                    "rss_mib": round(rss, 1),
                    "fds": fds,
                    "alive": proc.alive,
                }
            window = stats.api_ms[api_seen:]
            api_seen = len(stats.api_ms)
            sample["api_p99_ms"] = round(percentile(window, 99), 1) if window else None
            viewers = read_json(viewer_file)
            frames = viewers.get("frames", {})
            dt = now - t_before
            sample["viewer_fps"] = {
                c: round((n - frames_before.get(c, n)) / dt, 1) for c, n in frames.items()
            }
            frames_before, t_before = frames, now
            sample["hls_segments"] = stats.hls_segments
            async with httpx.AsyncClient() as mc:
                counts = await analyser_counts(mc, stats.analyser_metrics)
            sample["analyser"] = {name: sum(v.values()) for name, v in counts.items()}
            samples.append(sample)
            log.write(json.dumps(sample) + "\n")
            log.flush()
            svc = " ".join(
                f"{n[:4]} {v['rss_mib']:.0f}M/{v['fds']}" for n, v in sample["services"].items()
            )
            fps = list(sample["viewer_fps"].values())
            print(
                f"[{sample['minute']:5.1f} min] load {sample['load'][0]:.2f} | {svc} | "
                f"api p99 {sample['api_p99_ms']} ms | viewers fps "
                f"{min(fps) if fps else '-'}..{max(fps) if fps else '-'} | hls segs "
                f"{stats.hls_segments} | analyser skipped {sample['analyser']['skipped']:.0f} "
                f"frames, reconnects {sample['analyser']['reconnects']:.0f} | "
                f"alerts {len(stats.alert_s)} "
                f"(missed {stats.alert_missed})",
                flush=True,
            )
            dead = [n for n, p in procs.items() if not p.alive]
            if dead:
                print(f"  DEAD: {dead}", flush=True)
                break
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    viewer_proc.join(60)
    if viewer_proc.is_alive():
        viewer_proc.kill()
    viewers = read_json(viewer_file)
    await asyncio.sleep(15)  # the segments in flight are indexed
    summary = build_summary(
        args, cameras, samples, stats, viewers, db, cfg.recordings, t_start, warm_t
    )
    with out.open("a") as log:
        log.write(json.dumps(summary) + "\n")
    print(json.dumps(summary, indent=1), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "60")))
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--viewers", type=int, default=8)
    ap.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=0.2, help="fraction of the run")
    ap.add_argument("--alert-every", type=float, default=30.0)
    ap.add_argument("--out", type=Path, default=None, help="JSON lines (samples, summary)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="argus-soak-"))
    out = args.out or work / "soak.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"soak {args.minutes:g} min, {args.cameras} cameras, {args.viewers} WHEP viewers, "
        f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} load {load()} "
        f"cpus {os.cpu_count()}; samples -> {out}; logs -> {work / 'logs'}",
        flush=True,
    )
    try:
        with (
            kit.scratch_database("argus_soak", migrate=True) as db,
            launched(work / "logs", ROOT) as launcher,
        ):
            procs, cfg, sim = start_stack(launcher, work / "data", db.url, args.cameras)
            token = login(cfg.management_url)
            cameras = []
            for n in range(1, args.cameras + 1):
                resp = httpx.post(
                    f"{cfg.management_url}/api/v1/cameras",
                    timeout=30,
                    headers={"Authorization": f"Bearer {token}"},
                    json={
                        "name": f"soak{n}",
                        "stream_url": sim.url(n),
                        "recording_mode": "continuous",
                        "analysis": {"enabled": True, "end_quiet_s": 1.0},
                    },
                )
                resp.raise_for_status()
                cameras.append(int(resp.json()["id"]))
            start_media(launcher, cfg, procs)
            time.sleep(10)  # every camera connected before the clock starts
            asyncio.run(soak(args, procs, cfg, sim, db, cameras, out))
    finally:
        shutil.rmtree(work / "data", ignore_errors=True)
    print(f"load after {load()}; samples and summary in {out}")


if __name__ == "__main__":
    main()
