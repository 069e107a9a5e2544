"""What each calling service may do on ``/internal`` (``X-Internal-Api-Key``).

A credential is ``<service>.<key>`` (``argus_common.service_keys``): management derives the
key again from its master ``INTERNAL_API_KEY``, so only the credential's own service name
is trusted, and that name's scopes below decide. An unknown or wrong credential is 401; a
valid one without the route's scope is 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from fastapi import Request

from argus_common.errors import Forbidden, Unauthorized
from argus_common.service_keys import verify_service_key
from argus_management.deps import app_state

log = structlog.get_logger("argus.internal")

CAMERAS_CREDENTIALS = "cameras:credentials"  # GET /internal/cameras: decrypted passwords
SEGMENTS = "segments"  # the recorder's index: announce, purge candidates, purged, missing
EVENTS_REPORT = "events:report"  # POST /internal/events
ANALYSIS = "analysis"  # analysis jobs and event snapshots
ACCESS_CHECK = "access:check"  # POST /internal/access: may these users still watch?
RTMP_HOOKS = "rtmp:hooks"  # nginx-rtmp's on_publish / on_update / on_publish_done

SERVICE_SCOPES: dict[str, frozenset[str]] = {
    "recording": frozenset({CAMERAS_CREDENTIALS, SEGMENTS, EVENTS_REPORT}),
    "streaming": frozenset({CAMERAS_CREDENTIALS, ACCESS_CHECK}),
    "analysis": frozenset({CAMERAS_CREDENTIALS, EVENTS_REPORT, ANALYSIS}),
    # Sits in a URL of the internet-facing RTMP server's config: it opens its hooks only.
    "rtmp": frozenset({RTMP_HOOKS}),
}
HEADER = "x-internal-api-key"


def service_of(request: Request, credential: str) -> str:
    """The calling service of a credential; ``Unauthorized`` unless management made it."""
    master = app_state(request.app).settings.internal_api_key
    service = verify_service_key(master, credential) if credential else None
    if service is None or service not in SERVICE_SCOPES:
        raise Unauthorized("invalid internal API key")
    return service


def require_service_scope(
    scope: str, *, query_param: str | None = None
) -> Callable[[Request], Awaitable[str]]:
    """A dependency: the calling service (``request.state.service``) when its credential
    holds ``scope``. ``query_param`` also takes the credential from the URL (nginx-rtmp's
    hooks cannot send headers)."""

    async def dependency(request: Request) -> str:
        given = request.headers.get(HEADER, "")
        if not given and query_param:
            given = request.query_params.get(query_param, "")
        try:
            service = service_of(request, given)
        except Unauthorized:
            log.warning("internal_unauthorized", path=request.url.path, scope=scope)
            raise
        if scope not in SERVICE_SCOPES[service]:
            log.warning("internal_scope_refused", path=request.url.path, service=service,
                        scope=scope)
            raise Forbidden(f"service {service} may not use {scope}")
        request.state.service = service
        return service

    dependency.__argus_permission__ = f"internal:{scope}"  # type: ignore[attr-defined]
    return dependency
