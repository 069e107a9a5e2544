"""A dependency that is down gives 503 with a clear detail, never a 500."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from argus_management.config import Settings
from argus_management.db import make_engine, make_sessionmaker
from argus_management.deps import app_state
from argus_management.main import create_app
from argus_testkit.ports import free_port


async def test_redis_down_gives_503(settings: Settings) -> None:
    dead = settings.model_copy(update={
        "redis_url": f"redis://127.0.0.1:{free_port()}/0",
        "redis_namespace": f"argus-dead-{uuid.uuid4().hex[:6]}",
    })
    app = create_app(dead, run_migrations=False)
    async with app.router.lifespan_context(app):
        token = app_state(app).jwt.issue("1", "access", 60).token
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            resp = await client.get("/api/v1/cameras",
                                    headers={"Authorization": f"Bearer {token}"})
            assert resp.status_code == 503
            assert resp.json() == {"error": "Unavailable",
                                   "detail": "redis unreachable; try again shortly"}
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and "redis" in ready.json()["detail"]


async def test_database_down_gives_503(app: FastAPI, client: httpx.AsyncClient) -> None:
    token = app_state(app).jwt.issue("1", "access", 60).token
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/cameras", headers=headers)).status_code == 200
    live_engine, live_maker = app_state(app).engine, app_state(app).sessionmaker
    dead = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing")
    app_state(app).engine, app_state(app).sessionmaker = dead, make_sessionmaker(dead)
    app_state(app).caches.principals.clear()
    try:
        resp = await client.get("/api/v1/cameras", headers=headers)
        assert resp.status_code == 503, resp.text
        assert resp.json()["error"] == "Unavailable" and "database" in resp.json()["detail"]
        login = await client.post("/api/v1/auth/login", data={"username": "a", "password": "b" * 8})
        assert login.status_code == 503
    finally:
        app_state(app).engine, app_state(app).sessionmaker = live_engine, live_maker
        await dead.dispose()
