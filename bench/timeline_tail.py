"""How far behind live the timeline and VOD playback end: the recorder's open segment.

One simulated camera (GOP 1 s) recorded in 60 s segments by the real recorder, with
management and streaming (tests/e2e's stack). For ``--seconds`` (across a segment
boundary by default), every 0.5 s: management's timeline (``growing``, the last range's
end) and, every 2 s, streaming's VOD playlist (the last listed fragment's end); the lag is
the wall clock at the answer minus that end. Also the timeline's answer time with the
growing stretch read from disk. The console adds its reload period (2 s for windows up to
an hour that include now) to the timeline's figure.

    .venv/bin/python bench/timeline_tail.py [--seconds 80] [--resolution 1280x720]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from _stack import percentile
from console_stack import console_stack


def _iso(t: datetime) -> str:
    return t.isoformat()


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def vod_end(text: str) -> datetime | None:
    """The end of the last fragment a VOD playlist lists."""
    times = [ln.split(":", 1)[1] for ln in text.splitlines() if ln.startswith("#EXT-X-PROGRAM")]
    durs = [float(ln[8:].rstrip(",")) for ln in text.splitlines() if ln.startswith("#EXTINF:")]
    if not times:
        return None
    return datetime.fromisoformat(times[-1]) + timedelta(seconds=durs[-1])


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no samples"
    return (
        f"{name}: p50 {percentile(values, 50):.2f}, p95 {percentile(values, 95):.2f}, "
        f"max {max(values):.2f} ({len(values)} samples)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=80.0)
    parser.add_argument("--resolution", default="1280x720")
    args = parser.parse_args()
    with console_stack(cameras=1, resolution=args.resolution, segment_seconds=60) as stack:
        camera = stack.cameras["cam1"]
        token = stack.token()
        headers = {"Authorization": f"Bearer {token}"}
        tl_lag: list[float] = []
        vod_lag: list[float] = []
        answer_ms: list[float] = []
        indexed_seen = 0
        with httpx.Client(timeout=15, headers=headers) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # the recorder's first fragments
                now = datetime.now(UTC)
                r = client.get(
                    f"{stack.management}/api/v1/cameras/{camera}/timeline",
                    params={
                        "start": _iso(now - timedelta(minutes=10)),
                        "end": _iso(now + timedelta(minutes=1)),
                    },
                )
                if r.status_code == 200 and r.json().get("growing"):
                    break
                time.sleep(0.5)
            end_at = time.monotonic() + args.seconds
            n = 0
            while time.monotonic() < end_at:
                now = datetime.now(UTC)
                t = time.perf_counter()
                r = client.get(
                    f"{stack.management}/api/v1/cameras/{camera}/timeline",
                    params={
                        "start": _iso(now - timedelta(minutes=10)),
                        "end": _iso(now + timedelta(minutes=1)),
                    },
                )
                answer_ms.append((time.perf_counter() - t) * 1000)
                body = r.json()
                ends = [_ts(g["end"]) for g in body.get("growing", [])]
                ends += [_ts(g["end"]) for g in body.get("recordings", [])]
                indexed_seen = max(indexed_seen, len(body.get("segments", [])))
                if ends:
                    tl_lag.append((datetime.now(UTC) - max(ends)).total_seconds())
                if n % 4 == 0:
                    now = datetime.now(UTC)
                    r = client.get(
                        f"{stack.streaming}/vod/{camera}/index.m3u8",
                        params={
                            "start": _iso(now - timedelta(seconds=30)),
                            "end": _iso(now + timedelta(seconds=30)),
                        },
                    )
                    end = vod_end(r.text) if r.status_code == 200 else None
                    if end is not None:
                        vod_lag.append((datetime.now(UTC) - end).total_seconds())
                n += 1
                time.sleep(0.5)
        stills = sorted((stack.recordings / str(camera)).glob("*/*/*.t*.jpg"))
        print(
            f"preview stills the recorder made: {len(stills)}, "
            f"{sum(p.stat().st_size for p in stills) / max(len(stills), 1) / 1000:.1f} KB "
            f"each on average"
        )
        print(
            f"camera {args.resolution}, GOP 1 s, 60 s segments; {args.seconds:.0f} s "
            f"measured, {indexed_seen} segment(s) closed and indexed meanwhile"
        )
        print(summary("timeline end behind live (s)", tl_lag))
        print(summary("VOD playlist end behind live (s)", vod_lag))
        print(summary("timeline answer (ms)", answer_ms))
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
