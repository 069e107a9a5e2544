"""The JPEG snapshot of the frame that triggered a motion event.

The only colour conversion of the pipeline: one frame per event, in a thread of the
default executor, never in a camera's decoding thread.
"""

from __future__ import annotations

from typing import Any

import cv2


def encode_jpeg(frame: Any, quality: int = 85, max_width: int = 1280) -> bytes:
    """A decoded ``av.VideoFrame`` as JPEG, scaled down to ``max_width`` if wider."""
    width, height = int(frame.width), int(frame.height)
    if width > max_width:
        out_h = max(2, round(height * max_width / width / 2) * 2)
        bgr = frame.reformat(width=max_width, height=out_h, format="bgr24").to_ndarray()
    else:
        bgr = frame.to_ndarray(format="bgr24")
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buf)
