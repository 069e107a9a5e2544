"""An export of a few seconds from the middle of a tiered segment: the whole object into the
read-through cache first (old path) against ranged GETs of the fragments the range needs
(``argus_management.exports.ranged``, the path for a segment with a sidecar).

    .venv/bin/python bench/export_ranged_bench.py [--seconds 60] [--at 27.5] [--window 5] [--runs 5]

1. A 1080p30 H.264 fMP4 segment (``--seconds`` long, 1 s GOPs, ~4 Mbit/s, FFmpeg) is
   tiered as the recorder's mover does (``tiering_setup.tier_copies``: sidecar, upload to
   SeaweedFS, local copy removed).
2. Alternating runs, each with a fresh client (warmed by one HEAD, not counted), an empty
   cache and scratch folder: ``ranged.source_segment`` as the export runner calls it (old:
   ``RANGED_EXPORTS`` off), then the remuxer's plan and copy of ``[at, at + window)`` into a
   SHA-256 (the bundle's work, less the zip); timed from the first request to the last
   byte hashed, with the S3 requests and the bytes their ranges ask for. Both paths must
   give the same MP4.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tiering_setup import S3Counts, load_average, make_segment, settings, tier_copies, uptime

from argus_common.objectstore import ObjectStoreSettings, SegmentFiles
from argus_management.exports import ranged
from argus_management.exports.remux import plan_export, write_plan
from argus_testkit.objectstore import LocalObjectStore


class _Hash:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, data: bytes | memoryview) -> int:
        self.digest.update(data)
        return len(data)


async def one_run(root: Path, conf: ObjectStoreSettings, scratch: Path, rel: str,
                  began: datetime, t0: float, t1: float, new: bool
                  ) -> tuple[float, int, int, str, int]:
    """Wall time, requests, bytes asked, the MP4's SHA-256 and its frame count."""
    shutil.rmtree(conf.cache_dir, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    ranged.RANGED_EXPORTS = new
    files = SegmentFiles(root, conf)
    try:
        await files.head(rel)  # a warm connection, as the runner's long-lived client has
        counts = S3Counts((await files.cache()).store.client)
        start = time.perf_counter()
        source = await ranged.source_segment(files, root / rel, "object", rel,
                                             began.timestamp(), t0, t1, scratch)
        assert source is not None
        sink = _Hash()

        def copy() -> int:
            plan = plan_export([source], t0, t1)
            write_plan(plan, sink)
            return plan.frames

        frames = await asyncio.to_thread(copy)
        took = time.perf_counter() - start
        return took, counts.requests, counts.get_bytes, sink.digest.hexdigest(), frames
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
        t0 = began.timestamp() + args.at
        t1 = t0 + args.window
        print(f"segment {size / 2**20:.1f} MiB; export of {args.window} s from {args.at} s in; "
              f"{args.runs} runs each, alternating", flush=True)
        print(f"before: {uptime()}", flush=True)
        figures: dict[bool, list[tuple[float, int, int, str, int]]] = {False: [], True: []}
        for _ in range(args.runs):
            for new in (False, True):
                figures[new].append(
                    await one_run(root, conf, work / "scratch", rel, began, t0, t1, new))
        for new, name in ((False, "old (whole object, cache)"), (True, "new (ranged, sidecar)")):
            times = [f[0] for f in figures[new]]
            _, requests, asked, _digest, frames = figures[new][-1]
            print(f"  {name:26} export median {statistics.median(times) * 1000:5.0f} ms, "
                  f"max {max(times) * 1000:5.0f} ms; {requests} requests, "
                  f"{asked / 2**20:.2f} MiB fetched ({asked / size:.0%} of the object); "
                  f"{frames} frames")
        digests = {f[3] for runs in figures.values() for f in runs}
        print(f"  same MP4 both ways: {len(digests) == 1}")
        print(f"after:  {uptime()}", flush=True)
    print(load_average())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--at", type=float, default=27.5)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argus-export-ranged-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
