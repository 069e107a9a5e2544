"""Tracked objects from stored ``object.*`` events (a listener of ``EventStored``).

The analyser's payloads are read leniently: a field that is missing or out of shape is left
out, and an event without a usable label or track id stores no object. The event itself is
stored either way; this listener never makes its request fail on the payload's account.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.events.hooks import EventStored
from argus_management.events.models import Event
from argus_management.objects.models import TrackedObject, TrackedObjectPlace

log = structlog.get_logger("argus.objects")

NAME = re.compile(r"^[A-Za-z0-9 _.-]{1,64}$")
TRACK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
COLOURS = frozenset({"red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
                     "white", "grey", "black"})
DIRECTIONS = frozenset({"left", "right", "up", "down", "up-left", "up-right", "down-left",
                        "down-right", "still"})
TRACK = "object.track"
MAX_PLACES = 32
MAX_PATH = 64
_EARLIEST, _LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _name(value: Any, pattern: re.Pattern[str] = NAME) -> str | None:
    return value if isinstance(value, str) and pattern.match(value) else None


def _number(value: Any, lo: float, hi: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and lo <= value <= hi else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed if _EARLIEST <= parsed < _LATEST else None


def _box(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    box: dict[str, float] = {}
    for key in ("x", "y", "w", "h"):
        number = _number(value.get(key), 0.0, 1.0)
        if number is None:
            return None
        box[key] = number
    return box


def _names(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return sorted({n for n in value[:MAX_PLACES] if _name(n)})


def _path(value: Any) -> list[list[float]]:
    if not isinstance(value, list):
        return []
    points = []
    for p in value[:MAX_PATH]:
        if isinstance(p, list) and len(p) == 3:
            t, x, y = _number(p[0], 0, 86_400 * 7), _number(p[1], 0, 1), _number(p[2], 0, 1)
            if t is not None and x is not None and y is not None:
                points.append([t, x, y])
    return points


def _observation(stored: EventStored) -> dict[str, Any] | None:
    """What one event says about its track (None: not an object event we can file)."""
    msg = stored.msg
    p = msg.payload
    label, track_id = _name(p.get("label")), _name(p.get("track_id"), TRACK_ID)
    if msg.camera_id is None or label is None or track_id is None:
        return None
    first = msg.ts
    last = msg.ends_at or msg.ts
    obs: dict[str, Any] = {
        "label": label, "track_id": track_id, "score": _number(p.get("score"), 0, 1),
        "color": p.get("color") if p.get("color") in COLOURS else None,
        "box": _box(p.get("box")), "zones": [], "lines": [],
    }
    if msg.type == TRACK:
        first = _time(p.get("first_seen")) or first
        last = max(_time(p.get("last_seen")) or last, first)
        obs.update(
            zones=_names(p.get("zones")), lines=_names(p.get("lines")),
            mean_score=_number(p.get("mean_score"), 0, 1),
            speed=_number(p.get("speed"), 0, 1e6),
            direction=p.get("direction") if p.get("direction") in DIRECTIONS else None,
            path=_path(p.get("path")), snapshot_ts=_time(p.get("snapshot_ts")),
            dwell_s=_number(p.get("dwell_s"), 0, 1e9),
        )
    else:
        zone, line = _name(p.get("zone")), _name(p.get("line"))
        obs["zones"] = [zone] if zone else []
        obs["lines"] = [line] if line else []
    obs["first"], obs["last"] = first, last
    return obs


def _merge(row: TrackedObject, obs: dict[str, Any], event: Event, is_track: bool) -> None:
    """Fold one observation into the row (the summary has the last word on its fields)."""
    row.first_seen = min(row.first_seen, obs["first"])
    row.last_seen = max(row.last_seen, obs["last"])
    row.label = obs["label"]
    if obs["score"] is not None:
        row.score = max(row.score, obs["score"])
    if obs["color"] is not None and (is_track or row.color is None):
        row.color = obs["color"]
    row.zones = sorted({*row.zones, *obs["zones"]})
    row.lines = sorted({*row.lines, *obs["lines"]})
    if is_track:
        row.ended = True
        for key in ("mean_score", "speed", "direction", "path", "snapshot_ts"):
            if obs.get(key) is not None:
                setattr(row, key, obs[key])
    if is_track or row.event_id is None:
        # The summary's snapshot is the track's best frame; before it, the first event's.
        row.event_id = event.id
        if obs["box"] is not None:
            row.box = obs["box"]
    dwell = obs.get("dwell_s") if is_track else None
    row.dwell_s = dwell if dwell is not None else (row.last_seen - row.first_seen).total_seconds()


def _new_row(camera_id: int, obs: dict[str, Any]) -> TrackedObject:
    return TrackedObject(
        camera_id=camera_id, track_id=obs["track_id"], label=obs["label"],
        first_seen=obs["first"], last_seen=obs["last"], dwell_s=0.0, score=0.0,
        color=None, box={}, zones=[], lines=[], path=[], ended=False, reviewed=False,
    )


async def _find(session: AsyncSession, camera_id: int, track_id: str) -> TrackedObject | None:
    row: TrackedObject | None = await session.scalar(
        select(TrackedObject).where(
            TrackedObject.camera_id == camera_id, TrackedObject.track_id == track_id
        )
    )
    return row


def _add_places(session: AsyncSession, row: TrackedObject, before: set[tuple[str, str]]) -> None:
    now = {("zone", z) for z in row.zones} | {("line", ln) for ln in row.lines}
    for kind, name in sorted(now - before):
        session.add(TrackedObjectPlace(object_id=row.id, camera_id=row.camera_id, kind=kind,
                                       name=name))


async def on_event_stored(stored: EventStored) -> None:
    """File an ``object.*`` event under its track (subscribed in the lifespan; runs in the
    event's transaction)."""
    msg, session = stored.msg, stored.session
    if not msg.type.startswith("object."):
        return
    obs = _observation(stored)
    if obs is None:
        log.info("object_event_not_filed", type=msg.type, camera_id=msg.camera_id)
        return
    assert msg.camera_id is not None
    is_track = msg.type == TRACK
    row = await _find(session, msg.camera_id, obs["track_id"])
    if row is None:
        row = _new_row(msg.camera_id, obs)
        _merge(row, obs, stored.event, is_track)
        try:
            # A savepoint: a concurrent event of the same track may insert it first.
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            found = await _find(session, msg.camera_id, obs["track_id"])
            if found is None:
                raise
            row = found
        else:
            _add_places(session, row, set())
            await session.flush()
            return
    before = {("zone", z) for z in row.zones} | {("line", ln) for ln in row.lines}
    _merge(row, obs, stored.event, is_track)
    await session.flush()
    _add_places(session, row, before)
    await session.flush()
