"""The embedded default: migrate, log in and manage cameras on SQLite."""

from __future__ import annotations

from pathlib import Path

import httpx

from factories.sqlite import sqlite_app


async def test_sqlite_migrate_login_camera_crud(tmp_path: Path) -> None:
    db = tmp_path / "data" / "argus.db"
    # The app runs the migrations on start.
    async with sqlite_app(tmp_path / "data", "argus-sqlite") as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            resp = await client.post("/api/v1/auth/login",
                                     data={"username": "root", "password": "sqlite-admin-pw"})
            assert resp.status_code == 200, resp.text
            h = {"Authorization": f"Bearer {resp.json()['access_token']}"}
            created = await client.post(
                "/api/v1/cameras", headers=h,
                json={"name": "Gate", "stream_url": "rtsp://u:p4ss@10.0.0.9/main"},
            )
            assert created.status_code == 201, created.text
            cid = created.json()["id"]
            assert created.json()["stream_url"] == "rtsp://10.0.0.9/main"
            patched = await client.patch(f"/api/v1/cameras/{cid}", headers=h,
                                         json={"retention_days": 7})
            assert patched.json()["retention_days"] == 7
            listing = await client.get("/api/v1/cameras", headers=h)
            assert [c["name"] for c in listing.json()["items"]] == ["Gate"]
            assert (await client.delete(f"/api/v1/cameras/{cid}", headers=h)).status_code == 204
            assert (await client.get(f"/api/v1/cameras/{cid}", headers=h)).status_code == 404
    assert db.exists()
