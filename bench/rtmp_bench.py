"""RTMP push latencies through the real stack (bench/rtmp_stack.py): management on
PostgreSQL, Debian's nginx-rtmp, recording-service and streaming-service on 127.0.0.1.

Each run publishes a new stream key's name from PyAV (1280x720 30 fps H.264, 1 s GOP, every
frame stamped with the wall clock by ``argus_camsim.stamp``) and measures:

- publish → alert: from the publish request (the pusher's first write, which connects and
  waits for nginx's "publish start") to the ``alert.rtmp.received`` frame on ``/ws/alerts``;
  also from nginx's answer (hook done) to the alert;
- publish → first recorded fragment: to the first ``moof`` of the event recording on disk;
- publish → first WHEP frame: a WHEP viewer (aiortc) opened when the alert arrives;
- push → viewer latency: decoded WHEP frame time minus the stamp burnt in before encoding
  (one machine, one clock: encode + RTMP + nginx + streaming pull + WebRTC + decode).

    .venv/bin/python bench/rtmp_bench.py [--runs 5] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from aiortc.mediastreams import MediaStreamError
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "streaming-service" / "tests"))
from rtmp_stack import RtmpStack, operator_with_key, rtmp_stack
from whep_client import WhepViewer, whep_close, whep_connect

from argus_camsim.stamp import read_timestamp_ms

PUSHER = str(Path(__file__).resolve().parent / "rtmp_stack.py")  # run as the pusher process


def _first_fragment(root: Path, stop: threading.Event, out: dict[str, float]) -> None:
    """Poll (every 10 ms) for the first camera file on disk holding a ``moof`` box."""
    while not stop.is_set():
        for path in root.rglob("*.mp4"):
            try:
                if b"moof" in path.read_bytes():
                    out["fragment"] = time.time()
                    return
            except OSError:
                pass
        time.sleep(0.01)


async def one_run(stack: RtmpStack, run: int, seconds: float) -> dict[str, object]:
    token, key = await asyncio.to_thread(operator_with_key, stack, f"bench{run}")
    auth = {"Authorization": f"Bearer {token}"}
    marks: dict[str, float] = {}
    stop = threading.Event()
    ws_url = stack.management.replace("http", "ws") + f"/ws/alerts?token={stack.admin_token}"
    async with connect(ws_url) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        before = set(stack.recordings.glob("*")) if stack.recordings.exists() else set()
        watcher = threading.Thread(target=_watch_new_camera_dir,
                                   args=(stack.recordings, before, stop, marks), daemon=True)
        watcher.start()
        pusher = await asyncio.create_subprocess_exec(
            sys.executable, PUSHER, stack.rtmp_url(f"bench{run}", key["key"]), str(seconds),
            "1280x720", stdout=asyncio.subprocess.PIPE)
        async with asyncio.timeout(15):
            while True:
                alert = json.loads(await ws.recv())
                if alert["type"] == "alert.rtmp.received":
                    marks["alert"] = time.time()
                    break
    camera_id = alert["camera_id"]
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=stack.streaming, timeout=15) as streaming:
        resp, viewer = await whep_connect(streaming, f"/whep/{camera_id}", auth)
        assert resp.status_code == 201 and viewer is not None, resp.text
        timed = await _frames_until_end(viewer, seconds + 5)
        marks["first_frame"] = timed[0][1] / 1000
        for frame, arrived in timed:
            y = frame.to_ndarray(format="gray")  # type: ignore[attr-defined]
            ms = read_timestamp_ms(y, frame.width, frame.height)  # type: ignore[attr-defined]
            if ms is not None:
                latencies.append(arrived - ms)
        await whep_close(streaming, viewer, auth)
    out, _ = await asyncio.wait_for(pusher.communicate(), seconds + 20)
    await asyncio.to_thread(watcher.join, 10)
    stop.set()
    timings = json.loads(out.decode().strip().splitlines()[-1])
    assert timings["error"] is None, timings
    start, accepted = timings["open_started"], timings["open_done"]
    return {
        "publish_to_alert_ms": (marks["alert"] - start) * 1000,
        "accepted_to_alert_ms": (marks["alert"] - accepted) * 1000,
        "publish_accept_ms": (accepted - start) * 1000,
        "publish_to_fragment_ms": (marks.get("fragment", float("nan")) - start) * 1000,
        "publish_to_first_whep_frame_ms": (marks["first_frame"] - start) * 1000,
        "viewer_latency_ms": latencies,
    }


async def _frames_until_end(viewer: WhepViewer, limit_s: float) -> list[tuple[Any, float]]:
    """Frames with their arrival time (epoch ms) until the push ends or ``limit_s``."""
    track = await asyncio.wait_for(asyncio.shield(viewer.track), 10)
    out: list[tuple[Any, float]] = []
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            frame = await asyncio.wait_for(track.recv(), 3)
        except (TimeoutError, MediaStreamError):
            break
        out.append((frame, time.time() * 1000))
    return out


def _watch_new_camera_dir(root: Path, before: set[Path], stop: threading.Event,
                          marks: dict[str, float]) -> None:
    deadline = time.monotonic() + 30
    while not stop.is_set() and time.monotonic() < deadline:
        fresh = [p for p in root.glob("*") if p not in before] if root.exists() else []
        if fresh:
            _first_fragment(fresh[0], stop, marks)
            return
        time.sleep(0.01)


def _hook_mean_ms(management: str) -> float:
    """Mean server-side duration of ``POST /internal/rtmp/on_publish`` (Prometheus text)."""
    total = count = 0.0
    for line in httpx.get(f"{management}/metrics", timeout=10).text.splitlines():
        if "argus_http_request_duration_seconds" in line and "/internal/rtmp/on_publish\"" in line:
            if line.startswith("argus_http_request_duration_seconds_sum"):
                total += float(line.rsplit(" ", 1)[1])
            elif line.startswith("argus_http_request_duration_seconds_count"):
                count += float(line.rsplit(" ", 1)[1])
    return total / count * 1000 if count else float("nan")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _summary(values: list[float]) -> str:
    return (f"p50 {_pct(values, 50):.0f} / p95 {_pct(values, 95):.0f} / "
            f"max {max(values):.0f} ms (n={len(values)})")


async def _runs(stack: RtmpStack, runs: int, seconds: float) -> list[dict[str, object]]:
    return [await one_run(stack, i, seconds) for i in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    with rtmp_stack() as stack:  # started outside the loop: it uses asyncio.run itself
        results = asyncio.run(_runs(stack, args.runs, args.seconds))
        hook_ms = _hook_mean_ms(stack.management)
    print(f"RTMP bench, {args.runs} pushes of {args.seconds:g} s, 1280x720 30 fps H.264 "
          f"(PyAV, ultrafast/zerolatency, 1 s GOP); load {os.getloadavg()}")
    for name in ("publish_accept_ms", "publish_to_alert_ms", "accepted_to_alert_ms",
                 "publish_to_fragment_ms", "publish_to_first_whep_frame_ms"):
        values = [float(r[name]) for r in results]  # type: ignore[arg-type]
        print(f"  {name:32s} {_summary(values)}  runs: "
              + ", ".join(f"{v:.0f}" for v in values))
    print(f"  {'on_publish hook in management':32s} mean {hook_ms:.0f} ms "
          "(server side, from its request-duration histogram)")
    viewer = [v for r in results for v in r["viewer_latency_ms"]]  # type: ignore[attr-defined]
    print(f"  {'push_to_viewer_latency_ms':32s} {_summary(viewer)}; "
          f"mean {statistics.fmean(viewer):.0f}")


if __name__ == "__main__":
    main()
