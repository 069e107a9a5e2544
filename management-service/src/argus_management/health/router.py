"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from argus_common.bus import redis_problem
from argus_common.errors import error_body
from argus_management.deps import BusDep, EngineDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(engine: EngineDep, bus: BusDep) -> JSONResponse:
    """The database and Redis answer."""
    problems = []
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        problems.append("database unreachable")
    try:
        await bus.redis.ping()
    except Exception as exc:
        problems.append(redis_problem(exc))
    if problems:
        return JSONResponse(error_body("Unavailable", "; ".join(problems)), 503)
    return JSONResponse({"status": "ready"})
