"""``/healthz`` (alive) and ``/readyz`` (management reachable)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """503 while management-service (cameras, access checks) cannot be reached."""
    url = request.app.state.settings.management_url.rstrip("/") + "/healthz"
    checks: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            resp = await client.get(url)
        checks["management"] = "ok" if resp.status_code == 200 else f"http {resp.status_code}"
    except httpx.HTTPError:
        checks["management"] = "unreachable"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        200 if ok else 503)
