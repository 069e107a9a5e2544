"""Playback of segments tiered to a real S3 store (SeaweedFS): WHEP ``?start=`` and VOD HLS
read the objects through the read-through cache, with no local file left; a VOD byte range
of an object evicted from the cache since is one ranged GET, not a fetch of it all again.

The recorded files are uploaded, removed locally and indexed as ``tier='object'`` (what the
recorder's tiering leaves behind); everything else is the service as it runs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from playback_support import play_from, reading_from, record, tier
from streaming_support import World

from argus_testkit.objectstore import LocalObjectStore


async def test_tiered_segments_play_over_whep_and_vod(
    world: World,
    database_url: str,
    client: httpx.AsyncClient,
    store: LocalObjectStore,
    tmp_path: Path,
) -> None:
    async with reading_from(world, store, tmp_path / "cache") as files_resolver:
        files = await record(world, files=2, seconds=2.0)
        bodies = await tier(database_url, world.camera_id, files, world.recordings, store)
        assert not any((world.recordings / f.path).exists() for f in files)
        headers = world.auth()

        start = files[0].start + timedelta(seconds=1.5)
        stamp = await play_from(world, client, start)
        assert stamp is not None and abs(stamp - start.timestamp() * 1000) < 1500

        end = files[-1].end
        playlist = await client.get(
            f"/vod/{world.camera_id}/index.m3u8",
            params={"start": files[0].start.isoformat(), "end": end.isoformat()},
            headers=headers,
        )
        assert playlist.status_code == 200, playlist.text
        text = playlist.text
        assert "#EXT-X-MAP" in text
        # Every byte range of the playlist comes back as the object's own bytes.
        ranges = re.findall(r"#EXT-X-BYTERANGE:(\d+)@(\d+)\n(\S+)", text)
        assert ranges
        checked: dict[str, Any] = {}
        for size, offset, media_url in ranges[:6]:
            rel = media_url.split("/files/", 1)[1].split("?", 1)[0]
            first, length = int(offset), int(size)
            got = await client.get(
                media_url, headers={"Range": f"bytes={first}-{first + length - 1}"}
            )
            assert got.status_code == 206, got.text
            assert got.content == bodies[rel][first : first + length]
            checked[rel] = True
        assert checked
        cache = files_resolver._cache
        assert cache is not None and cache.misses >= 1
        # Evicted from the cache (what its size bound does to the oldest files): each range
        # comes from the store alone, and nothing is fetched into the cache again.
        for held in cache.directory.glob("*.mp4"):
            held.unlink()
        misses = cache.misses
        for size, offset, media_url in ranges[:4]:
            rel = media_url.split("/files/", 1)[1].split("?", 1)[0]
            first, length = int(offset), int(size)
            got = await client.get(
                media_url, headers={"Range": f"bytes={first}-{first + length - 1}"}
            )
            assert got.status_code == 206, got.text
            assert got.headers["content-range"] == (
                f"bytes {first}-{first + length - 1}/{len(bodies[rel])}"
            )
            assert got.content == bodies[rel][first : first + length]
        assert cache.misses == misses and not any(cache.directory.glob("*.mp4"))
        # Without a Range header the whole file is served (through the cache).
        whole = await client.get(ranges[0][2])
        assert whole.status_code == 200 and cache.misses == misses + 1
