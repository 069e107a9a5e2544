"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from argus_common.errors import error_body

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database and Redis answer."""
    problems = []
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        problems.append("database unreachable")
    try:
        await request.app.state.bus.redis.ping()
    except Exception:
        problems.append("redis unreachable")
    if problems:
        return JSONResponse(error_body("Unavailable", "; ".join(problems)), 503)
    return JSONResponse({"status": "ready"})
