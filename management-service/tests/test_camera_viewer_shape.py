"""Viewers do not receive where a camera is or how to log in to it (issue 16, finding 11):
without ``cameras:write`` the camera's stream URLs, account name and ONVIF address are
left out of ``GET /api/v1/cameras`` and ``GET /api/v1/cameras/{id}``."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings

from factories.cameras import create_camera
from factories.users import create_user, login

HIDDEN = {"stream_url": "", "sub_stream_url": None, "username": None, "onvif_host": None,
          "onvif_port": None}


async def test_viewers_get_no_addresses_or_account(
    client: httpx.AsyncClient, settings: Settings, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key, name="Gate",
                              stream_url="rtsp://10.1.2.3:554/main")  # account "camuser"
    for role in ("viewer", "operator"):
        user = await create_user(maker, role, camera_ids=[cam.id])
        headers = await login(client, user.username)
        one = (await client.get(f"/api/v1/cameras/{cam.id}", headers=headers)).json()
        listed = (await client.get("/api/v1/cameras", headers=headers)).json()["items"]
        for body in (one, listed[0]):
            assert body["name"] == "Gate" and body["id"] == cam.id
            assert {k: body[k] for k in HIDDEN} == HIDDEN, (role, body)
            assert "10.1.2.3" not in str(body) and "camuser" not in str(body)
    full = (await client.get(f"/api/v1/cameras/{cam.id}", headers=admin_headers)).json()
    assert full["stream_url"] == "rtsp://10.1.2.3:554/main" and full["username"] == "camuser"
    listed = (await client.get("/api/v1/cameras", headers=admin_headers)).json()["items"]
    assert listed[0]["stream_url"] == "rtsp://10.1.2.3:554/main"
