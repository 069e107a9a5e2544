"""Every router of the service, mounted in one place."""

from __future__ import annotations

from fastapi import FastAPI

from argus_management.health.router import router as health_router


def include_routers(app: FastAPI) -> None:
    app.include_router(health_router)
