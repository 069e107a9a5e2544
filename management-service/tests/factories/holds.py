"""Legal holds for tests, placed through the API as an operator would."""

from __future__ import annotations

from datetime import datetime

import httpx


async def hold_range(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    camera_id: int,
    start: datetime,
    end: datetime,
    reason: str = "case 12",
) -> int:
    """Hold ``camera_id``'s footage from ``start`` to ``end``; the new hold's id."""
    resp = await client.post(
        "/api/v1/holds",
        headers=headers,
        json={
            "kind": "range",
            "camera_id": camera_id,
            "reason": reason,
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])
