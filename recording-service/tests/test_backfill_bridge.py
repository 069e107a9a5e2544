"""The leading edge of a backfill, frame by frame: the live recording stopped inside a GOP;
the replay starts at that GOP's keyframe; the backfill's bridge segment (the frames from
the gap's start to the next keyframe, encoded again) and the copied segments after it
hold exactly the frames the live recording missed: none twice, none lost.

The frames carry the camera simulator's burnt-in stamp (their capture time), encoded by
libx264 as the simulator does; the writer gets them as the replay reader hands them over.
The live index is stamped on arrival, ``ARRIVAL_MS`` after capture.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from argus_camsim.stamp import draw_stamp, read_timestamp_ms, stamp_layout
from argus_recording.backfill.replay import ReplayUnit
from argus_recording.backfill.segments import BackfillWriter
from argus_recording.layout import DirMaker
from argus_recording.params import split_annexb
from argus_recording.writer import ClosedSegment

FPS, GOP, W, H = 15, 15, 320, 180
T0 = 1_796_000_000_000
WALLS = [T0 + round(i * 1000 / FPS) for i in range(75)]
FRAME_MS = 1000 / FPS


def _camera_units(bframes: int = 0) -> list[ReplayUnit]:
    """The camera's recording: stamped frames, SPS/PPS before every IDR (AVCC units)."""
    ctx = av.CodecContext.create("libx264", "w")
    assert isinstance(ctx, av.video.codeccontext.VideoCodecContext)
    ctx.width, ctx.height, ctx.pix_fmt = W, H, "yuv420p"
    ctx.time_base = Fraction(1, 1000)
    ctx.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:repeat-headers=1"
        f":bframes={bframes}",
    }
    layout = stamp_layout(W, H)
    rng = np.random.default_rng(7)
    packets = []
    for wall in WALLS:
        yuv = rng.integers(60, 200, (H * 3 // 2, W), dtype=np.uint8)
        draw_stamp(yuv[:H], wall, layout)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = wall - T0
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    assert len(packets) == len(WALLS)
    units = []
    for packet in packets:  # decode order; each unit's capture time is its own pts
        nals = split_annexb(bytes(packet))
        units.append(
            ReplayUnit(
                b"".join(len(n).to_bytes(4, "big") + n for n in nals),
                packet.is_keyframe,
                T0 + int(packet.pts or 0),
                next((n for n in nals if n[0] & 0x1F == 7), None),
                next((n for n in nals if n[0] & 0x1F == 8), None),
                0,
            )
        )
    return units


def _stamps(path: Path) -> list[int]:
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            stamp = read_timestamp_ms(frame.to_ndarray(format="gray"), frame.width, frame.height)
            assert stamp is not None, path
            out.append(stamp)
    return out


def _backfill(
    tmp_path: Path,
    lo: int,
    hi: int,
    bframes: int = 0,
    live_until: int | None = None,
    live_from: int | None = None,
    late_ms: int = 0,
) -> list[ClosedSegment]:
    units = _camera_units(bframes)
    if live_from is not None:
        units[live_from].wall_ms += late_ms  # captured late (the camera's frame jitter)
    # The live segment's file ends with the samples of its last GOP (the same bytes: the
    # camera records what it streams).
    tail = b"".join(u.data for u in units[: live_until + 1]) if live_until is not None else b""
    closed: list[ClosedSegment] = []
    writer = BackfillWriter(
        root=tmp_path,
        dirs=DirMaker(tmp_path, False),
        camera_id=7,
        lo_ms=lo,
        hi_ms=hi,
        segment_ms=2000,
        durable=False,
        sprop=(None, None),
        on_closed=closed.append,
        live_tail=tail,
        live_head=b"".join(u.data for u in units[live_from:]) if live_from is not None else b"",
    )
    # The replay starts at the keyframe at or before lo.
    first = max(i for i, u in enumerate(units) if u.key and u.wall_ms <= lo)
    for unit in units[first:]:
        if not writer.feed(unit):
            break
    writer.close()
    assert closed and all(s.kind == "backfill" for s in closed)
    return closed


@pytest.mark.parametrize(
    ("last_live", "arrival_ms"), [(20, 12), (16, 0), (28, 10), (29, 30), (14, 5)]
)
def test_the_leading_edge_is_filled_frame_by_frame(
    tmp_path: Path, last_live: int, arrival_ms: int
) -> None:
    # The live segment's index ends one frame after its last frame (stamped on arrival);
    # the live recording resumes with the keyframe at 60 (also stamped on arrival).
    lo = WALLS[last_live] + arrival_ms + round(FRAME_MS)
    hi = WALLS[60] + arrival_ms
    closed = _backfill(tmp_path, lo, hi)
    # Index: the first backfilled segment starts where the live one ends (within a frame,
    # never before it), each next one where the previous ends, the last one before the live
    # keyframe that resumes the recording.
    assert lo <= closed[0].start_ms <= lo + FRAME_MS, (lo, closed[0])
    for a, b in itertools.pairwise(closed):
        assert a.end_ms == b.start_ms, (a, b)
    assert hi - FRAME_MS <= closed[-1].end_ms <= hi
    # Frames: exactly those after the last live one up to the keyframe at 60, in order.
    stamps = [s for seg in closed for s in _stamps(tmp_path / seg.relpath)]
    assert stamps == WALLS[last_live + 1 : 60]
    # Each segment's first frame is its start; its last frame ends at its end.
    for seg in closed:
        seg_stamps = _stamps(tmp_path / seg.relpath)
        assert abs(seg_stamps[0] - seg.start_ms) <= FRAME_MS / 2, seg
        assert abs(seg_stamps[-1] + FRAME_MS - seg.end_ms) <= FRAME_MS / 2 + 1, seg


def test_a_gap_that_starts_at_a_keyframe_needs_no_bridge(tmp_path: Path) -> None:
    lo = WALLS[30]  # a resumed backfill: the previous segment ended where this GOP starts
    closed = _backfill(tmp_path, lo, WALLS[60] + 10)
    assert closed[0].start_ms == lo
    stamps = [s for seg in closed for s in _stamps(tmp_path / seg.relpath)]
    assert stamps == WALLS[30:60]


def test_a_gap_inside_one_gop(tmp_path: Path) -> None:
    """Outage shorter than the GOP's rest: the bridge alone fills it, up to the range."""
    lo, hi = WALLS[17] + 8 + round(FRAME_MS), WALLS[25] + 8
    closed = _backfill(tmp_path, lo, hi)
    assert len(closed) == 1
    assert _stamps(tmp_path / closed[0].relpath) == WALLS[18:25]
    assert lo <= closed[0].start_ms and closed[0].end_ms <= hi


def test_b_frames_keep_their_capture_order(tmp_path: Path) -> None:
    lo = WALLS[20] + 10 + round(FRAME_MS)
    closed = _backfill(tmp_path, lo, WALLS[60] + 10, bframes=2)
    stamps = [s for seg in closed for s in _stamps(tmp_path / seg.relpath)]
    assert stamps[: 30 - 21] == WALLS[21:30]  # the bridge, in capture order


@pytest.mark.parametrize(("last_live", "arrival_ms"), [(20, 45), (22, 60), (16, 0)])
def test_frames_the_live_segment_holds_are_found_by_their_bytes(
    tmp_path: Path, last_live: int, arrival_ms: int
) -> None:
    """Arrival more than half a frame after capture: the frame after the last live one was
    captured more than half a frame before the live segment's end; found in the live
    segment's tail, it is still the first one the backfill holds."""
    lo = WALLS[last_live] + arrival_ms + round(FRAME_MS)
    hi = WALLS[60] + arrival_ms
    closed = _backfill(tmp_path, lo, hi, live_until=last_live)
    assert closed[0].start_ms == lo
    for a, b in itertools.pairwise(closed):
        assert a.end_ms == b.start_ms, (a, b)
    stamps = [s for seg in closed for s in _stamps(tmp_path / seg.relpath)]
    assert stamps == WALLS[last_live + 1 : 60]


def test_the_live_keyframe_after_a_late_resume_ends_the_range(tmp_path: Path) -> None:
    """The live recording resumed with the keyframe at 45, stamped 400 ms after its capture
    (more than the cut tolerance): found in the live segment's head, that keyframe ends
    the backfill (no frame twice), though its capture time is well before the range's end."""
    lo = WALLS[20] + 10 + round(FRAME_MS)
    hi = WALLS[45] + 400
    closed = _backfill(tmp_path, lo, hi, live_until=20, live_from=45)
    stamps = [s for seg in closed for s in _stamps(tmp_path / seg.relpath)]
    assert stamps == WALLS[21:45]
    assert closed[-1].end_ms == WALLS[45]


def test_the_last_frame_lasts_until_the_live_keyframe_however_late_it_was_captured(
    tmp_path: Path,
) -> None:
    """The camera captured the keyframe the live recording resumed with 60 ms late (frame
    intervals jitter), and the live index starts at its capture time (sender reports): the
    backfill ends there, not a frame after its last frame, so no hole is left."""
    lo = WALLS[20] + 10 + round(FRAME_MS)
    hi = WALLS[45] + 60
    closed = _backfill(tmp_path, lo, hi, live_until=20, live_from=45, late_ms=60)
    stamps = [s for seg in closed for s in _stamps(tmp_path / seg.relpath)]
    assert stamps == WALLS[21:45]
    assert closed[-1].end_ms == hi
