"""The recorder's tiering calls to management (recordings/tier_router.py there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argus_recording.management import RecordingManagement


@dataclass(frozen=True)
class TierItem:
    """A live local segment due for the object store."""

    id: int
    camera_id: int
    path: str
    bytes: int
    due_at: datetime


@dataclass(frozen=True)
class Candidates:
    items: list[TierItem]
    due: int


async def candidates(mgmt: RecordingManagement, **request: Any) -> Candidates:
    """``POST /internal/segments/tier-candidates``."""
    resp = await mgmt.call("POST", "/internal/segments/tier-candidates", json=request)
    mgmt.check(resp)
    body = resp.json()
    items = [
        TierItem(
            id=int(i["id"]),
            camera_id=int(i["camera_id"]),
            path=str(i["path"]),
            bytes=int(i["bytes"]),
            due_at=datetime.fromisoformat(i["due_at"]),
        )
        for i in body["items"]
    ]
    return Candidates(items, int(body.get("due", 0)))


async def mark_tiered(mgmt: RecordingManagement, entries: list[tuple[int, str]]) -> set[int]:
    """Point rows at their objects; returns the ids that are gone (deleted meanwhile)."""
    resp = await mgmt.call(
        "POST",
        "/internal/segments/tiered",
        json={"items": [{"id": i, "object_key": k} for i, k in entries]},
    )
    mgmt.check(resp)
    return {int(i) for i in resp.json()["gone"]}


async def stats(mgmt: RecordingManagement) -> dict[str, int]:
    """Live segments and bytes per tier."""
    resp = await mgmt.call("GET", "/internal/segments/tier-stats")
    mgmt.check(resp)
    return {str(k): int(v) for k, v in resp.json().items()}
