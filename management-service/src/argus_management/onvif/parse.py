"""Reading values out of what a camera answered (zeep objects): sizes, positions,
profiles and URIs, each checked, cut to length and never trusted to be well-formed."""

from __future__ import annotations

import math
from typing import Any

from argus_common.errors import Conflict
from argus_management.cameras.urls import strip_userinfo
from argus_management.onvif.types import MediaProfile, PtzVector

MAX_TEXT = 256
_MAX_TEXT = MAX_TEXT


def text_of(obj: Any, name: str) -> str:
    value = getattr(obj, name, None)
    return "" if value is None else str(value)[:_MAX_TEXT]


def finite(value: Any) -> float | None:
    """A finite float, or None: a camera may send NaN, infinities or integers too large
    for a float, which would break int() of a size or the JSON of a position."""
    try:
        number = None if value is None else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and math.isfinite(number) else None


def vector(raw: Any) -> PtzVector | None:
    if raw is None:
        return None
    pan_tilt = getattr(raw, "PanTilt", None)
    zoom = getattr(raw, "Zoom", None)
    return PtzVector(
        pan=finite(getattr(pan_tilt, "x", None)),
        tilt=finite(getattr(pan_tilt, "y", None)),
        zoom=finite(getattr(zoom, "x", None)),
    )


def media1_profile(raw: Any) -> MediaProfile:
    encoder = getattr(raw, "VideoEncoderConfiguration", None)
    resolution = getattr(encoder, "Resolution", None)
    rate = getattr(encoder, "RateControl", None)
    ptz = getattr(raw, "PTZConfiguration", None)
    width = finite(getattr(resolution, "Width", None))
    height = finite(getattr(resolution, "Height", None))
    encoding = getattr(encoder, "Encoding", None)
    return MediaProfile(
        token=str(getattr(raw, "token", ""))[:_MAX_TEXT],
        name=text_of(raw, "Name"),
        encoding=None if encoding is None else str(encoding)[:32],
        width=None if width is None else int(width),
        height=None if height is None else int(height),
        fps=finite(getattr(rate, "FrameRateLimit", None)),
        ptz_config_token=None if ptz is None else str(getattr(ptz, "token", "") or "ptz"),
    )


def uri_of(raw: Any, kind: str, profile_token: str) -> str:
    """The URI of a Get*Uri answer (Media1 nests it in MediaUri, Media2 does not),
    without userinfo."""
    uri = getattr(raw, "Uri", raw if isinstance(raw, str) else None)
    if not uri:
        raise Conflict(f"camera gave no {kind} URI for profile {profile_token!r}")
    return strip_userinfo(str(uri)) or ""
