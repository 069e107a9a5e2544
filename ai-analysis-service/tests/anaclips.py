"""Small H.264 clips for the analysis tests: a static textured scene with a square that
moves during a chosen interval, in MP4 or MPEG-TS; and motion analysis that sees it."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from argus_analysis.cameras import MotionSettings
from argus_analysis.config import OVERLAY_MASK
from argus_analysis.pipeline import AnalysisParams

# Frame differencing behind the default overlay mask, starting after 3 moving frames and
# ending after 0.3 s still: the square's movement is one motion event.
CLIP_PARAMS = AnalysisParams(
    detector=MotionSettings(enabled=True).detector_config("diff", 0.15, [OVERLAY_MASK]),
    start_frames=3,
    end_quiet_s=0.3,
    max_width=640,
    downscale="stride",
)


def scene(width: int, height: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.tile(np.linspace(70, 190, width, dtype=np.float32), (height, 1))
    for _ in range(20):
        x0, y0 = rng.integers(0, width - 16), rng.integers(0, height - 16)
        y[y0 : y0 + rng.integers(4, 16), x0 : x0 + rng.integers(4, 16)] = rng.integers(30, 220)
    return y.astype(np.uint8)


def make_clip(
    path: Path, *, seconds: float = 3.0, fps: int = 15, width: int = 320, height: int = 180,
    motion: tuple[float, float] = (1.0, 2.0), fmt: str | None = None,
) -> Path:
    """Write a clip whose square moves between ``motion[0]`` and ``motion[1]`` seconds
    (below the top quarter, which the default mask hides)."""
    base = scene(width, height)
    out = av.open(str(path), "w", format=fmt)
    stream = out.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(fps), "bf": "0"}
    size = max(8, height // 6)
    for i in range(int(seconds * fps)):
        t = i / fps
        y = base.copy()
        if motion[0] <= t < motion[1]:
            x = int((t - motion[0]) * width * 0.6) % (width - size)
            y[height // 2 : height // 2 + size, x : x + size] = 20
        frame = av.VideoFrame(width, height, "yuv420p")
        for index, value in ((0, None), (1, 128), (2, 128)):
            plane = frame.planes[index]
            rows = height if index == 0 else height // 2
            data = np.full((rows, plane.line_size), value or 0, dtype=np.uint8)
            if value is None:
                data[:, :width] = y
            plane.update(data.tobytes()[: plane.buffer_size])
        frame.pts = i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return path
