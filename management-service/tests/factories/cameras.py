"""Cameras for tests, written straight to the database."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.cameras.crypto import encrypt_secret
from argus_management.cameras.models import Camera

CAMERA_PASSWORD = "cam-secret-Pa55"


async def create_camera(
    maker: async_sessionmaker[AsyncSession],
    secret_key: str,
    *,
    name: str | None = None,
    stream_url: str = "rtsp://127.0.0.1:8554/cam1/main",
    password: str | None = CAMERA_PASSWORD,
) -> Camera:
    async with maker() as session:
        cam = Camera(
            name=name or f"cam-{uuid.uuid4().hex[:8]}",
            stream_url=stream_url,
            username="camuser",
            password_enc=encrypt_secret(secret_key, password) if password else None,
        )
        session.add(cam)
        await session.commit()
        return cam
