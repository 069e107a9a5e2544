"""Scripted objects walking or driving through a camera's picture, with ground truth.

An object moves in a straight line from ``start`` to ``end`` (normalized picture
coordinates of the centre of its box) at ``speed`` (normalized units per second), once
(it then leaves the picture), back and forth (``bounce``) or again and again (``loop``).
Its position is a pure function of the wall-clock time, so the box drawn into the frame
stamped ``t`` and the box ``boxes_at(t)`` answers are the same: the control API's
``GET /cameras/camN/objects?at_ms=<stamp>`` gives the ground truth of any decoded frame.

Sizes are fractions of the picture height; widths follow from the class's aspect ratio
in pixels, so a person looks like a person whatever the picture's shape.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

Label = Literal["person", "vehicle"]
Repeat = Literal["once", "bounce", "loop"]
Appearance = Literal["figure", "photo"]
LABELS: tuple[Label, ...] = ("person", "vehicle")
# Width / height of the box in pixels.
ASPECT: dict[str, float] = {"person": 0.42, "vehicle": 2.1}
DEFAULT_SIZE: dict[str, float] = {"person": 0.3, "vehicle": 0.2}
# Named colours (RGB) an object can wear: the shirt of a person, the body of a vehicle.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (200, 30, 30), "green": (30, 160, 50), "blue": (30, 60, 200),
    "yellow": (230, 210, 40), "orange": (240, 130, 20), "purple": (130, 40, 160),
    "white": (235, 235, 235), "black": (25, 25, 25), "grey": (128, 128, 128),
}
MAX_OBJECTS = 32
# Photographs of people a package ships (scikit-image's sample images), cropped to the
# person: name -> width / height of the crop (the crops are in ``figures.PHOTOS``).
PHOTO_ASPECT: dict[str, float] = {"astronaut": 0.75}


def rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited-range Y, U, V of an 8-bit RGB colour (what decoders assume)."""
    r, g, b = (c / 255.0 for c in rgb)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return round(y), round(u), round(v)


@dataclass(frozen=True)
class SceneObject:
    """One scripted object; ``t0_ms`` is the wall time (epoch ms) it sets off."""

    id: int
    label: Label
    start: tuple[float, float]
    end: tuple[float, float]
    speed: float
    size: float
    color: str
    repeat: Repeat
    t0_ms: int
    appearance: Appearance = "figure"
    photo: str | None = None

    @property
    def travel_s(self) -> float:
        """Seconds from ``start`` to ``end``."""
        dist = math.dist(self.start, self.end)
        return dist / self.speed if self.speed > 0 else 0.0

    def progress(self, t_ms: int) -> float | None:
        """Fraction of the way from ``start`` to ``end`` at ``t_ms`` (None: not in the
        picture: not set off yet, or a ``once`` object that arrived)."""
        elapsed = (t_ms - self.t0_ms) / 1000.0
        if elapsed < 0:
            return None
        travel = self.travel_s
        if travel <= 0:
            return 0.0
        u = elapsed / travel
        if self.repeat == "once":
            return u if u <= 1.0 else None
        if self.repeat == "loop":
            return u % 1.0
        u %= 2.0
        return u if u <= 1.0 else 2.0 - u

    @property
    def aspect(self) -> float:
        """Width / height of the box in pixels."""
        if self.appearance == "photo" and self.photo in PHOTO_ASPECT:
            return PHOTO_ASPECT[self.photo]
        return ASPECT[self.label]

    def rect_px(self, t_ms: int, width: int, height: int) -> tuple[int, int, int, int] | None:
        """``(x, y, w, h)`` in pixels of a ``width`` x ``height`` picture, not clipped
        (None: not in the picture at ``t_ms``). Even numbers: chroma is subsampled by two."""
        frac = self.progress(t_ms)
        if frac is None:
            return None
        cx = (self.start[0] + (self.end[0] - self.start[0]) * frac) * width
        cy = (self.start[1] + (self.end[1] - self.start[1]) * frac) * height
        h = max(8, round(self.size * height)) // 2 * 2
        w = max(4, round(h * self.aspect)) // 2 * 2
        return round(cx - w / 2) // 2 * 2, round(cy - h / 2) // 2 * 2, w, h

    def box_px(self, t_ms: int, width: int, height: int) -> tuple[int, int, int, int] | None:
        """``rect_px`` clipped to the picture (None when not visible)."""
        rect = self.rect_px(t_ms, width, height)
        if rect is None:
            return None
        x0, y0, w, h = rect
        x1, y1 = min(width, x0 + w), min(height, y0 + h)
        x0, y0 = max(0, x0), max(0, y0)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return x0, y0, x1 - x0, y1 - y0

    def describe(self) -> dict[str, Any]:
        """The script of this object (JSON)."""
        return {
            "id": self.id, "label": self.label, "start": list(self.start),
            "end": list(self.end), "speed": self.speed, "size": self.size,
            "color": self.color, "repeat": self.repeat, "t0_ms": self.t0_ms,
            "appearance": self.appearance, "photo": self.photo,
        }


@dataclass
class ObjectSet:
    """The scripted objects of one camera. Thread-safe: the control API adds and clears
    on the loop while encoder threads draw."""

    _objects: list[SceneObject] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **spec: Any) -> SceneObject:
        """Add an object (fields of ``SceneObject`` but ``id``); the oldest goes when
        there are already ``MAX_OBJECTS``."""
        with self._lock:
            obj = SceneObject(id=next(self._ids), **spec)
            self._objects.append(obj)
            del self._objects[:-MAX_OBJECTS]
            return obj

    def clear(self) -> int:
        """Remove every object; returns how many there were."""
        with self._lock:
            count = len(self._objects)
            self._objects.clear()
            return count

    def snapshot(self) -> list[SceneObject]:
        """The objects now scripted (a copy)."""
        with self._lock:
            return list(self._objects)

    def __bool__(self) -> bool:
        return bool(self._objects)

    def boxes_at(self, t_ms: int, width: int = 1920, height: int = 1080) -> list[dict[str, Any]]:
        """Ground truth at wall time ``t_ms``: the visible objects with their normalized
        box (as drawn in a ``width`` x ``height`` picture; the default is fine enough for
        any stream: boxes are rounded to 4 decimals)."""
        out = []
        for obj in self.snapshot():
            box = obj.box_px(t_ms, width, height)
            if box is None:
                continue
            x, y, w, h = box
            out.append({
                "id": obj.id, "label": obj.label, "color": obj.color,
                "appearance": obj.appearance,
                "box": {"x": round(x / width, 4), "y": round(y / height, 4),
                        "w": round(w / width, 4), "h": round(h / height, 4)},
            })
        return out
