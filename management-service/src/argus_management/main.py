"""management-service: app factory and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.exc import InterfaceError, OperationalError

from argus_common.bus import RedisBus
from argus_common.errors import error_body, install_error_handlers
from argus_common.jwt import JwtCodec
from argus_common.logging import configure_logging
from argus_common.metrics import install_metrics
from argus_management import migrate
from argus_management.auth import passwords
from argus_management.bootstrap import ensure_admin
from argus_management.config import Settings, get_settings
from argus_management.db import make_engine, make_sessionmaker
from argus_management.openapi import install_openapi
from argus_management.routers import include_routers

log = structlog.get_logger("argus.management")

# Background tasks started with the app: each gets the app and runs until cancelled.
BackgroundTask = Callable[[FastAPI], Awaitable[None]]


def _sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    log.error("database_unreachable", exc_type=type(exc).__name__)
    return JSONResponse(error_body("Unavailable", "database unreachable; try again shortly"), 503)


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    """The management FastAPI app for ``settings`` (read from the environment by default)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _sqlite_dir(settings.database_url)
        if run_migrations and settings.migrate_on_start:
            await migrate.upgrade_async(settings.database_url)
        engine = make_engine(settings.database_url)
        # Blocking pool: a burst (1,000 WebSockets authenticating) waits for a connection
        # instead of failing with "Too many connections" (redis-py's default pool: 100).
        redis = Redis.from_pool(
            BlockingConnectionPool.from_url(settings.redis_url, max_connections=100, timeout=10)
        )
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.bus = RedisBus(redis, settings.redis_namespace)
        app.state.jwt = JwtCodec(settings.secret_key, settings.jwt_issuer, settings.jwt_audience)
        app.state.principal_cache = {}
        app.state.response_cache = {}
        await ensure_admin(app.state.sessionmaker, settings)
        from argus_management.background import BACKGROUND_TASKS

        tasks = [asyncio.create_task(t(app), name=t.__name__) for t in BACKGROUND_TASKS]
        # Start-up objects (modules, schemas, routes) live as long as the process: keep
        # them out of every later collection, which then has far less to scan.
        gc.collect()
        gc.freeze()
        log.info("started", database=settings.database_url.split("://", 1)[0])
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await redis.aclose()
            await engine.dispose()

    configure_logging("management-service", settings.log_level)
    passwords.configure(settings.bcrypt_rounds)
    app = FastAPI(
        title="ARGUS management API",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
    app.add_exception_handler(ConnectionRefusedError, _database_down)
    install_metrics(app, "management-service")
    include_routers(app)
    install_openapi(app)
    return app


def run() -> None:
    """Console entry point: ``argus-management`` migrates once, then serves with
    ``MANAGEMENT_WORKERS`` workers; ``argus-management migrate`` only migrates."""
    import os
    import sys

    settings = get_settings()
    _sqlite_dir(settings.database_url)
    migrate.upgrade(settings.database_url)
    if sys.argv[1:2] == ["migrate"]:
        return
    # Migrated above: workers must not race each other doing it again.
    os.environ["MANAGEMENT_MIGRATE_ON_START"] = "false"
    uvicorn.run(
        "argus_management.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        # WebSocket frames here are small JSON; per-connection deflate cost ~30 us per client
        # per alert (a third of the fan-out CPU at 1,000 clients) for little saving.
        ws_per_message_deflate=False,
    )
