"""management-service: app factory and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from argus_common.addresses import parse_networks
from argus_common.bus import RedisBus, check_redis_tls, redis_client
from argus_common.errors import error_body, install_error_handlers
from argus_common.jwt import JwtCodec
from argus_common.logging import configure_logging
from argus_common.metrics import install_metrics
from argus_common.proxies import ClientAddressMiddleware
from argus_management import migrate
from argus_management.alerts import listeners as alert_listeners
from argus_management.alerts.hub import AlertHub
from argus_management.analysis import hooks as analysis_hooks
from argus_management.analysis.hub import AnalysisHub
from argus_management.auth.mailer import mailer_for
from argus_management.auth.sessions import end_sessions_listener
from argus_management.background import background_tasks
from argus_management.backup.metrics import install_backup_metrics
from argus_management.backup.settings import BackupSettings
from argus_management.bootstrap import ensure_admin
from argus_management.bus_outbox import DurableBus, open_outbox
from argus_management.config import Settings, get_settings
from argus_management.db import make_engine, make_sessionmaker
from argus_management.db_tls import check_database_tls
from argus_management.deps import AppState, Caches, install_state
from argus_management.events.hooks import event_stored_hook
from argus_management.liveness import hooks as liveness_hooks
from argus_management.liveness.checker import LivenessChecker
from argus_management.notify.webhook import notifier_for
from argus_management.objects import ingest as object_ingest
from argus_management.onvif import pinning as onvif_pinning
from argus_management.onvif.registration import fill_from_profile
from argus_management.openapi import install_openapi
from argus_management.ptz.runtime import PtzRuntime
from argus_management.routers import include_routers
from argus_management.users.passwords import PasswordHasher
from argus_management.users.sessions import end_sessions_hook
from argus_management.walls import alarms as wall_alarms

log = structlog.get_logger("argus.management")
SHUTDOWN_GRACE_S = 8.0  # background loops get this long to end after their cancellation

def _sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    log.error("database_unreachable", exc_type=type(exc).__name__)
    return JSONResponse(error_body("Unavailable", "database unreachable; try again shortly"), 503)


async def build_state(settings: Settings) -> AppState:
    """Every shared object of the app, wired together (the only place that knows them all)."""
    engine = make_engine(settings.database_url)
    # Blocking pool: a burst (1,000 WebSockets authenticating) waits for a connection
    # instead of failing with "Too many connections" (redis-py's default pool: 100).
    redis = redis_client(settings, max_connections=100, wait_s=10)
    # ONVIF connections are pinned to checked addresses inside these networks.
    onvif_pinning.configure(lambda: parse_networks(settings.camera_allowed_networks))
    sessionmaker = make_sessionmaker(engine)
    # Events and alerts announced while Redis is away wait in a file outbox (bus_outbox.py).
    bus: RedisBus = DurableBus(redis, settings.redis_namespace, open_outbox(settings.data_dir))
    event_stored = event_stored_hook()
    # Listeners of stored events, in the order they run in the event's transaction.
    event_stored.subscribe(liveness_hooks.event_listener(settings))  # evidence, resolutions
    event_stored.subscribe(analysis_hooks.on_event_stored)  # motion.end closes its start
    event_stored.subscribe(object_ingest.on_event_stored)  # object.* -> tracked_objects
    event_stored.subscribe(alert_listeners.event_listener(settings))  # alert rules
    event_stored.subscribe(wall_alarms.alarm_listener(settings))  # alarm -> wall monitor
    end_sessions = end_sessions_hook()
    # An admin reset a password, disabled a user or took permissions away.
    end_sessions.subscribe(end_sessions_listener(settings, bus))
    return AppState(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        redis=redis,
        bus=bus,
        jwt=JwtCodec(settings.token_keys(), settings.jwt_issuer, settings.jwt_audience),
        hasher=PasswordHasher(settings.bcrypt_rounds),
        mailer=mailer_for(settings),
        caches=Caches(),
        event_stored=event_stored,
        fill_from_profile=partial(
            fill_from_profile, allow_foreign_xaddrs=settings.onvif_allow_foreign_xaddrs
        ),
        alert_hub=AlertHub(),
        analysis_hub=AnalysisHub(bus),
        ptz=PtzRuntime(settings, bus, sessionmaker),
        webhook=notifier_for(settings, bus),
        liveness=(
            LivenessChecker(settings, sessionmaker, bus) if settings.liveness_enabled else None
        ),
        end_sessions=end_sessions,
    )


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    """The management FastAPI app for ``settings`` (read from the environment by default)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _sqlite_dir(settings.database_url)
        # A TLS misconfiguration stops the start with one clear line (not a 503 later).
        await check_database_tls(settings.database_url)
        if run_migrations and settings.migrate_on_start:
            await migrate.upgrade_async(settings.database_url)
        state = await build_state(settings)
        await check_redis_tls(state.redis, settings)
        install_state(app, state)
        await ensure_admin(state.sessionmaker, settings, state.hasher)
        tasks = [
            asyncio.create_task(coro, name=name)
            for name, coro in background_tasks(state).items()
        ]
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
            # A bounded grace: a loop that does not end when cancelled is named in the log,
            # and the shutdown goes on without it.
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_S) if tasks else ((), ())
            if pending:
                log.warning("shutdown_tasks_pending", tasks=sorted(t.get_name() for t in pending))
            if isinstance(state.bus, DurableBus):
                state.bus.close()
            await state.analysis_hub.close()
            await state.redis.aclose()
            await state.engine.dispose()

    configure_logging("management-service", settings.log_level)
    app = FastAPI(
        title="ARGUS management API",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
    app.add_exception_handler(ConnectionRefusedError, _database_down)
    install_metrics(app, "management-service")
    install_backup_metrics(BackupSettings().backup_dir(settings.data_dir))
    # Outermost: everything after it (metrics, audit, rate limits) sees the real client.
    app.add_middleware(ClientAddressMiddleware, trusted=lambda: settings.trusted_proxies)
    include_routers(app)
    install_openapi(app)
    return app


def run() -> None:
    """Console entry point: ``argus-management`` migrates once, then serves with
    ``MANAGEMENT_WORKERS`` workers; ``argus-management migrate`` only migrates;
    ``argus-management audit verify`` checks the audit log's hash chain (exit 1 on a break);
    ``argus-management users reset-admin`` gives an admin a new password (``admin_cli.py``);
    ``argus-management backup run|list`` backs the database up now (``backup/``)."""
    import os
    import sys

    if sys.argv[1:3] == ["audit", "verify"]:
        from argus_management.audit.verify import main as verify_audit

        sys.exit(verify_audit(sys.argv[3:]))
    if sys.argv[1:2] == ["backup"]:
        from argus_management.backup.cli import main as backup_cli

        sys.exit(backup_cli(sys.argv[2:]))
    if sys.argv[1:3] == ["users", "reset-admin"]:
        from argus_management.admin_cli import main as reset_admin

        sys.exit(reset_admin(sys.argv[3:]))
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
        # uvicorn kills a worker that does not answer its supervisor's ping within this
        # time; the default 5 s is shorter than a worker's start (spawn, imports) on a loaded
        # 2-CPU machine, so the workers were killed and respawned for ever (issue 17).
        timeout_worker_healthcheck=60,
    )
