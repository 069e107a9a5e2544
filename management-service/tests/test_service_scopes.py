"""Scoped service credentials on ``/internal`` (issue 16, finding 5): each service holds its
own credential, derived from management's master key, and may call only what its scopes
allow. The master key itself opens nothing."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from test_route_permissions import _markers

from argus_common.service_keys import derive_service_key
from argus_management.config import Settings
from argus_management.rbac.service_scopes import SERVICE_SCOPES

from factories.events import service_key


def _internal_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """``(method, concrete path, scope)`` of every ``/internal`` route."""
    out = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/internal"):
            continue
        scopes = {m.split(":", 1)[1] for m in _markers(route.dependant)
                  if m.startswith("internal:")}
        assert len(scopes) == 1, f"{route.path}: one service scope expected, got {scopes}"
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        out.extend((method, path, next(iter(scopes))) for method in sorted(route.methods))
    return out


def test_every_internal_route_has_exactly_one_scope(app: FastAPI) -> None:
    routes = _internal_routes(app)
    assert {scope for _, _, scope in routes} <= set().union(*SERVICE_SCOPES.values())
    assert ("GET", "/internal/cameras", "cameras:credentials") in routes
    assert ("POST", "/internal/segments/purge-candidates", "segments") in routes
    assert ("POST", "/internal/rtmp/on_publish", "rtmp:hooks") in routes


@pytest.mark.parametrize("service", sorted(SERVICE_SCOPES))
async def test_each_service_reaches_its_scopes_only(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, service: str,
) -> None:
    headers = {"X-Internal-Api-Key": service_key(settings, service)}
    for method, path, scope in _internal_routes(app):
        resp = await client.request(method, path, headers=headers)
        if scope in SERVICE_SCOPES[service]:
            # Past the credential check: whatever the (empty) request gets next.
            assert resp.status_code not in (401, 403), (service, method, path, resp.text)
        else:
            assert resp.status_code == 403, (service, method, path, resp.text)
            assert resp.json()["error"] == "Forbidden"


@pytest.mark.parametrize(("service", "method", "path"), [
    ("rtmp", "GET", "/internal/cameras"),  # the internet-facing RTMP server's credential
    ("rtmp", "GET", "/internal/cameras/1"),
    ("rtmp", "POST", "/internal/events"),
    ("analysis", "POST", "/internal/segments/purge-candidates"),  # only recorders purge
    ("streaming", "POST", "/internal/segments/purged"),
    ("streaming", "POST", "/internal/events"),
    ("recording", "PUT", "/internal/analysis/jobs/1"),
    ("recording", "POST", "/internal/rtmp/on_publish"),
    ("analysis", "POST", "/internal/access"),
])
async def test_named_refusals(
    client: httpx.AsyncClient, settings: Settings, service: str, method: str, path: str,
) -> None:
    resp = await client.request(method, path, headers={
        "X-Internal-Api-Key": service_key(settings, service)})
    assert resp.status_code == 403, resp.text


async def test_master_and_foreign_credentials_open_nothing(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
) -> None:
    recording = service_key(settings, "recording")
    _, key = recording.split(".", 1)
    refused = [
        settings.internal_api_key,  # the master: management's alone, never a credential
        derive_service_key("another-deployment-master-0123456789", "recording"),
        derive_service_key(settings.internal_api_key, "admin"),  # no such service
        f"rtmp.{key}",  # a recorder's key under another service's name
        "",
    ]
    for method, path, _ in _internal_routes(app):
        for credential in refused:
            resp = await client.request(method, path,
                                        headers={"X-Internal-Api-Key": credential})
            assert resp.status_code == 401, (method, path, credential[:8], resp.text)


async def test_query_credential_only_on_rtmp_hooks(
    client: httpx.AsyncClient, settings: Settings,
) -> None:
    """nginx-rtmp cannot send headers, so its hooks take the credential from the URL; no
    other route does (URLs end up in logs)."""
    rtmp = service_key(settings, "rtmp")
    streaming = service_key(settings, "streaming")
    assert (await client.get("/internal/cameras", params={"internal_key": streaming})
            ).status_code == 401
    hook = await client.post("/internal/rtmp/on_publish", params={"internal_key": rtmp},
                             content=b"name=x&addr=127.0.0.1&clientid=1&call=publish")
    assert hook.status_code not in (401, 403), hook.text
