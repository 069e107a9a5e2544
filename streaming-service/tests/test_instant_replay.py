"""Instant replay: playback reaches into the segment the recorder is still writing.

A writer thread records the simulator into one fMP4 file the way the recorder does (a
fragment per GOP, ``flush_packets``), in the recording layout, and never closes it while
the test runs: the index has no row for it. WHEP playback 10 s in the past answers with
frames from that instant, and the reader follows the file as it grows.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import httpx
import pytest
from streaming_support import CAM_PASSWORD, CAM_USER, HEIGHT, WIDTH, World
from whep_client import whep_close, whep_connect

from argus_camsim.stamp import read_timestamp_ms
from argus_streaming.cameras.urls import with_userinfo
from argus_streaming.playback.reader import PlaybackFile, read_units
from argus_streaming.playback.tail import complete_length, unindexed_files

MAX_RECORD_S = 90.0


class OpenSegment(threading.Thread):
    """Records into one growing segment file until ``stop`` (or ``MAX_RECORD_S``)."""

    def __init__(self, url: str, root: Path, camera_id: int) -> None:
        super().__init__(daemon=True)
        self.url, self.root, self.camera_id = url, root, camera_id
        self.stop_event = threading.Event()
        self.started_ms: int | None = None
        self.path: Path | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._record()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _record(self) -> None:
        deadline = time.monotonic() + MAX_RECORD_S
        with av.open(
            self.url, options={"rtsp_transport": "tcp", "timeout": "5000000"}, timeout=10
        ) as src:
            vin = src.streams.video[0]
            decoder = av.CodecContext.create("h264", "r")
            if vin.codec_context.extradata:
                decoder.extradata = vin.codec_context.extradata
            writer = None
            pts0 = 0
            try:
                for packet in src.demux(vin):
                    if self.stop_event.is_set() or time.monotonic() > deadline:
                        break
                    if packet.pts is None or packet.size == 0:
                        continue
                    if writer is None:
                        if not packet.is_keyframe:
                            continue
                        frames = decoder.decode(packet)
                        if not frames:
                            continue
                        stamp = read_timestamp_ms(
                            frames[0].to_ndarray(format="gray"), WIDTH, HEIGHT
                        )
                        if stamp is None:
                            continue
                        when = datetime.fromtimestamp(stamp / 1000, UTC)
                        rel = f"{self.camera_id}/{when:%Y-%m-%d}/{when:%H}/{stamp}.mp4"
                        self.path = self.root / rel
                        self.path.parent.mkdir(parents=True, exist_ok=True)
                        writer = av.open(
                            str(self.path),
                            "w",
                            format="mp4",
                            options={
                                "movflags": "frag_keyframe+empty_moov+default_base_moof",
                                "flush_packets": "1",
                            },
                        )
                        stream = writer.add_stream_from_template(vin)
                        pts0 = packet.pts
                        self.started_ms = stamp
                    packet.pts -= pts0
                    packet.dts = packet.pts
                    packet.stream = stream
                    writer.mux(packet)
            finally:
                if writer is not None:
                    writer.close()


@pytest.fixture
def open_segment(world: World) -> Iterator[OpenSegment]:
    url = with_userinfo(world.camsim.url(1), CAM_USER, CAM_PASSWORD)
    thread = OpenSegment(url, world.recordings, world.camera_id)
    thread.start()
    try:
        yield thread
    finally:
        thread.stop_event.set()
        thread.join(30)


async def _wait_recorded(segment: OpenSegment, seconds: float) -> None:
    for _ in range(int(seconds * 10) + 300):  # bounded: the recording plus 30 s to start
        assert segment.error is None, segment.error
        if segment.started_ms is not None and time.time() * 1000 - segment.started_ms > (
            seconds * 1000
        ):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the open segment did not grow")


def _stamp(frame: object) -> int | None:
    stamp: int | None = read_timestamp_ms(frame.to_ndarray(format="gray"), WIDTH, HEIGHT)  # type: ignore[attr-defined]
    return stamp


async def test_whep_playback_ten_seconds_back_plays_the_open_segment(
    world: World, client: httpx.AsyncClient, open_segment: OpenSegment
) -> None:
    await _wait_recorded(open_segment, 12)
    assert open_segment.path is not None
    # The file is open: only complete fragments count, and none of it is indexed.
    assert 0 < complete_length(open_segment.path) <= open_segment.path.stat().st_size
    start = datetime.now(UTC) - timedelta(seconds=10)
    headers = world.auth()
    resp, viewer = await whep_connect(
        client, f"/whep/{world.camera_id}?start={start.isoformat().replace('+00:00', 'Z')}", headers
    )
    assert resp.status_code == 201, resp.text
    assert viewer is not None
    try:
        frames = await viewer.frames(30, timeout_s=20)
    finally:
        await whep_close(client, viewer, headers)
    stamps = [_stamp(f) for f in frames]
    assert all(s is not None for s in stamps), stamps
    assert abs(stamps[0] - start.timestamp() * 1000) < 1500, (stamps[0], start)  # type: ignore[operator]
    assert stamps == sorted(stamps) and stamps[-1] > stamps[0]  # type: ignore[type-var, operator]


async def test_reader_follows_the_open_segment_as_it_grows(
    world: World, open_segment: OpenSegment
) -> None:
    await _wait_recorded(open_segment, 3)
    asked = datetime.now(UTC)
    start = asked - timedelta(seconds=2)
    tail = unindexed_files(world.recordings, world.camera_id, start, set(), None)
    # The newest unindexed file is the open one (an earlier test's file may come before).
    rel, began = tail[-1]
    assert rel == str(open_segment.path.relative_to(world.recordings))  # type: ignore[union-attr]
    files = [PlaybackFile(world.recordings / rel, began, growing=True)]

    def read_past_request() -> list[int]:
        walls = []
        for unit in read_units(files, start):
            walls.append(unit.wall_ms)
            if unit.wall_ms > asked.timestamp() * 1000 + 3000:
                break  # fragments written after playback began were read
        return walls

    walls = await asyncio.wait_for(asyncio.to_thread(read_past_request), 60)
    assert walls[-1] > asked.timestamp() * 1000 + 3000
    assert walls == sorted(walls)


async def test_vod_playlist_reaches_into_the_open_segment(
    world: World, client: httpx.AsyncClient, open_segment: OpenSegment
) -> None:
    await _wait_recorded(open_segment, 8)
    assert open_segment.path is not None
    start = datetime.now(UTC) - timedelta(seconds=6)
    asked = datetime.now(UTC)
    resp = await client.get(
        f"/vod/{world.camera_id}/index.m3u8",
        params={"start": start.isoformat(), "end": (asked + timedelta(seconds=30)).isoformat()},
        headers=world.auth(),
    )
    assert resp.status_code == 200, resp.text
    lines = resp.text.splitlines()
    rel = str(open_segment.path.relative_to(world.recordings))
    uris = [line for line in lines if line.startswith("/vod/")]
    assert uris and all(rel in uri for uri in uris), uris[:3]
    # The last listed fragment ends where the file's complete fragments end: within a GOP
    # or two of live (the figure is printed; timings are not asserted).
    times = [line.split(":", 1)[1] for line in lines if line.startswith("#EXT-X-PROGRAM")]
    durations = [float(line[8:].rstrip(",")) for line in lines if line.startswith("#EXTINF:")]
    last_end = datetime.fromisoformat(times[-1]) + timedelta(seconds=durations[-1])
    assert last_end > start + timedelta(seconds=3)
    print(f"vod tail lag {(asked - last_end).total_seconds():.2f} s")
    # The fragments listed are whole: the last byte range lies inside the file's complete
    # part, so the player never fetches half a GOP.
    size, offset = map(
        int,
        next(line for line in reversed(lines) if line.startswith("#EXT-X-BYTERANGE"))
        .split(":")[1]
        .split("@"),
    )
    assert offset + size <= complete_length(open_segment.path)
