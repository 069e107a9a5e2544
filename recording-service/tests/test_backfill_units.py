"""Backfill pieces on their own: range arithmetic, the persisted job store, the NTP and
RTCP helpers of the replay reader, and the planner's reading of announced segments."""

from __future__ import annotations

import asyncio
import itertools
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from argus_recording.backfill.budget import SharedBudget
from argus_recording.backfill.config import BackfillSettings
from argus_recording.backfill.jobs import JobStore, subtract
from argus_recording.backfill.manager import Backfill
from argus_recording.backfill.replay import ReplayUnit, clock, has_bye, ntp_ms
from argus_recording.backfill.segments import BackfillWriter
from argus_recording.cameras import CameraConfig
from argus_recording.layout import DirMaker
from argus_recording.params import split_annexb
from argus_recording.writer import ClosedSegment


def test_subtract_leaves_only_what_nothing_covers() -> None:
    assert subtract(0, 100, [], 1) == [(0, 100)]
    assert subtract(0, 100, [(-10, 20), (50, 60)], 1) == [(20, 50), (60, 100)]
    assert subtract(0, 100, [(0, 100)], 1) == []
    assert subtract(0, 100, [(10, 99)], 5) == [(0, 10)]  # the 1 ms tail is not worth it


def test_ntp_clock_and_bye() -> None:
    sec, frac = 2_208_988_800 + 1_796_493_296, (73 << 32) // 1000
    assert ntp_ms(sec, frac) == 1_796_493_296_073
    assert clock(1_796_493_296_073) == "20261205T175456.073Z"
    receiver_report = bytes([0x80, 201, 0, 1, 0, 0, 0, 1])
    bye = bytes([0x81, 203, 0, 1, 0, 0, 0, 1])
    assert not has_bye(receiver_report) and has_bye(receiver_report + bye)
    assert not has_bye(b"\x80")


def _segment(start: int, end: int, kind: str = "continuous") -> ClosedSegment:
    return ClosedSegment(camera_id=7, relpath=f"7/2026-12-05/10/{start}.mp4", start_ms=start,
                         end_ms=end, bytes=1, kind=kind, codec="h264", width=1, height=1,
                         has_audio=False)


def test_planner_makes_one_job_per_hole_and_persists_it(tmp_path: Path) -> None:
    state = tmp_path / "backfill"
    settings = BackfillSettings(min_gap_s=1.5)
    backfill = Backfill(settings, tmp_path, state, 60.0, False, lambda s: None, dict)
    backfill.jobs.load()
    backfill.observe(_segment(0, 60_000))
    backfill.observe(_segment(60_000, 120_000))  # a rollover: no hole
    backfill.observe(_segment(120_900, 180_000))  # 0.9 s: less than a gap
    backfill.observe(_segment(200_000, 260_000))  # the outage 180-200 s
    backfill.observe_open(7, 200_000)  # seen open before: the same hole, once
    backfill.observe(_segment(185_000, 195_000, kind="backfill"))  # changes no plan
    backfill.observe(_segment(300_000, 305_000, kind="event"))  # event clips: holes meant
    assert backfill.jobs.pending() == {7: [180_000, 200_000]}
    saved = json.loads((state / "7.json").read_text())
    assert saved["jobs"] == [[180_000, 200_000]] and saved["last_end"] == 260_000
    again = JobStore(state, durable=False)
    again.load()
    assert again.pending() == {7: [180_000, 200_000]}


def test_a_camera_taken_back_rereads_its_state_and_ranges_can_be_given_up(
    tmp_path: Path,
) -> None:
    mine, theirs = JobStore(tmp_path, durable=False), JobStore(tmp_path, durable=False)
    mine.load()
    theirs.load()
    theirs.update(7, lambda s: (s.jobs.append([1_000, 5_000]), True)[1])  # another recorder
    assert mine.pending() == {}
    mine.reload(7)
    assert mine.pending() == {7: [1_000, 5_000]}
    assert mine.drop_oldest(7) == [1_000, 5_000]
    assert mine.drop_oldest(7) is None
    theirs.reload(7)
    assert theirs.pending() == {}


def test_a_takeover_gap_becomes_a_job_on_the_new_holder(tmp_path: Path) -> None:
    """Recorder B started before recorder A recorded the camera; A stops (killed, or cut
    off and let go), B takes the camera: B's first segment after the hole plans it from
    A's last end, though B never re-read the file (its reconcile can announce first)."""
    state, settings = tmp_path / "backfill", BackfillSettings(min_gap_s=1.5)
    a = Backfill(settings, tmp_path, state, 60.0, False, lambda s: None, dict)
    b = Backfill(settings, tmp_path, state, 60.0, False, lambda s: None, dict)
    a.jobs.load()
    b.jobs.load()
    a.observe(_segment(0, 60_000))
    a.observe(_segment(60_000, 61_500))  # the last fragment before A stopped
    b.observe(_segment(80_000, 90_000))  # B's first segment: the takeover gap
    assert b.jobs.pending() == {7: [61_500, 80_000]}
    a.jobs.reload(7)
    assert a.jobs.pending() == {7: [61_500, 80_000]}


def test_a_camera_without_profile_g_keeps_every_gap(tmp_path: Path) -> None:
    """Gaps planned after the (cached) probe found no Profile G are dropped too, not left
    pending until the probe expires."""
    backfill = Backfill(BackfillSettings(min_gap_s=1.5), tmp_path, tmp_path / "backfill",
                        60.0, False, lambda s: None, dict)
    backfill.jobs.load()
    camera = CameraConfig.from_api({"id": 7, "stream_url": "rtsp://h/x"})
    backfill.observe(_segment(0, 60_000))
    backfill.observe(_segment(70_000, 80_000))
    assert asyncio.run(backfill._profile(camera)) is None
    assert backfill.jobs.pending() == {}
    backfill.observe(_segment(90_000, 100_000))
    assert backfill.jobs.pending() == {7: [80_000, 90_000]}
    assert asyncio.run(backfill._profile(camera)) is None  # the cached probe
    assert backfill.jobs.pending() == {}


def _units(frames: int, gop: int, walls: list[int]) -> list[ReplayUnit]:
    """H.264 units (AVCC, SPS/PPS in-band on keyframes) of a tiny clip at ``walls``."""
    ctx = av.CodecContext.create("libx264", "w")
    assert isinstance(ctx, av.video.codeccontext.VideoCodecContext)
    ctx.width, ctx.height, ctx.pix_fmt = 64, 64, "yuv420p"
    ctx.time_base = Fraction(1, 15)
    ctx.options = {"preset": "ultrafast", "tune": "zerolatency",
                   "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1"}
    packets = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(
            np.full((96, 64), i * 3 % 255, dtype=np.uint8), format="yuv420p")
        frame.pts = i
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    out = []
    for packet, wall in zip(packets, walls, strict=False):
        nals = split_annexb(bytes(packet))
        sps = next((n for n in nals if n[0] & 0x1F == 7), None)
        pps = next((n for n in nals if n[0] & 0x1F == 8), None)
        data = b"".join(len(n).to_bytes(4, "big") + n for n in nals)
        out.append(ReplayUnit(data, packet.is_keyframe, wall, sps, pps, 0))
    return out


def test_writer_keeps_exactly_the_range_and_segments_never_overlap(tmp_path: Path) -> None:
    # Capture times jitter (a loaded camera): the keyframe that starts the second segment
    # comes sooner than any interval inside the first.
    walls = [1_000_000 + i * 66 - (16 if i == 30 else 0) for i in range(60)]
    units = _units(60, 10, walls)
    closed: list[ClosedSegment] = []
    lo, hi = walls[7], walls[50] + 40  # mid-GOP start; the GOP at walls[50] is live again
    writer = BackfillWriter(root=tmp_path, dirs=DirMaker(tmp_path, False), camera_id=7,
                            lo_ms=lo, hi_ms=hi, segment_ms=1000, durable=False,
                            sprop=(None, None), on_closed=closed.append)
    for unit in units:
        if not writer.feed(unit):
            break
    writer.close()
    assert closed, "nothing written"
    # The frames from lo to the next keyframe are a bridge of their own (bridge.py), then
    # segments start at keyframes.
    assert closed[0].start_ms == lo and closed[1].start_ms == walls[10]
    assert closed[-1].end_ms <= walls[50]  # ends before the live keyframe near hi
    for a, b in itertools.pairwise(closed):
        assert a.end_ms <= b.start_ms, (a, b)
    assert all(s.kind == "backfill" for s in closed)


def test_backfills_share_one_recorder_wide_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECORDING_BACKFILL_TOTAL_MBPS", "0.008")  # 1000 bytes/s
    settings = BackfillSettings()
    assert settings.total_bytes_per_s == 1000
    one = Backfill(settings, tmp_path, tmp_path / "state", 5, False, lambda s: None, dict)
    budget = one.budget
    # Half a second's worth may be read at once; beyond it a reader pauses for the excess.
    assert budget.take(500, now=10.0) == 0.0
    assert budget.take(500, now=10.0) == 0.5
    # A second backfill reading at the same moment pays for the first one's bytes too.
    assert budget.take(250, now=10.0) == 0.75
    # Once the budget has caught up, reading is free again (up to the burst).
    assert budget.take(100, now=20.0) == 0.0
    assert SharedBudget(0).take(10**9) == 0.0  # TOTAL_MBPS=0: no recorder-wide bound
