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
from argus_recording.modes import ContinuousRecorder, EventRecorder
from argus_recording.packets import Item
from argus_recording.window import EventWindow

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


# -- events mode: the pre-roll and an open clip are handed over too -------------------------
PRE_MS, POST_MS = 3000.0, 2000.0


def ts(n: int) -> float:
    """The time an event reports for frame ``n`` (the camera's own clock)."""
    return BASE_MS + n * FRAME_MS


def windows(*events: tuple[str, str, int]) -> tuple[EventWindow, EventWindow]:
    """The giver's and the taker's windows: both hear the same events (the bus)."""
    pair = EventWindow(POST_MS, 60_000), EventWindow(POST_MS, 60_000)
    for window in pair:
        for kind, key, n in events:
            window.apply(kind, key, ts(n), None)
    return pair


def event_pair(
    tmp_path: Path, camera_id: int, g_window: EventWindow, t_window: EventWindow
) -> tuple[Any, ...]:
    g_lock, t_lock = CameraLock(tmp_path, camera_id, "giver"), CameraLock(tmp_path, camera_id, "taker")
    assert g_lock.try_acquire()
    g_clock, t_clock = MediaClock(2000), MediaClock(2000)
    g_ctx, t_ctx = Ctx(g_clock), Ctx(t_clock)
    g_rec = EventRecorder(g_ctx, g_window, PRE_MS, 60_000)
    t_rec = EventRecorder(t_ctx, t_window, PRE_MS, 60_000)
    giver = Handoff(g_lock, standby=False)
    taker = Handoff(t_lock, standby=True, pre_roll_ms=PRE_MS)
    taker.new_session()
    return g_lock, t_lock, g_clock, t_clock, g_ctx, t_ctx, g_rec, t_rec, giver, taker


def test_events_handover_between_events_keeps_the_pre_roll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No clip open: the giver stops at once; an event soon after the handover still
    starts a pre-roll before it, from the taker's standby buffer, and the clip of the
    event before the handover (the giver's) is not written again."""
    monkeypatch.setattr(handoff_module, "_LOCK_TRY_S", 0.0)
    g_window, t_window = windows(("motion.start", "e1", 10), ("motion.end", "e1", 30))
    g_lock, t_lock, g_clock, t_clock, g_ctx, t_ctx, g_rec, t_rec, giver, taker = event_pair(
        tmp_path, 9, g_window, t_window
    )
    cut_ms: float | None = None
    for n in range(0, 260):
        if n == 140:
            giver.ask_cut()
        if n == 145:
            cut_ms = giver.cut_ms
            assert giver.cut_done and cut_ms is not None
            taker.go(cut_ms)
            g_lock.release()
        if n == 180:  # an event 2.3 s after the handover (heard by the taker only now)
            t_window.apply("motion.start", "e2", ts(180), None)
        if n == 210:
            t_window.apply("motion.end", "e2", ts(210), None)
        if n < 150:
            giver.feed(frame(n, g_clock, 3.0), g_rec, g_clock)
        if n >= 62:
            assert taker.feed(frame(n, t_clock, 20.0), t_rec, t_clock)
        if n in (76, 106):
            assert not taker.ready  # a keyframe, but not yet a pre-roll behind it
        if n == 136:
            assert taker.ready and taker.standby
    t_rec.stop()
    assert not taker.standby and t_lock.held
    # The giver's clip of e1: from the keyframe a pre-roll before it to e1's end + post-roll.
    (g_clip,) = g_ctx.segments
    assert g_clip.frames[0] == 0 and g_clip.frames[-1] == 59
    # It stopped at once (frame 141, no keyframe needed) and published its clip's end.
    assert cut_ms == g_clip.end_ms == pytest.approx(BASE_MS + 60 * FRAME_MS + 3)
    # The taker's only clip is e2's, with the whole pre-roll: from the keyframe at or before
    # 3 s (45 frames) ahead of it (frame 120: frame 135 arrives 20 ms after it is due),
    # which it had buffered before it took over.
    (t_clip,) = t_ctx.segments
    assert t_clip.frames[0] == 120
    assert t_clip.start_wall <= ts(180) - PRE_MS
    assert t_clip.frames == list(range(120, 240))  # to e2's end + post-roll
    t_lock.release()


def test_events_handover_during_an_event_continues_the_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip open: the giver cuts it at a keyframe, the taker continues it from its copy
    of that keyframe in the giver's time, to the window's end: no gap, no overlap."""
    monkeypatch.setattr(handoff_module, "_LOCK_TRY_S", 0.0)
    g_window, t_window = windows(("motion.start", "e1", 60))
    g_lock, t_lock, g_clock, t_clock, g_ctx, t_ctx, g_rec, t_rec, giver, taker = event_pair(
        tmp_path, 10, g_window, t_window
    )
    cut_ms: float | None = None
    for n in range(0, 220):
        if n == 100:
            giver.ask_cut()
        if n == 110:
            cut_ms = giver.cut_ms
            assert giver.cut_done and cut_ms is not None
            taker.go(cut_ms)
        if n == 112:
            g_lock.release()
        if n == 150:  # the end is heard after the handover: only the taker's window matters
            for window in (g_window, t_window):
                window.apply("motion.end", "e1", ts(150), None)
        if n < 120:
            giver.feed(frame(n, g_clock, 3.0), g_rec, g_clock)
        if n >= 30:
            assert taker.feed(frame(n, t_clock, 20.0), t_rec, t_clock)
        if n == 46:
            assert not taker.ready  # a keyframe, no pre-roll behind it, no event open yet
        if n == 61:
            assert taker.ready and taker.standby  # e1 is open: no pre-roll needed
    t_rec.stop()
    (g_clip,) = g_ctx.segments
    (t_clip,) = t_ctx.segments
    # The giver's clip: the keyframe at or before a pre-roll ahead of e1 (frame 0: it
    # arrives 3 ms after frame 15 is due) to the cut keyframe after frame 100.
    assert g_clip.frames == list(range(0, 105))
    assert g_clip.end_ms == cut_ms == pytest.approx(BASE_MS + 105 * FRAME_MS + 3)
    # The taker's starts exactly there with frame 105 and runs to e1's end + post-roll.
    assert t_clip.start_wall == cut_ms
    assert t_clip.frames == list(range(105, 180))
    assert t_clip.end_ms == pytest.approx(BASE_MS + 180 * FRAME_MS + 3)  # the giver's time
    t_lock.release()


def test_events_taker_told_no_t_writes_nothing_the_giver_recorded(tmp_path: Path) -> None:
    """``go(None)`` (the giver died or never cut): no clip of an event that had ended
    before, and an event open now starts at the next keyframe (a gap, never an overlap)."""
    lock = CameraLock(tmp_path, 11, "taker")
    window = EventWindow(POST_MS, 60_000)
    window.apply("motion.start", "old", ts(10), ts(20))  # ended at frame 50 (post-roll)
    clock = MediaClock(2000)
    ctx = Ctx(clock)
    recorder = EventRecorder(ctx, window, PRE_MS, 60_000)
    taker = Handoff(lock, standby=True, pre_roll_ms=PRE_MS)
    for n in range(0, 100):
        taker.feed(frame(n, clock, 5.0), recorder, clock)
    taker.go(None)
    for n in range(100, 130):
        taker.feed(frame(n, clock, 5.0), recorder, clock)
    assert ctx.segments == []
    window.apply("motion.start", "open", ts(110), None)  # heard late: open already
    taker2 = Handoff(CameraLock(tmp_path, 12, "taker"), standby=True, pre_roll_ms=PRE_MS)
    recorder2 = EventRecorder(Ctx(MediaClock(2000)), window, PRE_MS, 60_000)
    clock2 = recorder2.ctx.clock
    for n in range(60, 131):
        taker2.feed(frame(n, clock2, 5.0), recorder2, clock2)
    taker2.go(None)
    for n in range(131, 160):
        taker2.feed(frame(n, clock2, 5.0), recorder2, clock2)
    recorder2.stop()
    assert [s.frames[0] for s in recorder2.ctx.segments] == [135]  # type: ignore[attr-defined]
    lock.release()
    taker2.lock.release()


def test_events_taker_writes_nothing_before_the_givers_last_clip_end(tmp_path: Path) -> None:
    """Idle handover: the taker's buffer reaches into the giver's last clip (e1 to frame
    50); told that clip's end, it keeps it as pre-roll only and writes from there on."""
    lock = CameraLock(tmp_path, 13, "taker")
    window = EventWindow(POST_MS, 60_000)
    window.apply("motion.start", "e1", ts(10), ts(20))  # recorded by the giver to frame 50
    clock = MediaClock(2000)
    ctx = Ctx(clock)
    recorder = EventRecorder(ctx, window, PRE_MS, 60_000)
    taker = Handoff(lock, standby=True, pre_roll_ms=PRE_MS)
    for n in range(0, 70):
        taker.feed(frame(n, clock, 5.0), recorder, clock)
    taker.go(ts(50) + 3)  # the giver's clip end, in its time
    window.apply("motion.start", "e2", ts(72), ts(72))  # right after: pre-roll from 27
    for n in range(70, 120):
        taker.feed(frame(n, clock, 5.0), recorder, clock)
    recorder.stop()
    # Not e1 again, and e2's pre-roll begins where the giver's clip ended (a keyframe at 60;
    # frame 45 would go back into e1's clip).
    assert [(s.frames[0], s.frames[-1]) for s in ctx.segments] == [(60, 101)]
    lock.release()


def audio(wall_ms: float) -> Item:
    """An audio packet stamped ``wall_ms`` (written frames record it as -1)."""
    return Item(packet=None, stream_index=1, is_video=False, key=True, pts=-1, dts=-1,
                tb=1 / 48000, size=10, wall_ms=wall_ms, recv_ms=wall_ms, params=PARAMS)


def test_events_an_event_between_packets_out_of_time_order_keeps_its_pre_roll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Packets come in arrival order, not time order: here each video frame is followed by
    audio stamped 120 ms after it (a camera that sends its video late, as the simulator
    does on a loaded machine). An event starting between the audio and the next video
    frame opened a clip on the audio and closed it on that frame (stamped before the
    event); the next clip began at a keyframe after that, without the pre-roll. Seen in
    test_recording_e2e after an idle handover: the event clip began 427 ms after the
    event, the pre-roll and the event's first 0.6 s in a clip of their own before it."""
    monkeypatch.setattr(handoff_module, "_LOCK_TRY_S", 0.0)
    lock = CameraLock(tmp_path, 14, "taker")
    window = EventWindow(POST_MS, 60_000)
    clock = MediaClock(2000)
    ctx = Ctx(clock)
    recorder = EventRecorder(ctx, window, PRE_MS, 60_000)
    taker = Handoff(lock, standby=True, pre_roll_ms=PRE_MS)
    taker.new_session()
    start = ts(130) + 30  # after frame 129's audio (ts(130) + 58), before frame 130
    for n in range(0, 220):
        if n == 100:
            taker.go(ts(5) + 3)  # idle handover: the giver's media began at frame 5
        if n == 129:
            window.apply("manual", "m", start, start + 2000)
        video = frame(n, clock, 5.0)
        taker.feed(video, recorder, clock)
        taker.feed(audio(video.wall_ms + 120), recorder, clock)
    recorder.stop()
    assert not taker.standby
    # One clip, from the keyframe a pre-roll before the event (frame 75) to its end +
    # post-roll; the old code made two: 75 to 129 and 135 on.
    (clip,) = ctx.segments
    frames = [f for f in clip.frames if f >= 0]
    assert clip.start_wall <= start - PRE_MS and frames[0] == 75
    assert frames == list(range(75, frames[-1] + 1)) and frames[-1] >= 188
    lock.release()
