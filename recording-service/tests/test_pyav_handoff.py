"""Make-before-break on the PyAV ingest (pyav_worker.py with handoff.py): the thread-per-
camera ingest of RTMP publishers and H.265 cameras, driven here on the simulator's H.264
stream (the simulator has no H.265; ``_start_thread`` is the ingest those cameras get).
Two workers of one camera, a giver and a standby taker, real files: the giver cuts at a
keyframe, the taker's files go on from there without a gap in time or in the burnt-in
frame stamps, in continuous mode and during an event."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from recstack import burnt_stamps, start_simulator, wait_until

from argus_recording.cameras import CameraConfig
from argus_recording.window import EventWindow
from argus_recording.worker import CameraWorker, WorkerSettings
from argus_recording.writer import ClosedSegment

pytestmark = pytest.mark.timeout(120)
FPS = 15
FRAME_MS = 1000 / FPS


@pytest.fixture(scope="module")
def rtsp_port() -> Iterator[int]:
    proc, rtsp, _control = start_simulator(
        1, "--resolution", "320x180", "--fps", str(FPS), "--gop", "1"
    )
    try:
        yield rtsp
    finally:
        proc.stop()


class Hooks:
    def __init__(self) -> None:
        self.segments: list[ClosedSegment] = []

    def segment_closed(self, segment: ClosedSegment) -> None:
        self.segments.append(segment)

    def stream_state(self, camera_id: int, up: bool, reason: str) -> None:
        pass


def _camera(rtsp: int, mode: str) -> CameraConfig:
    return CameraConfig.from_api(
        {"id": 31, "stream_url": f"rtsp://127.0.0.1:{rtsp}/cam1/main", "recording_mode": mode,
         "connect_timeout_s": 3.0, "read_timeout_s": 3.0}
    )


def _settings(root: Path, instance: str) -> WorkerSettings:
    return WorkerSettings(
        root=root, segment_s=3, pre_roll_s=2, event_max_s=60, backoff_s=(0.5, 1.0),
        probe_interval_s=0.5, max_clock_drift_ms=2000, durable=False, instance_id=instance,
    )


@pytest.mark.parametrize("mode", ["continuous", "events"])
def test_pyav_ingest_hands_over_at_a_keyframe(rtsp_port: int, tmp_path: Path, mode: str) -> None:
    camera = _camera(rtsp_port, mode)
    windows = EventWindow(1000, 60_000), EventWindow(1000, 60_000)
    now = time.time() * 1000
    if mode == "events":  # both recorders hear it (the event stream)
        for window in windows:
            window.apply("manual", "m1", now, now + 7000)
    g_hooks, t_hooks = Hooks(), Hooks()
    giver = CameraWorker(camera, _settings(tmp_path, "giver"), g_hooks, windows[0])
    taker = CameraWorker(
        camera, _settings(tmp_path, "taker"), t_hooks, windows[1], standby=True
    )
    giver._start_thread()  # the PyAV ingest (RTMP, H.265)
    try:
        wait_until(lambda: giver.up and giver.holds_lock, 20, 0.1, "the giver recording")
        assert giver.can_cut
        taker._start_thread()
        wait_until(lambda: taker.handover_ready, 20, 0.1, "the taker's standby ready")
        assert not taker.holds_lock and giver.holds_lock
        giver.cut()
        cut = wait_until(lambda: giver.cut_at()[0] and giver.cut_at(), 10, 0.05, "the cut")
        t_ms = cut[1]
        assert t_ms is not None
        taker.go(t_ms)
        giver.stop()
        giver.join(20)
        assert not giver.is_alive()
        wait_until(lambda: taker.holds_lock and taker.up, 20, 0.1, "the taker writing")
        if mode == "events":
            wait_until(lambda: t_hooks.segments, 30, 0.2, "the taker's part of the clip")
        else:
            time.sleep(2.0)  # some seconds of the taker's recording (no event to await)
    finally:
        for worker in (giver, taker):
            worker.stop()
            worker.join(20)
    before, after = g_hooks.segments[-1], t_hooks.segments[0]
    assert before.kind == after.kind == ("event" if mode == "events" else "continuous")
    assert abs(before.end_ms - t_ms) <= 1 and abs(after.start_ms - before.end_ms) <= 1
    _n, _first, last = burnt_stamps(tmp_path / before.relpath)
    count, first, _last = burnt_stamps(tmp_path / after.relpath)
    assert count and first is not None and last is not None
    step = first - last
    assert abs(step - FRAME_MS) < FRAME_MS / 2, step
    if mode == "events":  # the clip goes on to the event's end + post-roll
        assert after.end_ms >= now + 8000 - 2 * FRAME_MS
    print(f"pyav {mode} handover: seam {after.start_ms - before.end_ms} ms, frame step {step} ms")
