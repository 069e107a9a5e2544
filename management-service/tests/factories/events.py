"""Events reported through ``POST /internal/events`` for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from argus_common.service_keys import derive_service_key
from argus_management.config import Settings


def service_key(settings: Settings, service: str) -> str:
    """``service``'s credential under the test deployment's master key."""
    return derive_service_key(settings.internal_api_key, service)


def internal_headers(settings: Settings, service: str = "recording") -> dict[str, str]:
    """The header of an internal call made by ``service`` (recording: segments, events)."""
    return {"X-Internal-Api-Key": service_key(settings, service)}


def event_body(
    camera_id: int | None, type: str = "motion.start", *, ts: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    """An ``EventMessage`` as a media service would send it."""
    return {
        "id": uuid.uuid4().hex,
        "type": type,
        "camera_id": camera_id,
        "ts": (ts or datetime.now(UTC)).isoformat(),
        "v": 1,
        **extra,
    }


async def report_event(
    client: httpx.AsyncClient, settings: Settings, camera_id: int | None,
    type: str = "motion.start", **extra: Any,
) -> dict[str, Any]:
    """Report an event and return the stored row (asserting it was new)."""
    resp = await client.post(
        "/internal/events", json=event_body(camera_id, type, **extra),
        headers=internal_headers(settings),
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body
