"""ONVIF discovery, probe and registration from a probe, against the simulator's devices; camera
errors (bad password, unreachable) as 502/504, and the clock offset correction."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.onvif.device import OnvifDevice
from argus_testkit.ports import free_port

from factories.onvif_sim import SIM_PASSWORD, SIM_USER, OnvifSim, create_onvif_camera, launch_onvif
from factories.users import bearer, create_user

DISCOVER = "/api/v1/cameras/onvif/discover"
PROBE = "/api/v1/cameras/onvif/probe"


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    s = launch_onvif(cameras=2)
    yield s
    s.stop()


@pytest.fixture
async def admin(admin_headers: dict[str, str]) -> dict[str, str]:
    return admin_headers


def probe_body(sim: OnvifSim, path: str = "cam1", **extra: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": sim.onvif_ports[path], "username": SIM_USER,
            "password": SIM_PASSWORD, **extra}


async def audit_rows(maker: async_sessionmaker[AsyncSession], action: str) -> list[AuditEntry]:
    async with maker() as s:
        return list(await s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def test_discovery_finds_the_simulator_and_marks_registered(
    client: httpx.AsyncClient, admin: dict[str, str], sim: OnvifSim, app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    body = {"timeout_s": 0.5, "target": {"host": "127.0.0.1", "port": sim.discovery_port}}
    resp = await client.post(DISCOVER, json=body, headers=admin)
    assert resp.status_code == 200, resp.text
    devices = {d["port"]: d for d in resp.json()["devices"]}
    port1, port2 = sim.onvif_ports["cam1"], sim.onvif_ports["cam2"]
    assert set(devices) == {port1, port2}
    cam1 = devices[port1]
    assert cam1["xaddrs"] == [f"http://127.0.0.1:{port1}/onvif/device_service"]
    assert cam1["name"] == "Camera 1" and cam1["hardware"] == "CamSim"
    assert cam1["endpoint_reference"].startswith("urn:uuid:")
    assert cam1["registered"] is False and cam1["camera_id"] is None

    cam = await create_onvif_camera(maker, app_state(app).settings.secret_key, port1)
    again = (await client.post(DISCOVER, json=body, headers=admin)).json()["devices"]
    marked = {d["port"]: (d["registered"], d["camera_id"]) for d in again}
    assert marked == {port1: (True, cam.id), port2: (False, None)}


async def test_discovery_input_and_permission(
    client: httpx.AsyncClient, admin: dict[str, str], maker: async_sessionmaker[AsyncSession],
    app: FastAPI,
) -> None:
    for body in ({"timeout_s": 0.1}, {"timeout_s": 11}, {"timeout_s": "x"},
                 {"target": {"host": "a b"}}, {"target": {"host": "x", "port": 0}},
                 {"timeout_s": 1, "extra": 1}):
        resp = await client.post(DISCOVER, json=body, headers=admin)
        assert resp.status_code == 422, (body, resp.text)
    link_local = {"timeout_s": 0.5, "target": {"host": "169.254.169.254", "port": 3702}}
    resp = await client.post(DISCOVER, json=link_local, headers=admin)
    assert resp.status_code == 422 and "link-local" in resp.json()["detail"]
    operator = await create_user(maker, "operator")
    resp = await client.post(DISCOVER, json={"timeout_s": 0.5}, headers=bearer(app_state(app), operator))
    assert resp.status_code == 403


async def test_probe_describes_profiles_without_credentials(
    client: httpx.AsyncClient, admin: dict[str, str], sim: OnvifSim,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    resp = await client.post(PROBE, json=probe_body(sim), headers=admin)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["device"]["manufacturer"] == "ARGUS" and out["device"]["model"] == "CamSim"
    assert abs(out["time_offset_s"]) < 2
    profiles = {p["token"]: p for p in out["profiles"]}
    assert set(profiles) == {"main", "sub"}
    main, sub = profiles["main"], profiles["sub"]
    assert (main["width"], main["height"], main["encoding"], main["fps"]) == (320, 180, "H264", 10)
    assert (sub["width"], sub["height"]) == (160, 90)
    assert main["stream_uri"] == f"rtsp://127.0.0.1:{sim.sim.rtsp_port}/cam1/main"
    assert sub["stream_uri"].endswith("/cam1/sub") and "@" not in sub["stream_uri"]
    assert main["has_ptz"] and (out["main_profile"], out["sub_profile"]) == ("main", "sub")
    assert out["ptz"]["supported"] is True and out["ptz"]["profile"] == "main"
    assert "password" not in resp.text and SIM_PASSWORD + "@" not in resp.text
    (row,) = await audit_rows(maker, "camera.onvif_probe")
    assert row.result == "success" and row.summary["profiles"] == ["main", "sub"]
    assert "password" not in row.summary and row.summary["host"] == "127.0.0.1"


async def test_probe_with_wrong_password_is_502_and_audited(
    client: httpx.AsyncClient, admin: dict[str, str], sim: OnvifSim,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    resp = await client.post(PROBE, json=probe_body(sim, password="wrong-pw"), headers=admin)
    assert resp.status_code == 502, resp.text
    assert resp.json() == {"error": "BadGateway", "detail": "camera authentication failed"}
    (row,) = await audit_rows(maker, "camera.onvif_probe")
    assert row.result == "failure" and "wrong-pw" not in str(row.summary)


async def test_unreachable_camera_is_504_within_its_timeout(
    client: httpx.AsyncClient, admin: dict[str, str],
) -> None:
    closed = {"host": "127.0.0.1", "port": free_port(), "connect_timeout_s": 0.5}
    resp = await client.post(PROBE, json=closed, headers=admin)
    assert resp.status_code == 504 and "camera unreachable" in resp.json()["detail"]

    # A listener that never answers: the connect timeout is what ends the wait.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        body = {"host": "127.0.0.1", "port": silent.getsockname()[1], "connect_timeout_s": 0.5}
        started = time.monotonic()
        resp = await client.post(PROBE, json=body, headers=admin)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert resp.status_code == 504, resp.text
    assert resp.json()["detail"] == "camera unreachable: no answer within 0.5 s"
    assert elapsed < 3.0


async def test_probe_host_is_checked_like_camera_urls(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI, sim: OnvifSim,
) -> None:
    for host in ("169.254.169.254", "fe80::1", "user@host", "http://x", "a b"):
        resp = await client.post(PROBE, json={"host": host, "port": 80}, headers=admin)
        assert resp.status_code == 422, (host, resp.text)
    settings = app_state(app).settings
    old = settings.camera_allowed_networks
    settings.camera_allowed_networks = "10.0.0.0/8"
    try:
        resp = await client.post(PROBE, json=probe_body(sim), headers=admin)
        assert resp.status_code == 422 and "CAMERA_ALLOWED_NETWORKS" in resp.json()["detail"]
    finally:
        settings.camera_allowed_networks = old


async def test_register_straight_from_a_probe(
    client: httpx.AsyncClient, admin: dict[str, str], sim: OnvifSim,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    port = sim.onvif_ports["cam2"]
    body = {"name": "Dock", "onvif_host": "127.0.0.1", "onvif_port": port, "username": SIM_USER,
            "password": SIM_PASSWORD, "onvif_profile": "main", "onvif_sub_profile": "sub"}
    resp = await client.post("/api/v1/cameras", json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    cam = resp.json()
    rtsp = f"rtsp://127.0.0.1:{sim.sim.rtsp_port}/cam2"
    assert (cam["stream_url"], cam["sub_stream_url"]) == (f"{rtsp}/main", f"{rtsp}/sub")
    assert cam["has_ptz"] is True and cam["kind"] == "onvif" and cam["has_password"] is True

    for bad, field in (({"onvif_profile": "nope"}, "onvif_profile"),
                       ({"onvif_sub_profile": "nope"}, "onvif_sub_profile"),
                       ({"onvif_host": None}, "onvif_host"),
                       ({"onvif_profile": None}, "onvif_profile")):
        resp = await client.post("/api/v1/cameras", json={**body, "name": "X", **bad},
                                 headers=admin)
        assert resp.status_code == 422 and field in resp.json()["detail"], (bad, resp.text)
    resp = await client.post("/api/v1/cameras", json={**body, "name": "Y", "password": "bad"},
                             headers=admin)
    assert resp.status_code == 502
    async with maker() as s:
        assert list(await s.scalars(select(Camera.name))) == ["Dock"]


@pytest.fixture
async def skewed_server() -> AsyncIterator[Any]:
    """An ONVIF device of the simulator whose clock is an hour ahead, run in this process:
    the command line has no flag for it, ``start_onvif`` has ``clock_offset_s`` (and the
    server reads ``clock_offset_s`` at each request, so a test can make the clock jump)."""
    from argus_camsim.model import CameraInfo
    from argus_camsim.onvif import OnvifAuth, start_onvif

    async def snapshot() -> bytes:
        return b""

    server = await start_onvif(
        CameraInfo(index=1, name="Skewed", width=320, height=180), "127.0.0.1", 0,
        OnvifAuth(SIM_USER, SIM_PASSWORD), snapshot, "rtsp://127.0.0.1:8554",
        clock_offset_s=3600.0,
    )
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def skewed_device(skewed_server: Any) -> tuple[int, float]:
    return int(skewed_server.port), float(skewed_server.clock_offset_s)


async def test_clock_offset_is_corrected(skewed_device: tuple[int, float]) -> None:
    port, offset = skewed_device
    device = OnvifDevice("127.0.0.1", port, SIM_USER, SIM_PASSWORD, connect_timeout_s=2)
    naive = OnvifDevice("127.0.0.1", port, SIM_USER, SIM_PASSWORD, connect_timeout_s=2,
                        adjust_time=False)
    try:
        info = await device.device_info()
        assert info.model == "CamSim"
        assert abs(device.time_offset_s - offset) < 2
        # Signed with our own clock, the digest is an hour off: the camera refuses it.
        with pytest.raises(Exception) as refused:
            await naive.device_info()
        assert getattr(refused.value, "status_code", None) == 502
        assert str(refused.value) == "camera authentication failed"
    finally:
        await asyncio.gather(device.close(), naive.close())


async def test_probe_reports_the_corrected_offset(
    client: httpx.AsyncClient, admin: dict[str, str], skewed_device: tuple[int, float],
    settings: Settings,
) -> None:
    port, offset = skewed_device
    body = {"host": "127.0.0.1", "port": port, "username": SIM_USER, "password": SIM_PASSWORD}
    resp = await client.post(PROBE, json=body, headers=admin)
    assert resp.status_code == 200, resp.text
    assert abs(resp.json()["time_offset_s"] - offset) < 2


async def test_a_camera_clock_that_jumps_is_read_again(skewed_server: Any) -> None:
    device = OnvifDevice("127.0.0.1", skewed_server.port, SIM_USER, SIM_PASSWORD,
                         connect_timeout_s=2)
    try:
        assert (await device.status()).moving is False
        skewed_server.clock_offset_s = -7200.0  # the camera's clock is set back 3 hours
        with pytest.raises(Exception, match="camera authentication failed"):
            await device.status()
        # The failure made the device read the clock again: the next call is signed right.
        assert (await device.status()).moving is False
        assert abs(device.time_offset_s + 7200) < 2
    finally:
        await device.close()
