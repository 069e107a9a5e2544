"""Analysis throughput benchmark: 1080p60 H.264 decode + Y plane + downscale + detection,
in frames per second per CPU core.

    .venv/bin/python bench/analysis_bench.py [--seconds 10] [--runs 3]

A 1080p60 clip is generated once with PyAV by the camera simulator's clip generator (its
scene with moving objects and sensor noise, encoded like a camera: about 8 Mbit/s, GOP
1 s, no B-frames) and cached under ``~/.cache/argus-bench``. Each variant decodes it in
one thread (``thread_count = 1``, slice threading, as the live path does) and its CPU time
is taken with ``time.thread_time()``: frames / CPU seconds is the throughput of one core,
whatever else runs on the machine. Each variant runs ``--runs`` times, the variants
taking turns; the best and the median run are printed. Every variant decodes every
frame (skipping non-reference frames would cost detection quality).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from argus_analysis.detect.base import DetectorConfig
from argus_analysis.detect.geometry import to_polygons
from argus_analysis.detect.select import choose_device, create_detector
from argus_analysis.frames import downscale, luma_view
from argus_analysis.pipeline import AnalysisParams, Analyzer
from argus_camsim.clip import clip_name, generate_clip
from argus_camsim.config import EncodeSettings

W, H, FPS = 1920, 1080, 60
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "argus-bench"


def make_clip(seconds: int) -> Path:
    """The 1080p60 clip, made once by the camera simulator's clip generator: its scene with
    moving objects and sensor-like noise, encoded like a camera (libx264 ultrafast,
    zerolatency, main profile, CABAC, 1 s GOP, no B-frames, about 8 Mbit/s CBR)."""
    settings = EncodeSettings(fps=FPS)
    path = CACHE / clip_name(W, H, settings, seconds)
    if not path.exists():
        print(f"generating {path} (once)…", flush=True)
        generate_clip(path, W, H, settings, seconds)
    return path


def open_clip(path: Path) -> Any:
    return av.open(str(path), format="h264" if path.suffix == ".h264" else None)


def decode_run(path: Path, per_frame: Callable[[Any], None], skip_loop_filter: bool = False
               ) -> tuple[int, float]:
    """Decode every packet in this thread, calling ``per_frame``; (frames, CPU s)."""
    container = open_clip(path)
    stream = container.streams.video[0]
    packets = [p for p in container.demux(stream) if p.size]
    context = stream.codec_context
    context.thread_count = 1
    context.thread_type = "SLICE"
    if skip_loop_filter:
        context.options = {"skip_loop_filter": "all"}
    frames = 0
    started = time.thread_time()
    for packet in packets:
        for frame in context.decode(packet):
            per_frame(frame)
            frames += 1
    for frame in context.decode(None):
        per_frame(frame)
        frames += 1
    cpu = time.thread_time() - started
    container.close()
    return frames, cpu


def variants() -> dict[str, tuple[Callable[[], Callable[[Any], None]], bool]]:
    """name -> (factory of the per-frame function, skip_loop_filter)."""
    overlay = to_polygons([[[0, 0], [1, 0], [1, 0.25], [0, 0.25]]])
    config = DetectorConfig(masks=overlay)
    cpu = choose_device("cpu")

    def nothing() -> Callable[[Any], None]:
        return lambda _f: None

    def y_plane() -> Callable[[Any], None]:
        return lambda f: luma_view(f)

    def stride() -> Callable[[Any], None]:
        return lambda f: downscale(luma_view(f), 640, "stride")

    def area() -> Callable[[Any], None]:
        return lambda f: downscale(luma_view(f), 640, "area")

    def gray_convert() -> Callable[[Any], None]:
        return lambda f: cv2.resize(f.to_ndarray(format="gray"), (640, 360),
                                    interpolation=cv2.INTER_AREA)

    Factory = Callable[[], Callable[[Any], None]]

    def pipeline(algorithm: str = "diff", method: str = "stride", width: int = 640) -> Factory:
        def make() -> Callable[[Any], None]:
            params = AnalysisParams(
                DetectorConfig(masks=overlay, algorithm=algorithm),  # type: ignore[arg-type]
                3, 5.0, width, method)  # type: ignore[arg-type]
            analyzer = Analyzer(cpu, params)
            clock = iter(range(10**9))
            return lambda f: analyzer.process(f, next(clock) / FPS, next(clock) / FPS)
        return make

    _ = create_detector(cpu, config, 640, 360)  # import OpenCV paths before timing
    return {
        "decode only": (nothing, False),
        "+ Y plane (no copy)": (y_plane, False),
        "+ downscale: every 3rd row/col": (stride, False),
        "+ downscale: INTER_AREA": (area, False),
        "naive: to_ndarray(gray)+AREA": (gray_convert, False),
        "full: stride + frame diff": (pipeline(), False),
        "full: area + frame diff": (pipeline(method="area"), False),
        "full: stride + MOG2": (pipeline("mog2"), False),
        "full: stride + diff, no deblock": (pipeline(), True),
        "full: 480x270 stride + diff": (pipeline(width=480), False),
    }


def detect_only(runs: int) -> None:
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 255, (360, 640), dtype=np.uint8), (9, 9), 0)
    frames = []
    for i in range(8):
        f = base.copy()
        f[200:260, 40 * i : 40 * i + 60] = 20
        frames.append(f)
    overlay = to_polygons([[[0, 0], [1, 0], [1, 0.25], [0, 0.25]]])
    for algorithm in ("diff", "mog2"):
        detector = create_detector(choose_device("cpu"), DetectorConfig(
            masks=overlay, algorithm=algorithm), 640, 360)  # type: ignore[arg-type]
        costs = []
        for _ in range(runs):
            started = time.thread_time()
            for i in range(2000):
                detector.detect(frames[i % 8], 1 / FPS)
            costs.append((time.thread_time() - started) / 2000)
        cost = 1000 * statistics.median(costs)
        print(f"  detect only, 640x360 {algorithm:5s}: {cost:.3f} ms/frame (motion in every frame)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core: the live path runs OpenCV in the camera's thread
    clip = make_clip(args.seconds)
    mbps = clip.stat().st_size * 8 / args.seconds / 1e6
    print(f"clip: {clip.name} ({mbps:.1f} Mbit/s, {W}x{H} @ {FPS} fps)")
    with open("/proc/loadavg") as f:
        print(f"load average at start: {' '.join(f.read().split()[:3])}")
    # Variants take turns within each round, so a burst of load elsewhere on the machine
    # spreads over all of them; the best round is the least disturbed one.
    table = variants()
    costs: dict[str, list[float]] = {name: [] for name in table}
    frames = 0
    for _ in range(args.runs):
        for name, (factory, skip) in table.items():
            frames, cpu = decode_run(clip, factory(), skip)
            costs[name].append(cpu / frames)
    base_best = min(costs["decode only"])
    for name, values in costs.items():
        best, median = min(values), statistics.median(values)
        print(f"  {name:34s} best {1000 * best:5.2f} ms/frame {1 / best:5.0f} fps/core "
              f"(+{1000 * (best - base_best):4.2f} ms) | median {1000 * median:5.2f} ms "
              f"{1 / median:5.0f} fps/core", flush=True)
    print(f"  ({frames} frames per run, {args.runs} rounds)")
    detect_only(args.runs)
    print("fps/core = frames / CPU seconds of the decoding thread (time.thread_time)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
