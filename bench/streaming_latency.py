"""Glass-to-glass latency and time to first frame of live WHEP in headless Chromium.

camera (simulator, burnt-in epoch ms) → RTSP → streaming-service → WHEP → Chromium. For each
presented frame (``requestVideoFrameCallback``) the page reads the stamp with WebCodecs
(``VideoFrame.copyTo`` of the stamp rectangle only) and subtracts it from the time the frame
is displayed (``performance.timeOrigin + expectedDisplayTime``): one machine, one clock.

Time to first frame: a new viewer (Chrome's default mDNS host candidates) from creating
its offer to its first presented frame, with ``STREAMING_LATE_JOIN=gop`` (replay the cached
GOP) and ``keyframe`` (wait for the next one), on a camera that is already streaming.

    .venv/bin/python bench/streaming_latency.py [--resolution 1920x1080] [--frames 600]
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
from streaming_stack import load, percentile, streaming_stack, summary

# Chrome's own receive-side figures, per frame: time in the jitter buffer, decode time, and
# first packet received → decoded (``totalProcessingDelay``).
_CHROME_DELAYS = """async () => {
  const stats = await argus.pc.getStats();
  let out = null;
  stats.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') {
      out = {jitter_buffer: 1000 * r.jitterBufferDelay / r.jitterBufferEmittedCount,
             decode: 1000 * r.totalDecodeTime / r.framesDecoded,
             processing: 1000 * r.totalProcessingDelay / r.framesDecoded};
    }
  });
  return out;
}"""


async def latency(base: str, token: str, camera_id: int, frames: int,
                  jitter_target: float | None = None) -> list[float]:
    async with chromium(mdns=True) as context:
        page = await open_player(context, base)
        if jitter_target is not None:
            await page.evaluate(f"argus.jitterTarget = {jitter_target}")
        r = await page.evaluate("([u, t]) => argus.whep(u, t, true).then(r => r.status)",
                                [f"/whep/{camera_id}", token])
        assert r == 201, r
        await page.wait_for_function("argus.video && argus.video.readyState >= 2",
                                     timeout=15000)
        await asyncio.sleep(2)  # past start-up
        values: list[float] = await page.evaluate(f"argus.collectLatency({frames})")
        delays = await page.evaluate(_CHROME_DELAYS)
        print("  chrome per frame ms: " + ", ".join(f"{k} {v:.1f}" for k, v in delays.items()))
        return values


async def ttff(base: str, token: str, camera_id: int, viewers: int) -> tuple[list[float],
                                                                              list[float]]:
    """(first frame ms, answer ms) of ``viewers`` successive new viewers."""
    firsts, answers = [], []
    async with chromium(mdns=True) as context:
        keep = await open_player(context, base)  # keeps the source running
        await keep.evaluate("([u, t]) => argus.whep(u, t, true)", [f"/whep/{camera_id}", token])
        await asyncio.sleep(3)
        for i in range(viewers):
            page = await open_player(context, base)
            # Spread the joins over the GOP so the keyframe wait is sampled fairly.
            await asyncio.sleep(0.37 * (i % 3))
            result = await page.evaluate(
                "([u, t]) => argus.whep(u, t, false).then(async r => "
                "({status: r.status, answer: r.answerMs, first: await r.firstFrame}))",
                [f"/whep/{camera_id}", token])
            assert result["status"] == 201, result
            firsts.append(result["first"])
            answers.append(result["answer"])
            await page.close()
    return firsts, answers


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", default="1920x1080")
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--viewers", type=int, default=12)
    ap.add_argument("--gop", type=float, default=1.0, help="the camera's keyframe interval, s")
    ap.add_argument("--jitter-target", type=float, default=None,
                    help="set the page's receiver.jitterBufferTarget (ms) as well")
    ap.add_argument("--latency-only", action="store_true")
    ap.add_argument("--env", nargs="*", default=[], help="extra STREAMING_X=Y settings")
    args = ap.parse_args()
    extra = dict(e.split("=", 1) for e in args.env)
    print(f"date {time.strftime('%Y-%m-%d')} load(1/5/15 min) {load()}")
    print(f"settings {extra} gop {args.gop:g} s")
    with streaming_stack(args.resolution, gop=args.gop,
                         **{"STREAMING_LATE_JOIN": "gop", **extra}) as s:
        values = asyncio.run(latency(s.base_url, s.token, s.camera_id, args.frames))
        print(f"glass-to-glass {args.resolution}@30 ms: {summary(values)}")
        if args.jitter_target is not None:
            values = asyncio.run(latency(s.base_url, s.token, s.camera_id, args.frames,
                                         args.jitter_target))
            print(f"glass-to-glass {args.resolution}@30 ms, jitterBufferTarget "
                  f"{args.jitter_target:g}: {summary(values)}")
        if args.latency_only:
            return
        firsts, answers = asyncio.run(ttff(s.base_url, s.token, s.camera_id, args.viewers))
        print(f"time to first frame, late_join=gop, ms: {summary(firsts)}")
        print(f"  POST→answer ms: {summary(answers)}")
    with streaming_stack(args.resolution, gop=args.gop,
                         **{**extra, "STREAMING_LATE_JOIN": "keyframe"}) as s:
        firsts, answers = asyncio.run(ttff(s.base_url, s.token, s.camera_id, args.viewers))
        print(f"time to first frame, late_join=keyframe, ms: {summary(firsts)}")
        print(f"  POST→answer ms: {summary(answers)} p95={percentile(answers, 95):.1f}")
    print(f"load after {load()}")


if __name__ == "__main__":
    main()
