"""Many WebRTC viewers of one camera: frame rate per viewer and streaming-service CPU.

The viewers are aiortc peers in this process whose decoder thread is replaced by a counter
(decoding N 1080p streams would swamp this machine); each still does ICE, DTLS and SRTP for
every packet. streaming-service CPU is read from /proc over a steady window.

    .venv/bin/python bench/streaming_viewers.py [--resolution 1920x1080] [--viewers 5 10 20]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sys
import time
from pathlib import Path
from typing import Any

import aiortc.rtcrtpreceiver as receiver_mod
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "streaming-service" / "tests"))
from _stack import proc_cpu_seconds
from streaming_stack import bytes_sent, load, streaming_stack
from whep_client import whep_close, whep_connect

FRAMES: collections.Counter[int] = collections.Counter()


def counting_worker(loop: Any, input_q: Any, output_q: Any, *_: Any) -> None:
    """Stands in for aiortc's decoder thread: counts complete frames, decodes nothing."""
    key = id(output_q)
    while True:
        item = input_q.get()
        if item is None:
            break
        FRAMES[key] += 1


receiver_mod.decoder_worker = counting_worker  # type: ignore[assignment]


async def run(base: str, token: str, camera_id: int, pid: int, n: int, window_s: float
              ) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        viewers = []
        for _ in range(n):
            resp, viewer = await whep_connect(client, f"/whep/{camera_id}", headers)
            assert resp.status_code == 201, resp.text
            viewers.append(viewer)
        await asyncio.sleep(4)  # all connected and past start-up
        FRAMES.clear()
        cpu0, t0, b0 = proc_cpu_seconds(pid), time.monotonic(), bytes_sent(base)
        own0 = sum(os.times()[:2])
        await asyncio.sleep(window_s)
        cpu1, t1, b1 = proc_cpu_seconds(pid), time.monotonic(), bytes_sent(base)
        own1 = sum(os.times()[:2])
        counts = list(FRAMES.values()) + [0] * (n - len(FRAMES))
        for v in viewers:
            await whep_close(client, v, headers)  # type: ignore[arg-type]
    dt = t1 - t0
    return {"cpu": (cpu1 - cpu0) / dt, "mbps": (b1 - b0) * 8 / dt / n / 1e6,
            "fps_min": min(counts) / dt,
            "fps_mean": sum(counts) / len(counts) / dt, "client_cpu": (own1 - own0) / dt}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", default="1920x1080")
    ap.add_argument("--viewers", type=int, nargs="+", default=[1, 5, 10, 20])
    ap.add_argument("--window", type=float, default=10.0)
    args = ap.parse_args()
    print(f"date {time.strftime('%Y-%m-%d')} load {load()}")
    with streaming_stack(args.resolution) as s:
        for n in args.viewers:
            r = asyncio.run(run(s.base_url, s.token, s.camera_id, s.pid, n, args.window))
            print(f"{n:3d} viewers {args.resolution}@30: streaming-service {r['cpu'] * 100:.1f}% "
                  f"of a core ({r['cpu'] * 100 / n:.2f}%/viewer), fps/viewer mean "
                  f"{r['fps_mean']:.1f} min {r['fps_min']:.1f}, {r['mbps']:.2f} Mbit/s/viewer;"
                  f" client {r['client_cpu'] * 100:.0f}%")
            time.sleep(2)
    print(f"load after {load()}")


if __name__ == "__main__":
    main()
