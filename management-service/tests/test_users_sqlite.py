"""Users, groups, grants, layouts and the audit API on the embedded SQLite database."""

from __future__ import annotations

from pathlib import Path

import httpx

from factories.sqlite import sqlite_app


async def test_sqlite_users_groups_layouts_audit(tmp_path: Path) -> None:
    async with sqlite_app(tmp_path / "data", "argus-sqlite-users") as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            resp = await c.post("/api/v1/auth/login",
                                data={"username": "root", "password": "sqlite-admin-pw"})
            assert resp.status_code == 200, resp.text
            h = {"Authorization": f"Bearer {resp.json()['access_token']}"}
            cam = (await c.post("/api/v1/cameras", headers=h,
                                json={"name": "Gate", "stream_url": "rtsp://10.0.0.9/main"}))
            assert cam.status_code == 201, cam.text
            cid = cam.json()["id"]

            user = await c.post("/api/v1/users", headers=h, json={
                "username": "sam", "email": "sam@example.com", "password": "sam-password",
                "roles": ["viewer"]})
            assert user.status_code == 201, user.text
            uid = user.json()["id"]
            dup = await c.post("/api/v1/users", headers=h,
                               json={"username": "SAM", "password": "sam-password"})
            assert dup.status_code == 409
            group = await c.post("/api/v1/camera-groups", headers=h,
                                 json={"name": "Front", "camera_ids": [cid]})
            assert group.status_code == 201, group.text
            grants = await c.put(f"/api/v1/users/{uid}/cameras", headers=h,
                                 json={"group_ids": [group.json()["id"]]})
            assert grants.json()["effective_camera_ids"] == [cid]
            assert (await c.patch(f"/api/v1/users/{uid}", headers=h,
                                  json={"roles": ["operator"]})).status_code == 200
            me = (await c.get("/api/v1/users", headers=h)).json()["items"][0]["id"]
            assert (await c.patch(f"/api/v1/users/{me}", headers=h,
                                  json={"roles": ["viewer"]})).status_code == 409

            layout = await c.post("/api/v1/layouts", headers=h,
                                  json={"name": "Wall", "grid": 1, "cells": [cid],
                                        "shared": True})
            assert layout.status_code == 201, layout.text
            assert (await c.post("/api/v1/layouts", headers=h,
                                 json={"name": "Wall", "grid": 1})).status_code == 409
            assert (await c.get("/api/v1/layouts", headers=h)).json()["total"] == 1

            assert (await c.delete(f"/api/v1/users/{uid}", headers=h)).status_code == 204
            audit = (await c.get("/api/v1/audit", headers=h,
                                 params={"user": "root", "target_type": "user"})).json()
            assert [e["action"] for e in audit["items"] if e["action"].startswith("user.")] == [
                "user.delete", "user.update", "user.grants", "user.create"
            ]
