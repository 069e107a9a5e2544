"""Deny by default: every API route declares a permission check (or is knowingly public)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from argus_management.rbac.dependencies import PUBLIC_ROUTES


def _markers(dependant: Any) -> set[str]:
    found: set[str] = set()
    for dep in dependant.dependencies:
        marker = getattr(dep.call, "__argus_permission__", None)
        if marker:
            found.add(marker)
        found |= _markers(dep)
    return found


def test_every_openapi_route_has_a_permission_check(app: FastAPI) -> None:
    schema = app.openapi()
    routes = {r.path: r for r in app.routes if isinstance(r, APIRoute)}
    unchecked = []
    for path, operations in schema["paths"].items():
        route = routes[path]
        for method in operations:
            if (path, method.upper()) in PUBLIC_ROUTES:
                continue
            if not _markers(route.dependant):
                unchecked.append(f"{method.upper()} {path}")
    assert unchecked == [], f"routes without a permission dependency: {unchecked}"


def test_public_list_names_real_routes(app: FastAPI) -> None:
    """A stale entry in PUBLIC_ROUTES would hide nothing today but invites mistakes."""
    real = {(r.path, m) for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
    assert PUBLIC_ROUTES <= real, PUBLIC_ROUTES - real


def test_walker_detects_a_route_without_check() -> None:
    """The walk itself must be able to fail."""
    probe = FastAPI()

    @probe.get("/open")
    async def open_route() -> dict[str, str]:
        return {}

    route = next(r for r in probe.routes if isinstance(r, APIRoute))
    assert _markers(route.dependant) == set()
