"""Units: Y-plane extraction and downscale, device selection, settings, the wall clock,
which results are stored, and the shared media helpers."""

from __future__ import annotations

from typing import Any

import av
import numpy as np
import pytest

from argus_analysis.cameras import CameraConfig, MotionSettings
from argus_analysis.clock import WallClock
from argus_analysis.config import OVERLAY_MASK, Settings
from argus_analysis.detect import cuda
from argus_analysis.detect.base import DetectorConfig, MotionResult
from argus_analysis.detect.cpu import FrameDiffDetector, Mog2Detector
from argus_analysis.detect.debounce import Transition
from argus_analysis.detect.select import DeviceUnavailable, choose_device, create_detector
from argus_analysis.frames import analysed_size, downscale, luma_view, plane_rows, scale_factor
from argus_analysis.pipeline import AnalysisParams, Analyzer, FrameAnalysis
from argus_analysis.results import RowPicker
from argus_common.media import demuxer_options, with_userinfo
from argus_common.retry import Backoff, parse_backoff


def frame_with_luma(y: np.ndarray, fmt: str = "yuv420p") -> av.VideoFrame:
    """A frame whose luma is ``y``, written row by row into the padded plane."""
    height, width = y.shape
    frame = av.VideoFrame(width, height, fmt)
    plane = frame.planes[0]
    padded = np.zeros((height, plane.line_size), dtype=np.uint8)
    padded[:, :width] = y
    plane.update(padded.tobytes()[: plane.buffer_size])
    return frame


def test_luma_view_honours_the_line_stride() -> None:
    y = np.arange(190 * 330, dtype=np.uint32).reshape(190, 330).astype(np.uint8)
    frame = frame_with_luma(y)
    assert frame.planes[0].line_size > 330  # the plane is padded: the stride matters
    view = luma_view(frame)
    assert view.shape == (190, 330)
    assert np.array_equal(view, y)


def test_luma_view_nv12_and_ten_bit() -> None:
    y = np.random.default_rng(1).integers(16, 235, (120, 160), dtype=np.uint8)
    assert np.array_equal(luma_view(frame_with_luma(y, "nv12")), y)
    ten = av.VideoFrame(160, 120, "yuv420p10le")
    plane = ten.planes[0]
    words = np.zeros((120, plane.line_size // 2), dtype=np.uint16)
    words[:, :160] = y.astype(np.uint16) << 2
    plane.update(words.tobytes()[: plane.buffer_size])
    assert np.array_equal(luma_view(ten), y)


def test_plane_rows_accepts_an_unpadded_last_row_and_refuses_short_planes() -> None:
    buf = np.arange(3 * 8 + 5, dtype=np.uint8)  # rows 8 apart, last row 5 wide
    rows = plane_rows(buf, 8, 5, 4)
    assert rows.shape == (4, 5) and rows[3, 4] == buf[-1]
    with pytest.raises(ValueError):
        plane_rows(buf[:20], 8, 5, 4)


@pytest.mark.parametrize(("width", "height", "factor", "size"), [
    (1920, 1080, 3, (640, 360)), (1280, 720, 2, (640, 360)), (640, 360, 1, (640, 360)),
    (320, 180, 1, (320, 180)), (1000, 563, 2, (500, 282)), (2560, 1440, 4, (640, 360)),
])
def test_downscale_by_an_integer_factor(
    width: int, height: int, factor: int, size: tuple[int, int]
) -> None:
    assert scale_factor(width, 640) == factor
    assert analysed_size(width, height, 640) == size
    gray = np.random.default_rng(2).integers(0, 255, (height, width), dtype=np.uint8)
    for method in ("stride", "area"):
        small = downscale(gray, 640, method)  # type: ignore[arg-type]
        assert small.shape == (size[1], size[0]) and small.flags.c_contiguous
    assert np.array_equal(downscale(gray, 640, "stride"), gray[::factor, ::factor])


def test_area_downscale_averages_blocks() -> None:
    gray = np.zeros((1080, 1920), dtype=np.uint8)
    gray[::2, ::2] = 255  # a fine checkerboard-like pattern stride sampling would alias
    area = downscale(gray, 640, "area")
    assert 50 < float(area.mean()) < 80  # about a quarter of 255


def test_choose_device() -> None:
    none: Any = lambda: (None, "no GPU")  # noqa: E731
    cupy: Any = lambda: ("cupy", "CuPy sees a CUDA device")  # noqa: E731
    ocv: Any = lambda: ("opencv", "OpenCV CUDA")  # noqa: E731
    assert choose_device("cpu", cupy).device == "cpu"
    auto = choose_device("auto", none)
    assert (auto.device, auto.backend) == ("cpu", "opencv") and "no GPU" in auto.reason
    assert choose_device("auto", cupy).backend == "cupy"
    assert choose_device("cuda", ocv).backend == "opencv-cuda"
    with pytest.raises(DeviceUnavailable, match="no GPU"):
        choose_device("cuda", none)


def test_detector_factory_follows_the_choice_and_the_algorithm() -> None:
    cpu = choose_device("cpu")
    assert isinstance(create_detector(cpu, DetectorConfig(), 64, 36), FrameDiffDetector)
    mog = DetectorConfig(algorithm="mog2")
    gpu = choose_device("auto", lambda: ("cupy", "test"))
    assert isinstance(create_detector(gpu, mog, 64, 36), Mog2Detector)  # MOG2: CPU only


def test_cuda_import_guard_without_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine has no GPU: auto falls back to the CPU and says why."""
    def broken(name: str) -> Any:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(cuda.importlib, "import_module", broken)
    assert cuda.load_cupy() is None
    backend, reason = cuda.cuda_backend()
    assert backend is None and "CuPy is not installed" in reason
    assert choose_device("auto").device == "cpu"
    with pytest.raises(RuntimeError):
        cuda.CupyFrameDiffDetector(DetectorConfig(), 64, 36)


def test_motion_settings_and_default_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MotionSettings.parse({"sensitivity": 500}) == MotionSettings()  # invalid: defaults
    plain = MotionSettings.parse({"enabled": True, "sensitivity": 70})
    config = plain.detector_config("diff", 0.2, [OVERLAY_MASK])
    assert config.sensitivity == 70 and len(config.masks) == 1  # the overlay mask
    own = MotionSettings.parse({"masks": [[[0, 0], [1, 0], [1, 1]]]})
    assert own.detector_config("diff", 0.2, [OVERLAY_MASK]).masks == (
        ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)),
    )
    assert Settings().default_masks == [OVERLAY_MASK]
    monkeypatch.setenv("ANALYSIS_DEFAULT_MASKS", "[]")
    assert Settings().default_masks == []


def test_camera_config_prefers_the_sub_stream_and_hides_the_password() -> None:
    camera = CameraConfig.from_api({
        "id": 3, "name": "c", "stream_url": "rtsp://h/main", "sub_stream_url": "rtsp://h/sub",
        "username": "u", "password": "p@ss:/", "analysis": {"enabled": True},
    })
    assert camera.wants_analysis
    assert camera.analysed_url() == "rtsp://h/sub"
    assert camera.analysed_url(prefer_sub=False) == "rtsp://h/main"
    assert camera.source_url() == "rtsp://u:p%40ss%3A%2F@h/sub"
    assert "p@ss" not in repr(camera)


def test_shared_media_helpers() -> None:
    assert with_userinfo("rtsp://old@h:554/x", "a b", None) == "rtsp://a%20b@h:554/x"
    assert with_userinfo("rtsp://h/x", None, "p") == "rtsp://h/x"
    assert demuxer_options("rtsp://h/x", 2.0)["rtsp_transport"] == "tcp"
    assert demuxer_options("udp://239.0.0.1:1234", 1.0) == {"timeout": "1000000"}
    assert "rw_timeout" in demuxer_options("http://h/live.ts", 1.0)
    assert demuxer_options("/tmp/clip.mp4", 1.0) == {}
    steps = parse_backoff("1,2,5")
    assert [Backoff(steps=steps).delay(i) for i in range(5)] == [1, 2, 5, 5, 5]
    with pytest.raises(ValueError):
        parse_backoff("0")


def test_wall_clock_anchors_on_the_least_delayed_packet() -> None:
    clock = WallClock(window_s=10.0)
    assert clock.observe(0.0, 1000.2) == pytest.approx(1000.2)
    assert clock.observe(0.1, 1000.25) == pytest.approx(1000.25)  # less delayed: re-anchored
    assert clock.anchor == pytest.approx(1000.15)
    assert clock.observe(0.2, 1000.9) == pytest.approx(1000.35)  # a late packet: anchor kept
    # A camera clock slower than ours: the anchor follows once the window rolls over.
    for i in range(30):
        clock.observe(1.0 + i, 1001.2 + i * 1.01)
    assert clock.wall(30.0) > 1030.2
    assert clock.observe(0.5, 1040.0) == pytest.approx(1040.0)  # timestamps restarted


def analysis(wall: float, motion: bool, transition: Transition | None = None) -> FrameAnalysis:
    result = MotionResult(motion, 0.1 if motion else 0.0, ((0.1, 0.1, 0.2, 0.2),) if motion else ())
    return FrameAnalysis(wall, wall, 320, 180, result, transition)


def test_rows_are_motion_frames_transitions_and_one_summary_per_interval() -> None:
    picker = RowPicker(summary_s=1.0, motion_frames=True)
    rows = []
    for i in range(45):  # 3 s at 15 fps, no motion
        rows += picker.pick(1, "s", analysis(100 + i / 15, False), None)
    assert [r.kind for r in rows] == ["summary", "summary"]
    assert rows[0].frames == 16 and rows[0].motion_frames == 0
    start = Transition("start", 102.5, 102.5, 1)
    rows = picker.pick(1, "s", analysis(102.5, True, start), 7)
    assert [r.kind for r in rows] == ["motion.start", "frame"]
    assert rows[0].event_id == 7 and rows[1].boxes[0].w == 0.2
    quiet = RowPicker(summary_s=0, motion_frames=False)
    assert quiet.pick(1, "s", analysis(1.0, True), None) == []


def test_analyzer_applies_new_settings_and_new_sizes() -> None:
    rng = np.random.default_rng(3)
    params = AnalysisParams(DetectorConfig(), 1, 0.0, 640, "stride")
    analyzer = Analyzer(choose_device("cpu"), params)
    base = rng.integers(60, 200, (360, 640)).astype(np.uint8)
    for i in range(3):
        out = analyzer.process(frame_with_luma(base), i / 15, 100 + i / 15)
        assert not out.result.motion and (out.width, out.height) == (640, 360)
    moved = base.copy()
    moved[200:260, 300:360] = 0
    out = analyzer.process(frame_with_luma(moved), 3 / 15, 100.2)
    assert out.result.motion and out.transition is not None and out.transition.kind == "start"
    masked = AnalysisParams(DetectorConfig(masks=(((0.0, 0.0), (1.0, 0.0), (1.0, 1.0),
                                                   (0.0, 1.0)),)), 1, 0.0, 640, "stride")
    analyzer.configure(masked)
    out = analyzer.process(frame_with_luma(base), 4 / 15, 100.3)
    assert not out.result.motion and analyzer.detector is not None
    assert out.transition is not None and out.transition.kind == "end"  # end_quiet_s 0
    assert analyzer.detector.watched == 0  # everything masked now
    small = analyzer.process(frame_with_luma(base[:180, :320]), 5 / 15, 100.4)
    assert (small.width, small.height) == (320, 180)  # resolution change: new detector
    assert analyzer.stop(101.0) is None  # no event in progress
