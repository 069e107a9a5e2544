"""Renders the picture of one virtual camera as YUV 4:2:0.

The picture is a PTZ viewport over the camera's panorama, optional moving squares (when
``CameraInfo.motion`` is on), scripted people and vehicles (``objects.py``, drawn by
``figures.py``) and the overlay: the machine-readable stamp plus a clock and
the camera name, all inside :data:`argus_camsim.stamp.OVERLAY_RECT_NORM`. With motion off
and the PTZ head still, everything outside the overlay is identical from frame to frame.

Rendering runs in encoder threads (and the snapshot thread); the panorama is built once
under a lock and the viewport is cached while the PTZ position does not change.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import numpy as np

from argus_camsim.figures import draw_objects
from argus_camsim.font import draw_text, text_size
from argus_camsim.model import CameraInfo
from argus_camsim.panorama import Panorama, make_panorama
from argus_camsim.stamp import draw_stamp, stamp_layout

# Objects moving when motion is on: (Y, U, V) colour, phase offsets, speed (cycles/s).
_OBJECTS: tuple[tuple[tuple[int, int, int], float, float, float], ...] = (
    ((82, 90, 240), 0.0, 0.37, 0.23),  # red
    ((145, 54, 34), 0.5, 0.29, 0.31),  # green
    ((41, 240, 110), 0.25, 0.21, 0.17),  # blue
)
MOTION_TOP_NORM = 0.3  # moving objects stay below this line, well clear of the overlay


def _triangle(u: float) -> float:
    """Triangle wave in [0, 1] with period 2: bouncing motion."""
    u %= 2.0
    return u if u <= 1.0 else 2.0 - u


def format_clock(wall_ms: int) -> str:
    """Human-readable UTC clock with milliseconds."""
    dt = datetime.fromtimestamp(wall_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{wall_ms % 1000:03d}"


def planes(buf: np.ndarray, width: int, height: int) -> tuple[np.ndarray, ...]:
    """Y, U and V views into a packed yuv420p buffer of shape (height*3/2, width)."""
    flat = buf.reshape(-1)
    ysize, csize = width * height, (width // 2) * (height // 2)
    y = flat[:ysize].reshape(height, width)
    u = flat[ysize : ysize + csize].reshape(height // 2, width // 2)
    v = flat[ysize + csize : ysize + 2 * csize].reshape(height // 2, width // 2)
    return y, u, v


class Scene:
    """Picture source of one camera; call :meth:`render` once per frame."""

    def __init__(self, camera: CameraInfo) -> None:
        self.camera = camera
        self._panorama: Panorama | None = None
        self._lock = threading.Lock()
        # (width, height) -> (ptz position, rendered viewport buffer)
        self._views: dict[tuple[int, int], tuple[tuple[float, float, float], np.ndarray]] = {}

    @property
    def panorama(self) -> Panorama:
        """The camera's panorama, built on first use."""
        with self._lock:
            if self._panorama is None:
                self._panorama = make_panorama(seed=self.camera.index)
            return self._panorama

    def _viewport(self, width: int, height: int, ptz: tuple[float, float, float]) -> np.ndarray:
        cached = self._views.get((width, height))
        if cached is not None and cached[0] == ptz:
            return cached[1]
        pano = self.panorama
        pan, tilt, zoom = ptz
        # Zoom 0 shows half the panorama's width, zoom 1 an eighth of that.
        vw = pano.width / 2 / (1.0 + 7.0 * zoom)
        vh = vw * height / width
        if vh > pano.height * 0.9:
            vh = pano.height * 0.9
            vw = vh * width / height
        cx = pano.width / 2 + pan * (pano.width - vw) / 2
        cy = pano.height / 2 - tilt * (pano.height - vh) / 2
        x0, y0 = cx - vw / 2, cy - vh / 2
        xs = np.clip(
            (x0 + (np.arange(width) + 0.5) * vw / width).astype(np.intp), 0, pano.width - 1
        )
        ys = np.clip(
            (y0 + (np.arange(height) + 0.5) * vh / height).astype(np.intp), 0, pano.height - 1
        )
        buf = np.empty((height * 3 // 2, width), dtype=np.uint8)
        py, pu, pv = planes(buf, width, height)
        py[:] = pano.y[ys][:, xs]
        cxs = np.minimum(xs[::2] // 2, pano.u.shape[1] - 1)
        cys = np.minimum(ys[::2] // 2, pano.u.shape[0] - 1)
        pu[:] = pano.u[cys][:, cxs][: height // 2, : width // 2]
        pv[:] = pano.v[cys][:, cxs][: height // 2, : width // 2]
        self._views[(width, height)] = (ptz, buf)
        return buf

    def render(self, width: int, height: int, wall_ms: int, label: str | None = None) -> np.ndarray:
        """One frame as a packed yuv420p array of shape (height*3/2, width).

        With ``label`` None the frame carries the stamp and clock for ``wall_ms``;
        otherwise the stamp is left out and ``label`` replaces the clock (used for the
        pre-encoded loop, whose frames are not live).
        """
        ptz = self.camera.ptz.position() if self.camera.has_ptz else (0.0, 0.0, 0.0)
        buf = self._viewport(width, height, ptz).copy()
        y, u, v = planes(buf, width, height)
        if self.camera.motion:
            self._draw_objects(y, u, v, width, height, wall_ms / 1000.0)
        scripted = self.camera.objects.snapshot()
        if scripted:
            draw_objects(scripted, y, u, v, width, height, wall_ms)
        layout = stamp_layout(width, height)
        scale = max(1, height // 180)
        text_y = layout.bottom + (layout.block // 2) // 2 * 2
        if label is None:
            draw_stamp(y, wall_ms, layout)
            text = f"{self.camera.name}  {format_clock(wall_ms)}"
        else:
            text = f"{self.camera.name}  {label}"
        draw_text(y, layout.x0, text_y, text, scale)
        # Neutral chroma under the stamp and the text box keeps them pure grey.
        text_w, text_h = text_size(text, scale)
        c_bottom = (text_y + text_h + 1) // 2
        c_right = (layout.x0 + max(layout.width, text_w) + 1) // 2
        u[layout.y0 // 2 : c_bottom, layout.x0 // 2 : c_right] = 128
        v[layout.y0 // 2 : c_bottom, layout.x0 // 2 : c_right] = 128
        return buf

    def _draw_objects(
        self, y: np.ndarray, u: np.ndarray, v: np.ndarray, width: int, height: int, t: float
    ) -> None:
        size = max(16, height // 6) // 2 * 2
        top = int(height * MOTION_TOP_NORM + 1) // 2 * 2
        span_x, span_y = max(0, width - size), max(0, height - size - top)
        for (cy_, cu, cv), phase, speed_x, speed_y in _OBJECTS:
            ox = int(_triangle(t * speed_x * 2 + phase) * span_x) // 2 * 2
            oy = top + int(_triangle(t * speed_y * 2 + phase * 3) * span_y) // 2 * 2
            y[oy : oy + size, ox : ox + size] = cy_
            u[oy // 2 : (oy + size) // 2, ox // 2 : (ox + size) // 2] = cu
            v[oy // 2 : (oy + size) // 2, ox // 2 : (ox + size) // 2] = cv
