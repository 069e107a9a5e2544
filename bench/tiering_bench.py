"""Tiering to S3 (SeaweedFS on this machine): upload throughput against the store's own
limit, client CPU per tiered GB, and the first frame of a segment that lives on the store.

    .venv/bin/python bench/tiering_bench.py [--files 16] [--seconds 60] [--concurrency 2]

1. A 1080p30 H.264 fMP4 segment (``--seconds`` long, ~4 Mbit/s, FFmpeg) is made once and
   copied ``--files`` times.
2. The store's own limit: a plain PUT loop of the same bytes, already in memory, no
   checksums, no read-back (``--concurrency`` PUTs at once), in batches alternating with
   (3)'s so that the machine's load changes weigh on both alike.
3. Tiering's upload path (``argus_common.objectstore``, what ``tiering/mover.py`` calls):
   read the file, MD5 + SHA-256, PUT with Content-MD5, HEAD to verify size and checksum, at
   the same concurrency. Its throughput over (2)'s is the ratio the goal asks for (>= 0.8);
   this process's CPU seconds over the GB moved is the client's CPU per tiered GB.
4. First frame: a cold read-through cache fetches the segment with ranged GETs, then PyAV
   opens it and decodes the first picture (what WHEP playback does before its first
   frame), repeated ``--first-frame-runs`` times with the cache emptied each time.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import av
from tiering_setup import load_average, make_segment, settings

from argus_common.objectstore import ObjectStore, ReadThroughCache
from argus_testkit.objectstore import LocalObjectStore


async def plain_puts(client: ObjectStore, bodies: list[bytes], concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def put(n: int, body: bytes) -> None:
        async with gate:
            await client.client.put_object(Bucket=client.bucket, Key=f"plain/{n}.mp4", Body=body)

    started = time.perf_counter()
    await asyncio.gather(*(put(n, b) for n, b in enumerate(bodies)))
    return time.perf_counter() - started


async def tiered_puts(client: ObjectStore, files: list[Path], concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def put(path: Path) -> None:
        async with gate:
            await client.put_file(path, f"tiered/{path.name}")

    started = time.perf_counter()
    await asyncio.gather(*(put(p) for p in files))
    return time.perf_counter() - started


def first_picture(path: Path) -> None:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            for _frame in packet.decode():
                return


async def first_frame(
    client: ObjectStore, cache_dir: Path, key: str, runs: int, part_bytes: int
) -> list[float]:
    times = []
    for _ in range(runs):
        shutil.rmtree(cache_dir, ignore_errors=True)
        cache = ReadThroughCache(client, cache_dir, 2**31)
        started = time.perf_counter()
        path = await cache.path(key)
        await asyncio.to_thread(first_picture, path)
        times.append(time.perf_counter() - started)
    return times


async def run(args: argparse.Namespace, work: Path) -> None:
    segment = work / "segment.mp4"
    print(f"making a {args.seconds} s 1080p30 segment with FFmpeg ...", flush=True)
    make_segment(segment, args.seconds)
    size = segment.stat().st_size
    files = []
    for n in range(args.files):
        copy = work / f"{1796000000000 + n}.mp4"
        shutil.copyfile(segment, copy)
        files.append(copy)
    total = size * len(files)
    print(
        f"segment {size / 2**20:.1f} MiB, {len(files)} files, {total / 2**30:.2f} GiB", flush=True
    )
    with LocalObjectStore(work / "s3", bucket="argus-bench") as store:
        conf = settings(store, work / "cache", ARGUS_S3_CONCURRENCY=str(args.concurrency))
        async with ObjectStore(conf) as client:
            body = segment.read_bytes()
            await plain_puts(client, [body, body], args.concurrency)  # warm up the volume
            # Alternating batches (plain, tiered, plain, ...) so that a load change on the
            # machine weighs on both alike.
            plain_s = tiered_s = cpu_s = 0.0
            step = args.concurrency
            for n in range(0, len(files), step):
                batch = files[n : n + step]
                plain_s += await plain_puts(client, [body] * len(batch), args.concurrency)
                cpu0 = time.process_time()
                tiered_s += await tiered_puts(client, batch, args.concurrency)
                cpu_s += time.process_time() - cpu0
            del body
            plain_mb = total / plain_s / 2**20
            tiered_mb = total / tiered_s / 2**20
            print(f"plain PUT loop      {plain_mb:7.1f} MiB/s ({plain_s:.2f} s)")
            print(
                f"tiering upload path {tiered_mb:7.1f} MiB/s ({tiered_s:.2f} s), "
                f"ratio {tiered_mb / plain_mb:.2f} (goal >= 0.8)"
            )
            print(f"client CPU          {cpu_s / (total / 2**30):.2f} CPU-s per tiered GiB")
            times = await first_frame(
                client,
                work / "cache",
                f"tiered/{files[0].name}",
                args.first_frame_runs,
                conf.part_bytes,
            )
            print(
                f"first frame from the store (cold cache, {size / 2**20:.1f} MiB segment): "
                f"median {statistics.median(times) * 1000:.0f} ms, "
                f"max {max(times) * 1000:.0f} ms over {len(times)} runs (goal <= 1000 ms)"
            )
    print(load_average())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--first-frame-runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argus-tier-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
