"""State shared between the RTSP side and the ONVIF side of one virtual camera.

The RTSP/media side renders the picture from ``PtzState``; the ONVIF side changes it.
Both sides only use what is declared here, so they can evolve independently.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from argus_camsim.device_events import DeviceEvents
from argus_camsim.objects import ObjectSet


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass
class Preset:
    token: str
    name: str
    pan: float
    tilt: float
    zoom: float


@dataclass
class PtzState:
    """Position of the virtual PTZ head, in ONVIF's generic spaces.

    pan and tilt are in [-1, 1], zoom in [0, 1]. A continuous move integrates the velocity
    over time until ``move_deadline`` (monotonic seconds) or ``stop()``. Thread-safe: the
    encoder thread reads ``position()`` while the asyncio loop changes the state.
    """

    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0
    velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    move_deadline: float | None = None
    home: tuple[float, float, float] = (0.0, 0.0, 0.0)
    presets: dict[str, Preset] = field(default_factory=dict)
    # Full-speed travel per second in generic units (velocity 1.0 crosses the range in 2 s).
    speed_units_per_s: float = 1.0
    _last_update: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _advance(self, now: float) -> None:
        vx, vy, vz = self.velocity
        end = now if self.move_deadline is None else min(now, self.move_deadline)
        dt = max(0.0, end - self._last_update)
        if dt and (vx or vy or vz):
            k = self.speed_units_per_s * dt
            self.pan = _clamp(self.pan + vx * k, -1.0, 1.0)
            self.tilt = _clamp(self.tilt + vy * k, -1.0, 1.0)
            self.zoom = _clamp(self.zoom + vz * k / 2, 0.0, 1.0)
        if self.move_deadline is not None and now >= self.move_deadline:
            self.velocity = (0.0, 0.0, 0.0)
            self.move_deadline = None
        self._last_update = now

    def position(self) -> tuple[float, float, float]:
        """Current (pan, tilt, zoom), advancing any continuous move first."""
        with self._lock:
            self._advance(time.monotonic())
            return (self.pan, self.tilt, self.zoom)

    def is_moving(self) -> bool:
        with self._lock:
            self._advance(time.monotonic())
            return self.velocity != (0.0, 0.0, 0.0)

    def continuous_move(self, vx: float, vy: float, vz: float, timeout_s: float | None) -> None:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            self.velocity = (_clamp(vx, -1, 1), _clamp(vy, -1, 1), _clamp(vz, -1, 1))
            self.move_deadline = None if timeout_s is None else now + timeout_s

    def stop(self) -> None:
        with self._lock:
            self._advance(time.monotonic())
            self.velocity = (0.0, 0.0, 0.0)
            self.move_deadline = None

    def absolute_move(self, pan: float, tilt: float, zoom: float) -> None:
        with self._lock:
            self._advance(time.monotonic())
            self.velocity = (0.0, 0.0, 0.0)
            self.move_deadline = None
            self.pan = _clamp(pan, -1, 1)
            self.tilt = _clamp(tilt, -1, 1)
            self.zoom = _clamp(zoom, 0, 1)

    def relative_move(self, dpan: float, dtilt: float, dzoom: float) -> None:
        pan, tilt, zoom = self.position()
        self.absolute_move(pan + dpan, tilt + dtilt, zoom + dzoom)


@dataclass
class Faults:
    """Fault switches of one camera, set by the control API or CLI flags."""

    offline_until: float = 0.0  # monotonic; refuse RTSP and ONVIF while now < offline_until
    stall: bool = False  # keep sockets open, send nothing
    corrupt: bool = False  # send corrupt NAL units
    drop_generation: int = 0  # bumped to drop all current RTSP connections

    def offline(self) -> bool:
        return time.monotonic() < self.offline_until


@dataclass
class CameraInfo:
    """Identity and settings of one virtual camera (index starts at 1: cam1, cam2, …)."""

    index: int
    name: str
    width: int = 1280
    height: int = 720
    fps: int = 30
    sub_width: int = 640
    sub_height: int = 360
    ptz: PtzState = field(default_factory=PtzState)
    faults: Faults = field(default_factory=Faults)
    motion: bool = False
    edge: object | None = None  # edge.EdgeStore: its own recording (ONVIF Profile G)
    objects: ObjectSet = field(default_factory=ObjectSet)  # scripted people and vehicles
    audio: str | None = None  # audio codec of both streams (argus_camsim.audio), None: none
    has_ptz: bool = True
    manufacturer: str = "ARGUS"
    model: str = "CamSim"
    serial: str = ""
    firmware: str = "0.1.0"
    quirks: set[str] = field(default_factory=set)  # onvif/quirks.py: how it misbehaves
    events: DeviceEvents = field(default_factory=DeviceEvents)  # ONVIF events it raises

    @property
    def path(self) -> str:
        return f"cam{self.index}"
