"""Live HLS in headless Chromium with the bundled hls.js: start-to-playable and latency.

Start-to-playable: from ``POST /v1/streams/start`` on a camera with no session (a cold
HLS session) to the video element's ``playing`` event. Latency: page clock minus the
simulator's burnt-in stamp of each presented frame, with hls.js tuned for low latency
(``liveSyncDuration`` 0.5 s) and with its defaults.

    .venv/bin/python bench/streaming_hls.py [--resolution 1280x720] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "streaming-service" / "tests"))
from browser_support import chromium, open_player
from streaming_stack import load, streaming_stack, summary


async def one(base: str, token: str, camera_id: int, tuned: bool, frames: int
              ) -> tuple[float, list[float]]:
    async with chromium() as context:
        page = await open_player(context, base, hls=True)
        t0 = time.monotonic()
        resp = await page.request.post(f"{base}/v1/streams/start", data={"camera_id": camera_id},
                                       headers={"Authorization": f"Bearer {token}"})
        body = await resp.json()
        await page.evaluate("([u, t]) => argus.hls(u, t)", [body["hls_url"], tuned])
        await page.evaluate("argus.hlsStart")
        playable = (time.monotonic() - t0) * 1000
        await asyncio.sleep(4)  # let hls.js settle at its live edge
        latency: list[float] = await page.evaluate(f"argus.collectLatency({frames})")
        stop = await page.request.post(f"{base}/v1/streams/stop",
                                       data={"session_id": body["session_id"]},
                                       headers={"Authorization": f"Bearer {token}"})
        assert stop.status == 204
        return playable, latency


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", default="1280x720")
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--frames", type=int, default=150)
    args = ap.parse_args()
    print(f"date {time.strftime('%Y-%m-%d')} load {load()}")
    # Cold: the camera is not being pulled (linger 0), so the RTSP connect, the first
    # keyframe and the first whole segment are all on the clock.
    with streaming_stack(args.resolution, STREAMING_SOURCE_LINGER_S="0") as s:
        starts: list[float] = []
        for _ in range(args.runs):
            playable, _lat = asyncio.run(one(s.base_url, s.token, s.camera_id, True, 10))
            starts.append(playable)
            time.sleep(1)
        print(f"HLS {args.resolution} cold camera: start-to-playable ms {summary(starts)}")
    # Warm: the camera's pull is running (another viewer, or within the linger time): the
    # cached GOP makes the first segment at once.
    with streaming_stack(args.resolution) as s:
        asyncio.run(one(s.base_url, s.token, s.camera_id, True, 10))  # warms the pull
        for tuned in (True, False):
            starts = []
            lat: list[float] = []
            for _ in range(args.runs):
                playable, latency = asyncio.run(one(s.base_url, s.token, s.camera_id, tuned,
                                                    args.frames))
                starts.append(playable)
                lat += latency
            name = "tuned (liveSyncDuration 0.5 s)" if tuned else "hls.js defaults"
            print(f"HLS {args.resolution} warm camera, {name}: start-to-playable ms "
                  f"{summary(starts)}")
            print(f"  live latency ms {summary(lat)}")
    print(f"load after {load()}")


if __name__ == "__main__":
    main()
