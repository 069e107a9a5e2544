"""Playback through management's timeline: WHEP ``?start=`` and the VOD playlist in Chromium.

Management's timeline API (``GET /api/v1/cameras/{id}/timeline``) must answer 200 and its
``recording_segments`` table exist (anything else fails the test); the test inserts rows for
real files and runs end to end.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
from browser_support import chromium, open_player
from playback_support import play_from, record
from recordings_support import RecordedFile
from streaming_support import HEIGHT, PG_DSN, WIDTH, World

from argus_testkit.tools import require


async def _timeline_ready(world: World, database_url: str) -> str | None:
    """What is wrong with the timeline or its table, or None when both work."""
    async with httpx.AsyncClient(base_url=world.management_url, timeout=5) as c:
        now = datetime.now(UTC)
        resp = await c.get(f"/api/v1/cameras/{world.camera_id}/timeline",
                           params={"start": (now - timedelta(hours=1)).isoformat(),
                                   "end": now.isoformat()}, headers=world.auth())
    if resp.status_code != 200:
        return f"management's timeline answered HTTP {resp.status_code}: {resp.text[:300]}"
    conn = await asyncpg.connect(f"{PG_DSN}/{database_url.rsplit('/', 1)[1]}")
    try:
        exists = await conn.fetchval("SELECT to_regclass('recording_segments') IS NOT NULL")
    finally:
        await conn.close()
    return None if exists else "management's database has no recording_segments table"


async def _insert_rows(database_url: str, camera_id: int, files: list[RecordedFile],
                       root: Any) -> None:
    conn = await asyncpg.connect(f"{PG_DSN}/{database_url.rsplit('/', 1)[1]}")
    try:
        columns = {r["column_name"] for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'recording_segments'")}
        for f in files:
            row: dict[str, Any] = {"camera_id": camera_id, "path": f.path}
            values = {"started_at": f.start, "ended_at": f.end, "start": f.start,
                      "end": f.end, "duration_s": (f.end_ms - f.start_ms) / 1000,
                      "kind": "continuous", "codec": "h264", "width": WIDTH,
                      "height": HEIGHT, "has_audio": False,
                      "bytes": (root / f.path).stat().st_size, "kept": False}
            row.update({k: v for k, v in values.items() if k in columns})
            names = ", ".join(f'"{k}"' for k in row)
            marks = ", ".join(f"${i + 1}" for i in range(len(row)))
            # Column names come from the dict above, never from input.
            sql = f"INSERT INTO recording_segments ({names}) VALUES ({marks})"  # noqa: S608
            await conn.execute(sql,
                               *row.values())
    finally:
        await conn.close()


async def test_webrtc_and_vod_playback_start_at_requested_time(
    world: World, database_url: str, client: httpx.AsyncClient
) -> None:
    problem = await _timeline_ready(world, database_url)
    assert problem is None, problem
    files = await record(world, files=2, seconds=2.0)
    await _insert_rows(database_url, world.camera_id, files, world.recordings)
    start = files[0].start + timedelta(seconds=1.5)
    stamp = await play_from(world, client, start)
    assert stamp is not None and abs(stamp - start.timestamp() * 1000) < 1500
    headers = world.auth()
    end = files[-1].end
    playlist = await client.get(
        f"/vod/{world.camera_id}/index.m3u8",
        params={"start": start.isoformat(), "end": end.isoformat()}, headers=headers)
    assert playlist.status_code == 200, playlist.text
    assert "#EXT-X-MAP" in playlist.text and "#EXT-X-START:TIME-OFFSET" in playlist.text
    require("chromium")
    # hls.js in Chromium starts at the requested instant (burnt-in stamp within 1 s).
    async with chromium() as context:
        page = await open_player(context, world.base_url, hls=True)
        vod = (f"/vod/{world.camera_id}/index.m3u8?start={quote(start.isoformat())}"
               f"&end={quote(end.isoformat())}")
        await page.evaluate("([u, t]) => argus.hls(u, false, t)", [vod, world.token(world.admin_id)])
        first = None
        for _ in range(100):
            if await page.evaluate("argus.video && argus.video.readyState >= 2"):
                first = await page.evaluate("argus.readStampCanvas(argus.video)")
                if first is not None:
                    break
            await asyncio.sleep(0.1)
        error = await page.evaluate("argus.hlsError || null")
        assert first is not None, error
        assert abs(first - start.timestamp() * 1000) < 1000, (first, start.timestamp())
