"""WHEP playback from the middle of a tiered segment: the whole object into the read-through
cache first (old path) against ranged GETs of the fragments from the requested instant on
(``playback/ranged.py``, the path for a segment with a sidecar).

    .venv/bin/python bench/tiering_playback_bench.py [--seconds 60] [--at 50] [--runs 5]

1. A 1080p30 H.264 fMP4 segment (``--seconds`` long, 1 s GOPs, ~4 Mbit/s, FFmpeg) is
   tiered as the recorder's mover does (``tiering_setup.tier_copies``: sidecar, upload to
   SeaweedFS, local copy removed).
2. Alternating runs, each with a fresh client (warmed by one HEAD, not counted) and an
   empty cache:
   - old: ``SegmentFiles.local_path`` (ranged GETs of the whole object into the cache),
     then ``read_units`` over the file from ``--at`` seconds in;
   - new: ``read_units`` over a ``RangedSegment`` made from the sidecar (what
     ``tiers.playable`` gives WHEP for such a segment), in a thread as WHEP runs it;
   timed until ``read_units`` yields the requested instant (the first unit after the
   pre-roll from the keyframe: WHEP sends the pre-roll at once and the browser shows that
   picture first), with the S3 requests and the bytes their ranges ask for. Then the rest
   of the segment is read, to check both paths give the same units.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from tiering_setup import S3Counts, load_average, make_segment, settings, tier_copies, uptime

from argus_common.objectstore import ObjectStoreSettings, SegmentFiles
from argus_common.segindex import read_sidecar
from argus_streaming.playback.ranged import RangedSegment
from argus_streaming.playback.reader import PlaybackFile, PlaybackUnit, read_units
from argus_testkit.objectstore import LocalObjectStore

Opened = tuple[float, list[PlaybackUnit]]


def until_instant(units: Iterator[PlaybackUnit], t0: float) -> Opened:
    """Seconds from ``t0`` until the first unit past the pre-roll, and the units so far."""
    out = []
    for unit in units:
        out.append(unit)
        if not unit.preroll:
            return time.perf_counter() - t0, out
    raise RuntimeError("the requested instant never came")


async def one_run(
    root: Path, conf: ObjectStoreSettings, rel: str, began: datetime, at: datetime,
    ranged: bool,
) -> tuple[float, int, int, int, list[PlaybackUnit]]:
    """Time to the requested instant, the requests and bytes asked by then, the bytes
    asked for the whole playback, and every unit read."""
    shutil.rmtree(conf.cache_dir, ignore_errors=True)
    files = SegmentFiles(root, conf)
    try:
        await files.head(rel)  # a warm connection, as the service's long-lived client has
        counts = S3Counts((await files.cache()).store.client)
        t0 = time.perf_counter()
        if ranged:
            sidecar = await asyncio.to_thread(read_sidecar, root / rel)
            assert sidecar is not None
            source: Path | RangedSegment = RangedSegment(
                rel, sidecar, files.read_range, asyncio.get_running_loop())
        else:
            path = await files.local_path(root / rel, "object", rel)
            assert path is not None
            source = path
        units = read_units([PlaybackFile(source, began)], at)
        took, head = await asyncio.to_thread(until_instant, units, t0)
        requests, asked = counts.requests, counts.get_bytes
        rest = await asyncio.to_thread(list, units)
        return took, requests, asked, counts.get_bytes, head + rest
    finally:
        await files.close()


async def run(args: argparse.Namespace, work: Path) -> None:
    segment = work / "segment.mp4"
    print(f"making a {args.seconds} s 1080p30 segment with FFmpeg ...", flush=True)
    make_segment(segment, args.seconds)
    size = segment.stat().st_size
    root = work / "recordings"
    with LocalObjectStore(work / "s3", bucket="argus-bench") as store:
        conf = settings(store, work / "cache")
        segs, _ = await tier_copies(segment, root, 1, args.seconds, conf)
        rel, began = segs[0]
        at = began + timedelta(seconds=args.at)
        print(f"segment {size / 2**20:.1f} MiB; playback from {args.at} s in; "
              f"{args.runs} runs each, alternating", flush=True)
        print(f"before: {uptime()}", flush=True)
        figures: dict[bool, list[tuple[float, int, int, int]]] = {False: [], True: []}
        units: dict[bool, list[bytes]] = {}
        for _ in range(args.runs):
            for ranged in (False, True):
                took, requests, asked, total, got = await one_run(
                    root, conf, rel, began, at, ranged)
                figures[ranged].append((took, requests, asked, total))
                units[ranged] = [u.data for u in got]
        for ranged, name in ((False, "old (whole object, cache)"), (True, "new (ranged, sidecar)")):
            times = [f[0] for f in figures[ranged]]
            _, requests, asked, total = figures[ranged][-1]
            print(f"  {name:26} first frame median {statistics.median(times) * 1000:5.0f} ms, "
                  f"max {max(times) * 1000:5.0f} ms; by then {requests} GETs, "
                  f"{asked / 2**20:.2f} MiB; whole playback {total / 2**20:.2f} MiB "
                  f"({total / size:.0%} of the object)")
        print(f"  same units both ways: {units[False] == units[True]} ({len(units[True])})")
        print(f"after:  {uptime()}", flush=True)
    print(load_average())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--at", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argus-tier-play-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
