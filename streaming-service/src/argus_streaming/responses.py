"""OpenAPI declarations of the 5xx answers a route gives on purpose (``responses=``):
a camera or management-service that does not answer is a gateway error, never a 500."""

from __future__ import annotations

from typing import Any

_ENVELOPE: dict[str, Any] = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}}}}

MANAGEMENT_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"description": "management-service (cameras, access checks, the recordings "
                         "timeline) cannot be reached", **_ENVELOPE},
}
CAMERA_DOWN: dict[int | str, dict[str, Any]] = {
    502: {"description": "the camera refused the stream or it stopped", **_ENVELOPE},
    504: {"description": "the camera did not answer, or sent no picture, in time",
          **_ENVELOPE},
}
