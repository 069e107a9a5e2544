"""The small HTTP side of a media service: ``/healthz``, ``/readyz``, ``/metrics``, ``/status``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from argus_common.bus import redis_problem
from argus_common.errors import error_body, install_error_handlers
from argus_common.metrics import install_metrics

Readiness = Callable[[], Awaitable[list[str]]]


async def camera_service_problems(redis: Redis, cameras_loaded: bool) -> list[str]:
    """The readiness checks every camera-handling service makes (empty: ready)."""
    problems = []
    try:
        await redis.ping()
    except Exception as exc:
        problems.append(redis_problem(exc))
    if not cameras_loaded:
        problems.append("cameras not loaded from management")
    return problems
Status = Callable[[], dict[str, Any]]


def create_service_app(service: str, readiness: Readiness, status: Status) -> FastAPI:
    """The metrics app of ``service``; ``readiness`` lists what is wrong (empty: ready)."""
    app = FastAPI(title=f"ARGUS {service}", docs_url=None, redoc_url=None,
                  openapi_url=None)
    install_error_handlers(app)
    install_metrics(app, service)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """The service's own dependency checks all pass."""
        problems = await readiness()
        if problems:
            return JSONResponse(error_body("Unavailable", "; ".join(problems)), 503)
        return JSONResponse({"status": "ready"})

    @app.get("/status")
    async def status_view() -> dict[str, Any]:
        """What this instance handles (ids only; nothing secret)."""
        return status()

    return app
