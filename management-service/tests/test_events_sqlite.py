"""The embedded default: report, redeliver, list and acknowledge on SQLite."""

from __future__ import annotations

from pathlib import Path

import httpx

from argus_management.deps import app_state

from factories.events import internal_headers
from factories.sqlite import sqlite_app


async def test_sqlite_events_and_alerts(tmp_path: Path) -> None:
    async with sqlite_app(tmp_path, "argus-sqlite") as app:
        settings = app_state(app).settings
        h = {"Authorization": f"Bearer {app_state(app).jwt.issue('1', 'access', 900).token}"}
        internal = internal_headers(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            cam = await client.post("/api/v1/cameras", headers=h,
                                    json={"name": "Gate", "stream_url": "rtsp://10.0.0.9/m"})
            assert cam.status_code == 201, cam.text
            body = {"id": "sqlite-1", "type": "motion.start", "camera_id": cam.json()["id"],
                    "ts": "2026-11-22T10:00:00+01:00", "payload": {"score": 1}}
            first = await client.post("/internal/events", json=body, headers=internal)
            assert first.status_code == 201, first.text
            assert first.json()["started_at"].startswith("2026-11-22T09:00:00")
            again = await client.post("/internal/events", json=body, headers=internal)
            assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
            events = (await client.get("/api/v1/events", headers=h)).json()
            assert events["total"] == 1
            alerts = (await client.get("/api/v1/alerts", headers=h)).json()["items"]
            assert [a["kind"] for a in alerts] == ["motion"]
            ack = await client.post(f"/api/v1/alerts/{alerts[0]['id']}/ack", headers=h)
            assert ack.status_code == 200 and ack.json()["state"] == "acked"
            again_ack = await client.post(f"/api/v1/alerts/{alerts[0]['id']}/ack", headers=h)
            assert again_ack.status_code == 409
