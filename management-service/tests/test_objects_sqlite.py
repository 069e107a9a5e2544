"""Tracked objects on the embedded default: migration 0007, filing, search and review on
SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from argus_management.deps import app_state

from factories.events import internal_headers
from factories.objects import object_payload, track_payload
from factories.sqlite import sqlite_app


async def test_sqlite_objects_search_and_review(tmp_path: Path) -> None:
    t0 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    async with sqlite_app(tmp_path, "argus-sqlite") as app:
        settings = app_state(app).settings
        h = {"Authorization": f"Bearer {app_state(app).jwt.issue('1', 'access', 900).token}"}
        internal = internal_headers(settings, "analysis")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            cam = (await client.post("/api/v1/cameras", headers=h, json={
                "name": "Gate", "stream_url": "rtsp://10.0.0.9/m"})).json()
            for n, (type, payload) in enumerate((
                ("object.zone_enter", object_payload(track_id="a-1", zone="door")),
                ("object.track", track_payload(t0, 4, track_id="a-1", zones=["door"],
                                               score=0.9, color="green")),
                ("object.line_cross", object_payload("vehicle", "a-2", line="gate",
                                                     color="white")),
            )):
                resp = await client.post("/internal/events", headers=internal, json={
                    "id": f"sqlite-{n}", "type": type, "camera_id": cam["id"],
                    "ts": t0.isoformat(), "payload": payload})
                assert resp.status_code == 201, resp.text
            found = (await client.get("/api/v1/search?zone=door&label=person&color=green",
                                      headers=h)).json()
            assert [i["track_id"] for i in found["items"]] == ["a-1"]
            assert found["items"][0]["dwell_s"] == 4 and found["items"][0]["ended"]
            by_score = (await client.get("/api/v1/search?sort=score", headers=h)).json()
            assert [i["track_id"] for i in by_score["items"]] == ["a-1", "a-2"]
            assert (await client.get("/api/v1/search?line=gate", headers=h)).json()[
                "total"] == 1
            reviewed = await client.post(
                f"/api/v1/objects/{found['items'][0]['id']}/review", headers=h)
            assert reviewed.status_code == 200 and reviewed.json()["reviewed"]
            queue = (await client.get("/api/v1/review", headers=h)).json()
            assert [i["track_id"] for i in queue["items"]] == ["a-2"]
