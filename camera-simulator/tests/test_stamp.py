"""The burnt-in timestamp: layout, round trip, and survival through H.264 at low bitrate."""

from __future__ import annotations

import av
import numpy as np
import pytest

from argus_camsim.config import EncodeSettings
from argus_camsim.font import text_size
from argus_camsim.live import open_h264_encoder
from argus_camsim.model import CameraInfo
from argus_camsim.scene import Scene, planes
from argus_camsim.stamp import OVERLAY_RECT_NORM, draw_stamp, read_timestamp_ms, stamp_layout

SIZES = [(320, 180), (640, 360), (1280, 720), (1920, 1080), (640, 480), (480, 270)]
BASE_MS = 1_795_000_000_123  # a 2026 wall-clock time in epoch ms


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_round_trip_on_raw_frame(width: int, height: int) -> None:
    y = np.full((height, width), 128, dtype=np.uint8)
    layout = stamp_layout(width, height)
    for ms in (0, 1, BASE_MS, (1 << 48) - 1):
        draw_stamp(y, ms, layout)
        assert read_timestamp_ms(y, width, height) == ms


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_overlay_stays_inside_documented_rect(width: int, height: int) -> None:
    """Stamp, clock and name must stay in OVERLAY_RECT_NORM (motion detectors mask it)."""
    cam = CameraInfo(index=3, name="Camera 3", width=width, height=height)
    scene = Scene(cam)
    a = planes(scene.render(width, height, BASE_MS), width, height)[0].astype(int)
    b = planes(scene.render(width, height, BASE_MS + 8_765_432), width, height)[0].astype(int)
    changed = np.argwhere(a != b)
    assert changed.size, "the stamp/clock must change between these two times"
    x, y, w, h = OVERLAY_RECT_NORM
    assert changed[:, 0].max() < (y + h) * height
    assert changed[:, 1].max() < (x + w) * width
    layout = stamp_layout(width, height)
    assert layout.block >= 8
    assert layout.x0 % 8 == 0 and layout.y0 % 8 == 0  # aligned with the transform grid
    text_w, _ = text_size("Camera 3  2026-11-22 21:13:45.123", max(1, height // 180))
    assert layout.x0 + text_w <= width


def test_blank_and_noise_frames_have_no_stamp() -> None:
    assert read_timestamp_ms(np.zeros((180, 320), dtype=np.uint8), 320, 180) is None
    rng = np.random.default_rng(7)
    misses = sum(
        read_timestamp_ms(rng.integers(0, 256, (180, 320), dtype=np.uint8), 320, 180) is None
        for _ in range(50)
    )
    assert misses == 50
    assert read_timestamp_ms(np.zeros((10, 10), dtype=np.uint8), 320, 180) is None


@pytest.mark.parametrize("profile", ["baseline", "high"])
def test_stamp_survives_low_bitrate_h264(profile: str) -> None:
    """Every frame of a 320x180 stream at 100 kbit/s with motion still reads exactly."""
    width, height = 320, 180
    cam = CameraInfo(index=1, name="Camera 1", width=width, height=height, motion=True)
    scene = Scene(cam)
    encoder = open_h264_encoder(
        width, height, EncodeSettings(fps=30, bitrate=100_000, profile=profile)
    )
    decoder = av.CodecContext.create("h264", "r")
    expected = [BASE_MS + n * 33 for n in range(60)]
    got: list[int | None] = []
    for n, ms in enumerate(expected):
        frame = av.VideoFrame.from_ndarray(scene.render(width, height, ms), format="yuv420p")
        frame.pts = n
        for packet in encoder.encode(frame):
            for decoded in decoder.decode(av.Packet(bytes(packet))):
                y = decoded.to_ndarray(format="gray")
                got.append(read_timestamp_ms(y, decoded.width, decoded.height))
    assert got == expected[: len(got)]
    assert len(got) >= 55
