"""OpenAPI declarations of the 5xx answers a route gives on purpose (``responses=``): a
camera that refuses or does not answer is a gateway error, never a 500."""

from __future__ import annotations

from typing import Any

from argus_common.errors import ErrorOut

CAMERA_DOWN: dict[int | str, dict[str, Any]] = {
    502: {
        "model": ErrorOut,
        "description": "the camera refused our credentials or answered with an error",
    },
    504: {
        "model": ErrorOut,
        "description": "the camera did not answer in time, or refused the connection",
    },
}
NETWORK_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorOut, "description": "the discovery probe could not be sent"},
}
