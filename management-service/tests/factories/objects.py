"""Object events as ai-analysis-service reports them (contract: its ``objects/`` package)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.objects.models import TrackedObject

from factories.events import internal_headers


def object_payload(label: str = "person", track_id: str = "1a2b3c4d-1", *, score: float = 0.8,
                   color: str = "red", **extra: Any) -> dict[str, Any]:
    """The fields every ``object.*`` payload carries, and ``extra``."""
    return {
        "label": label, "track_id": track_id, "score": score,
        "box": {"x": 0.4, "y": 0.5, "w": 0.1, "h": 0.3}, "width": 640, "height": 360,
        "color": color, "detector": "opencv-hog", "session_id": "1a2b3c4d",
        "analyser": "analysis-test", **extra,
    }


async def report_object_event(
    client: httpx.AsyncClient, settings: Settings, camera_id: int, type: str,
    payload: dict[str, Any], *, ts: datetime | None = None, ends_at: datetime | None = None,
) -> dict[str, Any]:
    """Report an ``object.*`` event as the analyser does; returns the stored event."""
    body: dict[str, Any] = {
        "id": uuid.uuid4().hex, "type": type, "camera_id": camera_id,
        "ts": (ts or datetime.now(UTC)).isoformat(), "v": 1,
        "severity": "info" if type in ("object.track", "object.zone_leave") else "warning",
        "payload": payload,
    }
    if ends_at is not None:
        body["ends_at"] = ends_at.isoformat()
    resp = await client.post("/internal/events", json=body,
                             headers=internal_headers(settings, "analysis"))
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


def track_payload(first: datetime, seconds: float, **fields: Any) -> dict[str, Any]:
    """An ``object.track`` summary of a track seen for ``seconds`` from ``first``."""
    last = first + timedelta(seconds=seconds)
    extra = {
        "first_seen": first.isoformat(), "last_seen": last.isoformat(),
        "dwell_s": seconds, "mean_score": 0.7, "speed": 0.05, "direction": "right",
        "heading_deg": 0.0, "path": [[0.0, 0.2, 0.6], [seconds, 0.6, 0.6]], "zones": [],
        "lines": [], "hits": 12, "snapshot_ts": first.isoformat(),
    }
    extra.update({k: v for k, v in fields.items() if k in extra})
    rest = {k: v for k, v in fields.items() if k not in extra}
    return object_payload(**rest, **{k: v for k, v in extra.items()})


async def add_objects(
    maker: async_sessionmaker[AsyncSession], rows: list[dict[str, Any]]
) -> list[TrackedObject]:
    """Tracked objects written straight to the table (``camera_id``, ``first_seen`` and any
    other column per row)."""
    made = []
    async with maker() as session:
        for i, row in enumerate(rows):
            first = row["first_seen"]
            obj = TrackedObject(
                track_id=row.get("track_id", f"t-{uuid.uuid4().hex[:8]}-{i}"),
                label=row.get("label", "person"), last_seen=row.get("last_seen", first),
                dwell_s=row.get("dwell_s", 1.0), score=row.get("score", 0.8),
                color=row.get("color", "red"), box=row.get("box", {}),
                zones=row.get("zones", []), lines=row.get("lines", []), path=[],
                ended=True, reviewed=row.get("reviewed", False),
                camera_id=row["camera_id"], first_seen=first,
            )
            session.add(obj)
            made.append(obj)
        await session.commit()
    return made
