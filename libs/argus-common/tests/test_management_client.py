"""The shared management client against a small real HTTP server on 127.0.0.1 that answers
like management's internal API: typed cameras, errors mapped to ``argus_common.errors``,
the internal key only on internal calls."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from argus_common.cameras import Camera
from argus_common.errors import Unavailable
from argus_common.events import EventMessage
from argus_common.management import ManagementClient, Refused
from argus_common.serving import HttpServer

KEY = "internal-key-for-tests"
CAMERAS: list[dict[str, Any]] = [
    {"id": 1, "name": "door", "kind": "rtsp", "stream_url": "rtsp://cam1:554/main",
     "sub_stream_url": "rtsp://cam1:554/sub", "username": "ad@min", "password": "p@ss:w/rd",
     "enabled": True, "recording_mode": "events", "retention_days": 7,
     "analysis": {"enabled": True, "sensitivity": 70}, "connect_timeout_s": 2.5,
     "read_timeout_s": 4.0, "has_ptz": True, "status": "online", "extra": "ignored"},
    {"id": 2, "name": "yard", "stream_url": "rtmp://127.0.0.1/live/yard", "username": None,
     "password": None, "enabled": False, "connect_timeout_s": None},
]

SEEN: list[dict[str, str]] = []  # headers of the user calls the fake received


def _fake_management() -> FastAPI:
    app = FastAPI()

    def refused(key: str | None) -> JSONResponse | None:
        if key != KEY:
            return JSONResponse({"error": "Unauthorized", "detail": "bad key"}, 401)
        return None

    @app.get("/internal/cameras")
    async def cameras(x_internal_api_key: str | None = Header(None)) -> Any:
        return refused(x_internal_api_key) or CAMERAS

    @app.get("/internal/cameras/{camera_id}")
    async def camera(camera_id: int, x_internal_api_key: str | None = Header(None)) -> Any:
        if (bad := refused(x_internal_api_key)) is not None:
            return bad
        if camera_id == 500:
            return JSONResponse({"error": "InternalError", "detail": "boom"}, 500)
        for item in CAMERAS:
            if item["id"] == camera_id:
                return item
        return JSONResponse({"error": "NotFound", "detail": "camera not found"}, 404)

    @app.post("/internal/events")
    async def events(request: Request, x_internal_api_key: str | None = Header(None)) -> Any:
        if (bad := refused(x_internal_api_key)) is not None:
            return bad
        body = await request.json()
        if body["type"] == "refuse.me":
            return JSONResponse({"error": "ValidationError", "detail": "unknown type"}, 422)
        return JSONResponse({"id": 41 + int(body["camera_id"])}, 201)

    @app.get("/api/v1/whoami")
    async def whoami(request: Request) -> Any:
        SEEN.append(dict(request.headers))
        return {"authorization": request.headers.get("authorization")}

    return app


@pytest.fixture
async def management() -> AsyncIterator[HttpServer]:
    server = HttpServer(_fake_management(), "127.0.0.1", 0)
    await server.start()
    yield server
    await server.stop()


def _client(server: HttpServer, key: str = KEY) -> ManagementClient[Camera]:
    return ManagementClient(f"http://127.0.0.1:{server.port}/", key, Camera, user_agent="unit")


async def test_cameras_come_back_typed_with_secrets_kept_out_of_repr(
    management: HttpServer,
) -> None:
    client = _client(management)
    try:
        door, yard = await client.cameras()
    finally:
        await client.aclose()
    assert (door.id, door.name, door.recording_mode, door.retention_days) == (1, "door", "events", 7)
    assert door.analysis == {"enabled": True, "sensitivity": 70} and door.has_ptz
    assert (door.connect_timeout_s, door.read_timeout_s) == (2.5, 4.0)
    assert "p@ss" not in repr(door) and "p@ss" not in door.stream_url
    assert door.source_url() == "rtsp://ad%40min:p%40ss%3Aw%2Frd@cam1:554/main"
    assert door.source_url(prefer_sub=True) == "rtsp://ad%40min:p%40ss%3Aw%2Frd@cam1:554/sub"
    assert door.connection_key() != door.connection_key(prefer_sub=True)
    # Missing and null fields take the defaults; no credentials, no userinfo.
    assert (yard.enabled, yard.kind, yard.recording_mode, yard.sub_stream_url) == (
        False, "rtsp", "continuous", None)
    assert (yard.connect_timeout_s, yard.read_timeout_s, yard.analysis) == (5.0, 3.0, {})
    assert yard.source_url(prefer_sub=True) == "rtmp://127.0.0.1/live/yard"


async def test_one_camera_none_when_gone_and_errors_mapped(management: HttpServer) -> None:
    client = _client(management)
    try:
        camera = await client.camera(1)
        assert camera is not None and camera.name == "door"
        assert await client.camera(99) is None
        with pytest.raises(Unavailable, match="500"):
            await client.camera(500)
        event = EventMessage(type="stream.down", camera_id=1, severity="warning")
        assert await client.report_event(event) == 42
        with pytest.raises(Refused) as refused:
            await client.report_event(EventMessage(type="refuse.me", camera_id=1))
        assert refused.value.status == 422 and refused.value.status_code == 502
        assert await client.ping() is False  # the fake has no /healthz: 404
    finally:
        await client.aclose()


async def test_a_wrong_key_is_unavailable_not_an_empty_list(management: HttpServer) -> None:
    client = _client(management, key="wrong")
    try:
        with pytest.raises(Unavailable, match="401"):
            await client.cameras()
    finally:
        await client.aclose()


async def test_user_calls_never_carry_the_internal_key(management: HttpServer) -> None:
    client = _client(management)
    try:
        resp = await client.send("GET", "/api/v1/whoami", internal=False,
                                 headers={"Authorization": "Bearer user-token"})
    finally:
        await client.aclose()
    assert resp.json() == {"authorization": "Bearer user-token"}
    headers = SEEN[-1]
    assert "x-internal-api-key" not in headers and headers["user-agent"] == "unit"


async def test_management_down_is_unavailable_without_the_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ManagementClient(f"http://127.0.0.1:{port}", KEY, Camera)
    try:
        with pytest.raises(Unavailable) as down:
            await client.cameras()
        assert str(port) not in str(down.value)
        assert await client.ping() is False
    finally:
        await client.aclose()
