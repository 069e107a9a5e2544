"""VOD playlists over tiered segments from the fragment index the recorder keeps beside each
one (``<start-ms>.idx``, ``argus_common.segindex``): built without a single request for the
objects to the real S3 store (SeaweedFS), the same playlist as the download-and-index path
gives, its byte ranges the objects' own bytes; a missing or damaged sidecar falls back to
downloading the segment.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from playback_support import reading_from, record, tier
from streaming_support import World

from argus_common.segindex import index_path, write_index
from argus_testkit.objectstore import LocalObjectStore


def _count(client: Any) -> Counter[str]:
    """Every S3 operation the service's own client sends from now on, by name."""
    calls: Counter[str] = Counter()

    def seen(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-call.s3", seen)
    return calls


def _tokenless(text: str) -> str:
    return re.sub(r"token=[^\s\"]+", "token=T", text)


async def test_a_tiered_vod_playlist_comes_from_the_sidecars(
    world: World,
    database_url: str,
    client: httpx.AsyncClient,
    store: LocalObjectStore,
    tmp_path: Path,
) -> None:
    async with reading_from(world, store, tmp_path / "cache") as resolver:
        files = await record(world, files=3, seconds=2.0)
        for f in files:  # what the recorder's mover does first, while the file is local
            assert await asyncio.to_thread(write_index, world.recordings / f.path) is not None
        bodies = await tier(database_url, world.camera_id, files, world.recordings, store)
        assert not any((world.recordings / f.path).exists() for f in files)
        assert all(index_path(world.recordings / f.path).is_file() for f in files)
        cache = await resolver.cache()
        calls = _count(cache.store.client)
        params = {"start": files[0].start.isoformat(), "end": files[-1].end.isoformat()}
        headers = world.auth()

        quick = await client.get(f"/vod/{world.camera_id}/index.m3u8", params=params,
                                 headers=headers)
        assert quick.status_code == 200, quick.text
        assert calls["GetObject"] == 0 and calls["HeadObject"] == 0, calls
        assert cache.misses == 0 and not any(cache.directory.glob("*.mp4"))
        for f in files:
            assert f.path in quick.text

        # The same playlist as downloading every segment and indexing it gives.
        saved = {f.path: index_path(world.recordings / f.path).read_bytes() for f in files}
        for f in files:
            index_path(world.recordings / f.path).unlink()
        world.app.state.vod_index = None
        slow = await client.get(f"/vod/{world.camera_id}/index.m3u8", params=params,
                                headers=headers)
        assert slow.status_code == 200, slow.text
        assert cache.misses == len(files) and calls["GetObject"] >= len(files)
        assert _tokenless(slow.text) == _tokenless(quick.text)

        # Played from the sidecars' playlist: every byte range is the object's own bytes
        # (segments gone from the cache again: each range is one ranged GET, the object's
        # size coming from the sidecar, not a HEAD).
        for held in cache.directory.glob("*.mp4"):
            held.unlink()
        for rel, data in saved.items():
            index_path(world.recordings / rel).write_bytes(data)
        heads, gets = calls["HeadObject"], calls["GetObject"]
        maps = re.findall(r'#EXT-X-MAP:URI="([^"]+)",BYTERANGE="(\d+)@(\d+)"', quick.text)
        parts = re.findall(r"#EXT-X-BYTERANGE:(\d+)@(\d+)\n(\S+)", quick.text)
        assert maps and len(parts) >= len(files)
        wanted = [(u, int(n), int(o)) for u, n, o in maps] + [
            (u, int(n), int(o)) for n, o, u in parts]
        for media_url, length, first in wanted:
            rel = media_url.split("/files/", 1)[1].split("?", 1)[0]
            got = await client.get(
                media_url, headers={"Range": f"bytes={first}-{first + length - 1}"}
            )
            assert got.status_code == 206, got.text
            assert got.content == bodies[rel][first : first + length]
            assert got.headers["content-range"] == (
                f"bytes {first}-{first + length - 1}/{len(bodies[rel])}")
        assert calls["HeadObject"] == heads and calls["GetObject"] == gets + len(wanted)

        # A damaged sidecar: that segment alone is downloaded and indexed again.
        for f in files:
            index_path(world.recordings / f.path).write_bytes(b"ARGIDX\x00\x01 torn")
        world.app.state.vod_index = None
        misses = cache.misses
        again = await client.get(f"/vod/{world.camera_id}/index.m3u8", params=params,
                                 headers=headers)
        assert again.status_code == 200, again.text
        assert _tokenless(again.text) == _tokenless(quick.text)
        assert cache.misses == misses + len(files)
