"""Viewing across hosts in the namespace bed: a viewer on the LAN (the bridge address) asks
the streaming service on h1 for a camera that another host (h3) records, over WHEP, and gets
decoded frames. The streaming host pulls the camera itself (one pull per camera per host)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx
import pytest
from multihost import HOSTS, SECRETS, Bed, bed
from whep_client import whep_close, whep_connect

pytestmark = [pytest.mark.multihost, pytest.mark.chaos, pytest.mark.timeout(600)]


def recorded_by(b: Bed, host: str) -> list[int]:
    resp = httpx.get(f"{b.recorder_url(host)}/status", timeout=5)
    return sorted(resp.json()["recording"])


async def watch(b: Bed, camera_id: int) -> int:
    async with httpx.AsyncClient(base_url=b.management_url, timeout=10) as mgmt:
        token = await mgmt.post(
            "/api/v1/auth/login",
            data={"username": SECRETS.admin_username, "password": SECRETS.admin_password},
        )
        token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    async with httpx.AsyncClient(base_url=b.streaming_url("h1"), timeout=30) as client:
        resp, viewer = await whep_connect(client, f"/whep/{camera_id}", headers)
        assert resp.status_code == 201, resp.text
        assert viewer is not None
        try:
            frames = await viewer.frames(5, timeout_s=30)
        finally:
            await whep_close(client, viewer, headers)
    return len(frames)


def test_viewer_on_h1_watches_camera_recorded_on_h3(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("the multi-host bed needs root (network namespaces): run as root")
    with bed(tmp_path, 6) as b:
        end = time.monotonic() + 120
        while time.monotonic() < end and not recorded_by(b, "h3"):
            time.sleep(1)
        on_h3 = recorded_by(b, "h3")
        assert on_h3, "h3 records no camera"
        assert not set(on_h3) & set(recorded_by(b, "h1"))
        assert HOSTS["h1"] in b.streaming_url("h1")
        assert asyncio.run(watch(b, on_h3[0])) == 5
