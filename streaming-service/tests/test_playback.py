"""Playback of recorded fMP4 segments: index, VOD playlist, reader, WebRTC, file serving.

The files are real (PyAV from simulator frames). The end-to-end path through management's
timeline API is in ``test_playback_e2e.py`` (pending until that API exists).
"""

from __future__ import annotations

import asyncio
import io
import itertools
from datetime import timedelta
from pathlib import Path

import av
import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from playback_support import record
from recordings_support import RecordedFile
from streaming_support import HEIGHT, WIDTH, World

from argus_camsim.stamp import read_timestamp_ms
from argus_streaming.auth.dependencies import User
from argus_streaming.auth.tickets import MediaTickets
from argus_streaming.media.mp4 import index_file
from argus_streaming.playback.reader import PlaybackFile, read_units
from argus_streaming.playback.track import PlaybackVideoTrack
from argus_streaming.vod.playlist import IndexedSegment, build_playlist
from argus_streaming.webrtc.sessions import WhepManager


@pytest.fixture(scope="module")
async def recorded(world: World) -> list[RecordedFile]:
    files = await record(world, 3, 2.0)
    assert len(files) == 3
    return files


def _files(world: World, recorded: list[RecordedFile]) -> list[PlaybackFile]:
    return [PlaybackFile(world.recordings / f.path, f.start) for f in recorded]


def _stamp_of_units(units: list[bytes]) -> list[int | None]:
    decoder = av.CodecContext.create("h264", "r")
    out = []
    for data in units:
        for frame in decoder.decode(av.Packet(data)):  # type: ignore[attr-defined]
            out.append(read_timestamp_ms(frame.to_ndarray(format="gray"), WIDTH, HEIGHT))
    return out


async def test_index_and_vod_playlist(world: World, recorded: list[RecordedFile]) -> None:
    segments = []
    for f in recorded:
        idx = index_file(world.recordings / f.path)
        assert idx.timescale > 0 and idx.init_size > 0
        assert len(idx.fragments) >= 2
        assert abs(idx.duration_s - (f.end_ms - f.start_ms) / 1000) < 0.1
        segments.append(IndexedSegment(f.path, f.start, idx))
    start = recorded[0].start + timedelta(seconds=1.5)
    text = build_playlist(segments, start, recorded[-1].end, lambda p: f"/f/{p}")
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST"
    assert sum(line.startswith("#EXT-X-MAP:") for line in lines) == 3
    # Timestamps restart in every file: the player must be told.
    assert sum(line == "#EXT-X-DISCONTINUITY" for line in lines) == 2
    assert any(line.startswith("#EXT-X-START:TIME-OFFSET=0.5") for line in lines)
    # Each byte range is one fragment of the file; the bytes decode.
    first = next(i for i, line in enumerate(lines) if line.startswith("#EXT-X-BYTERANGE"))
    size, offset = map(int, lines[first].split(":")[1].split("@"))
    path = world.recordings / lines[first + 1][3:]
    data = path.read_bytes()
    init = segments[0].index.init_size
    with av.open(io.BytesIO(data[:init] + data[offset:offset + size])) as c:
        frames = list(c.decode(video=0))
    assert len(frames) >= 25
    # A gap between files is a discontinuity even when timestamps would continue.
    later = IndexedSegment(recorded[1].path, recorded[1].start + timedelta(seconds=30),
                           segments[1].index)
    text = build_playlist([segments[0], later], recorded[0].start,
                          recorded[0].start + timedelta(minutes=5), lambda p: p)
    assert text.count("#EXT-X-DISCONTINUITY") == 1


async def test_reader_starts_at_the_instant_and_is_seamless(
    world: World, recorded: list[RecordedFile]
) -> None:
    start = recorded[1].start + timedelta(seconds=1.2)
    units = await asyncio.to_thread(lambda: list(read_units(_files(world, recorded), start)))
    pre = [u for u in units if u.preroll]
    live = [u for u in units if not u.preroll]
    assert pre and pre[0].keyframe
    assert abs(live[0].wall_ms - start.timestamp() * 1000) < 40
    stamps = _stamp_of_units([u.data for u in units[: len(pre) + 1]])
    assert stamps[-1] is not None
    assert abs(stamps[-1] - start.timestamp() * 1000) < 1000
    # Continuous across the boundary into the third file: no jump, no gap.
    steps = [b.pts - a.pts for a, b in itertools.pairwise(live)]
    assert all(0 < s <= 3 * 3000 for s in steps), steps
    expected = (recorded[-1].end_ms - start.timestamp() * 1000) / 1000 * 30
    assert abs(len(live) - expected) < 10


async def test_webrtc_playback_from_files(world: World, recorded: list[RecordedFile]) -> None:
    manager: WhepManager = world.app.state.whep
    start = recorded[0].start + timedelta(seconds=0.5)
    track = PlaybackVideoTrack(read_units(_files(world, recorded), start), speed=1.0)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    got: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    pc.on("track", lambda t: got.done() or got.set_result(t))
    await pc.setLocalDescription(await pc.createOffer())
    session, answer = await manager.create_playback(
        world.camera_id, pc.localDescription.sdp, str(world.admin_id), track, track.stop)
    try:
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        remote = await asyncio.wait_for(got, 10)
        frames = []
        async with asyncio.timeout(15):
            while len(frames) < 40:
                frames.append(await remote.recv())  # type: ignore[attr-defined]
        stamps = [read_timestamp_ms(f.to_ndarray(format="gray"), WIDTH, HEIGHT) for f in frames]
        assert stamps[0] is not None
        assert abs(stamps[0] - start.timestamp() * 1000) <= 1000
        assert all(s is not None for s in stamps)
        assert stamps == sorted(stamps)  # type: ignore[type-var]
    finally:
        await manager.close(session.id)
        await pc.close()


async def test_vod_file_route(
    world: World, recorded: list[RecordedFile], client: httpx.AsyncClient
) -> None:
    rel = recorded[0].path
    # The ticket a VOD playlist of these files would carry (vod/router.py issues it so).
    tickets: MediaTickets = world.app.state.tickets
    admin = User(sub=str(world.admin_id), jti="test-jti", token="")
    token = tickets.issue("vod", admin, world.camera_id, paths=[rel]).id
    url = f"/vod/{world.camera_id}/files/{rel}?token={token}"
    full = await client.get(url)
    assert full.status_code == 200
    assert full.content == Path(world.recordings / rel).read_bytes()
    part = await client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert (await client.get(f"/vod/{world.camera_id}/files/{rel}")).status_code == 401
    other = tickets.issue("vod", admin, world.camera2_id, paths=[rel]).id
    assert (await client.get(f"/vod/{world.camera_id}/files/{rel}?token={other}")
            ).status_code == 404
    for bad in ("../../etc/passwd", f"{world.camera_id}/../x.mp4", "2/2026-01-01/00/1.mp4"):
        assert (await client.get(f"/vod/{world.camera_id}/files/{bad}?token={token}")
                ).status_code == 404


async def test_vod_and_playback_need_auth_and_valid_window(
    world: World, client: httpx.AsyncClient
) -> None:
    q = "start=2026-11-22T10:00:00Z&end=2026-11-22T11:00:00Z"
    assert (await client.get(f"/vod/{world.camera_id}/index.m3u8?{q}")).status_code == 401
    bad = "start=2026-11-22T10:00:00Z&end=2026-11-22T09:00:00Z"
    resp = await client.get(f"/vod/{world.camera_id}/index.m3u8?{bad}", headers=world.auth())
    assert resp.status_code == 422
    resp = await client.get(f"/vod/{world.camera_id}/index.m3u8?start=x&end=y",
                            headers=world.auth())
    assert resp.status_code == 422
    resp = await client.get(f"/vod/{world.camera2_id}/index.m3u8?{q}",
                            headers=world.auth(world.viewer_id))
    assert resp.status_code == 404
