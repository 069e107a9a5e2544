"""WHEP playback from the middle of a segment tiered to a real S3 store (SeaweedFS): with
the sidecar the recorder keeps (``argus_common.segindex``) only the init section and the
fragments from the requested instant on are fetched (ranged GETs), nothing goes into the
read-through cache, and the first picture is the requested instant; a segment without a
sidecar still plays, fetched whole into the cache as before.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from playback_support import play_from, reading_from, record, tier
from streaming_support import World

from argus_common.segindex import index_path, write_index
from argus_testkit.objectstore import LocalObjectStore


def _count_bytes(client: Any) -> Counter[str]:
    """Bytes asked for by every GET the service's client sends from now on, by key."""
    asked: Counter[str] = Counter()

    def seen(params: dict[str, Any], **_: Any) -> None:
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", str(params.get("Range", "")))
        asked[params["Key"]] += int(match[2]) - int(match[1]) + 1 if match else 10**12

    client.meta.events.register("before-parameter-build.s3.GetObject", seen)
    return asked


async def test_whep_reads_only_the_fragments_it_plays_of_a_tiered_segment(
    world: World,
    database_url: str,
    client: httpx.AsyncClient,
    store: LocalObjectStore,
    tmp_path: Path,
) -> None:
    async with reading_from(world, store, tmp_path / "cache") as resolver:
        files = await record(world, files=2, seconds=6.0)
        first, second = files
        # The first keeps its sidecar (the recorder's mover writes it before the upload),
        # the second has none (tiered before sidecars existed).
        assert await asyncio.to_thread(write_index, world.recordings / first.path) is not None
        bodies = await tier(database_url, world.camera_id, files, world.recordings, store)
        assert index_path(world.recordings / first.path).is_file()
        assert not index_path(world.recordings / second.path).exists()
        cache = await resolver.cache()
        asked = _count_bytes(cache.store.client)

        start = first.start + timedelta(seconds=4.5)
        stamp = await play_from(world, client, start)
        assert stamp is not None and abs(stamp - start.timestamp() * 1000) < 1500, (
            stamp, start)
        # The init section and the last seconds' fragments, not the object; none of it
        # in the cache.
        size = len(bodies[first.path])
        assert 0 < asked[first.path] < size * 0.6, (asked, size)
        assert await resolver.held("object", first.path) is None

        # Without a sidecar: the old path, the whole object into the cache, still plays.
        start = second.start + timedelta(seconds=3.5)
        stamp = await play_from(world, client, start)
        assert stamp is not None and abs(stamp - start.timestamp() * 1000) < 1500, (
            stamp, start)
        assert asked[second.path] >= len(bodies[second.path])
        assert await resolver.held("object", second.path) is not None
