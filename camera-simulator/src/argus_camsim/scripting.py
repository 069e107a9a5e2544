"""Scripting objects through a camera's picture (control API and ``--objects``).

    POST /objects/camN  {"label": "person", "start": [0.0, 0.7], "end": [1.0, 0.7],
                         "speed": 0.15, "size": 0.3, "color": "red", "repeat": "once",
                         "delay_s": 0, "appearance": "figure"}
    POST /objects/camN  {"objects": [{...}, {...}]}   several, set off together
    POST /objects/camN  {"clear": true}
    GET  /cameras/camN/objects[?at_ms=EPOCH_MS]      ground truth (default: now)

``start``/``end`` are the centre of the box in normalized picture coordinates (they may
lie a little outside the picture, so an object walks in from the edge); ``speed`` is in
normalized units per second; ``size`` the box height as a fraction of the picture's.
"""

from __future__ import annotations

from typing import Any

from argus_camsim.camera import CameraRuntime
from argus_camsim.faults import CommandError
from argus_camsim.figures import photo_rgb
from argus_camsim.objects import COLOURS, DEFAULT_SIZE, LABELS, PHOTO_ASPECT
from argus_camsim.rtp import now_ms

_KEYS = {"label", "start", "end", "speed", "size", "color", "repeat", "delay_s",
         "appearance", "photo"}
_DEFAULT_COLOUR = {"person": "red", "vehicle": "blue"}


def _point(spec: dict[str, Any], key: str) -> tuple[float, float]:
    value = spec.get(key)
    if (
        not isinstance(value, list) or len(value) != 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
        or not all(-0.5 <= float(c) <= 1.5 for c in value)
    ):
        raise CommandError(f"{key} must be [x, y] with each in -0.5..1.5")
    return float(value[0]), float(value[1])


def _num(spec: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(f"{key} must be a number")
    if not low <= float(value) <= high:
        raise CommandError(f"{key} must be between {low:g} and {high:g}")
    return float(value)


def _choice(spec: dict[str, Any], key: str, default: str, allowed: Any) -> str:
    value = spec.get(key, default)
    if value not in allowed:
        raise CommandError(f"{key} must be one of: {', '.join(sorted(allowed))}")
    return str(value)


def parse_object(spec: Any, at_ms: int) -> dict[str, Any]:
    """Validate one object's script; returns the fields of ``ObjectSet.add``."""
    if not isinstance(spec, dict):
        raise CommandError("an object must be a JSON object")
    unknown = set(spec) - _KEYS
    if unknown:
        raise CommandError(f"unknown object field(s): {', '.join(sorted(unknown))}")
    label = _choice(spec, "label", "", LABELS)
    appearance = _choice(spec, "appearance", "figure", ("figure", "photo"))
    photo = None
    if appearance == "photo":
        if label != "person":
            raise CommandError("only a person can be a photograph")
        photo = _choice(spec, "photo", "astronaut", PHOTO_ASPECT)
        try:
            photo_rgb(photo)  # loaded now, so a missing package is this request's error
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
    return {
        "label": label,
        "start": _point(spec, "start"),
        "end": _point(spec, "end"),
        "speed": _num(spec, "speed", 0.1, 0.001, 10.0),
        "size": _num(spec, "size", DEFAULT_SIZE[label], 0.02, 1.0),
        "color": _choice(spec, "color", _DEFAULT_COLOUR[label], COLOURS),
        "repeat": _choice(spec, "repeat", "once", ("once", "bounce", "loop")),
        "t0_ms": at_ms + round(_num(spec, "delay_s", 0.0, 0.0, 3600.0) * 1000),
        "appearance": appearance,
        "photo": photo,
    }


def apply_objects(cam: CameraRuntime, payload: dict[str, Any]) -> dict[str, Any]:
    """``{"clear": true}``, one object's script, or ``{"objects": [...]}``; every script
    is validated before any object is added. Returns the objects added (with ids)."""
    if payload.get("clear") is True and len(payload) == 1:
        return {"cleared": cam.info.objects.clear()}
    specs = payload["objects"] if set(payload) == {"objects"} else [payload]
    if not isinstance(specs, list) or not 1 <= len(specs) <= 32:
        raise CommandError("objects must be a list of 1 to 32 objects")
    at = now_ms()
    parsed = [parse_object(spec, at) for spec in specs]
    added = [cam.info.objects.add(**fields).describe() for fields in parsed]
    return {"objects": added}


def objects_view(cam: CameraRuntime, query: dict[str, str]) -> dict[str, Any]:
    """``GET /cameras/camN/objects``: the boxes at ``at_ms`` (default now) and the
    scripts."""
    raw = query.get("at_ms")
    try:
        at = int(raw) if raw is not None else now_ms()
    except ValueError as exc:
        raise CommandError("at_ms must be an integer (epoch milliseconds)") from exc
    return {
        "camera": cam.path, "at_ms": at,
        "objects": cam.info.objects.boxes_at(at),
        "scripts": [o.describe() for o in cam.info.objects.snapshot()],
    }


def demo_objects(cam: CameraRuntime) -> None:
    """``--objects``: a person walking to and fro along the street and a car driving
    through, again and again (the demo's people and vehicles)."""
    at = now_ms()
    cam.info.objects.add(**parse_object(
        {"label": "person", "start": [0.1, 0.72], "end": [0.9, 0.72], "speed": 0.08,
         "repeat": "bounce", "color": "red"}, at))
    cam.info.objects.add(**parse_object(
        {"label": "vehicle", "start": [-0.2, 0.86], "end": [1.2, 0.86], "speed": 0.2,
         "repeat": "loop", "color": "blue", "delay_s": 2}, at))
