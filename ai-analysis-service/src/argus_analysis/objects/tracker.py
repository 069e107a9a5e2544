"""A simple IoU/centroid tracker: an id per object across frames, with its path, dwell
time, speed, direction, best snapshot and colour.

Each detection joins the track of the same label whose *predicted* box (its last box
moved on at its velocity: two people crossing keep their ids) it overlaps most (IoU at
least ``MIN_IOU``), else the nearest predicted centre within one box size (a fast object
between two detections); otherwise it starts a new track. Those last two only where
something moved (the detection's centre inside the bounding box of the frame's motion
boxes that it overlaps, when the caller gives them): the detector also looks again at the
regions of live tracks, and there, and at the edges of a region cut around something else,
HOG fires on still background (lit windows, the overlay's text next to a moving
photograph's corner); such a detection made a track that kept its own region alive, or
took over by its centre a track of a person found twice (HOG's boxes around the whole and
the lower half of one person). A track is confirmed after ``MIN_HITS`` detections (one
stray detection is no object) and ends when it has not been seen for ``ttl_s``. Boxes are
normalized ``(x, y, w, h)``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from argus_analysis.objects.colour import dominant_colour

NormBox = tuple[float, float, float, float]
MIN_IOU = 0.2
MIN_HITS = 2
MAX_PATH = 64  # points kept in a track's path (thinned when longer)
_COMPASS = ("right", "down-right", "down", "down-left", "left", "up-left", "up", "up-right")


def iou(a: NormBox, b: NormBox) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def centre(box: NormBox) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def foot(box: NormBox) -> tuple[float, float]:
    """The bottom centre of a box: where a person stands, where a car's wheels are."""
    return box[0] + box[2] / 2, box[1] + box[3]


@dataclass
class Seen:
    """One detection handed to the tracker (normalized box)."""

    label: str
    score: float
    box: NormBox


@dataclass
class Track:
    """One object followed across frames."""

    track_id: str
    label: str
    first: float
    last: float
    box: NormBox
    score: float
    hits: int = 1
    score_sum: float = 0.0
    max_score: float = 0.0
    path: list[tuple[float, float, float]] = field(default_factory=list)  # (t, cx, cy)
    best_quality: float = -1.0
    best_frame: Any = None  # BGR image of the best moment (the snapshot)
    best_box: NormBox = (0.0, 0.0, 0.0, 0.0)
    best_ts: float = 0.0
    best_score: float = 0.0
    colours: Counter[str] = field(default_factory=Counter)
    zones: set[str] = field(default_factory=set)  # ever inside
    lines: set[str] = field(default_factory=set)  # ever crossed
    prev_point: tuple[float, float] | None = None
    velocity: tuple[float, float] = (0.0, 0.0)  # normalized units / s, smoothed

    def predicted(self, ts: float) -> NormBox:
        """Where the box should be at ``ts`` (constant velocity, at most 1 s ahead)."""
        dt = min(1.0, max(0.0, ts - self.last))
        x, y, w, h = self.box
        return x + self.velocity[0] * dt, y + self.velocity[1] * dt, w, h

    def moved(self, box: NormBox, ts: float) -> None:
        """A new detection at ``ts``: box, velocity (smoothed) and time."""
        dt = ts - self.last
        if dt > 0:
            (cx0, cy0), (cx1, cy1) = centre(self.box), centre(box)
            vx, vy = (cx1 - cx0) / dt, (cy1 - cy0) / dt
            k = 0.5 if self.hits > 1 else 1.0
            self.velocity = (self.velocity[0] + k * (vx - self.velocity[0]),
                             self.velocity[1] + k * (vy - self.velocity[1]))
        self.box, self.last = box, ts

    @property
    def confirmed(self) -> bool:
        return self.hits >= MIN_HITS

    @property
    def colour(self) -> str | None:
        # the first most frequent, as ``most_common(1)`` (which costs a heap per call)
        return max(self.colours, key=self.colours.__getitem__) if self.colours else None

    @property
    def dwell_s(self) -> float:
        return max(0.0, self.last - self.first)

    def motion(self) -> tuple[float, str, float]:
        """Mean speed (normalized units / s), compass direction and heading (degrees,
        0 = right, 90 = down) from the first to the last point."""
        if len(self.path) < 2 or self.dwell_s <= 0:
            return 0.0, "still", 0.0
        (t0, x0, y0), (t1, x1, y1) = self.path[0], self.path[-1]
        dist = math.hypot(x1 - x0, y1 - y0)
        speed = dist / max(t1 - t0, 1e-6)
        if dist < 0.02:
            return round(speed, 4), "still", 0.0
        heading = math.degrees(math.atan2(y1 - y0, x1 - x0)) % 360
        return round(speed, 4), _COMPASS[round(heading / 45) % 8], round(heading, 1)

    def add_point(self, ts: float) -> None:
        cx, cy = centre(self.box)
        self.path.append((ts, round(cx, 4), round(cy, 4)))
        if len(self.path) > MAX_PATH:  # keep the ends, thin the middle
            self.path = self.path[:1] + self.path[1:-1:2] + self.path[-1:]


def _moving(box: NormBox, motion: Sequence[NormBox]) -> bool:
    """Whether ``box``'s centre is inside the bounding box of the ``motion`` boxes it
    overlaps (one moving thing may give several: a plain figure moving slowly changes
    only the pixels at its leading and trailing edges)."""
    x0 = y0 = 1.0
    x1 = y1 = 0.0
    bx0, by0, bx1, by1 = box[0], box[1], box[0] + box[2], box[1] + box[3]
    for m in motion:
        # overlaps (a positive intersection: what ``iou(box, m) > 0`` means, without the
        # union: this runs for every detection and motion box)
        mx1, my1 = m[0] + m[2], m[1] + m[3]
        if min(bx1, mx1) - max(bx0, m[0]) > 0.0 and min(by1, my1) - max(by0, m[1]) > 0.0:
            x0, y0 = min(x0, m[0]), min(y0, m[1])
            x1, y1 = max(x1, mx1), max(y1, my1)
    cx, cy = centre(box)
    return x0 <= cx <= x1 and y0 <= cy <= y1


def _quality(image: np.ndarray, px: tuple[int, int, int, int]) -> float:
    """Larger and sharper is better: area x (Laplacian variance, capped)."""
    x, y, w, h = px
    crop = image[max(0, y) : y + h, max(0, x) : x + w]
    if crop.size == 0:
        return 0.0
    gray = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_BGR2GRAY)
    sharp = float(cv2.Laplacian(gray, cv2.CV_32F).var())
    return float(w * h) * min(1.0, sharp / 200.0 + 0.05)


class Tracker:
    """The tracks of one camera (one analysis session)."""

    def __init__(self, prefix: str, ttl_s: float = 2.0) -> None:
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.tracks: list[Track] = []
        self._next = 1

    def update(
        self, seen: list[Seen], ts: float, image: np.ndarray | None = None,
        motion: Sequence[NormBox] | None = None,
    ) -> tuple[list[tuple[Track, Seen | None]], list[Track]]:
        """Match ``seen`` at time ``ts`` (``image``: the BGR frame the boxes are in, for
        snapshots and colour; ``motion``: the frame's motion boxes, where tracks may start
        or be found by their centre; None: anywhere). Returns ``(track, detection)`` per
        detection kept (one that overlaps no track and is not where something moved is
        dropped) and the tracks that ended (not seen for ``ttl_s``)."""
        predicted = [t.predicted(ts) for t in self.tracks]
        pairs = sorted(
            ((iou(predicted[ti], s.box), ti, si) for ti, t in enumerate(self.tracks)
             for si, s in enumerate(seen) if t.label == s.label),
            reverse=True,
        )
        used_t: set[int] = set()
        matched: dict[int, int] = {}
        for overlap, ti, si in pairs:
            if overlap < MIN_IOU:
                break
            if ti not in used_t and si not in matched:
                used_t.add(ti)
                matched[si] = ti
        moving = [motion is None or _moving(s.box, motion) for s in seen]
        for si, s in enumerate(seen):  # centroid fallback for fast movers
            if si in matched or not moving[si]:
                continue
            sx, sy = centre(s.box)
            best, best_d = None, 0.0
            for ti, t in enumerate(self.tracks):
                if ti in used_t or t.label != s.label:
                    continue
                tx, ty = centre(predicted[ti])
                d = math.hypot(sx - tx, sy - ty)
                if d <= max(t.box[2], t.box[3]) and (best is None or d < best_d):
                    best, best_d = ti, d
            if best is not None:
                used_t.add(best)
                matched[si] = best
        out: list[tuple[Track, Seen | None]] = []
        for si, s in enumerate(seen):
            if si in matched:
                track = self.tracks[matched[si]]
                track.moved(s.box, ts)
                track.score = s.score
                track.hits += 1
            elif not moving[si]:
                continue
            else:
                track = Track(f"{self.prefix}-{self._next}", s.label, ts, ts, s.box, s.score)
                self._next += 1
                self.tracks.append(track)
            track.score_sum += s.score
            track.max_score = max(track.max_score, s.score)
            track.add_point(ts)
            if image is not None:
                self._observe(track, image, ts)
            out.append((track, s))
        ended = [t for t in self.tracks if ts - t.last > self.ttl_s]
        self.tracks = [t for t in self.tracks if ts - t.last <= self.ttl_s]
        return out, ended

    def _observe(self, track: Track, image: np.ndarray, ts: float) -> None:
        h, w = image.shape[:2]
        x, y, bw, bh = track.box
        px = (round(x * w), round(y * h), max(1, round(bw * w)), max(1, round(bh * h)))
        colour = dominant_colour(image, px)
        if colour is not None:
            track.colours[colour] += 1
        weight = 0.5 + track.score
        # _quality is at most the box's area: a box that small cannot beat the best (its
        # Laplacian is not computed: same snapshots, less CPU).
        if float(px[2] * px[3]) * weight <= track.best_quality:
            return
        quality = _quality(image, px) * weight
        if quality > track.best_quality:
            track.best_quality, track.best_frame = quality, image
            track.best_box, track.best_ts, track.best_score = track.box, ts, track.score

    def end_all(self) -> list[Track]:
        """Every track (the stream ended)."""
        ended, self.tracks = self.tracks, []
        return ended

    def boxes(self) -> list[NormBox]:
        """Boxes of the live tracks (where to look again even without motion)."""
        return [t.box for t in self.tracks]
