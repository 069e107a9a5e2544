"""Decoded frames to the small grey pictures the detectors see, without colour conversion.

Cameras send YUV: the first plane of a decoded frame already is the luma (grey) picture.
It is wrapped as a numpy view (rows ``line_size`` bytes apart, often wider than the
picture) and downscaled by an integer factor to at most ``max_width`` pixels wide:
``stride`` keeps every n-th row and column (one copy, cheapest), ``area`` averages n x n
blocks (``cv2.INTER_AREA``: less aliasing, about 1 ms more per 1080p frame).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import cv2
import numpy as np

Downscale = Literal["stride", "area"]

# Pixel formats whose first plane is 8-bit luma, one byte per pixel.
_LUMA8 = frozenset({
    "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21",
    "nv16", "gray", "yuv411p", "yuv440p", "yuvj440p",
})
# 10..16-bit planar luma, little-endian: (format, bits).
_LUMA16 = {"yuv420p10le": 10, "yuv422p10le": 10, "yuv444p10le": 10, "p010le": 16,
           "yuv420p12le": 12, "gray10le": 10, "gray12le": 12}


def luma_view(frame: Any) -> np.ndarray:
    """The luma plane of a decoded ``av.VideoFrame`` as a ``(height, width)`` uint8 array.

    A view into the frame's buffer when the format allows it (no copy: keep the frame
    alive while the view is used); other formats are converted by swscale (slow path).
    """
    width, height = int(frame.width), int(frame.height)
    name = frame.format.name
    if name in _LUMA8:
        plane = frame.planes[0]
        rows = np.frombuffer(plane, dtype=np.uint8)
        return plane_rows(rows, plane.line_size, width, height)
    if name in _LUMA16:
        plane = frame.planes[0]
        words = np.frombuffer(plane, dtype=np.uint16)
        wide = plane_rows(words, plane.line_size // 2, width, height)
        shift = _LUMA16[name] - 8
        return (wide >> shift).astype(np.uint8)
    gray: np.ndarray = frame.to_ndarray(format="gray")
    return gray


def plane_rows(buf: np.ndarray, line_size: int, width: int, height: int) -> np.ndarray:
    """``height`` rows of ``width`` samples from a buffer whose rows are ``line_size``
    samples apart (FFmpeg pads rows for alignment)."""
    if line_size < width or buf.size < line_size * (height - 1) + width:
        raise ValueError("plane smaller than the picture")
    if buf.size < line_size * height:
        # The last row may be unpadded: pad a copy so the reshape below holds.
        buf = np.concatenate([buf, np.zeros(line_size * height - buf.size, dtype=buf.dtype)])
    return buf[: line_size * height].reshape(height, line_size)[:, :width]


def scale_factor(width: int, max_width: int) -> int:
    """The smallest integer factor that brings ``width`` to ``max_width`` or less."""
    return max(1, math.ceil(width / max(1, max_width)))


def analysed_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Size of the picture the detector sees for a ``width`` x ``height`` frame (the
    size ``downscale`` returns, whichever method)."""
    f = scale_factor(width, max_width)
    return (width + f - 1) // f if f > 1 else width, (height + f - 1) // f if f > 1 else height


def downscale(gray: np.ndarray, max_width: int, method: Downscale = "stride") -> np.ndarray:
    """``gray`` reduced by an integer factor to at most ``max_width`` wide; a contiguous
    array (the detectors write into buffers of this shape)."""
    height, width = gray.shape
    f = scale_factor(width, max_width)
    if f == 1:
        return np.ascontiguousarray(gray)
    if method == "area":
        out_w, out_h = analysed_size(width, height, max_width)
        return cv2.resize(gray, (out_w, out_h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(gray[::f, ::f])
