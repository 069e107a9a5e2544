"""Fixtures of the management-service tests: real PostgreSQL and Redis.

A database is created and migrated once per run; each test starts from the migrated state
(tables emptied after every test: the app opens several connections — request sessions,
detached audit writes, background consumers — so one rolled-back outer transaction cannot
hold them all). Redis keys live under a namespace unique to the run and are removed after
each test.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management import migrate, versions
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.main import create_app
from argus_testkit import stack as kit
from argus_testkit.ports import free_port

from factories.responses import ResponseRecorder
from factories.users import admin_headers as admin_headers_for

# The session's servers (argus_testkit.pytest_plugin: given by URL, or private ones).
PG_DSN = kit.PG_DSN
REDIS_URL = kit.REDIS_URL
ADMIN_PASSWORD = "admin-password-123"
KEEP_TABLES = {"roles", "permissions", "role_permissions", "alembic_version"}


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    name = f"argus_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}"
    await migrate.upgrade_async(url)
    yield url
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture(scope="session")
def namespace() -> str:
    return f"argus-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def settings(
    database_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    return Settings(
        ARGUS_ENV="test",
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        ARGUS_REDIS_NAMESPACE=namespace,
        SECRET_KEY="test-secret-key-0123456789abcdef",
        INTERNAL_API_KEY="test-internal-key-0123456789abcdef",
        ARGUS_ADMIN_USERNAME="admin",
        ARGUS_ADMIN_PASSWORD=ADMIN_PASSWORD,
        ARGUS_DATA_DIR=str(data_dir),
        MANAGEMENT_BCRYPT_ROUNDS=4,
        MANAGEMENT_WS_PING_INTERVAL_S=30,
        # The liveness checker probes cameras and raises alerts on its own schedule: tests
        # that want it run their own (test_liveness*.py).
        MANAGEMENT_LIVENESS_ENABLED=False,
        # Likewise the ONVIF event subscriptions (test_onvif_events.py runs its own).
        MANAGEMENT_ONVIF_EVENTS=False,
        MANAGEMENT_GUARD_TOURS=False,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, run_migrations=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def admin_headers(app: FastAPI) -> dict[str, str]:
    """Authorization of the first admin (the one the lifespan creates)."""
    return await admin_headers_for(app)


@pytest.fixture(scope="session")
def recorder() -> Iterator[ResponseRecorder]:
    """Every JSON response of the session's ``client`` requests; when the session's tests are
    done, none may carry a camera password or URL userinfo (an error at teardown fails the
    run). The scanner's own test: test_secrets_scan.py."""
    rec = ResponseRecorder()
    yield rec
    leaks = rec.leaks()
    assert leaks == [], f"camera secrets in {len(leaks)} responses: {leaks[:10]}"


@pytest.fixture
async def client(app: FastAPI, recorder: ResponseRecorder) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver",
        event_hooks={"response": [recorder.record]},
    ) as c:
        yield c


@pytest.fixture
def maker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return app_state(app).sessionmaker


@pytest.fixture
async def session(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with maker() as s:
        yield s


@pytest.fixture(autouse=True)
async def _clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    app: FastAPI = request.getfixturevalue("app")
    state = app_state(app)
    engine = state.engine
    async with engine.begin() as conn:
        tables = [
            t for t in (await conn.run_sync(lambda c: c.dialect.get_table_names(c)))
            if t not in KEEP_TABLES
        ]
        # replica mode skips triggers: the audit log refuses TRUNCATE otherwise.
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    redis: Redis = state.redis
    ns = state.bus.namespace
    keys = [k async for k in redis.scan_iter(match=f"{ns}:*", count=500)]
    if keys:
        await redis.delete(*keys)
    # Ids restart with the emptied tables: fresh versions make every app instance (the
    # in-process one and live_server's) drop what it cached about the previous test's users.
    fresh = uuid.uuid4().int % 10**15  # an integer: writers INCR it
    await redis.set(f"{ns}:{versions.AUTHZ}", fresh)
    await redis.set(f"{ns}:{versions.CAMERAS}", fresh)
    state.caches.clear()
    from argus_management.bootstrap import ensure_admin

    await ensure_admin(state.sessionmaker, state.settings, state.hasher)


@pytest.fixture(scope="session")
async def live_server(settings: Settings) -> AsyncIterator[str]:
    """The same service served by uvicorn on a free 127.0.0.1 port (for WebSockets)."""
    port = free_port()
    application = create_app(settings, run_migrations=False)
    server = uvicorn.Server(
        # A client a test left connected delays the shutdown 5 s at most.
        uvicorn.Config(application, host="127.0.0.1", port=port, log_config=None, lifespan="on",
                       timeout_graceful_shutdown=5)
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "live server did not start"
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
