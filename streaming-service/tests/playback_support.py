"""Set-up the playback tests share (test_playback_e2e, test_playback_tiered,
test_playback_tiered_ranged, test_vod_tiered_index): segments recorded from simulator cam1,
the same segments tiered to a real S3 store (SeaweedFS, one per module: the ``store``
fixture), the service reading them through a read-through cache, and WHEP playback from an
instant read back as the burnt-in time of a frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
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
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalObjectStore]:
    """A SeaweedFS S3 store for the module, its bucket named after it."""
    bucket = "argus-" + request.module.__name__.rsplit(".", 1)[-1].replace("_", "-")
    with LocalObjectStore(tmp_path_factory.mktemp("s3"), bucket=bucket) as s:
        yield s


async def record(world: World, files: int, seconds: float) -> list[RecordedFile]:
    """``files`` segments of ``seconds`` each from simulator cam1, under ``world.recordings``
    as ``world.camera_id``'s (not indexed in management)."""
    url = with_userinfo(world.camsim.url(1), CAM_USER, CAM_PASSWORD)
    return await asyncio.to_thread(
        record_segments, url, world.recordings, world.camera_id, files=files, seconds=seconds
    )


async def tier(
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


@asynccontextmanager
async def reading_from(
    world: World, store: LocalObjectStore, cache_dir: Path
) -> AsyncIterator[SegmentFiles]:
    """The service reads segments through ``store`` with a 64 MiB read-through cache in
    ``cache_dir`` for the block (the resolver is yielded); afterwards the resolver is closed
    and the previous one put back. The VOD index cache is emptied at both ends, so no
    playlist index outlives the resolver it was built with."""
    settings = ObjectStoreSettings(
        **{**store.env(), "ARGUS_S3_CACHE_DIR": str(cache_dir),
           "ARGUS_S3_CACHE_BYTES": str(64 * 2**20)}
    )
    previous = getattr(world.app.state, "segment_files", None)
    resolver = SegmentFiles(world.recordings, settings)
    world.app.state.segment_files = resolver
    world.app.state.vod_index = None
    try:
        yield resolver
    finally:
        await resolver.close()
        world.app.state.segment_files = previous
        world.app.state.vod_index = None


async def play_from(world: World, client: httpx.AsyncClient, start: datetime) -> int | None:
    """The burnt-in time of the 20th frame WHEP playback from ``start`` shows (the offer is
    asserted answered; the session is closed whatever happens)."""
    headers = world.auth()
    resp, viewer = await whep_connect(
        client, f"/whep/{world.camera_id}?start={start.isoformat().replace('+00:00', 'Z')}",
        headers,
    )
    assert resp.status_code == 201, resp.text
    assert viewer is not None
    try:
        frames = await viewer.frames(20, timeout_s=15)
    finally:
        await whep_close(client, viewer, headers)
    last: Any = frames[-1]
    stamp: int | None = read_timestamp_ms(last.to_ndarray(format="gray"), WIDTH, HEIGHT)
    return stamp
