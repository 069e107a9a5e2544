"""Deny by default on streaming-service (issue 16: the ``test_route_permissions`` walk of
management, extended here): every API route requires the bearer access token
(``current_user``, which then asks management about the camera), or a media ticket in its
URL (HLS and VOD files, fetched by media elements that cannot send headers), or is knowingly
public. The walk is structural (the dependency tree) and then behavioural: every route of
the OpenAPI schema, called without credentials and with bad ones, answers 401."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from streaming_support import World

from argus_streaming.auth.dependencies import current_user

# Reachable without any credential (path, method).
PUBLIC_ROUTES = {("/healthz", "GET"), ("/readyz", "GET"), ("/metrics", "GET")}
# Authorized by the media ticket of their ``token`` query parameter (auth/tickets.py).
TICKET_ROUTES = {("/hls/{session_id}/{name}", "GET"), ("/vod/{camera_id}/files/{path}", "GET")}
_PARAMS = {"camera_id": "1", "session_id": "s" * 16, "name": "index.m3u8", "path": "a.mp4"}


def _needs_user(dependant: Any) -> bool:
    return any(dep.call is current_user or _needs_user(dep) for dep in dependant.dependencies)


def _has_token_query(route: APIRoute) -> bool:
    return any(p.name == "token" for p in route.dependant.query_params)


def _routes(app: FastAPI) -> list[tuple[APIRoute, str]]:
    return [(r, m) for r in app.routes if isinstance(r, APIRoute) for m in sorted(r.methods)]


def _path(route: APIRoute) -> str:
    return route.path_format.replace("{path:path}", "{path}")


def test_every_route_requires_a_user_or_a_ticket(world: World) -> None:
    unchecked = []
    for route, method in _routes(world.app):
        key = (_path(route), method)
        if key in PUBLIC_ROUTES:
            continue
        if key in TICKET_ROUTES:
            if not _has_token_query(route):
                unchecked.append(f"{method} {key[0]} (ticket route without a token)")
            continue
        if not _needs_user(route.dependant):
            unchecked.append(f"{method} {key[0]}")
    assert unchecked == [], f"routes without an authentication dependency: {unchecked}"


def test_lists_name_real_routes(world: World) -> None:
    real = {(_path(r), m) for r, m in _routes(world.app)}
    assert (TICKET_ROUTES | (PUBLIC_ROUTES - {("/metrics", "GET")})) <= real


def test_walker_detects_a_route_without_check() -> None:
    probe = FastAPI()

    @probe.get("/open")
    async def open_route() -> dict[str, str]:
        return {}

    route = next(r for r in probe.routes if isinstance(r, APIRoute))
    assert not _needs_user(route.dependant) and not _has_token_query(route)


@pytest.mark.parametrize("credential", ["none", "garbage", "refresh"])
async def test_every_schema_route_refuses_without_a_valid_credential(
    world: World, client: httpx.AsyncClient, credential: str
) -> None:
    headers: dict[str, str] = {}
    token = ""
    if credential == "garbage":
        headers, token = {"Authorization": "Bearer not.a.jwt"}, "not-a-ticket"
    elif credential == "refresh":  # a real token of the wrong type
        refresh = world.codec.issue(str(world.admin_id), "refresh", 600).token
        headers, token = {"Authorization": f"Bearer {refresh}"}, refresh
    schema = (await client.get("/v1/openapi.json")).json()
    answered = {}
    for template, operations in schema["paths"].items():
        url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: _PARAMS[m.group(1)], template)
        for method in operations:
            if (template, method.upper()) in PUBLIC_ROUTES:
                continue
            params = {"token": token} if token else {}
            resp = await client.request(method.upper(), url, headers=headers, params=params,
                                        json={})
            answered[f"{method.upper()} {template}"] = resp.status_code
    # An unknown HLS session is a 404 for everyone before its ticket is looked at.
    expected = {k: 401 for k in answered}
    expected["GET /hls/{session_id}/{name}"] = 404
    assert answered == expected
