"""LL-HLS muxing and playlist logic without processes: fMP4 boxes, parts, segments,
discontinuities, blocking-reload conditions."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import numpy as np
from hls_support import decode, parse_playlist

from argus_common.h264 import parse_sps
from argus_common.rtsp.frames import AccessUnit
from argus_streaming.hls.fmp4 import to_avcc
from argus_streaming.hls.playlist import LivePlaylist
from argus_streaming.hls.segmenter import (
    Event,
    InitReady,
    PartReady,
    Segmenter,
    SegmentReady,
)

TICK = 3000  # 30 fps at 90 kHz


def encode(frames: int, width: int, height: int, fps: int = 30) -> list[AccessUnit]:
    """Annex-B access units as a camera sends them: 1 s GOP, SPS/PPS before each IDR."""
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.options = {"preset": "ultrafast", "tune": "zerolatency",
                   "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0"
                                  ":repeat-headers=1"}
    packets = []
    for i in range(frames):
        img = np.full((height, width, 3), (i * 7) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    return [AccessUnit("video", bytes(p), int(p.pts) * (90000 // fps), bool(p.is_keyframe),
                       1_700_000_000_000 + int(p.pts)) for p in packets]


def run(seg: Segmenter, units: list[AccessUnit]) -> list[Event]:
    events: list[Event] = []
    for u in units:
        events += seg.feed(u)
    return events


def test_sps_sizes_after_cropping() -> None:
    for w, h in ((320, 180), (1280, 720), (1920, 1080), (176, 144)):
        _, sps, _ = to_avcc(encode(1, w, h)[0].data)
        assert sps is not None
        info = parse_sps(sps)
        assert (info.width, info.height) == (w, h)


def test_parts_and_segments() -> None:
    units = encode(95, 320, 180)
    events = run(Segmenter(1.0, 0.2), units)
    inits = [e for e in events if isinstance(e, InitReady)]
    parts = [e for e in events if isinstance(e, PartReady)]
    segs = [e for e in events if isinstance(e, SegmentReady)]
    assert len(inits) == 1
    # Ramp-up: one-part segments up to the second keyframe, then one segment per GOP.
    assert [(s.msn, round(s.duration, 3)) for s in segs] == [
        (0, 0.2), (1, 0.2), (2, 0.2), (3, 0.2), (4, 0.2), (5, 1.0), (6, 1.0)]
    assert all(round(p.duration, 3) == 0.2 for p in parts)
    assert [p.index for p in parts if p.independent] == [0, 5, 10]
    assert segs[5].parts == (5, 6, 7, 8, 9)
    frames = decode(inits[0].data + b"".join(p.data for p in parts))
    assert len(frames) == 90 and (frames[0].width, frames[0].height) == (320, 180)
    assert [f.pts for f in frames[:3]] == [0, TICK, 2 * TICK]
    # A part from a keyframe decodes alone.
    assert len(decode(inits[0].data + parts[5].data)) == 6


def test_replayed_frames_stay_in_the_first_segment() -> None:
    units = encode(61, 320, 180)
    seg = Segmenter(1.0, 0.2)
    events = [e for u in units[:20] for e in seg.feed(u, replay=True)]
    assert not any(isinstance(e, SegmentReady) for e in events)
    events += run(seg, units[20:])
    segs = [e for e in events if isinstance(e, SegmentReady)]
    assert [(s.msn, round(s.duration, 3), s.parts) for s in segs] == [
        (0, 0.8, (0, 1, 2, 3)), (1, 0.2, (4,)), (2, 1.0, (5, 6, 7, 8, 9))]


def test_new_parameter_sets_start_a_discontinuity_and_gaps_close() -> None:
    seg = Segmenter(1.0, 0.2)
    first = encode(61, 320, 180)[:60]
    second = [AccessUnit(u.kind, u.data, u.pts + 60 * TICK + 10 * 90000, u.keyframe, u.wall_ms)
              for u in encode(31, 160, 90)]
    events = run(seg, first + second)
    inits = [e for e in events if isinstance(e, InitReady)]
    segs = [e for e in events if isinstance(e, SegmentReady)]
    assert [i.index for i in inits] == [0, 1]
    new = [s for s in segs if s.init == 1]
    assert new and new[0].discontinuity
    # The 10 s gap is closed up: the segment before it lasts as long as its frames.
    assert round(segs[-2].duration, 3) == 1.0
    parts = [e for e in events if isinstance(e, PartReady)]
    assert max(p.duration for p in parts) <= 0.2 + 1e-9


def test_units_before_a_keyframe_and_backwards_are_dropped() -> None:
    units = encode(40, 320, 180)
    seg = Segmenter(1.0, 0.2)
    assert run(seg, units[1:5]) == []  # no keyframe yet
    events = run(seg, [*units[30:38], units[31]])  # a repeated timestamp is dropped
    assert [e.index for e in events if isinstance(e, PartReady)] == [0]


async def test_playlist_blocking_conditions_and_render() -> None:
    units = encode(95, 320, 180)
    playlist = LivePlaylist(1.0, 0.2, 2)
    assert not playlist.ready
    waiter = asyncio.create_task(playlist.wait(lambda: playlist.has(2, 1), 10))
    for event in run(Segmenter(1.0, 0.2), units):
        playlist.publish(event)
    assert await waiter
    assert playlist.ready and playlist.next_msn == 7 and playlist.next_part == 15
    # Segment 6 has five parts: part 5 of it is part 0 of segment 7 (not there yet).
    assert playlist.has(6, 4) and not playlist.has(6, 5) and not playlist.has(7, 0)
    assert playlist.has(6, None) and not playlist.has(7, None)
    assert not await playlist.wait(lambda: playlist.has(7, 0), 0.05)
    text = playlist.render("?token=t")
    parsed = parse_playlist(text)
    assert [s.msn for s in parsed.segments] == [5, 6]  # list size 2
    assert "#EXT-X-MEDIA-SEQUENCE:5" in text and '#EXT-X-MAP:URI="i0.mp4?token=t"' in text
    assert parsed.hint == "p15.m4s?token=t"
    assert [p.uri for p in parsed.parts][-1] == "p14.m4s?token=t"
    playlist.close()
    assert not await playlist.wait(lambda: playlist.has(9, None), 10)
