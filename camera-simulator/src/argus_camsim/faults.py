"""Applying fault, motion and PTZ commands to a camera (control API and CLI flags)."""

from __future__ import annotations

from typing import Any

from argus_camsim.camera import CameraRuntime
from argus_camsim.config import parse_size

FAULT_KEYS = (
    "drop", "stall", "offline_s", "corrupt", "resolution", "sub_resolution", "network_down",
)
MAX_OFFLINE_S = 86_400.0


class CommandError(ValueError):
    """A command with a missing or invalid field."""


def _bool(payload: dict[str, Any], key: str) -> bool:
    value = payload[key]
    if not isinstance(value, bool):
        raise CommandError(f"{key} must be true or false")
    return value


def _number(payload: dict[str, Any], key: str, low: float, high: float) -> float:
    value = payload[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(f"{key} must be a number")
    if not low <= float(value) <= high:
        raise CommandError(f"{key} must be between {low:g} and {high:g}")
    return float(value)


def apply_faults(cam: CameraRuntime, payload: dict[str, Any]) -> dict[str, Any]:
    """Apply ``{"drop": true}``, ``{"stall": bool}``, ``{"offline_s": N}``,
    ``{"corrupt": bool}``, ``{"resolution": "WxH"}``, ``{"sub_resolution": "WxH"}``.

    Every field is validated before anything changes; returns what was applied.
    """
    unknown = set(payload) - set(FAULT_KEYS)
    if unknown:
        raise CommandError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
    if not payload:
        raise CommandError(f"give at least one of: {', '.join(FAULT_KEYS)}")
    drop = _bool(payload, "drop") if "drop" in payload else None
    stall = _bool(payload, "stall") if "stall" in payload else None
    corrupt = _bool(payload, "corrupt") if "corrupt" in payload else None
    offline = _number(payload, "offline_s", 0, MAX_OFFLINE_S) if "offline_s" in payload else None
    if "network_down" in payload:
        # The network to the camera is cut: RTSP and ONVIF stop answering until it is
        # back; the camera itself (its encoder, its edge recording) keeps running.
        if offline is not None:
            raise CommandError("give offline_s or network_down, not both")
        offline = MAX_OFFLINE_S if _bool(payload, "network_down") else 0.0
    sizes: dict[str, str] = {}
    for key, variant in (("resolution", "main"), ("sub_resolution", "sub")):
        if key in payload:
            value = payload[key]
            try:
                parse_size(str(value))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            sizes[variant] = str(value)
    applied: dict[str, Any] = {}
    if stall is not None:
        cam.set_stall(stall)
        applied["stall"] = stall
    if corrupt is not None:
        cam.set_corrupt(corrupt)
        applied["corrupt"] = corrupt
    for variant, size in sizes.items():
        w, h = cam.set_resolution(variant, size)
        applied["resolution" if variant == "main" else "sub_resolution"] = f"{w}x{h}"
    if offline is not None:
        cam.go_offline(offline)
        applied["network_down" if "network_down" in payload else "offline_s"] = (
            payload["network_down"] if "network_down" in payload else offline)
    if drop:
        applied["dropped"] = cam.drop_connections()
    return applied


def apply_motion(cam: CameraRuntime, payload: dict[str, Any]) -> dict[str, Any]:
    """Apply ``{"on": bool}``."""
    if "on" not in payload:
        raise CommandError('body must be {"on": true|false}')
    on = _bool(payload, "on")
    cam.set_motion(on)
    return {"motion": on}


def apply_ptz(cam: CameraRuntime, payload: dict[str, Any]) -> dict[str, Any]:
    """Absolute move to ``{"pan": -1..1, "tilt": -1..1, "zoom": 0..1}`` (missing = keep)."""
    unknown = set(payload) - {"pan", "tilt", "zoom"}
    if unknown or not payload:
        raise CommandError("body must hold some of pan, tilt (-1..1) and zoom (0..1)")
    pan, tilt, zoom = cam.info.ptz.position()
    pan = _number(payload, "pan", -1, 1) if "pan" in payload else pan
    tilt = _number(payload, "tilt", -1, 1) if "tilt" in payload else tilt
    zoom = _number(payload, "zoom", 0, 1) if "zoom" in payload else zoom
    cam.info.ptz.absolute_move(pan, tilt, zoom)
    return {"pan": pan, "tilt": tilt, "zoom": zoom}


def parse_fault_flag(text: str) -> tuple[str, dict[str, Any]]:
    """Parse a ``--fault camN:key[=value]`` flag into (camera path, fault payload).

    ``cam2:stall``, ``cam2:corrupt``, ``cam3:offline_s=30``, ``cam1:resolution=640x360``.
    """
    cam, sep, rest = text.partition(":")
    if not sep or not cam.startswith("cam"):
        raise CommandError(f"--fault must look like cam2:stall or cam3:offline_s=30, got {text!r}")
    key, has_value, value = rest.partition("=")
    payload: dict[str, Any]
    if key in ("stall", "corrupt", "drop", "network_down"):
        payload = {key: value.lower() not in ("0", "false", "off", "no") if has_value else True}
    elif key == "offline_s":
        try:
            payload = {key: float(value)}
        except ValueError as exc:
            raise CommandError(f"offline_s needs a number: {text!r}") from exc
    elif key in ("resolution", "sub_resolution"):
        payload = {key: value}
    else:
        raise CommandError(f"unknown fault {key!r} in {text!r}")
    return cam, payload
