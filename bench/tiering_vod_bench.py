"""A VOD playlist over tiered segments: downloading every object to index it (before)
against the fragment index the recorder keeps beside each tiered segment (after).

    .venv/bin/python bench/tiering_vod_bench.py [--files 16] [--seconds 60] [--runs 5]

1. A 1080p30 H.264 fMP4 segment (``--seconds`` long, 1 s GOPs, ~4 Mbit/s, FFmpeg, as in
   ``tiering_setup.py``) is copied ``--files`` times into the recordings layout; the
   recorder's step before its upload writes each one's sidecar (``segindex.write_index``,
   timed), the copies go to the store (SeaweedFS) and are removed locally.
2. Alternating runs, the read-through cache emptied before each ``before`` run:
   - before: what VOD did for every tiered segment: fetch it into the cache (ranged GETs,
     ``SegmentFiles.local_path``), index the file (``IndexCache.get``), 4 segments at once;
   - after: ``IndexCache.sidecar`` (the sidecar, read and checked), 4 at once;
   each followed by ``build_playlist``. Requests and bytes fetched are counted per run.
3. The first media bytes of the after-playlist: the init section and the first fragment as
   one ranged GET each (``vod_file``'s path for a tiered segment that is not in the cache:
   the object's size comes from the sidecar, no HEAD).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tiering_setup import S3Counts, load_average, make_segment, settings, tier_copies

from argus_common.objectstore import SegmentFiles
from argus_common.segindex import index_path
from argus_streaming.vod.files import IndexCache
from argus_streaming.vod.playlist import IndexedSegment, build_playlist
from argus_testkit.objectstore import LocalObjectStore


async def playlist(
    segs: list[tuple[str, datetime]], one: Callable[[str], Awaitable[Any]], seconds: int
) -> tuple[float, str]:
    gate = asyncio.Semaphore(4)  # the VOD router's

    async def index(rel: str, began: datetime) -> IndexedSegment:
        async with gate:
            return IndexedSegment(rel, began, await one(rel))

    started = time.perf_counter()
    indexed = await asyncio.gather(*(index(r, b) for r, b in segs))
    end = segs[-1][1] + timedelta(seconds=seconds)
    text = build_playlist(list(indexed), segs[0][1], end, lambda p: f"/vod/1/files/{p}")
    return time.perf_counter() - started, text


async def run(args: argparse.Namespace, work: Path) -> None:
    segment = work / "segment.mp4"
    print(f"making a {args.seconds} s 1080p30 segment with FFmpeg ...", flush=True)
    make_segment(segment, args.seconds)
    size = segment.stat().st_size
    root = work / "recordings"
    with LocalObjectStore(work / "s3", bucket="argus-bench") as store:
        conf = settings(store, work / "cache", ARGUS_S3_CACHE_BYTES=str(2**33))
        segs, writes = await tier_copies(segment, root, args.files, args.seconds, conf)
        side = index_path(root / segs[0][0]).stat().st_size
        print(f"segment {size / 2**20:.1f} MiB, {len(segs)} files; sidecar {side} bytes, "
              f"written in median {statistics.median(writes) * 1000:.1f} ms")
        before_s, after_s = [], []
        texts: set[str] = set()
        files = SegmentFiles(root, conf)
        before_calls = after_calls = 0
        for _ in range(args.runs):
            shutil.rmtree(work / "cache", ignore_errors=True)
            (work / "cache").mkdir()
            await files.close()
            files = SegmentFiles(root, conf)
            counts = S3Counts((await files.cache()).store.client)
            cold = IndexCache()

            async def fetched(rel: str, cold: IndexCache = cold,
                              files: SegmentFiles = files) -> Any:
                path = await files.local_path(root / rel, "object", rel)
                assert path is not None
                return await cold.get(path)

            took, text = await playlist(segs, fetched, args.seconds)
            before_s.append(took)
            texts.add(text)
            before_calls = counts.requests
            fresh = IndexCache()

            async def sidecar(rel: str, fresh: IndexCache = fresh) -> Any:
                return await fresh.sidecar(root / rel)

            took, text = await playlist(segs, sidecar, args.seconds)
            after_s.append(took)
            texts.add(text)
            after_calls = counts.requests - before_calls
        cache = await files.cache()
        print(f"playlist of {len(segs)} tiered segments ({args.runs} runs, alternating):")
        print(f"  before (download + index each): median {statistics.median(before_s) * 1000:.0f}"
              f" ms, max {max(before_s) * 1000:.0f} ms; {before_calls} S3 requests, "
              f"{len(segs) * size / 2**20:.0f} MiB fetched per run, cache misses "
              f"{cache.misses}")
        print(f"  after (sidecar):                median {statistics.median(after_s) * 1000:.1f}"
              f" ms, max {max(after_s) * 1000:.1f} ms; {after_calls} S3 requests")
        print(f"  same playlist both ways: {len(texts) == 1}")
        # The first media bytes of the after-playlist, with no cached copy.
        fresh = IndexCache()
        first = await fresh.sidecar(root / segs[0][0])
        assert first is not None
        waits = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            for offset, length in ((0, first.init_size),
                                   (first.fragments[0].offset, first.fragments[0].size)):
                await files.read_range(segs[0][0], offset, offset + length - 1)
            waits.append(time.perf_counter() - t0)
        print(f"  first media bytes (init + first fragment, ranged GETs): median "
              f"{statistics.median(waits) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms")
        await files.close()
    print(load_average())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argus-tier-vod-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
