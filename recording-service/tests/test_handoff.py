"""The worker side of a make-before-break handover (handoff.py), with the real segmenter
(``ContinuousRecorder``), media clocks and writer locks, and a stand-in for the segment
files: the giver ends at a keyframe, the taker's first segment starts exactly there and
its later frames carry the giver's times, though the two recorders' clocks were anchored
17 ms apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from argus_recording import handoff as handoff_module
from argus_recording.clock import MediaClock
from argus_recording.fencing import CameraLock
from argus_recording.handoff import Handoff
from argus_recording.modes import ContinuousRecorder
from argus_recording.packets import Item

FRAME_MS = 1000 / 15
GOP = 15  # a keyframe a second
BASE_MS = 1_760_000_000_000.0
PARAMS: Any = object()  # one set of video parameters for every frame


@dataclass
class Seg:
    start_wall: float
    params: Any
    frames: list[int] = field(default_factory=list)
    end_ms: float | None = None

    def write(self, item: Item) -> bool:
        self.frames.append(item.pts // 6000)
        return True

    def video_end_ms(self) -> float:
        return self.start_wall + len(self.frames) * FRAME_MS


@dataclass
class Ctx:
    clock: MediaClock
    segments: list[Seg] = field(default_factory=list)

    def open(self, first: Item, kind: str) -> Seg:
        self.segments.append(Seg(first.wall_ms, first.params))
        return self.segments[-1]

    def finish(self, writer: Seg, end_ms: float) -> None:
        writer.end_ms = end_ms


def frame(n: int, clock: MediaClock, late_ms: float) -> Item:
    """Frame ``n`` as one recorder stamps it (received ``late_ms`` after it was sent)."""
    media_s = n * FRAME_MS / 1000
    recv = BASE_MS + n * FRAME_MS + late_ms
    return Item(
        packet=None,
        stream_index=0,
        is_video=True,
        key=n % GOP == 0,
        pts=n * 6000,
        dts=n * 6000,
        tb=1 / 90000,
        size=100,
        wall_ms=clock.observe(media_s, recv),
        recv_ms=recv,
        params=PARAMS,
    )


def test_taker_starts_at_the_givers_cut_keyframe_aligned(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(handoff_module, "_LOCK_TRY_S", 0.0)
    g_lock, t_lock = CameraLock(tmp_path, 7, "giver"), CameraLock(tmp_path, 7, "taker")
    assert g_lock.try_acquire()
    g_clock, t_clock = MediaClock(2000), MediaClock(2000)
    g_ctx, t_ctx = Ctx(g_clock), Ctx(t_clock)
    g_rec, t_rec = ContinuousRecorder(g_ctx, 2000), ContinuousRecorder(t_ctx, 2000)
    giver, taker = Handoff(g_lock, standby=False), Handoff(t_lock, standby=True)
    taker.new_session()
    cut_ms: float | None = None
    for n in range(0, 120):
        if n == 40:
            giver.ask_cut()
        if n == 47:
            cut_ms = giver.cut_ms
            assert giver.cut_done and cut_ms is not None
            taker.go(cut_ms)  # the lock is still the giver's: the taker keeps buffering
        if n == 52:
            g_lock.release()  # the giver's worker has finished its segment and exited
        if n < 60:
            giver.feed(frame(n, g_clock, 3.0), g_rec, g_clock)
        if n >= 20:
            assert taker.feed(frame(n, t_clock, 20.0), t_rec, t_clock)
        if n == 29:
            assert not taker.ready  # no keyframe yet
        if n == 31:
            assert taker.ready and taker.standby
    t_rec.stop()
    assert not taker.standby and t_lock.held
    # The giver's recording ends at the keyframe after the cut was asked (frame 45).
    assert g_ctx.segments[-1].end_ms == cut_ms == pytest.approx(BASE_MS + 45 * FRAME_MS + 3)
    assert g_ctx.segments[-1].frames[-1] == 44
    # The taker's starts there, from its buffered copy of frame 45, with the giver's time.
    first = t_ctx.segments[0]
    assert first.start_wall == cut_ms and first.frames[0] == 45
    assert all(
        s.frames == list(range(s.frames[0], s.frames[0] + len(s.frames))) for s in t_ctx.segments
    )
    # Later segments follow on, in the giver's time (its clock was shifted by -17 ms).
    for before, after in zip(t_ctx.segments, t_ctx.segments[1:], strict=False):
        assert before.end_ms == after.start_wall
    assert t_ctx.segments[1].start_wall == pytest.approx(BASE_MS + 75 * FRAME_MS + 3)
    t_lock.release()


def test_taker_without_the_cut_keyframe_starts_at_the_next_one(tmp_path: Path) -> None:
    lock = CameraLock(tmp_path, 8, "taker")
    clock = MediaClock(2000)
    ctx = Ctx(clock)
    recorder = ContinuousRecorder(ctx, 2000)
    taker = Handoff(lock, standby=True)
    for n in range(50, 58):
        taker.feed(frame(n, clock, 5.0), recorder, clock)
    taker.go(BASE_MS + 45 * FRAME_MS)  # before anything it holds (it reconnected)
    for n in range(58, 70):
        taker.feed(frame(n, clock, 5.0), recorder, clock)
    recorder.stop()
    # Frame 60 is the first keyframe it has after t: a gap, never an overlap.
    assert ctx.segments[0].frames[0] == 60
    assert ctx.segments[0].start_wall == pytest.approx(BASE_MS + 60 * FRAME_MS + 5)
    lock.release()
