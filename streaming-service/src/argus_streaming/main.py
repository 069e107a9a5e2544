"""streaming-service: app factory and lifespan."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from argus_common.bus import RedisBus, redis_client
from argus_common.errors import install_error_handlers
from argus_common.jwt import JwtCodec
from argus_common.logging import configure_logging
from argus_common.metrics import install_metrics
from argus_common.proxies import ClientAddressMiddleware
from argus_common.serving import CloseStep, close_steps
from argus_streaming.audit import VideoAudit
from argus_streaming.auth.revocation import AccessWatcher
from argus_streaming.auth.tickets import MediaTickets
from argus_streaming.cameras.client import ManagementClient
from argus_streaming.config import Settings, get_settings
from argus_streaming.health.router import router as health_router
from argus_streaming.hls.router import router as hls_router
from argus_streaming.hls.sessions import HlsManager
from argus_streaming.live.manager import SourceManager
from argus_streaming.vod.router import router as vod_router
from argus_streaming.vod.stills import AUDIT_KEY as STILL_AUDIT_KEY
from argus_streaming.vod.stills import router as stills_router
from argus_streaming.webrtc import compat
from argus_streaming.webrtc.codecs import install_h264_profiles
from argus_streaming.webrtc.peer import restrict_ice_addresses
from argus_streaming.webrtc.router import router as whep_router
from argus_streaming.webrtc.sessions import WhepManager

log = structlog.get_logger("argus.streaming")
SHUTDOWN_STEP_S = 5.0  # each close step of the shutdown gets this long


def create_app(settings: Settings | None = None) -> FastAPI:
    """The streaming FastAPI app for ``settings`` (read from the environment by default)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # First: refuses to start on aiortc/aioice versions compat was not written for.
        # Process-wide and idempotent; not undone at shutdown (other apps of the process,
        # such as a test's second service, may still use it).
        compat.install()
        install_h264_profiles()
        restrict_ice_addresses(settings.ice_address_list())
        own_dir = not settings.hls_dir
        hls_dir = Path(settings.hls_dir or tempfile.mkdtemp(prefix="argus-hls-"))
        hls_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
        management = ManagementClient(
            settings.management_url, settings.service_credential(), settings.access_cache_s
        )
        sources = SourceManager(management, settings)
        app.state.management = management
        app.state.sources = sources
        app.state.whep = WhepManager(sources, settings)
        app.state.tickets = MediaTickets(settings.media_token_ttl_s)
        app.state.hls = HlsManager(sources, settings, hls_dir, app.state.tickets)
        app.state.hls.start()
        # Follows argus:authz: revoked users' sessions end within seconds.
        redis = redis_client(settings)
        bus = RedisBus(redis, settings.redis_namespace)
        # Viewing sessions for management's audit log (argus:audit); HLS and VOD viewers
        # live as long as their media tickets; preview stills until idle.
        tickets: MediaTickets = app.state.tickets
        app.state.audit = VideoAudit(
            bus, settings.media_token_ttl_s,
            alive=lambda key: key.startswith(STILL_AUDIT_KEY) or tickets.peek(key) is not None)
        app.state.audit.start()
        app.state.access = AccessWatcher(
            bus, management, app.state.whep,
            app.state.hls, app.state.tickets, settings.authz_recheck_s)
        app.state.access.start()
        log.info("started", port=settings.port)
        try:
            yield
        finally:
            # Each step bounded: a close that hangs (a peer that never answers) is named in
            # the log and left, and the rest of the shutdown goes on.
            steps: list[CloseStep] = [
                ("access", app.state.access.close),
                ("whep", app.state.whep.close_all),
                ("hls", app.state.hls.close),
                ("audit", app.state.audit.close),  # after the sessions' ends are queued
                ("redis", redis.aclose),
                ("sources", sources.close),
                ("management", management.aclose),
            ]
            # The object-store client of tiered recordings, when playback opened one.
            files = getattr(app.state, "segment_files", None)
            if files is not None:
                steps.append(("segment_files", files.close))
            await close_steps(steps, step_timeout_s=SHUTDOWN_STEP_S, log=log)
            if own_dir:
                shutil.rmtree(hls_dir, ignore_errors=True)

    configure_logging("streaming-service", settings.log_level)
    app = FastAPI(title="ARGUS streaming API", version="0.1.0", openapi_url="/v1/openapi.json",
                  docs_url="/v1/docs", redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    # Verify only: management signs access tokens with a private key this service never holds.
    app.state.jwt = JwtCodec(settings.public_token_keys(), settings.jwt_issuer,
                             settings.jwt_audience)
    install_error_handlers(app)
    install_metrics(app, "streaming-service")
    # The viewer's address behind the console's nginx (audit rows name it).
    app.add_middleware(ClientAddressMiddleware, trusted=lambda: settings.trusted_proxies)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        # WHEP clients must read Location (the session URL) across origins.
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Location", "X-Still-Time"],
        )
    app.include_router(health_router)
    app.include_router(whep_router)
    app.include_router(hls_router)
    app.include_router(vod_router)
    app.include_router(stills_router)
    # hls.js, vendored (no CDN): /static/hls.min.js
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app


def run() -> None:
    """Console entry point ``argus-streaming``: one process, one asyncio loop."""
    settings = get_settings()
    uvicorn.run(
        "argus_streaming.main:create_app", factory=True, host=settings.host, port=settings.port,
        log_config=None, access_log=False, proxy_headers=False,
    )
