"""The analyser's small HTTP side: ``/healthz``, ``/readyz``, ``/metrics`` and ``/status``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from argus_common.errors import error_body, install_error_handlers
from argus_common.metrics import install_metrics

Readiness = Callable[[], Awaitable[list[str]]]
Status = Callable[[], dict[str, Any]]


def create_app(readiness: Readiness, status: Status) -> FastAPI:
    """The metrics app; ``readiness`` lists what is wrong (empty: ready)."""
    app = FastAPI(title="ARGUS ai-analysis-service", docs_url=None, redoc_url=None,
                  openapi_url=None)
    install_error_handlers(app)
    install_metrics(app, "ai-analysis-service")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Redis answers and the cameras are loaded from management."""
        problems = await readiness()
        if problems:
            return JSONResponse(error_body("Unavailable", "; ".join(problems)), 503)
        return JSONResponse({"status": "ready"})

    @app.get("/status")
    async def status_view() -> dict[str, Any]:
        """Which cameras this analyser owns (ids only; nothing secret)."""
        return status()

    return app
