"""Playback of a segment through ranged reads of its object (playback/ranged.py), against
a fake store that serves a real fMP4 file's bytes: the same units as reading the file, from
the fragment that holds the instant on; a failed or stuck GET ends the playback. Only a
tiered segment with a valid sidecar and no local copy is read so (``tiers.ranged``)."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import av
import numpy as np
import pytest

from argus_common.mp4index import index_file
from argus_common.objectstore import ObjectStoreSettings, SegmentFiles
from argus_common.segindex import SegmentIndex, index_path, write_index
from argus_streaming.cameras.client import SegmentRef
from argus_streaming.playback import ranged
from argus_streaming.playback.ranged import RangedReadError, RangedSegment, plan_blocks
from argus_streaming.playback.reader import PlaybackFile, PlaybackUnit, read_units
from argus_streaming.vod import tiers

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
SECONDS = 6


def _segment(path: Path) -> None:
    """A 6 s fMP4 (1 s GOPs, a fragment each, no B-frames), as the recorder writes them."""
    with av.open(str(path), "w", format="mp4", options={
            "movflags": "frag_keyframe+empty_moov+default_base_moof"}) as out:
        stream = out.add_stream("libx264", rate=30, options={"bf": "0", "g": "30",
                                                             "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 30)
        for n in range(SECONDS * 30):
            img = np.full((96, 160, 3), n % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = n
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


@pytest.fixture(scope="module")
def segment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ranged") / "seg.mp4"
    _segment(path)
    return path


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A loop in a thread, standing in for the service's (read_units runs in a worker)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def _units(files: list[PlaybackFile], start: datetime) -> list[PlaybackUnit]:
    return list(read_units(files, start))


def test_ranged_reads_give_the_file_s_units_from_the_fragment_on(
    segment: Path, loop: asyncio.AbstractEventLoop
) -> None:
    body = segment.read_bytes()
    asked: list[tuple[int, int]] = []

    async def read_range(key: str, first: int, last: int) -> bytes:
        asked.append((first, last))
        return body[first : last + 1]

    index = index_file(segment)
    assert len(index.fragments) >= SECONDS - 1
    seg = RangedSegment("k", SegmentIndex(len(body), index), read_range, loop)
    start = T0 + timedelta(seconds=4.5)
    want = _units([PlaybackFile(segment, T0)], start)
    got = _units([PlaybackFile(seg, T0)], start)
    assert want and [(u.data, u.wall_ms, u.preroll, u.keyframe) for u in got] == [
        (u.data, u.wall_ms, u.preroll, u.keyframe) for u in want
    ]
    assert got[0].keyframe and got[0].preroll and abs(got[0].wall_ms - 4_000 - T0.timestamp()
                                                      * 1000) < 50
    fetched = sum(last - first + 1 for first, last in asked)
    assert fetched < len(body) / 2, (fetched, len(body))
    assert all(first >= index.fragments[3].offset for first, _ in asked[1:])
    # From the first instant on, everything is read (and still in order, gap-free).
    asked.clear()
    whole = _units([PlaybackFile(seg, T0)], T0)
    assert [u.data for u in whole] == [u.data for u in _units([PlaybackFile(segment, T0)], T0)]
    assert sorted(asked) == asked and asked[1][0] == index.init_size


def test_plan_blocks_cuts_at_fragments_and_splits_large_ones(segment: Path) -> None:
    frags = index_file(segment).fragments
    blocks = plan_blocks(frags[0].offset, frags, 2 * frags[0].size + 1)
    assert blocks[0] == (frags[0].offset, frags[1].offset + frags[1].size)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    assert blocks[-1][1] == frags[-1].offset + frags[-1].size
    small = plan_blocks(frags[0].offset, frags[:1], 1000)
    assert all(end - first <= 1000 for first, end in small)
    assert small[-1][1] == frags[0].offset + frags[0].size


def test_a_failed_get_ends_the_playback(segment: Path, loop: asyncio.AbstractEventLoop) -> None:
    body = segment.read_bytes()
    index = index_file(segment)

    async def failing(key: str, first: int, last: int) -> bytes:
        if last >= index.fragments[4].offset:
            raise OSError("store down")
        return body[first : last + 1]

    seg = RangedSegment("k", SegmentIndex(len(body), index), failing, loop)
    units = read_units([PlaybackFile(seg, T0)], T0 + timedelta(seconds=2.5))
    with pytest.raises((RangedReadError, av.error.FFmpegError)):
        for _ in range(10_000):
            next(units)


def test_a_stuck_get_times_out(
    segment: Path, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = segment.read_bytes()
    index = index_file(segment)
    monkeypatch.setattr(ranged, "GET_TIMEOUT_S", 0.3)

    async def stuck(key: str, first: int, last: int) -> bytes:
        if first >= index.fragments[1].offset:
            await asyncio.sleep(60)
        return body[first : last + 1]

    seg = RangedSegment("k", SegmentIndex(len(body), index), stuck, loop)
    # At open the first fragment does not come: the segment is skipped, nothing plays.
    assert _units([PlaybackFile(seg, T0)], T0 + timedelta(seconds=2.5)) == []


async def test_only_a_tiered_segment_with_a_valid_sidecar_is_read_ranged(
    segment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = "1/2026-12-06/03/1796533200000.mp4"
    local = tmp_path / "rec" / rel
    local.parent.mkdir(parents=True)
    env: dict[str, Any] = {
        "ARGUS_S3_BUCKET": "argus-units", "ARGUS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "ARGUS_S3_ACCESS_KEY_ID": "k", "ARGUS_S3_SECRET_ACCESS_KEY": "s",
        "ARGUS_S3_CACHE_DIR": str(tmp_path / "cache")}
    settings = ObjectStoreSettings(**env)  # nothing is sent to it
    files = SegmentFiles(tmp_path / "rec", settings)
    request: Any = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(
        segment_files=files)))
    ref = SegmentRef(rel, T0, T0 + timedelta(seconds=SECONDS), "object", rel)
    try:
        assert await tiers.ranged(request, 1, ref) is None  # no sidecar
        shutil.copyfile(segment, local)
        assert write_index(local) is not None
        assert await tiers.ranged(request, 1, ref) is None  # the local copy is still there
        local.unlink()
        found = await tiers.ranged(request, 1, ref)
        assert isinstance(found, RangedSegment) and found.key == rel
        assert await tiers.ranged(request, 1, replace(ref, tier="local")) is None
        monkeypatch.setattr(tiers, "RANGED_PLAYBACK", False)
        assert await tiers.ranged(request, 1, ref) is None
        monkeypatch.setattr(tiers, "RANGED_PLAYBACK", True)
        side = index_path(local)
        side.write_bytes(side.read_bytes()[:-1] + b"\x00")  # damaged: bad checksum
        assert await tiers.ranged(request, 1, ref) is None
    finally:
        await files.close()
