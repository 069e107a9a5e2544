"""Analysis results, JPEGs and MP4s for the analysis tests."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

import av
import numpy as np

from argus_common.events import AnalysisFrame, MotionBox


def analysis_frame(camera_id: int | None, **fields: Any) -> AnalysisFrame:
    """A frame result as ai-analysis-service publishes it."""
    values: dict[str, Any] = {
        "camera_id": camera_id, "session_id": uuid.uuid4().hex, "ts": datetime.now(UTC),
        "motion": True, "score": 0.05, "boxes": [MotionBox(x=0.1, y=0.2, w=0.3, h=0.4)],
        "width": 320, "height": 180,
    }
    values.update(fields)
    return AnalysisFrame(**values)


def jpeg_bytes(width: int = 64, height: int = 48) -> bytes:
    """A real JPEG image."""
    import cv2

    img = np.zeros((height, width, 3), dtype=np.uint8)
    img[:, : width // 2] = (0, 0, 255)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return bytes(buf)


def mp4_bytes(frames: int = 10, width: int = 64, height: int = 48) -> bytes:
    """A tiny H.264 MP4."""
    out_buf = io.BytesIO()
    out = av.open(out_buf, "w", format="mp4")
    stream = out.add_stream("libx264", rate=10)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    for i in range(frames):
        img = np.full((height, width, 3), (i * 20) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return out_buf.getvalue()
