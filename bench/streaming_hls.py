"""Live LL-HLS in headless Chromium with the bundled hls.js: start-to-playable and latency.

Start-to-playable: from ``POST /v1/streams/start`` to the video element's ``playing``
event, on a cold camera (no pull running, no session) and on a warm one (the pull runs).
Latency: page clock minus the simulator's burnt-in stamp of each presented frame. Players:
hls.js defaults (``lowLatencyMode`` on, so it loads parts and keeps PART-HOLD-BACK behind
the edge), the console's settings (the same, catching up at up to 1.5x), tuned
(``liveSyncDuration`` 0.5 s) and plain (``lowLatencyMode: false``: whole segments only, as
a non-LL client). Stalls: ``waiting`` events of the video element while latency is sampled.

    .venv/bin/python bench/streaming_hls.py [--resolution 1280x720] [--runs 4]
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

TUNED: dict[str, object] = {
    "lowLatencyMode": True, "liveSyncDuration": 0.5, "liveMaxLatencyDuration": 3,
    "maxLiveSyncPlaybackRate": 1.5, "backBufferLength": 5}
PLAYERS: dict[str, dict[str, object]] = {
    "hls.js defaults (LL, PART-HOLD-BACK)": {},
    "console (LL, catch-up 1.5x)": {"maxLiveSyncPlaybackRate": 1.5, "backBufferLength": 10,
                                    "liveSyncOnStallIncrease": 0.2},
    "tuned (liveSyncDuration 0.5 s)": TUNED,
    "plain (lowLatencyMode off)": {"lowLatencyMode": False},
}


async def one(base: str, token: str, camera_id: int, config: dict[str, object], frames: int
              ) -> tuple[float, list[float], int]:
    async with chromium() as context:
        page = await open_player(context, base, hls=True)
        t0 = time.monotonic()
        resp = await page.request.post(f"{base}/v1/streams/start", data={"camera_id": camera_id},
                                       headers={"Authorization": f"Bearer {token}"})
        body = await resp.json()
        await page.evaluate("([u, c]) => argus.hls(u, c)", [body["hls_url"], config])
        await page.evaluate("argus.hlsStart")
        playable = (time.monotonic() - t0) * 1000
        await asyncio.sleep(4)  # let hls.js settle at its live edge
        await page.evaluate("argus.stalls = 0; argus.video.addEventListener("
                            "'waiting', () => { argus.stalls++; })")
        latency: list[float] = await page.evaluate(f"argus.collectLatency({frames})")
        stalls: int = await page.evaluate("argus.stalls")
        stop = await page.request.post(f"{base}/v1/streams/stop",
                                       data={"session_id": body["session_id"]},
                                       headers={"Authorization": f"Bearer {token}"})
        assert stop.status == 200 and await stop.json() == {"status": "stopped"}
        return playable, latency, stalls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", default="1280x720")
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--frames", type=int, default=150)
    args = ap.parse_args()
    print(f"date {time.strftime('%Y-%m-%d')} load {load()}")
    # Cold: the camera is not being pulled (linger 0), so the RTSP connect, the first
    # keyframe and the first part are all on the clock.
    with streaming_stack(args.resolution, STREAMING_SOURCE_LINGER_S="0") as s:
        for name in list(PLAYERS)[:3]:
            starts: list[float] = []
            for _ in range(args.runs):
                playable, _lat, _stalls = asyncio.run(one(s.base_url, s.token, s.camera_id,
                                                 PLAYERS[name], 10))
                starts.append(playable)
                time.sleep(1)
            print(f"HLS {args.resolution} cold camera, {name}: start-to-playable ms "
                  f"{summary(starts)}")
    # Warm: the camera's pull is running (another viewer, or within the linger time): the
    # cached GOP makes the first segment at once.
    with streaming_stack(args.resolution) as s:
        asyncio.run(one(s.base_url, s.token, s.camera_id, TUNED, 10))  # warms the pull
        for name, config in PLAYERS.items():
            starts = []
            lat: list[float] = []
            stalls = 0
            for _ in range(args.runs):
                playable, latency, n = asyncio.run(one(s.base_url, s.token, s.camera_id,
                                                       config, args.frames))
                starts.append(playable)
                lat += latency
                stalls += n
            print(f"HLS {args.resolution} warm camera, {name}: start-to-playable ms "
                  f"{summary(starts)}")
            print(f"  live latency ms {summary(lat)}; stalls {stalls}")
    print(f"load after {load()}")


if __name__ == "__main__":
    main()
