"""The motion detectors and the debouncer on synthetic luma frames."""

from __future__ import annotations

import numpy as np
import pytest

from argus_analysis.detect.base import DetectorConfig
from argus_analysis.detect.cpu import FrameDiffDetector, Mog2Detector
from argus_analysis.detect.debounce import Debouncer
from argus_analysis.detect.geometry import active_mask, rasterise, to_polygons

W, H = 320, 180
DT = 1 / 15


def background(seed: int = 1) -> np.ndarray:
    """A textured, static scene (gradients and blocks, like a street)."""
    rng = np.random.default_rng(seed)
    y = np.tile(np.linspace(60, 200, W, dtype=np.float32), (H, 1))
    for _ in range(30):
        x0, y0 = rng.integers(0, W - 20), rng.integers(0, H - 20)
        y[y0 : y0 + rng.integers(5, 20), x0 : x0 + rng.integers(5, 20)] = rng.integers(20, 230)
    return y


def noisy(base: np.ndarray, rng: np.random.Generator, sigma: float = 3.0) -> np.ndarray:
    return np.clip(base + rng.normal(0, sigma, base.shape), 0, 255).astype(np.uint8)


def with_square(base: np.ndarray, x: int, y: int, size: int = 24, value: float = 20) -> np.ndarray:
    out = base.copy()
    out[y : y + size, x : x + size] = value
    return out


def run(detector: FrameDiffDetector | Mog2Detector, frames: list[np.ndarray]) -> list[bool]:
    return [detector.detect(f, DT).motion for f in frames]


RECT = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]


def test_rasterise_rectangle_covers_its_share_of_the_picture() -> None:
    img = rasterise(to_polygons([RECT]), 100, 100)
    assert img.dtype == np.uint8 and img.shape == (100, 100)
    assert img[:50, :50].all() and not img[51:, :].any() and not img[:, 51:].any()
    assert 2500 <= np.count_nonzero(img) <= 2601


def test_zones_and_masks_combine_into_the_watched_pixels() -> None:
    zones = to_polygons([[[0, 0], [1, 0], [1, 0.5], [0, 0.5]]])  # top half
    masks = to_polygons([[[0, 0], [0.5, 0], [0.5, 1], [0, 1]]])  # left half
    watched = active_mask(100, 100, zones, masks)
    assert watched[10, 80] == 255  # top right: in the zone, not masked
    assert watched[10, 20] == 0  # top left: masked
    assert watched[80, 80] == 0  # bottom: outside the zone
    assert active_mask(100, 100, (), ()).all()  # no zone: everything watched


def test_polygons_are_clamped_and_degenerate_ones_dropped() -> None:
    polys = to_polygons([[[-1, 0], [2, 0], [2, 2]], [[0, 0], [1, 1]]])
    assert polys == (((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)),)


def test_noise_only_scene_gives_no_motion() -> None:
    rng = np.random.default_rng(2)
    base = background()
    detector = FrameDiffDetector(DetectorConfig(), W, H)
    assert not any(run(detector, [noisy(base, rng) for _ in range(300)]))


def test_slow_light_change_is_not_motion_and_a_sudden_one_resets() -> None:
    rng = np.random.default_rng(3)
    base = background()
    detector = FrameDiffDetector(DetectorConfig(), W, H)
    ramp = [noisy(base + i * 0.5, rng) for i in range(120)]  # 60 luma levels in 8 s
    assert not any(run(detector, ramp))
    flash = [noisy(base * 0.4, rng) for _ in range(10)]  # lights off at once
    assert not any(run(detector, flash))


def test_moving_square_is_motion_with_a_box_around_it() -> None:
    rng = np.random.default_rng(4)
    base = background()
    detector = FrameDiffDetector(DetectorConfig(), W, H)
    run(detector, [noisy(base, rng) for _ in range(10)])
    result = detector.detect(noisy(with_square(base, 200, 120), rng), DT)
    assert result.motion and result.score > 0
    x, y, w, h = result.boxes[0]
    assert x <= 200 / W <= x + w and y <= 120 / H <= y + h
    assert w < 0.2 and h < 0.3


def test_min_area_filters_small_changes() -> None:
    rng = np.random.default_rng(5)
    base = background()
    detector = FrameDiffDetector(DetectorConfig(min_area=0.01), W, H)  # 576 px
    run(detector, [noisy(base, rng) for _ in range(10)])
    small = detector.detect(noisy(with_square(base, 100, 100, size=6), rng), DT)
    assert not small.motion and small.score > 0 and small.boxes == ()
    big = detector.detect(noisy(with_square(base, 100, 100, size=40), rng), DT)
    assert big.motion


@pytest.mark.parametrize(("zones", "masks", "expected"), [
    ([], [], True),
    ([[[0, 0], [1, 0], [1, 0.3], [0, 0.3]]], [], False),  # zone above the square
    ([[[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]]], [], True),  # zone around it
    ([], [[[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]]], False),  # masked
])
def test_zones_and_masks_decide_where_motion_counts(
    zones: list[list[list[float]]], masks: list[list[list[float]]], expected: bool
) -> None:
    rng = np.random.default_rng(6)
    base = background()
    config = DetectorConfig(zones=to_polygons(zones), masks=to_polygons(masks))
    detector = FrameDiffDetector(config, W, H)
    run(detector, [noisy(base, rng) for _ in range(10)])
    moving = [noisy(with_square(base, 200 + 6 * i, 120), rng) for i in range(5)]
    assert any(run(detector, moving)) is expected


def test_sensitivity_sets_the_smallest_change_that_counts() -> None:
    rng = np.random.default_rng(7)
    base = background()
    faint = base.copy()
    faint[80:110, 150:180] += 15  # a faint object: 15 luma levels brighter
    results = {}
    for sensitivity in (50, 95):
        detector = FrameDiffDetector(DetectorConfig(sensitivity=sensitivity), W, H)
        run(detector, [noisy(base, rng, 1.0) for _ in range(10)])
        results[sensitivity] = detector.detect(noisy(faint, rng, 1.0), DT).motion
    assert results == {50: False, 95: True}
    assert DetectorConfig(sensitivity=1).pixel_threshold > DetectorConfig().pixel_threshold


def test_motion_ends_soon_after_the_object_leaves() -> None:
    """The running average forgets the object within a fraction of a second."""
    rng = np.random.default_rng(8)
    base = background()
    detector = FrameDiffDetector(DetectorConfig(), W, H)
    run(detector, [noisy(base, rng) for _ in range(10)])
    run(detector, [noisy(with_square(base, 50 + 8 * i, 100), rng) for i in range(15)])
    after = run(detector, [noisy(base, rng) for _ in range(15)])  # one second at 15 fps
    quiet_from = next(i for i, m in enumerate(after) if not any(after[i:]))
    assert quiet_from <= 7, after  # under half a second


def test_mog2_detects_the_square_and_ignores_noise() -> None:
    rng = np.random.default_rng(9)
    base = background()
    detector = Mog2Detector(DetectorConfig(algorithm="mog2"), W, H)
    learning = run(detector, [noisy(base, rng) for _ in range(60)])
    assert not any(learning[20:])
    moving = run(detector, [noisy(with_square(base, 40 + 8 * i, 100), rng) for i in range(5)])
    assert all(moving[1:])
    detector.reset()
    assert not detector.detect(noisy(base, rng), DT).motion


def test_debounce_starts_after_n_frames_in_a_row() -> None:
    d = Debouncer(start_frames=3, end_quiet_s=1.0)
    assert d.update(True, 0.0) is None and d.update(True, 0.1) is None
    assert d.update(False, 0.2) is None  # the run breaks
    assert d.update(True, 0.3) is None and d.update(True, 0.4) is None
    start = d.update(True, 0.5)
    assert start is not None and start.kind == "start"
    assert (start.ts, start.trigger_ts, start.frames) == (0.3, 0.5, 3)
    assert d.active


def test_debounce_ends_after_the_quiet_time() -> None:
    d = Debouncer(start_frames=1, end_quiet_s=1.0)
    assert d.update(True, 10.0) is not None
    assert d.update(True, 10.5) is None
    assert d.update(False, 11.0) is None  # 0.5 s quiet
    assert d.update(True, 11.2) is None  # a short pause does not end it
    assert d.update(False, 12.1) is None
    end = d.update(False, 12.2)
    assert end is not None and end.kind == "end" and end.ts == 11.2 and end.frames == 3
    assert not d.active and d.update(False, 20.0) is None


def test_debounce_stop_ends_an_event_in_progress() -> None:
    d = Debouncer(start_frames=1, end_quiet_s=5.0)
    assert d.stop(1.0) is None
    d.update(True, 2.0)
    end = d.stop(2.5)
    assert end is not None and end.kind == "end" and end.ts == 2.0
    d.configure(start_frames=2, end_quiet_s=0.0)
    assert d.update(True, 3.0) is None and d.update(True, 3.1) is not None
    assert d.update(False, 3.2) is not None  # end_quiet_s 0: ends at the first quiet frame
