"""Bad input gets a 4xx in the error envelope and changes nothing."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.cameras.models import Camera

BIG = "x" * 1_000_000


async def _counts(maker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with maker() as s:
        cams = await s.scalar(select(func.count()).select_from(Camera))
        audit = await s.scalar(select(func.count()).select_from(AuditEntry))
        return int(cams or 0), int(audit or 0)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"name": "x", "stream_url": ', "application/json"),  # malformed JSON
        (b"\xff\xfe\x00garbage", "application/json"),  # not UTF-8
        (b'["a", "list"]', "application/json"),  # wrong top-level type
        (b'{"name": 5, "stream_url": ["rtsp://h/"]}', "application/json"),  # wrong types
        (b'{"name": "x", "stream_url": "rtsp://h/", "admin": true}', "application/json"),
        (b'{"name": "x", "stream_url": "rtsp://h/", "retention_days": "many"}', "application/json"),
        (b'{"name": "x", "stream_url": "rtsp://h/", "onvif_port": 70000}', "application/json"),
        (b'{"name": "\\u0000", "stream_url": "rtsp://h/"}', "application/json"),
        (b'{"name": "x", "stream_url": "rtsp://h/"}', "text/plain"),
        (b"", "application/json"),
    ],
)
async def test_bad_camera_bodies(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession], content: bytes, content_type: str,
) -> None:
    before = await _counts(maker)
    resp = await client.post("/api/v1/cameras", content=content,
                             headers={**admin_headers, "Content-Type": content_type})
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == {"error", "detail"} and body["detail"]
    assert await _counts(maker) == before


@pytest.mark.parametrize("field", ["name", "stream_url", "username", "password", "onvif_host"])
async def test_megabyte_strings_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession], field: str,
) -> None:
    body = {"name": "cam", "stream_url": "rtsp://10.0.0.1/", field: BIG}
    resp = await client.post("/api/v1/cameras", json=body, headers=admin_headers)
    assert resp.status_code == 422
    assert resp.json()["error"] == "ValidationError"
    assert BIG[:1000] not in resp.text  # the input is not echoed back
    assert await _counts(maker) == (0, 0)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/cameras/abc", "/api/v1/cameras/0", "/api/v1/cameras/99999999999999999999",
     "/api/v1/cameras?limit=0", "/api/v1/cameras?limit=100000", "/api/v1/cameras?offset=-1"],
)
async def test_bad_paths_and_queries(
    client: httpx.AsyncClient, admin_headers: dict[str, str], path: str
) -> None:
    resp = await client.get(path, headers=admin_headers)
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}


async def test_missing_and_malformed_auth(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer " + "a" * 5000}, {"Authorization": "Bearer a.b.c"}):
        resp = await client.get("/api/v1/cameras", headers=headers)
        assert resp.status_code == 401, headers
        assert resp.json()["error"] == "Unauthorized"


async def test_method_not_allowed_uses_envelope(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    resp = await client.put("/api/v1/cameras", json={}, headers=admin_headers)
    assert resp.status_code == 405
    assert resp.json()["error"] == "MethodNotAllowed"
