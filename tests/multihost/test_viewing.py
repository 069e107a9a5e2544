"""Viewing across hosts in the namespace bed (the session's bed, conftest.py): a viewer on
the LAN (the bridge address) asks the streaming service on h1 for a camera that h3 records.

- Live over WHEP, two viewers at once: h1 pulls the camera once (the simulator counts one
  RTSP session from h1 beside h3's recorder's).
- Recorded, from a segment h3's recorder wrote to the shared directory: VOD HLS (playlist and
  file through h1, decoded here) and WHEP playback (``?start=``) through h1.

Any streaming host pulls the camera itself (no redirect): one pull per camera per host."""

from __future__ import annotations

import asyncio
import io
import re
import time
from datetime import UTC, datetime

import av
import httpx
import pytest
from mhtools import recording, rows, wait_for
from multihost import CAMS, PORTS, SECRETS, Bed
from whep_client import whep_close, whep_connect

pytestmark = [pytest.mark.multihost, pytest.mark.chaos, pytest.mark.timeout(600)]


def _token(b: Bed) -> dict[str, str]:
    resp = httpx.post(
        f"{b.management_url}/api/v1/auth/login",
        data={"username": SECRETS.admin_username, "password": SECRETS.admin_password},
        timeout=10,
    )
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _pulls(b: Bed, camera_id: int) -> int:
    """RTSP sessions the simulator serves for one camera (every stream of it)."""
    name = next(n for n, c in b.cameras.items() if c == camera_id)
    resp = httpx.get(f"http://{CAMS[1]}:{PORTS.camsim_control}/cameras/{name}", timeout=5)
    resp.raise_for_status()
    return sum(int(v) for v in resp.json()["clients"].values())


async def _two_viewers(b: Bed, camera_id: int, headers: dict[str, str]) -> tuple[int, int]:
    """Two WHEP viewers of the camera on h1 at once: frames each got, and the simulator's
    session count for the camera while both watch."""
    async with httpx.AsyncClient(base_url=b.streaming_url("h1"), timeout=30) as client:
        viewers = []
        try:
            for _ in range(2):
                resp, viewer = await whep_connect(client, f"/whep/{camera_id}", headers)
                assert resp.status_code == 201, resp.text
                assert viewer is not None
                viewers.append(viewer)
            got = await asyncio.gather(*(v.frames(5, timeout_s=30) for v in viewers))
            pulls = await asyncio.to_thread(_pulls, b, camera_id)
        finally:
            for viewer in viewers:
                await whep_close(client, viewer, headers)
    return min(len(f) for f in got), pulls


async def _playback(b: Bed, camera_id: int, start: datetime, headers: dict[str, str]) -> int:
    async with httpx.AsyncClient(base_url=b.streaming_url("h1"), timeout=30) as client:
        path = f"/whep/{camera_id}?start={start.isoformat().replace('+00:00', 'Z')}"
        resp, viewer = await whep_connect(client, path, headers)
        assert resp.status_code == 201, resp.text
        assert viewer is not None
        try:
            frames = await viewer.frames(5, timeout_s=30)
        finally:
            await whep_close(client, viewer, headers)
    return len(frames)


def _vod_frames(b: Bed, camera_id: int, start: float, end: float, headers: dict[str, str]) -> int:
    """Fetch the VOD playlist of ``[start, end]`` from h1 and decode the file it names."""
    iso = {
        k: datetime.fromtimestamp(v, UTC).isoformat() for k, v in (("start", start), ("end", end))
    }
    with httpx.Client(base_url=b.streaming_url("h1"), timeout=30) as client:
        playlist = client.get(f"/vod/{camera_id}/index.m3u8", params=iso, headers=headers)
        assert playlist.status_code == 200, playlist.text
        uris = re.findall(r'URI="([^"]+)"', playlist.text)
        assert uris, playlist.text
        data = client.get(uris[0])
        assert data.status_code == 200, data.text[:200]
    with av.open(io.BytesIO(data.content)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_viewers_on_h1_watch_live_and_recorded_video_of_a_camera_recorded_on_h3(
    mh: Bed,
) -> None:
    b = mh
    wait_for(lambda: bool(recording(b, "h3")), 120, "h3 records a camera", b)
    camera_id = sorted(recording(b, "h3") or set())[0]
    assert camera_id not in (recording(b, "h1") or set())
    since = time.time()
    # A segment h3's recorder wrote: it started after h3 was seen holding the camera.
    wait_for(
        lambda: any(r.start > since and not r.backfilled for r in rows(b, camera_id)),
        60,
        "a segment of h3's indexed",
        b,
    )
    assert camera_id in (recording(b, "h3") or set()), "the camera moved meanwhile"
    segment = next(r for r in rows(b, camera_id) if r.start > since and not r.backfilled)
    headers = _token(b)

    frames, pulls = asyncio.run(_two_viewers(b, camera_id, headers))
    assert frames == 5
    # h3's recorder and h1's streaming service: one session each.
    assert pulls == 2, f"{pulls} RTSP sessions for camera {camera_id} (want 2: h3 + h1)"

    assert _vod_frames(b, camera_id, segment.start, segment.end, headers) > 0
    start = datetime.fromtimestamp(segment.start + 0.2, UTC)
    assert asyncio.run(_playback(b, camera_id, start, headers)) == 5
