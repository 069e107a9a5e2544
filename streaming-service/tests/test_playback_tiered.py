"""Playback of segments tiered to a real S3 store (SeaweedFS): WHEP ``?start=`` and VOD HLS
read the objects through the read-through cache, with no local file left; a VOD byte range
of an object evicted from the cache since is one ranged GET, not a fetch of it all again.

The recorded files are uploaded, removed locally and indexed as ``tier='object'`` (what the
recorder's tiering leaves behind); everything else is the service as it runs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from recordings_support import RecordedFile, record_segments
from streaming_support import CAM_PASSWORD, CAM_USER, HEIGHT, PG_DSN, WIDTH, World
from whep_client import whep_close, whep_connect

from argus_camsim.stamp import read_timestamp_ms
from argus_common.objectstore import ObjectStoreSettings, SegmentFiles
from argus_streaming.cameras.urls import with_userinfo
from argus_testkit.objectstore import LocalObjectStore


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalObjectStore]:
    with LocalObjectStore(tmp_path_factory.mktemp("s3"), bucket="argus-play-test") as s:
        yield s


async def _tier(
    database_url: str,
    camera_id: int,
    files: list[RecordedFile],
    root: Path,
    store: LocalObjectStore,
) -> dict[str, bytes]:
    """Upload the files, remove them locally, index them as tiered; returns their bytes."""
    s3 = store.client()
    bodies = {}
    conn = await asyncpg.connect(f"{PG_DSN}/{database_url.rsplit('/', 1)[1]}")
    try:
        for f in files:
            body = (root / f.path).read_bytes()
            s3.put_object(Bucket=store.bucket, Key=f.path, Body=body)
            (root / f.path).unlink()
            bodies[f.path] = body
            await conn.execute(
                "INSERT INTO recording_segments (camera_id, path, kind, started_at, ended_at,"
                " duration_s, bytes, codec, width, height, has_audio, kept, tier, object_key)"
                " VALUES ($1, $2, 'continuous', $3, $4, $5, $6, 'h264', $7, $8, false, false,"
                " 'object', $2)",
                camera_id,
                f.path,
                f.start,
                f.end,
                (f.end_ms - f.start_ms) / 1000,
                len(body),
                WIDTH,
                HEIGHT,
            )
    finally:
        await conn.close()
        s3.close()
    return bodies


async def test_tiered_segments_play_over_whep_and_vod(
    world: World,
    database_url: str,
    client: httpx.AsyncClient,
    store: LocalObjectStore,
    tmp_path: Path,
) -> None:
    settings = ObjectStoreSettings(
        **{
            **store.env(),
            "ARGUS_S3_CACHE_DIR": str(tmp_path / "cache"),
            "ARGUS_S3_CACHE_BYTES": str(64 * 2**20),
        }
    )
    previous = getattr(world.app.state, "segment_files", None)
    files_resolver = SegmentFiles(world.recordings, settings)
    world.app.state.segment_files = files_resolver
    try:
        url = with_userinfo(world.camsim.url(1), CAM_USER, CAM_PASSWORD)
        files = await asyncio.to_thread(
            record_segments, url, world.recordings, world.camera_id, files=2, seconds=2.0
        )
        bodies = await _tier(database_url, world.camera_id, files, world.recordings, store)
        assert not any((world.recordings / f.path).exists() for f in files)
        headers = world.auth()

        start = files[0].start + timedelta(seconds=1.5)
        resp, viewer = await whep_connect(
            client,
            f"/whep/{world.camera_id}?start={start.isoformat().replace('+00:00', 'Z')}",
            headers,
        )
        assert resp.status_code == 201, resp.text
        assert viewer is not None
        frames = await viewer.frames(20, timeout_s=15)
        stamp = read_timestamp_ms(frames[-1].to_ndarray(format="gray"), WIDTH, HEIGHT)  # type: ignore[attr-defined]
        assert stamp is not None and abs(stamp - start.timestamp() * 1000) < 1500
        await whep_close(client, viewer, headers)

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
    finally:
        await files_resolver.close()
        world.app.state.segment_files = previous
