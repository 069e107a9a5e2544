"""Camera API: CRUD, URL rules, write-only credentials, per-camera access, cache, internal API."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management import versions
from argus_management.audit.models import AuditEntry
from argus_management.cameras.models import Camera
from argus_management.deps import app_state
from argus_management.rbac.models import CameraGrant

from factories.cameras import CAMERA_PASSWORD, create_camera
from factories.events import service_key
from factories.users import bearer, create_user

NEW = {"name": "Lobby", "stream_url": "rtsp://10.1.2.3:554/stream1"}


async def count(maker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with maker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_create_moves_url_credentials_out_and_never_returns_password(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    body = {**NEW, "stream_url": "rtsp://op:s3cr%40t@10.1.2.3:554/stream1",
            "sub_stream_url": "rtsp://10.1.2.3:554/stream2"}
    resp = await client.post("/api/v1/cameras", json=body, headers=admin_headers)
    assert resp.status_code == 201, resp.text
    cam = resp.json()
    assert cam["stream_url"] == "rtsp://10.1.2.3:554/stream1"
    assert cam["username"] == "op" and cam["has_password"] is True
    assert "password" not in cam and "s3cr" not in resp.text
    async with maker() as s:
        row = await s.get(Camera, cam["id"])
        assert row is not None and b"s3cr" not in (row.password_enc or b"")
        assert "s3cr" not in row.stream_url


async def test_internal_api_gives_credentials_with_the_key_only(
    client: httpx.AsyncClient, app: FastAPI, admin_headers: dict[str, str]
) -> None:
    resp = await client.post(
        "/api/v1/cameras", json={**NEW, "username": "u", "password": "pw-123456"},
        headers=admin_headers,
    )
    cid = resp.json()["id"]
    assert (await client.get("/internal/cameras")).status_code == 401
    bad = await client.get("/internal/cameras", headers={"X-Internal-Api-Key": "nope" * 8})
    assert bad.status_code == 401 and bad.json()["error"] == "Unauthorized"
    master = {"X-Internal-Api-Key": app_state(app).settings.internal_api_key}
    assert (await client.get("/internal/cameras", headers=master)).status_code == 401
    key = {"X-Internal-Api-Key": service_key(app_state(app).settings, "streaming")}
    listing = await client.get("/internal/cameras", headers=key)
    assert listing.status_code == 200
    assert [c["password"] for c in listing.json() if c["id"] == cid] == ["pw-123456"]
    one = await client.get(f"/internal/cameras/{cid}", headers=key)
    assert one.json()["username"] == "u"
    assert (await client.get("/internal/cameras/999999", headers=key)).status_code == 404


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://10.0.0.1/x", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("rtsp://169.254.10.20/stream", "link-local"),
        ("rtsp://[fe80::1]/stream", "link-local"),
        ("rtsp:///nohost", "no host"),
        ("rtsp://10.0.0.1:99999/x", "malformed"),
        ("rtsp://10.0.0.1/a b", "whitespace"),
        ("rtsp://10.0.0.1/" + "a" * 2100, "2048"),
    ],
)
async def test_bad_urls_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession], url: str, reason: str,
) -> None:
    resp = await client.post("/api/v1/cameras", json={**NEW, "stream_url": url},
                             headers=admin_headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] in {"Unprocessable", "ValidationError"}
    assert reason.split()[0].lower() in resp.json()["detail"].lower() or reason == "2048"
    assert await count(maker, Camera) == 0


async def test_allowed_networks_restrict_hosts(
    client: httpx.AsyncClient, app: FastAPI, admin_headers: dict[str, str]
) -> None:
    settings = app_state(app).settings
    old = settings.camera_allowed_networks
    settings.camera_allowed_networks = "10.0.0.0/8, 127.0.0.0/8"
    try:
        ok = await client.post("/api/v1/cameras", json=NEW, headers=admin_headers)
        assert ok.status_code == 201
        out = await client.post(
            "/api/v1/cameras", json={**NEW, "name": "x", "stream_url": "rtsp://192.168.1.5/"},
            headers=admin_headers,
        )
        assert out.status_code == 422 and "CAMERA_ALLOWED_NETWORKS" in out.json()["detail"]
    finally:
        settings.camera_allowed_networks = old


async def test_update_partial_password_and_duplicate_name(
    client: httpx.AsyncClient, admin_headers: dict[str, str], app: FastAPI
) -> None:
    a = (await client.post("/api/v1/cameras", json=NEW, headers=admin_headers)).json()
    await client.post("/api/v1/cameras", json={**NEW, "name": "Dock"}, headers=admin_headers)
    resp = await client.patch(f"/api/v1/cameras/{a['id']}", headers=admin_headers,
                              json={"recording_mode": "events", "password": "newpass-1"})
    assert resp.status_code == 200
    assert resp.json()["recording_mode"] == "events" and resp.json()["has_password"]
    dup = await client.patch(f"/api/v1/cameras/{a['id']}", json={"name": "Dock"},
                             headers=admin_headers)
    assert dup.status_code == 409 and dup.json()["error"] == "Conflict"
    null = await client.patch(f"/api/v1/cameras/{a['id']}", json={"name": None},
                              headers=admin_headers)
    assert null.status_code == 422
    again = await client.get(f"/api/v1/cameras/{a['id']}", headers=admin_headers)
    assert again.json()["name"] == "Lobby"
    cleared = await client.patch(f"/api/v1/cameras/{a['id']}", json={"password": None},
                                 headers=admin_headers)
    assert cleared.json()["has_password"] is False


async def test_viewer_sees_only_granted_cameras(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> None:
    key = app_state(app).settings.secret_key
    cam_a = await create_camera(maker, key, name="A")
    cam_b = await create_camera(maker, key, name="B")
    viewer = await create_user(maker, "viewer", camera_ids=[cam_a.id])
    h = bearer(app_state(app), viewer)
    listing = await client.get("/api/v1/cameras", headers=h)
    assert [c["name"] for c in listing.json()["items"]] == ["A"]
    assert listing.json()["total"] == 1
    assert (await client.get(f"/api/v1/cameras/{cam_a.id}", headers=h)).status_code == 200
    for method in ("GET", "PATCH", "DELETE"):
        resp = await client.request(method, f"/api/v1/cameras/{cam_b.id}", headers=h,
                                    json={"name": "x"} if method == "PATCH" else None)
        assert resp.status_code in {403, 404}, (method, resp.status_code)
        if method == "GET":
            assert resp.status_code == 404
    # PATCH/DELETE of a visible camera needs cameras:write
    assert (await client.delete(f"/api/v1/cameras/{cam_a.id}", headers=h)).status_code == 403


async def test_list_cache_follows_grants_and_changes(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    key = app_state(app).settings.secret_key
    cam_a = await create_camera(maker, key, name="A")
    cam_b = await create_camera(maker, key, name="B")
    viewer = await create_user(maker, "viewer", camera_ids=[cam_a.id])
    h = bearer(app_state(app), viewer)
    listing = (await client.get("/api/v1/cameras", headers=h)).json()["items"]
    assert [c["name"] for c in listing] == ["A"]
    async with maker() as s:  # grant B the way the users API does: change, commit, bump
        s.add(CameraGrant(user_id=viewer.id, camera_id=cam_b.id))
        await s.commit()
    await versions.bump(app_state(app).bus, versions.AUTHZ)
    names = [c["name"] for c in (await client.get("/api/v1/cameras", headers=h)).json()["items"]]
    assert names == ["A", "B"]
    await client.patch(f"/api/v1/cameras/{cam_a.id}", json={"name": "A2"}, headers=admin_headers)
    names = [c["name"] for c in (await client.get("/api/v1/cameras", headers=h)).json()["items"]]
    assert names == ["A2", "B"]
    await client.delete(f"/api/v1/cameras/{cam_b.id}", headers=admin_headers)
    names = [c["name"] for c in (await client.get("/api/v1/cameras", headers=h)).json()["items"]]
    assert names == ["A2"]


async def test_changes_are_announced_and_audited(
    client: httpx.AsyncClient, app: FastAPI, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    bus = app_state(app).bus
    pubsub = bus.redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(bus.key("cameras"))
    try:
        cid = (await client.post("/api/v1/cameras", json={**NEW, "password": "pw-123456"},
                                 headers=admin_headers)).json()["id"]
        await client.patch(f"/api/v1/cameras/{cid}", json={"enabled": False},
                           headers=admin_headers)
        await client.delete(f"/api/v1/cameras/{cid}", headers=admin_headers)
        actions = []
        async with asyncio.timeout(5):
            while len(actions) < 3:
                msg = await pubsub.get_message(timeout=1.0)
                if msg:
                    data = json.loads(msg["data"])
                    assert data["camera_id"] == cid and data["type"] == "camera.changed"
                    actions.append(data["action"])
        assert actions == ["created", "updated", "deleted"]
    finally:
        await pubsub.aclose()
    async with maker() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.target_type == "camera")
                                .order_by(AuditEntry.id))).all()
    assert [r.action for r in rows] == ["camera.create", "camera.update", "camera.delete"]
    assert all(r.user_id == 1 and r.ip == "127.0.0.1" and r.result == "success" for r in rows)
    assert "pw-123456" not in json.dumps([r.summary for r in rows])


async def test_analysis_zones_validated(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    zone = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
    ok = await client.post("/api/v1/cameras", headers=admin_headers,
                           json={**NEW, "analysis": {"enabled": True, "zones": [zone]}})
    assert ok.status_code == 201 and ok.json()["analysis"]["zones"] == [zone]
    for bad in ([[0.1, 0.1], [2.0, 0.1], [0.9, 0.9]], [[0.1, 0.1], [0.2, 0.2]]):
        resp = await client.post("/api/v1/cameras", headers=admin_headers,
                                 json={**NEW, "name": "z", "analysis": {"zones": [bad]}})
        assert resp.status_code == 422


async def test_factory_password_not_leaked_in_list(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    await create_camera(maker, app_state(app).settings.secret_key, name="F")
    resp = await client.get("/api/v1/cameras", headers=admin_headers)
    assert CAMERA_PASSWORD not in resp.text and resp.json()["items"][0]["has_password"]


async def test_concurrent_misses_build_the_list_once() -> None:
    from argus_management.cameras.cache import ResponseCache

    store = ResponseCache()
    calls = 0
    gate = asyncio.Event()

    async def build() -> bytes:
        nonlocal calls
        calls += 1
        await gate.wait()
        return b"[]"

    tasks = [asyncio.create_task(store.single_flight(("k",), build)) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*tasks) == [b"[]"] * 20
    assert calls == 1 and store.get(("k",)) == b"[]"

    async def fail() -> bytes:
        raise RuntimeError("db down")

    with pytest.raises(RuntimeError):
        await store.single_flight(("other",), fail)
    assert ("other",) not in store  # a failure is not cached; the next request tries again
