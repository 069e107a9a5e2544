"""ONVIF cameras for the ONVIF and PTZ tests: a simulator with WS-Discovery and PTZ read
through its control API, and camera rows pointing at its ONVIF ports."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.cameras.crypto import encrypt_secret
from argus_management.cameras.models import Camera
from argus_testkit.ports import free_udp_port

from factories.camsim import Camsim, launch

SIM_USER = "admin"
SIM_PASSWORD = "admin"


@dataclass
class OnvifSim:
    """A running simulator with ONVIF (digest auth) and a WS-Discovery responder."""

    sim: Camsim
    discovery_port: int

    @property
    def onvif_ports(self) -> dict[str, int]:
        return self.sim.onvif_ports

    async def camera(self, path: str = "cam1") -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            resp = await client.get(f"{self.sim.control}/cameras/{path}")
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    async def ptz(self, path: str = "cam1") -> dict[str, Any]:
        """``{"pan", "tilt", "zoom", "moving"}`` of a camera's PTZ head, as the picture shows."""
        ptz: dict[str, Any] = (await self.camera(path))["ptz"]
        return ptz

    async def put_ptz(self, path: str = "cam1", **position: float) -> None:
        """Absolute move through the control API (also ends a continuous move)."""
        async with httpx.AsyncClient(timeout=5) as client:
            resp = await client.post(f"{self.sim.control}/ptz/{path}", json=position)
        resp.raise_for_status()

    def log_count(self, needle: str) -> int:
        """How many output lines so far contain ``needle`` (the ONVIF side logs each op)."""
        return sum(needle in line for line in list(self.sim.lines))

    async def wait_ptz(
        self, check: Callable[[dict[str, Any]], bool], path: str = "cam1", timeout_s: float = 3.0
    ) -> dict[str, Any]:
        """Poll the PTZ head until ``check(ptz)`` holds (bounded); returns the last reading.
        Asynchronous, so the app's own timers keep running meanwhile."""
        deadline = time.monotonic() + timeout_s
        ptz = await self.ptz(path)
        while not check(ptz) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            ptz = await self.ptz(path)
        return ptz

    def stop(self) -> None:
        self.sim.stop()


def launch_onvif(cameras: int = 2) -> OnvifSim:
    """Simulator with ``cameras`` ONVIF devices, digest auth admin/admin, discovery on a free
    UDP port, small pictures."""
    discovery = free_udp_port()
    sim = launch(
        "--cameras", str(cameras), "--discovery", "--discovery-port", str(discovery),
        "--auth", "digest", "--username", SIM_USER, "--password", SIM_PASSWORD,
        "--resolution", "320x180", "--sub-resolution", "160x90", "--fps", "10",
        "--log-level", "INFO", onvif=True,
    )
    return OnvifSim(sim, discovery)


async def create_onvif_camera(
    maker: async_sessionmaker[AsyncSession], secret_key: str, port: int, *,
    password: str | None = SIM_PASSWORD, has_ptz: bool = True, host: str | None = "127.0.0.1",
    connect_timeout_s: float = 2.0, read_timeout_s: float = 2.0,
) -> Camera:
    """A camera row for a simulator ONVIF port, written straight to the database."""
    async with maker() as session:
        cam = Camera(
            name=f"ptz-{uuid.uuid4().hex[:8]}",
            kind="onvif",
            stream_url="rtsp://127.0.0.1:8554/cam1/main",
            username=SIM_USER,
            password_enc=encrypt_secret(secret_key, password) if password else None,
            onvif_host=host,
            onvif_port=port,
            has_ptz=has_ptz,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
        )
        session.add(cam)
        await session.commit()
        return cam
