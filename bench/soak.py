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

    .venv/bin/python bench/soak.py --minutes 60 [--cameras 16] [--viewers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "streaming-service" / "tests"))
from _stack import ROOT, SECRETS
from streaming_stack import load, percentile

from argus_recording.layout import list_segments
from argus_testkit import stack as kit
from argus_testkit.process import Launcher, Proc, launched

SERVICES = ("redis", "management", "camera-simulator", "recording", "analysis", "streaming")


# -- what is measured ---------------------------------------------------------------------
def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn workers, ffmpeg children)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_and_fds(pid: int) -> tuple[float, int]:
    """RSS (MiB) and open fds summed over ``pid``'s process tree."""
    rss, fds = 0, 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
            fds += len(os.listdir(f"/proc/{p}/fd"))
    return rss / 1024, fds


def write_json(path: str, value: dict[str, Any]) -> None:
    """Replace ``path`` with ``value`` atomically."""
    with open(path + ".tmp", "w") as f:
        json.dump(value, f)
    os.replace(path + ".tmp", path)


def read_json(path: str) -> dict[str, Any]:
    """``path``'s JSON object, {} while it is not there yet."""
    try:
        with open(path) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return {}


def login(api: str) -> str:
    """A fresh access token of the admin (tokens expire during a long run)."""
    resp = httpx.post(
        f"{api}/api/v1/auth/login",
        timeout=30,
        data={"username": SECRETS.admin_username, "password": SECRETS.admin_password},
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


class Token:
    """The current access token, renewed every ``every_s`` by :meth:`renew`."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.value = login(api)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.value}"}

    async def renew(self, until: float, every_s: float = 240.0) -> None:
        while time.time() + every_s < until:
            await asyncio.sleep(every_s)
            try:
                self.value = await asyncio.to_thread(login, self.api)
            except httpx.HTTPError as exc:
                print(f"  token renewal failed: {type(exc).__name__}", flush=True)


ANALYSER_COUNTERS = {
    "argus_analysis_frames_total": "analysed",
    # Frames decoded but not analysed: the analyser was more than ANALYSIS_MAX_LAG_S behind.
    "argus_analysis_frames_dropped_total": "skipped",
    "argus_analysis_reconnects_total": "reconnects",
}


async def analyser_counts(c: httpx.AsyncClient, url: str | None) -> dict[str, dict[int, float]]:
    """The analyser's per-camera counters (``ANALYSER_COUNTERS``) from its /metrics."""
    out: dict[str, dict[int, float]] = {name: {} for name in ANALYSER_COUNTERS.values()}
    if url is None:
        return out
    try:
        text = (await c.get(url, timeout=5)).text
    except httpx.HTTPError:
        return out
    for line in text.splitlines():
        metric, _, rest = line.partition('{camera_id="')
        name = ANALYSER_COUNTERS.get(metric)
        if name is None:
            continue
        cam, _, value = rest.partition('"} ')
        with contextlib.suppress(ValueError):
            out[name][int(cam)] = float(value)
    return out


class Stats:
    def __init__(self) -> None:
        self.api_ms: list[float] = []
        self.api_errors: dict[str, int] = {}
        self.alert_s: list[float] = []
        self.alert_missed = 0
        self.misses: list[dict[str, Any]] = []  # each missed probe, with what was found
        self.analyser_metrics: str | None = None  # the analyser's /metrics URL
        self.hls_segments = 0
        self.hls_errors: dict[str, int] = {}


# -- the load ------------------------------------------------------------------------------
def _viewers(base: str, api: str, cameras: list[int], until: float, out: str) -> None:
    """WHEP viewers, one per camera in ``cameras``, until ``until``; frame counts written to
    ``out`` (JSON) every 5 s. Runs in a process of its own (spawn)."""
    from streaming_viewers import count_only
    from whep_client import whep_close, whep_connect

    async def run() -> None:
        headers = {"Authorization": f"Bearer {await asyncio.to_thread(login, api)}"}
        counts: dict[int, Any] = {}
        reconnects = dict.fromkeys(cameras, 0)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            viewers: dict[int, Any] = {}

            async def connect(cam: int) -> None:
                resp, viewer = await whep_connect(client, f"/whep/{cam}", headers)
                if resp.status_code != 201 or viewer is None:
                    return
                for _ in range(300):  # up to 30 s
                    if viewer.pc.connectionState == "connected":
                        break
                    await asyncio.sleep(0.1)
                if viewer.pc.connectionState == "connected":
                    viewers[cam] = viewer
                    counts[cam] = count_only(viewer.pc)
                else:
                    await viewer.pc.close()

            for cam in cameras:
                await connect(cam)
            while time.time() < until:
                for cam in cameras:
                    viewer = viewers.get(cam)
                    if viewer is None or viewer.pc.connectionState in ("failed", "closed"):
                        headers["Authorization"] = f"Bearer {await asyncio.to_thread(login, api)}"
                        if viewer is not None:
                            await viewer.pc.close()
                            viewers.pop(cam)
                        reconnects[cam] += 1
                        await connect(cam)
                write_json(
                    out,
                    {
                        "t": time.time(),
                        "reconnects": reconnects,
                        "frames": {c: n.frames for c, n in counts.items()},
                    },
                )
                await asyncio.sleep(5)
            for viewer in viewers.values():
                with contextlib.suppress(Exception):
                    await whep_close(client, viewer, headers)

    asyncio.run(run())


async def api_client(
    base: str, token: Token, cameras: list[int], until: float, stats: Stats
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for n in itertools.count():
            if time.time() >= until:
                return
            cam = cameras[n % len(cameras)]
            end = datetime.now(UTC)
            window = {"start": (end - timedelta(minutes=10)).isoformat(), "end": end.isoformat()}
            for path, params in (
                ("/api/v1/cameras", {}),
                (f"/api/v1/cameras/{cam}", {}),
                (f"/api/v1/cameras/{cam}/timeline", window),
                ("/api/v1/events", {"limit": 20}),
                ("/api/v1/alerts", {"limit": 20}),
            ):
                t0 = time.perf_counter()
                try:
                    resp = await c.get(path, params=params, headers=token.headers)
                    code = str(resp.status_code)
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                stats.api_ms.append((time.perf_counter() - t0) * 1000)
                if code != "200":
                    key = f"{path.split('/')[3]} {code}"
                    stats.api_errors[key] = stats.api_errors.get(key, 0) + 1
            await asyncio.sleep(1.0)


async def hls_viewer(base: str, token: Token, cam: int, until: float, stats: Stats) -> None:
    seen: set[str] = set()

    def err(key: str) -> None:
        stats.hls_errors[key] = stats.hls_errors.get(key, 0) + 1

    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        playlist = ""
        while time.time() < until:
            if not playlist:
                resp = await c.post(
                    "/v1/streams/start", json={"camera_id": cam}, headers=token.headers
                )
                if resp.status_code != 200:
                    err(f"start {resp.status_code}")
                    await asyncio.sleep(2)
                    continue
                playlist = urljoin(base + "/", resp.json()["hls_url"].lstrip("/"))
            try:
                resp = await c.get(playlist)
                if resp.status_code != 200:
                    err(f"playlist {resp.status_code}")
                    playlist = ""  # the session ended: start another
                    continue
                uris = [
                    line for line in resp.text.splitlines() if line and not line.startswith("#")
                ]
                for uri in uris:
                    url = urljoin(playlist, uri)
                    if url in seen:
                        continue
                    seg = await c.get(url)
                    if seg.status_code == 200:
                        seen.add(url)
                        stats.hls_segments += 1
                    else:
                        err(f"segment {seg.status_code}")
                if len(seen) > 5000:
                    seen = set(list(seen)[-500:])
            except httpx.HTTPError as exc:
                err(type(exc).__name__)
            await asyncio.sleep(1.0)


async def alert_prober(
    api: str,
    token: Token,
    control: str,
    cameras: list[int],
    every_s: float,
    until: float,
    stats: Stats,
) -> None:
    from websockets.asyncio.client import connect

    ws_url = f"ws://{api.split('://', 1)[1]}/ws/alerts"
    async with httpx.AsyncClient(timeout=10) as c:
        for n in itertools.count():
            if time.time() + every_s >= until:
                return
            index = n % len(cameras)
            cam = cameras[index]
            try:
                async with connect(ws_url, subprotocols=["bearer", token.value]) as ws:  # type: ignore[list-item]
                    await asyncio.wait_for(ws.recv(), 10)  # "ready"
                    before = await analyser_counts(c, stats.analyser_metrics)
                    t0 = time.time()
                    (
                        await c.post(f"{control}/motion/cam{index + 1}", json={"on": True})
                    ).raise_for_status()
                    try:
                        async with asyncio.timeout(20):
                            while True:
                                msg = json.loads(await ws.recv())
                                if (
                                    msg.get("type") == "alert.motion"
                                    and msg.get("camera_id") == cam
                                ):
                                    stats.alert_s.append(time.time() - t0)
                                    break
                    except TimeoutError:
                        stats.alert_missed += 1
                        await explain_miss(c, api, token, cam, t0, before, stats)
            except Exception as exc:
                print(f"  alert probe: {type(exc).__name__}: {exc}", flush=True)
                stats.alert_missed += 1
                stats.misses.append({"camera": cam, "t": time.time(), "error": repr(exc)})
            await asyncio.sleep(2)
            with contextlib.suppress(httpx.HTTPError):
                await c.post(f"{control}/motion/cam{index + 1}", json={"on": False})
            await asyncio.sleep(max(0.0, every_s - 2))


async def explain_miss(
    c: httpx.AsyncClient,
    api: str,
    token: Token,
    cam: int,
    t0: float,
    before: dict[str, dict[int, float]],
    stats: Stats,
) -> None:
    """After a probe saw no ``alert.motion`` in time: what the analyser did with the
    camera's frames meanwhile (analysed, skipped for lag, reconnects), whether its
    ``motion.start`` reached management, and whether the alert was raised (then only the
    WebSocket missed it)."""
    since = datetime.fromtimestamp(t0 - 5, UTC).isoformat()
    after = await analyser_counts(c, stats.analyser_metrics)
    found: dict[str, Any] = {
        "camera": cam,
        "t": t0,
        **{
            name: after[name].get(cam, 0.0) - before[name].get(cam, 0.0)
            for name in ANALYSER_COUNTERS.values()
        },
    }
    for name, path, params in (
        ("event", "/api/v1/events", {"camera_id": cam, "type": "motion.start", "start": since}),
        ("alert", "/api/v1/alerts", {"camera_id": cam, "kind": "motion"}),
    ):
        try:
            resp = await c.get(f"{api}{path}", params={**params, "limit": 1}, headers=token.headers)
            items = resp.json().get("items", []) if resp.status_code == 200 else []
        except (httpx.HTTPError, ValueError) as exc:
            found[name] = f"lookup failed: {type(exc).__name__}"
            continue
        stamp = (items[0].get("ts") or items[0].get("created_at")) if items else None
        when = datetime.fromisoformat(stamp).timestamp() - t0 if stamp else None
        # An alert older than the probe belongs to an earlier one.
        found[name] = round(when, 2) if when is not None and when > -5 else None
    stats.misses.append(found)
    print(
        f"  alert missed: camera {cam}; analyser frames analysed {found['analysed']:.0f}, "
        f"skipped (behind) {found['skipped']:.0f}, reconnects {found['reconnects']:.0f}; "
        f"motion.start stored "
        f"{'no' if found.get('event') is None else str(found['event']) + ' s after'}; alert "
        f"{'no' if found.get('alert') is None else str(found['alert']) + ' s after'}",
        flush=True,
    )


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


def gaps(db: kit.Database, cameras: list[int], since: float) -> dict[str, Any]:
    """Gaps between consecutive indexed segments of each camera after ``since``."""
    total, count, worst, segments = 0.0, 0, 0.0, 0
    for cam in cameras:
        rows = db.fetch(
            "SELECT started_at, ended_at FROM recording_segments WHERE camera_id"
            " = $1 AND deleted_at IS NULL ORDER BY started_at",
            cam,
        )
        spans = [
            (r["started_at"].timestamp(), r["ended_at"].timestamp())
            for r in rows
            if r["ended_at"] is not None and r["started_at"].timestamp() >= since
        ]
        segments += len(spans)
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start - end > 0.05:
                count += 1
                total += start - end
                worst = max(worst, start - end)
    return {
        "segments": segments,
        "gaps": count,
        "gap_s": round(total, 2),
        "worst_gap_s": round(worst, 2),
    }


def unindexed(db: kit.Database, recordings: Path, cameras: list[int]) -> int:
    missing = 0
    for cam in cameras:
        files = list_segments(recordings, cam)
        indexed = {
            r["path"]
            for r in db.fetch("SELECT path FROM recording_segments WHERE camera_id = $1", cam)
        }
        missing += len(files - indexed - ({max(files)} if files else set()))
    return missing


def summarize(samples: list[dict[str, Any]], warm_t: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    warm = [s for s in samples if s["t"] >= warm_t] or samples[-1:]
    for name in SERVICES:
        rss = [s["services"][name]["rss_mib"] for s in warm if name in s["services"]]
        fds = [s["services"][name]["fds"] for s in warm if name in s["services"]]
        if not rss:
            continue
        base, last = rss[0], statistics.fmean(rss[-3:])
        out[name] = {
            "rss_warm_mib": round(base, 1),
            "rss_end_mib": round(last, 1),
            "rss_max_mib": round(max(rss), 1),
            "rss_growth_pct": round(100 * (last - base) / base, 1),
            "fds_min": min(fds),
            "fds_max": max(fds),
            "fds_warm": fds[0],
            "fds_end": fds[-1],
        }
    return out


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
        target=_viewers,
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
    fps_all = [f for s in samples if s["t"] >= warm_t for f in s["viewer_fps"].values()]
    await asyncio.sleep(15)  # the segments in flight are indexed
    summary = {
        "summary": True,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": args.minutes,
        "warmup_min": round(args.warmup * args.minutes, 1),
        "cameras": len(cameras),
        "viewers": args.viewers,
        "load_end": os.getloadavg(),
        "load_max_1m": max(s["load"][0] for s in samples) if samples else None,
        "services": summarize(samples, warm_t),
        "continuity": gaps(db, cameras, t_start + 30),
        "unindexed_files": unindexed(db, cfg.recordings, cameras),
        "api": {
            "requests": len(stats.api_ms),
            "errors": stats.api_errors,
            "p50_ms": round(percentile(stats.api_ms, 50), 1) if stats.api_ms else None,
            "p99_ms": round(percentile(stats.api_ms, 99), 1) if stats.api_ms else None,
            "max_ms": round(max(stats.api_ms), 1) if stats.api_ms else None,
        },
        "alerts": {
            "n": len(stats.alert_s),
            "missed": stats.alert_missed,
            "p50_s": round(statistics.median(stats.alert_s), 2) if stats.alert_s else None,
            "max_s": round(max(stats.alert_s), 2) if stats.alert_s else None,
            "misses": stats.misses,
        },
        "hls": {"segments": stats.hls_segments, "errors": stats.hls_errors},
        "analyser": samples[-1].get("analyser") if samples else None,
        "whep": {
            "fps_min": min(fps_all) if fps_all else None,
            "fps_mean": round(statistics.fmean(fps_all), 1) if fps_all else None,
            "reconnects": viewers.get("reconnects"),
        },
    }
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
