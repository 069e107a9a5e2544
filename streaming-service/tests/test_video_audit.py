"""Video access reaches management's audit log: one start and one end row per viewing
session, with who, which camera, from where and how long (a real simulator camera, the
real ``argus:audit`` stream and management's consumer)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from streaming_support import World
from whep_client import whep_close, whep_connect


async def _audit_rows(world: World, agent: str, want: int, timeout_s: float = 30.0
                      ) -> list[dict[str, Any]]:
    """management's video rows made with User-Agent ``agent``, oldest first, once there
    are ``want`` of them (bounded wait: the report crosses Redis and a consumer)."""
    rows: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=world.management_url, timeout=10) as mgmt:
        for _ in range(int(timeout_s / 0.2)):
            resp = await mgmt.get("/api/v1/audit", headers=world.auth(),
                                  params={"target_type": "camera", "limit": 200})
            assert resp.status_code == 200, resp.text
            rows = [r for r in resp.json()["items"]
                    if r["user_agent"] == agent and r["action"].startswith("video.")]
            if len(rows) >= want:
                return sorted(rows, key=lambda r: r["id"])
            await asyncio.sleep(0.2)
    raise AssertionError(f"expected {want} audit rows for {agent}, found {rows}")


async def test_whep_live_session_is_audited_with_its_duration(
    world: World, client: httpx.AsyncClient,
) -> None:
    agent = f"audit-viewer-{uuid.uuid4().hex[:8]}"
    headers = {**world.auth(world.viewer_id), "User-Agent": agent}
    opened = time.monotonic()
    resp, viewer = await whep_connect(client, f"/whep/{world.camera_id}", headers)
    assert resp.status_code == 201, resp.text
    assert viewer is not None
    assert len(await viewer.frames(15, timeout_s=15)) == 15
    # While it plays, the start is already in the log (a crash now would not lose it).
    [start] = await _audit_rows(world, agent, 1)
    assert start["action"] == "video.start"
    assert await whep_close(client, viewer, headers) == 200
    watched = time.monotonic() - opened
    start, end = await _audit_rows(world, agent, 2)
    assert [start["action"], end["action"]] == ["video.start", "video.end"]
    for row in (start, end):
        assert row["user_id"] == world.viewer_id and row["username"]
        assert (row["target_type"], row["target_id"]) == ("camera", str(world.camera_id))
        assert row["ip"] == "127.0.0.1"
        assert row["summary"]["kind"] == "live" and row["summary"]["stream"] == "main"
    assert start["summary"]["session_id"] == end["summary"]["session_id"]
    assert 0 < end["summary"]["duration_s"] <= watched + 1
    assert end["summary"]["reason"] == "closed"
    assert "range_start" not in end["summary"]


async def test_hls_viewer_is_one_audited_session(
    world: World, client: httpx.AsyncClient,
) -> None:
    agent = f"audit-hls-{uuid.uuid4().hex[:8]}"
    headers = {**world.auth(world.viewer_id), "User-Agent": agent}
    resp = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                             headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    for _ in range(3):  # every fetch of the same ticket is the same session
        got = await client.get(body["hls_url"], headers={"User-Agent": agent})
        assert got.status_code == 200, got.text
    stop = await client.post("/v1/streams/stop", json={"session_id": body["session_id"]},
                             headers=headers)
    assert (stop.status_code, stop.json()) == (200, {"status": "stopped"}), stop.text
    start, end = await _audit_rows(world, agent, 2)
    assert [start["action"], end["action"]] == ["video.start", "video.end"]
    assert end["summary"]["kind"] == "hls" and end["summary"]["reason"] == "ended"
    assert start["summary"]["session_id"] == end["summary"]["session_id"]
    assert end["user_id"] == world.viewer_id and end["ip"] == "127.0.0.1"
    assert end["summary"]["duration_s"] >= 0
