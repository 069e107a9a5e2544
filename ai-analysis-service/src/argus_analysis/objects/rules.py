"""Zone and line rules of one camera: tracks in, ``object.*`` events out.

A track's point is the bottom centre of its box. Only confirmed tracks (``MIN_HITS``
detections) fire. Per zone: ``object.zone_enter`` when the point goes in (or is in when
the track is confirmed), ``object.zone_leave`` when it goes out or the track ends inside,
``object.zone_dwell`` once per stay after ``dwell_s``, ``object.zone_count`` when the
tracks inside go above ``max_count`` (again only after the count fell back to it). Per
line: ``object.line_cross`` when the point's step crosses the segment a -> b in the rule's
direction: ``left_to_right`` is from the left of a -> b (as drawn, y down) to its right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from argus_analysis.objects.settings import LineRule, ObjectSettings, ZoneRule
from argus_analysis.objects.tracker import Track, foot

Point = tuple[float, float]


@dataclass
class RuleEvent:
    """An event a rule fired: its type, the track, and what the payload adds."""

    type: str
    track: Track
    ts: float
    extra: dict[str, Any] = field(default_factory=dict)


def _cross(a: Point, b: Point, p: Point) -> float:
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def crossing(line: LineRule, p0: Point, p1: Point) -> str | None:
    """``left_to_right`` / ``right_to_left`` when the step p0 -> p1 crosses the segment
    (touching an end counts once it is past it), else None."""
    a, b = (line.a[0], line.a[1]), (line.b[0], line.b[1])
    s0, s1 = _cross(a, b, p0), _cross(a, b, p1)
    if s0 == 0 or s1 == 0 or (s0 > 0) == (s1 > 0):
        return None
    t0, t1 = _cross(p0, p1, a), _cross(p0, p1, b)
    if (t0 > 0) == (t1 > 0) and t0 != 0 and t1 != 0:
        return None  # crosses the line's extension, not the segment
    return "left_to_right" if s0 < 0 else "right_to_left"


class Rules:
    """The rule state of one camera's session."""

    def __init__(self, settings: ObjectSettings) -> None:
        self.settings = settings
        self._polys: dict[str, np.ndarray] = {}
        self._inside: dict[str, dict[str, float]] = {}  # zone -> track id -> entered at
        self._dwelt: dict[str, set[str]] = {}
        self._over: dict[str, bool] = {}
        self.configure(settings)

    def configure(self, settings: ObjectSettings) -> None:
        """New rules; zones that kept their name and their definition keep their state
        (who is inside since when), so editing a line does not re-fire every zone."""
        unchanged = {z.name for z in self.settings.zones if z in settings.zones}
        self.settings = settings
        self._polys = {z.name: np.array(z.polygon, dtype=np.float32) for z in settings.zones}
        self._inside = {z.name: self._inside.get(z.name, {}) if z.name in unchanged else {}
                        for z in settings.zones}
        self._dwelt = {z.name: self._dwelt.get(z.name, set()) if z.name in unchanged
                       else set() for z in settings.zones}
        self._over = {z.name: self._over.get(z.name, False) if z.name in unchanged else False
                      for z in settings.zones}

    def _in(self, zone: ZoneRule, point: Point) -> bool:
        return cv2.pointPolygonTest(self._polys[zone.name], point, False) >= 0

    def update(self, track: Track, ts: float) -> list[RuleEvent]:
        """Events for ``track`` after it was seen at ``ts``."""
        point = foot(track.box)
        prev, track.prev_point = track.prev_point, point
        if not track.confirmed:
            return []
        events: list[RuleEvent] = []
        s = self.settings
        for zone in s.zones:
            if not s.wants(track.label, zone.labels):
                continue
            inside = self._inside[zone.name]
            now_in = self._in(zone, point)
            if now_in and track.track_id not in inside:
                inside[track.track_id] = ts
                track.zones.add(zone.name)
                events.append(RuleEvent("object.zone_enter", track, ts, {"zone": zone.name}))
            elif not now_in and track.track_id in inside:
                events.append(self._leave(zone, track, ts))
            elif now_in and zone.dwell_s is not None \
                    and track.track_id not in self._dwelt[zone.name] \
                    and ts - inside[track.track_id] >= zone.dwell_s:
                self._dwelt[zone.name].add(track.track_id)
                events.append(RuleEvent("object.zone_dwell", track, ts, {
                    "zone": zone.name, "dwell_s": round(ts - inside[track.track_id], 2)}))
        if prev is not None:
            for line in s.lines:
                if not s.wants(track.label, line.labels):
                    continue
                direction = crossing(line, prev, point)
                if direction and line.direction in ("any", direction):
                    track.lines.add(line.name)
                    events.append(RuleEvent("object.line_cross", track, ts,
                                            {"line": line.name, "direction": direction}))
        return events

    def _leave(self, zone: ZoneRule, track: Track, ts: float) -> RuleEvent:
        entered = self._inside[zone.name].pop(track.track_id)
        self._dwelt[zone.name].discard(track.track_id)
        return RuleEvent("object.zone_leave", track, ts,
                         {"zone": zone.name, "dwell_s": round(ts - entered, 2)})

    def counts(self, tracks: list[Track], ts: float) -> list[RuleEvent]:
        """``object.zone_count`` for zones whose count went above ``max_count``; the
        event names the track that entered last."""
        events = []
        by_id = {t.track_id: t for t in tracks}
        for zone in self.settings.zones:
            if zone.max_count is None:
                continue
            inside = [by_id[i] for i in self._inside[zone.name] if i in by_id]
            over = len(inside) > zone.max_count
            if over and not self._over[zone.name]:
                last = max(inside, key=lambda t: self._inside[zone.name][t.track_id])
                events.append(RuleEvent("object.zone_count", last, ts,
                                        {"zone": zone.name, "count": len(inside)}))
            self._over[zone.name] = over
        return events

    def end(self, track: Track, ts: float) -> list[RuleEvent]:
        """The track ended: it leaves the zones it was in."""
        return [self._leave(z, track, ts) for z in self.settings.zones
                if track.track_id in self._inside[z.name]]
