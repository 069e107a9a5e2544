"""Preview stills over ``GET /vod/{camera_id}/still?at=``: the nearest still beside the indexed
segments, only for users who may see the camera, audited as one session per user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from recordings_support import RecordedFile
from streaming_support import World
from test_playback_e2e import _insert_rows, _timeline_ready

from argus_common.stills import still_name


async def test_nearest_still_of_indexed_segments(
    world: World, database_url: str, client: httpx.AsyncClient
) -> None:
    problem = await _timeline_ready(world, database_url)
    assert problem is None, problem
    # Two indexed 20 s segments an hour ago with stills every 10 s; the files' contents do
    # not matter here (the recorder's tests decode real stills).
    base = int((datetime.now(UTC) - timedelta(hours=1)).timestamp()) * 1000
    files: list[RecordedFile] = []
    for n in range(2):
        start_ms = base + n * 20_000
        when = datetime.fromtimestamp(start_ms / 1000, UTC)
        rel = f"{world.camera_id}/{when:%Y-%m-%d}/{when:%H}/{start_ms}.mp4"
        path = world.recordings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * 16)
        for offset in (0, 10_000):
            (path.parent / still_name(path, offset)).write_bytes(
                b"\xff\xd8" + f"{n}:{offset}".encode() + b"\xff\xd9"
            )
        files.append(RecordedFile(rel, start_ms, start_ms + 20_000))
    await _insert_rows(database_url, world.camera_id, files, world.recordings)

    def at(seconds: float) -> str:
        return datetime.fromtimestamp(base / 1000 + seconds, UTC).isoformat()

    resp = await client.get(
        f"/vod/{world.camera_id}/still", params={"at": at(13)}, headers=world.auth()
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/jpeg"
    assert resp.content == b"\xff\xd80:10000\xff\xd9"
    assert resp.headers["x-still-time"].startswith(at(10)[:19])
    # Across the segment boundary: the next segment's first still is nearer.
    resp = await client.get(
        f"/vod/{world.camera_id}/still", params={"at": at(17)}, headers=world.auth()
    )
    assert resp.content == b"\xff\xd81:0\xff\xd9"
    # One audited snapshot session for the user and camera, however many requests.
    reporter = world.app.state.audit
    assert f"still:{world.admin_id}:{world.camera_id}" in reporter.tracked
    # Nothing recorded near: a 404 in the envelope, never an empty picture.
    resp = await client.get(
        f"/vod/{world.camera_id}/still", params={"at": at(-600)}, headers=world.auth()
    )
    assert resp.status_code == 404 and resp.json()["error"] == "NotFound"
    # A user who may not see the camera gets nothing.
    resp = await client.get(
        f"/vod/{world.camera_id}/still",
        params={"at": at(13)},
        headers=world.auth(world.outsider_id),
    )
    assert resp.status_code == 404
    resp = await client.get(
        f"/vod/{world.camera_id}/still", params={"at": "not-a-time"}, headers=world.auth()
    )
    assert resp.status_code == 422
